"""Every claim under every reading of the protocol: the multiverse of the study's open choices.

The study leaves its protocol open, and each verdict of :mod:`bnnoise.analysis.claims` is
computed on one reading of it. A *reading* here is one choice on each open axis:

* the noise grid: the profile's log grid truncated at each ``eta_max`` of :data:`GRID_CUTS`
  (``log <= 0.3``: the average over the levels up to 0.3), or the grid weighted uniformly
  over ``[0, eta_max]`` (``uniform``: the trapezoid rule over the measured levels, the clean
  network counting as 1 at eta = 0, which is what an equally spaced grid would estimate);
* the scale and kind of the noise: the profile's own (``std``, additive) or one of its
  ``readings`` (:attr:`bnnoise.config.Profile.readings`: ``max``, ``absolute`` with its own
  levels, multiplicative, the ``kernels`` target set), each swept on the main grid's networks;
* the target set, the scoring of non-finite outputs and the dataset, as every claim table has
  them.

:func:`multiverse_claims` applies the claims' own functions and rules to every reading, so a
verdict here is the verdict the claims page would give had the book chosen that reading; the
tidy table holds one row per claim, subject and reading. :func:`verdict_shares` counts the
readings behind each verdict. The claim at matched clean accuracy uses the snapshots' lighter
protocol and is not repeated here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bnnoise.analysis import claims as C
from bnnoise.analysis.summaries import average_normalized_accuracy, per_scoring
from bnnoise.config import Profile
from bnnoise.data import DataCache
from bnnoise.lineage import produces
from bnnoise.pipeline.readings import reading_runs
from bnnoise.pipeline.sweeps import RUN_COLUMNS, noise_sweep, run_key, sweep_hits
from bnnoise.pipeline.trained import TrainedModel
from bnnoise.stats import mean_ci, t_quantile_975
from bnnoise.store import ArtifactStore

KEYS = [*RUN_COLUMNS, "target"]

GRID_CUTS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
"""The largest noise levels at which the log grid is cut (``log <= eta_max``)."""

PROFILE_READING = "std, additive"
"""The name of the profile's own noise protocol among the readings."""

READING_COLUMNS = ["grid", "reading", "dataset", "target", "scoring"]
"""The choices that make a reading, in the order the figures list them."""


def grid_name(eta_max: float, full: float) -> str:
    """The name of a truncated grid (the untruncated one says so)."""
    return f"log ≤ {eta_max:g}" + (" (book)" if math.isclose(eta_max, full) else "")


OWN_LEVELS = "own levels"
"""The grid of a reading with levels of its own (the ``absolute`` scale, in the weights' units,
or another grid than the profile's): it is averaged whole, since the cuts of :data:`GRID_CUTS`
are levels of the profile's grid, relative to each tensor's scale."""


def truncated_averages(draws: pd.DataFrame, hits: dict | None, population: int | None,
                       own_levels: bool = False) -> pd.DataFrame:
    """The average normalized accuracy of every curve of ``draws`` on the log grid cut at each
    ``eta_max`` of :data:`GRID_CUTS` (with draws and, given ``hits``, test images in its
    interval), with the column ``grid``; with ``own_levels``, on the whole grid alone
    (:data:`OWN_LEVELS`)."""
    full = float(draws["eta"].max())
    if own_levels:
        return (average_normalized_accuracy(draws, KEYS, hits, population)
                .assign(grid=f"{OWN_LEVELS} ≤ {full:g}"))
    parts = []
    for cut in GRID_CUTS:
        if cut > full + 1e-9 or not ((draws["eta"] > 0) & (draws["eta"] <= cut + 1e-9)).any():
            continue
        part = draws[draws["eta"] <= cut + 1e-9]
        parts.append(average_normalized_accuracy(part, KEYS, hits, population)
                     .assign(grid=grid_name(cut, full)))
    return pd.concat(parts, ignore_index=True)


