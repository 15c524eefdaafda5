"""Training progress: noise resistance of the stored epoch snapshots of a run.

A run of the ``cpu`` profile keeps its weights after chosen epochs (half precision, see
:func:`bnnoise.pipeline.trained.trained_model`). Sweeping each snapshot shows how noise
resistance develops as clean accuracy grows, so that networks with and without BN can be
compared at equal clean accuracy, not only at the end of a short training budget. Snapshots are
swept with the profile's lighter ``progress_protocol`` (fewer draws and target sets); the final
model is swept again with the same protocol, so that all points of a run are comparable.
"""

from __future__ import annotations

import pandas as pd

from bnnoise.config import Profile
from bnnoise.config.setups import NoiseProtocol
from bnnoise.data import DataCache
from bnnoise.noise.collapse import collapse_table, running_variance_table
from bnnoise.pipeline.sweeps import RUN_COLUMNS, is_swept, noise_sweep, run_key
from bnnoise.pipeline.trained import TrainedModel, load_snapshot, snapshot_epochs
from bnnoise.stats import mean_ci
from bnnoise.store import ArtifactStore, read_only

PROGRESS_COLUMNS = [*RUN_COLUMNS, "epoch", "target", "draw", "clean_accuracy",
                    "avg_normalized_accuracy"]
"""Columns of :func:`progress_draws`: one row per run, epoch, target set and draw."""


def snapshot_runs(store: ArtifactStore, run: TrainedModel) -> list[tuple[int, TrainedModel]]:
    """The run's stored epoch snapshots (and the final model), each as a model that sweeps can
    take: its key is the run's key plus the epoch, so its cells never mix with the run's."""
    out = []
    for epoch in snapshot_epochs(store.root / "models" / run.key):
        model = load_snapshot(run, store, epoch)
        out.append((epoch, TrainedModel(run.spec, model, run.history, run.summary,
                                        f"{run.key}-epoch{epoch:03d}", run.provenance)))
    return [*out, (len(run.history), run)]


def sweep_snapshots(store: ArtifactStore, run: TrainedModel, protocol: NoiseProtocol,
                    data: DataCache, progress: bool = False) -> pd.DataFrame:
    """Per-draw rows (:data:`PROGRESS_COLUMNS`) of every snapshot of ``run`` and of its final
    model, swept with ``protocol``; empty for a run without snapshots. Each draw's average
    normalized accuracy is its mean over the protocol's etas (non-finite outputs scored wrong).
    """
    snapshots = snapshot_runs(store, run)
    if len(snapshots) < 2:
        return pd.DataFrame(columns=PROGRESS_COLUMNS)
    identity = dict(zip(RUN_COLUMNS, run_key(run), strict=True))
    rows = []
    for epoch, model in snapshots:
        table = noise_sweep(store, model, protocol, data, progress=progress)
        for target, part in table.groupby("target", sort=False):
            clean = float(part.loc[part["eta"] == 0, "accuracy"].iloc[0])
            per_draw = part[part["eta"] > 0].groupby("draw")["normalized_accuracy"].mean()
            rows += [{**identity, "epoch": epoch, "target": target, "draw": int(draw),
                      "clean_accuracy": clean, "avg_normalized_accuracy": float(value)}
                     for draw, value in per_draw.items()]
    return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)


def variance_trajectory(store: ArtifactStore, run: TrainedModel, protocol: NoiseProtocol
                        ) -> pd.DataFrame:
    """How training length changes a run's BatchNorm statistics: per stored epoch (snapshots
    and the final model) and eta of ``protocol``, the exact collapse probability under noise on
    every array (:func:`bnnoise.noise.collapse.collapse_probability`), the share of all BN
    channels whose running variance is small for its layer, and the smallest running variance
    of any channel over its layer's median
    (:func:`bnnoise.noise.collapse.running_variance_table`). Empty for a network without BN.
    Snapshots hold their running variances in half precision, as stored; the final model in
    fp32."""
    identity = dict(zip(RUN_COLUMNS, run_key(run), strict=True))
    rows = []
    for epoch, model in snapshot_runs(store, run):
        layers = running_variance_table(model.model)
        if layers.empty:
            return pd.DataFrame(columns=VARIANCE_COLUMNS)
        small = float((layers["small_share"] * layers["channels"]).sum() / layers["channels"].sum())
        smallest = float(layers["smallest_to_median"].min())
        for eta, p in collapse_table(model.model, list(protocol.etas), protocol.scale,
                                     protocol.kind).itertuples(index=False):
            rows.append({**identity, "epoch": epoch, "eta": eta, "collapse_probability": p,
                         "small_variance_share": small, "smallest_to_median": smallest})
    return pd.DataFrame(rows, columns=VARIANCE_COLUMNS)


VARIANCE_COLUMNS = [*RUN_COLUMNS, "epoch", "eta", "collapse_probability", "small_variance_share",
                    "smallest_to_median"]
"""Columns of :func:`variance_trajectory`."""


def swept_runs(profile: Profile, runs: list[TrainedModel]) -> list[TrainedModel]:
    """The runs a page built from stored results can show. While the store may compute, all of
    them (missing sweeps are computed when the page needs them); when it only reads
    (:func:`bnnoise.store.read_only`, as for the published pages and their tests), those whose
    noise sweep (the profile's ``noise``) and, where they keep snapshots, whose snapshots'
    sweeps (its ``progress_protocol``) are all stored: a model trained but not yet swept waits.
    """
    if not read_only():
        return list(runs)
    store = ArtifactStore(profile.store_dir)

    def complete(run: TrainedModel) -> bool:
        if not is_swept(store, run, profile.noise):
            return False
        snapshots = snapshot_runs(store, run)
        return (profile.progress_noise is None or len(snapshots) < 2
                or all(is_swept(store, model, profile.progress_noise) for _, model in snapshots))

    return [run for run in runs if complete(run)]


def progress_draws(profile: Profile, runs: list[TrainedModel]) -> pd.DataFrame:
    """:func:`sweep_snapshots` of every run with snapshots, with the profile's progress
    protocol (computing missing cells)."""
    if profile.progress_noise is None:
        raise ValueError(f"profile {profile.name} has no progress_protocol in params.yaml")
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    parts = [sweep_snapshots(store, run, profile.progress_noise, data) for run in runs]
    parts = [p for p in parts if len(p)]
    return (pd.concat(parts, ignore_index=True) if parts
            else pd.DataFrame(columns=PROGRESS_COLUMNS))


def progress_summary(draws: pd.DataFrame) -> pd.DataFrame:
    """Per run, epoch and target set: clean accuracy and the mean of the draws' average
    normalized accuracies with its 95 % t interval over the draws (``low``, ``high``)."""
    rows = []
    for key, part in draws.groupby([*RUN_COLUMNS, "epoch", "target"], sort=False):
        mean, half = mean_ci(part["avg_normalized_accuracy"].to_numpy())
        rows.append({**dict(zip([*RUN_COLUMNS, "epoch", "target"], key, strict=True)),
                     "clean_accuracy": float(part["clean_accuracy"].iloc[0]),
                     "avg_normalized_accuracy": mean, "low": mean - half, "high": mean + half,
                     "draws": len(part)})
    return pd.DataFrame(rows)
