"""Remedies for BN's noise penalty, measured: each deployment's noise sweep, and its ranking.

Every remedy of :mod:`bnnoise.noise.deployments` is swept on the BN models named by the
profile's ``mechanism`` entry, with the profile's noise grid and the mechanism's draws and target
sets; the networks without BN, on which the remedies change nothing, are swept with the standard
deployment only and give the level each remedy is measured against. Each draw is summarised by
its average normalized accuracy over the grid (non-finite outputs scored wrong).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from bnnoise.config import Profile
from bnnoise.data import DataCache
from bnnoise.noise.deployments import STANDARD
from bnnoise.pipeline.specs import model_config, profile_specs, recipe_of
from bnnoise.pipeline.sweeps import RUN_COLUMNS, is_swept, noise_sweep, run_key
from bnnoise.pipeline.trained import TrainedModel, trained_model
from bnnoise.rules import RULES
from bnnoise.stats import Difference, mean_ci, welch_difference
from bnnoise.store import ArtifactStore, read_only

REMEDY_COLUMNS = [*RUN_COLUMNS, "deployment", "images", "train_noise", "target", "draw",
                  "avg_normalized_accuracy", "nonfinite_fraction"]

REMEDY_COSTS = {
    "standard": "none (the network as trained and deployed in the reproduction)",
    "clamped": "a clamp of every BN variance at zero after programming (digital logic)",
    "gain": "BN stored as its per-channel scale and shift instead of four arrays",
    "folded": "none at inference: BN merged into the convolutions before programming",
    "recalibrated": "{images} unlabelled training images forwarded through the programmed "
                    "network, BN statistics re-estimated and kept digital",
    "noise-aware": "a new training run with weight noise of {train_noise:g} × std in every "
                   "step",
}
"""What each remedy costs in deployment, in words (shown beside the ranking)."""

RECOVERY_RULE = RULES["recovery"].rule
"""A remedy helps when its average normalized accuracy exceeds the standard deployment's
(:data:`bnnoise.rules.RULES`, ``recovery``)."""


def mechanism_runs(runs: list[TrainedModel], models: tuple[str, ...]) -> list[TrainedModel]:
    """The fully normalized and unnormalized runs of ``models`` among ``runs``."""
    return [run for run in runs if run.spec.model in models and run.spec.bn_layers is None
            and run.spec.norm in ("bn", "none")]


def noise_aware_runs(profile: Profile, progress: bool = False, stored_only: bool = False
                     ) -> list[tuple[float, TrainedModel]]:
    """The mechanism's models (with and without BN) trained again with weight noise, once per
    level of ``mechanism.train_noise``, with their levels: trained first if missing, or, with
    ``stored_only``, only those already trained (and, in a read-only store, swept)."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    runs = []
    for spec in profile_specs(profile):
        if spec.model not in profile.mechanism.models:
            continue
        for level in profile.mechanism.train_noise:
            recipe = replace(recipe_of(profile, spec),
                             train_noise=level)
            if stored_only and store.load("models", spec.slug, model_config(spec, recipe)) is None:
                continue
            run = trained_model(store, spec, recipe, data, progress)
            if (stored_only and read_only()
                    and not is_swept(store, run, profile.mechanism.protocol(profile.noise))):
                continue  # read-only store: a trained model joins once its sweep is stored
            runs.append((level, run))
    return runs


def _draw_rows(table: pd.DataFrame, identity: dict, name: str, images: int,
               train_noise: float) -> list[dict]:
    noisy = table[table["eta"] > 0]
    return [{**identity, "deployment": name, "images": images, "train_noise": train_noise,
             "target": target, "draw": draw,
             "avg_normalized_accuracy": float(part["normalized_accuracy"].mean()),
             "nonfinite_fraction": float(part["nonfinite_fraction"].mean())}
            for (target, draw), part in noisy.groupby(["target", "draw"])]