def uniform_averages(draws: pd.DataFrame) -> pd.DataFrame:
    """The average normalized accuracy weighted uniformly over ``[0, eta_max]``: per draw, the
    trapezoid rule over the measured levels with 1 at eta = 0, divided by ``eta_max``; mean and
    Student-t interval over the draws (the interval does not hold the test images' sampling)."""
    rows = []
    for group, part in per_scoring(draws[draws["eta"] > 0]).groupby([*KEYS, "scoring"], sort=True):
        per_draw = []
        for _, curve in part.groupby("draw"):
            curve = curve.sort_values("eta")
            eta = np.concatenate([[0.0], curve["eta"].to_numpy()])
            value = np.concatenate([[1.0], curve["normalized_accuracy"].to_numpy()])
            per_draw.append(float(np.trapezoid(value, eta)) / float(eta[-1]))
        mean, half = mean_ci(np.asarray(per_draw))
        n = len(per_draw)
        rows.append({**dict(zip([*KEYS, "scoring"], group, strict=True)),
                     "avg_normalized_accuracy": mean,
                     "standard_error": half / t_quantile_975(n - 1) if n > 1 else math.nan,
                     "low": mean - half, "high": mean + half, "interval": "draws",
                     "eta_grid": "uniform", "draws": n, "grid": "uniform"})
    return pd.DataFrame(rows)


def grid_averages(draws: pd.DataFrame, hits: dict | None = None,
                  population: int | None = None, own_levels: bool = False) -> pd.DataFrame:
    """:func:`truncated_averages` and :func:`uniform_averages` of one protocol's draws."""
    return pd.concat([truncated_averages(draws, hits, population, own_levels),
                      uniform_averages(draws)], ignore_index=True)


@produces
def reading_averages(profile: Profile, runs: list[TrainedModel], draws: pd.DataFrame,
                     only: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every grid reading of ``runs`` under the profile's own protocol (``draws``, their
    sweep table) and under each of the profile's readings that is swept (every grid of it;
    ``only`` those named, if given): average normalized accuracies with the columns ``grid``
    and ``reading``."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    population = int(runs[0].summary["test_images"])
    own = {run_key(run): sweep_hits(store, run, profile.noise, data) for run in runs}
    parts = [grid_averages(draws, own, population).assign(reading=PROFILE_READING)]
    for name, protocol in profile.readings:
        if only is not None and name not in only:
            continue
        shown = [run for run in reading_runs(profile, runs, name)
                 if run.spec.seed in reading_seeds(profile)]
        if not shown:
            continue
        table = pd.concat([noise_sweep(store, run, protocol, data) for run in shown],
                          ignore_index=True)
        hits = {run_key(run): sweep_hits(store, run, protocol, data) for run in shown}
        own_levels = (protocol.scale == "absolute"  # levels in the weights' units
                      or tuple(protocol.etas) != tuple(profile.noise.etas))
        parts.append(grid_averages(table, hits, population, own_levels).assign(reading=name))
    return pd.concat(parts, ignore_index=True)


CLAIMS = {
    "BN lowers noise resistance": C.bn_lowers_resistance,
    "the harm grows with the number of BN layers (depth series)": C.harm_grows_across_depths,
    "the harm grows with the number of BN layers (controlled)": C.harm_grows_controlled,
    "the headline numbers": C.headline_numbers,
    "networks without BN stay robust": C.no_bn_stays_robust,
}
"""The claims judged under every reading, by the functions of the claims page."""


@produces
def multiverse_claims(averages: pd.DataFrame) -> pd.DataFrame:
    """Every claim's rows (:mod:`bnnoise.analysis.claims`) under every reading of
    ``averages`` (:func:`reading_averages`): one row per claim, subject and reading, with the
    reading's ``grid`` and ``reading`` beside the target set, scoring and dataset, and, where
    the networks were trained for several lengths, the length (``epochs``: judged apart)."""
    parts = []
    lengths = ["epochs"] if "epochs" in averages and averages["epochs"].nunique() > 1 else []
    for key, part in averages.groupby(["grid", "reading", *lengths], sort=False):
        labels = dict(zip(["grid", "reading", *lengths], key, strict=True))
        for function in CLAIMS.values():
            rows = function(part)
            if len(rows):
                parts.append(rows.assign(**labels))
    table = pd.concat(parts, ignore_index=True)
    front = ["claim", "subject", *READING_COLUMNS, *lengths]
    return table[front + [c for c in table.columns if c not in front]]


@produces
def verdict_shares(multiverse: pd.DataFrame) -> pd.DataFrame:
    """Per claim: how many readings (claim rows) there are and the share of them behind each
    verdict, and the same for the book's own reading (the profile's protocol on its full
    grid) for comparison."""
    rows = []
    for claim, part in multiverse.groupby("claim", sort=False):
        shares = part["verdict"].value_counts(normalize=True)
        book = part[(part["reading"] == PROFILE_READING) & part["grid"].str.endswith("(book)")]
        rows.append({"claim": claim, "readings": len(part),
                     **{v: float(shares.get(v, 0.0)) for v in
                        ("reproduced", "contradicted", "inconclusive at this power")},
                     "book_rows": len(book),
                     "book_reproduced": float((book["verdict"] == "reproduced").mean())
                     if len(book) else math.nan})
    return pd.DataFrame(rows)



@produces
def verdict_by_grid(multiverse: pd.DataFrame) -> pd.DataFrame:
    """Per claim and noise grid, in the order the grids appear, on the profile's own noise
    scale and kind (the other readings have grids of their own): the most common verdict of
    the claim's readings on that grid, tied verdicts joined by " or " (in the order
    reproduced, contradicted, inconclusive), and the share of each."""
    order = ["reproduced", "contradicted", "inconclusive at this power"]
    own = (multiverse[multiverse["reading"] == PROFILE_READING] if "reading" in multiverse
           else multiverse)
    rows = []
    for (claim, grid), part in own.groupby(["claim", "grid"], sort=False):
        counts = part["verdict"].value_counts().reindex(order, fill_value=0)
        top = [v for v in order if counts[v] == counts.max()]
        rows.append({"claim": claim, "grid": grid, "verdict": " or ".join(top),
                     "share": float(counts.max() / len(part)), "readings": len(part)})
    return pd.DataFrame(rows, columns=["claim", "grid", "verdict", "share", "readings"])


def reading_seeds(profile: Profile) -> tuple[int, ...]:
    """The training seeds the profile's readings are swept for (those of its readings grid;
    none without readings)."""
    return tuple(profile.grid(profile.readings_grid).seeds) if profile.readings else ()


BIAS_READING = "kernels"
"""The reading that leaves every bias exact in both arms (target set ``kernels``), set against
``weights``, under which every conv and linear bias but BN's shift gets noise."""

BIAS_COLUMNS = ["dataset", "subject", "scoring",
                *(f"{v}_{t}" for t in ("weights", "kernels")
                  for v in ("estimate", "low", "high", "verdict")),
                "change", "change_low", "change_high"]


@produces
def bias_treatment(averages: pd.DataFrame) -> pd.DataFrame:
    """Claim 1 (:func:`bnnoise.analysis.claims.bn_lowers_resistance`) on the book's grid for the
    networks swept under :data:`BIAS_READING`: estimate, interval and verdict under ``weights``
    (suffix ``_weights``) and with every bias exact (``_kernels``), on the same seeds and
    lengths (each judged apart, column ``epochs`` where several), and the ``change`` (points)
    with a 95 % interval of half-width the root of the two squared half-widths (independent
    draws on shared test images: it errs on the wide side). No rows while not swept."""
    book = averages[averages["grid"].str.endswith("(book)")]
    alike = book[(book["reading"] == BIAS_READING) & (book["target"] == "kernels")]
    if alike.empty:
        return pd.DataFrame(columns=BIAS_COLUMNS)
    keys = [k for k in ("dataset", "model", "norm", "seed", "epochs") if k in book]
    own = book[(book["reading"] == PROFILE_READING) & (book["target"] == "weights")]
    own = own.merge(alike[keys].drop_duplicates(), on=keys)
    on, values = ["dataset", "subject", "scoring"], ["estimate", "low", "high", "verdict"]
    lengths = ["epochs"] if "epochs" in alike and alike["epochs"].nunique() > 1 else []
    parts = []
    for key, part in alike.groupby(lengths) if lengths else [((), alike)]:
        mine = own if not lengths else own[own["epochs"] == key[0]]
        both = C.bn_lowers_resistance(mine)[on + values].merge(
            C.bn_lowers_resistance(part)[on + values], on=on, suffixes=("_weights", "_kernels"))
        parts.append(both.assign(**dict(zip(lengths, key, strict=True))))
    table = pd.concat(parts, ignore_index=True)
    half = np.hypot((table["high_weights"] - table["low_weights"]) / 2,
                    (table["high_kernels"] - table["low_kernels"]) / 2)
    table["change"] = table["estimate_kernels"] - table["estimate_weights"]
    table["change_low"], table["change_high"] = table["change"] - half, table["change"] + half
    return table[[*BIAS_COLUMNS, *lengths]]