def remedy_draws(profile: Profile, runs: list[TrainedModel],
                 noise_aware: list[tuple[float, TrainedModel]] = ()) -> pd.DataFrame:
    """Per run, remedy, target set and draw: the draw's average normalized accuracy over the
    noise grid (columns :data:`REMEDY_COLUMNS`); missing sweep cells are computed. The
    ``noise_aware`` runs (:func:`noise_aware_runs`) enter as the remedy ``noise-aware``, swept
    with the standard deployment."""
    setup = profile.mechanism
    protocol = setup.protocol(profile.noise)
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    rows = []
    for run in mechanism_runs(runs, setup.models):
        identity = dict(zip(RUN_COLUMNS, run_key(run), strict=True))
        for deployment in setup.remedies() if run.spec.norm == "bn" else [STANDARD]:
            table = noise_sweep(store, run, protocol, data, deployment=deployment)
            rows += _draw_rows(table, identity, deployment.name, deployment.images, 0.0)
    for level, run in noise_aware:
        identity = dict(zip(RUN_COLUMNS, run_key(run), strict=True))
        table = noise_sweep(store, run, protocol, data)
        rows += _draw_rows(table, identity, "noise-aware", 0, level)
    return pd.DataFrame(rows, columns=REMEDY_COLUMNS)


def no_bn_twin(part: pd.DataFrame, deployment: str, level: float) -> np.ndarray:
    """The averages (%) of the network without BN that a BN remedy is compared with, like for
    like: trained the same way (for noise-aware training, the network without BN trained with
    the same noise level), deployed in the standard way otherwise (the remedies change nothing
    on a network without BN)."""
    none = part[part["norm"] == "none"]
    if deployment == "noise-aware":
        twin = none[(none["deployment"] == "noise-aware") & (none["train_noise"] == level)]
    else:
        twin = none[none["deployment"] == "standard"]
    return 100 * twin["avg_normalized_accuracy"].to_numpy()


def remedy_ranking(draws: pd.DataFrame) -> pd.DataFrame:
    """Per BN model, target set and remedy: the average normalized accuracy (%, 95 % interval
    over draws), the points it recovers over the standard deployment (Welch interval), the
    share of the gap to the network without BN trained the same way (:func:`no_bn_twin`) that
    it closes, the verdict of :data:`RECOVERY_RULE` and the remedy's cost; sorted by recovery
    within each target set."""
    rows = []
    for (dataset, model, target), part in draws.groupby(["dataset", "model", "target"]):
        bn = part[part["norm"] == "bn"]
        standard = 100 * bn.loc[bn["deployment"] == "standard",
                                "avg_normalized_accuracy"].to_numpy()
        if not len(standard):
            continue
        for (name, images, level), cell in bn.groupby(["deployment", "images", "train_noise"],
                                                      sort=False):
            values = 100 * cell["avg_normalized_accuracy"].to_numpy()
            mean, half = mean_ci(values)
            gain = welch_difference(values, standard)
            none = no_bn_twin(part, name, level)
            twin = float(none.mean()) if len(none) else float("nan")
            gap = twin - float(standard.mean())
            rows.append({
                "dataset": dataset, "model": model, "target": target, "remedy": name,
                "images": int(images), "average": mean, "low": mean - half, "high": mean + half,
                "recovered": gain.estimate, "recovered_low": gain.low,
                "recovered_high": gain.high,
                "gap_closed": gain.estimate / gap if gap and np.isfinite(gap) else float("nan"),
                "no_bn_average": twin,
                "no_bn_trained": (f"with noise {level:g} \u00d7 std" if name == "noise-aware"
                                  else "without noise"),
                "verdict": _verdict(name, values, standard, gain),
                "train_noise": level,
                "cost": REMEDY_COSTS[name].format(images=int(images), train_noise=level)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["dataset", "model", "target", "recovered"],
                             ascending=[True, True, True, False], ignore_index=True)


IDENTICAL = "identical to standard"
"""The verdict of a remedy whose every draw equals the standard deployment's (e.g. clamping
the variances when only the convolution weights get noise)."""


def _verdict(name: str, values: np.ndarray, standard: np.ndarray, gain: Difference) -> str:
    if name == "standard":
        return ""
    if values.shape == standard.shape and np.array_equal(values, standard):
        return IDENTICAL
    return RECOVERY_RULE.verdict(gain).value


def remedy_summary(draws: pd.DataFrame) -> pd.DataFrame:
    """Per run, deployment, images and target set: mean and 95 % interval over the draws of
    the average normalized accuracy (fractions), for the figures."""
    keys = [*RUN_COLUMNS, "deployment", "images", "train_noise", "target"]
    rows = []
    for key, part in draws.groupby(keys, sort=False):
        mean, half = mean_ci(part["avg_normalized_accuracy"].to_numpy())
        rows.append({**dict(zip(keys, key, strict=True)), "avg_normalized_accuracy": mean,
                     "low": mean - half, "high": mean + half})
    return pd.DataFrame(rows)
