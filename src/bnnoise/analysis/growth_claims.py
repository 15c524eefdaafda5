"""Claim 2 of the study, "the harm of BN grows with the number of BN layers", judged as the
growth of the harm from the smallest to the largest BN-layer count of a series: across the
depths of one family of networks, and in the controlled series where ResNet20 has BN in only k
of its slots. Beside the verdict: Kendall's tau of the harm over the counts and the share of
the harm already there at the smallest count (:func:`harm_shape`)."""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats as scipy_stats

from bnnoise.analysis.claim_rows import (
    COLUMNS,
    GROWTH_RULE,
    ONE_SEED,
    claim_row,
    fully_normalized,
)
from bnnoise.lineage import produces
from bnnoise.stats import Difference, mean_ci, t_difference, welch_satterthwaite_dof


def common_seeds(part: pd.DataFrame, keys: list[str]) -> list[int]:
    """The training seeds present for every group of ``keys`` in ``part``: a series compares
    networks trained with the same seeds, so that a depth or count with more replicate
    trainings does not weigh differently from the others (and every page that judges the
    series, whatever further grids it loads, judges the same networks)."""
    seeds = [set(group["seed"]) for _, group in part.groupby(keys)]
    return sorted(set.intersection(*seeds)) if seeds else []


def _mean_estimate(rows: pd.DataFrame) -> tuple[float, float, int]:
    """A network's average (points), its standard error and degrees of freedom (draws - 1),
    from its one row of the average table."""
    row = rows.iloc[0]
    return (100 * float(row["avg_normalized_accuracy"]), 100 * float(row["standard_error"]),
            int(row["draws"]) - 1)


def harm_growth(harms: pd.DataFrame) -> tuple[Difference, str]:
    """Growth of the harm from the smallest to the largest BN-layer count of a series.

    ``harms`` has one row per count and seed with ``count``, ``seed``, ``harm`` (points) and
    ``se`` and ``dof`` (its standard error over the draws and their degrees of freedom), every
    count with the same seeds. With two or more seeds the growth is taken per seed and its
    interval is Student's t over the seeds; with one, a t interval from the draws
    (:func:`bnnoise.stats.t_difference`)."""
    low_count, high_count = harms["count"].min(), harms["count"].max()
    small = harms[harms["count"] == low_count].set_index("seed")
    large = harms[harms["count"] == high_count].set_index("seed")
    if len(large) >= 2:
        growth = (large["harm"] - small["harm"]).to_numpy()
        mean, half = mean_ci(growth)
        return Difference(mean, mean - half, mean + half), f"seeds ({len(growth)}, paired)"
    d = t_difference(float(large["harm"].iloc[0] - small["harm"].iloc[0]),
                     [*large["se"], *small["se"]], [*large["dof"], *small["dof"]])
    return d, ONE_SEED


def harm_shape(harms: pd.DataFrame) -> dict:
    """How the harm of a series rises with the count, beside its verdict: Kendall's tau of the
    seed-mean harm over the counts with its p-value (a monotone trend), and the share of the
    largest count's harm already reached at the smallest count (saturation when near 1)."""
    means = harms.groupby("count")["harm"].mean()
    tau = scipy_stats.kendalltau(means.index.to_numpy(), means.to_numpy())
    top = float(means.iloc[-1])
    share = float(means.iloc[0]) / top if top > 0 else math.nan
    return {"kendall_tau": float(tau.statistic), "trend_p": float(tau.pvalue),
            "share_at_smallest": share}


GROWTH_COLUMNS = [*COLUMNS, "kendall_tau", "trend_p", "share_at_smallest"]
"""A growth claim's rows add how the harm rises with the count (:func:`harm_shape`)."""


def _growth_row(claim: str, dataset: str, subject: str, target: str, scoring: str,
                harms: pd.DataFrame) -> dict:
    d, interval = harm_growth(harms)
    return claim_row(claim, dataset, subject, target, scoring, d, interval,
                     GROWTH_RULE) | harm_shape(harms)


@produces
def harm_grows_across_depths(average: pd.DataFrame, family: str = "resnet") -> pd.DataFrame:
    """Claim 2 across depths: the harm of BN (no-BN minus BN average, points) of the deepest
    ``family`` network minus that of the shallowest (at least three depths), on the training
    seeds that every depth has in both arms (:func:`common_seeds`)."""
    rows = []
    full = fully_normalized(average)
    full = full[full["model"].str.startswith(family)]
    for (dataset, target, scoring), part in full.groupby(["dataset", "target", "scoring"]):
        part = part[part.groupby("model")["norm"].transform("nunique") == 2]
        seeds = common_seeds(part, ["model", "norm"])
        part = part[part["seed"].isin(seeds)]
        if part["model"].nunique() < 3:
            continue
        harms = []
        for (_, seed), pair in part.groupby(["model", "seed"]):
            bn, none = pair[pair["norm"] == "bn"], pair[pair["norm"] == "none"]
            (a, se_a, dof_a), (b, se_b, dof_b) = _mean_estimate(none), _mean_estimate(bn)
            harms.append({"count": int(bn["bn_layers"].iloc[0]), "seed": seed, "harm": a - b,
                          "se": math.hypot(se_a, se_b),
                          "dof": welch_satterthwaite_dof([se_a, se_b], [dof_a, dof_b])})
        harms = pd.DataFrame(harms).sort_values("count")
        subject = (f"{family} \u00d7 {part['model'].nunique()} depths (seed"
                   f"{'s' if len(seeds) > 1 else ''} {', '.join(str(s) for s in seeds)})")
        rows.append(_growth_row("the harm grows with the number of BN layers (depth series)",
                                dataset, subject, target, scoring, harms))
    return pd.DataFrame(rows, columns=GROWTH_COLUMNS).assign(rule_name="bn_growth")


@produces
def harm_grows_controlled(average: pd.DataFrame, model: str = "resnet20") -> pd.DataFrame:
    """Claim 2 in the controlled series: BN in only k of ``model``'s slots, first or last k.
    The estimate is the average at the smallest k above 0 minus the average of the fully
    normalized model (points): the harm that the BN layers beyond the first k add. ``k = 0``
    and all slots are the unnormalized and the fully normalized model, which belong to both
    placements; the series uses the training seeds that every k has (:func:`common_seeds`)."""
    rows = []
    part_model = average[average["model"] == model]
    ends = part_model[part_model["placement"] == "all"]
    for placement in ("first", "last"):
        series = pd.concat([ends, part_model[part_model["placement"] == placement]])
        for (dataset, target, scoring), part in series.groupby(["dataset", "target", "scoring"]):
            seeds = common_seeds(part, ["bn_layers"])
            part = part[part["seed"].isin(seeds)]
            if part["bn_layers"].nunique() < 3:
                continue
            reference = part[part["bn_layers"] == 0].set_index("seed")
            harms = []
            for (count, seed), row in part[part["bn_layers"] > 0].groupby(["bn_layers", "seed"]):
                value, se, dof = _mean_estimate(row)
                harms.append({"count": int(count), "seed": seed,
                              "harm": 100 * float(reference.loc[seed, "avg_normalized_accuracy"])
                              - value, "se": se, "dof": dof})
            harms = pd.DataFrame(harms).sort_values("count")
            counts = ", ".join(str(int(k)) for k in sorted(part["bn_layers"].unique()))
            subject = (f"{model}, BN in the {placement} k of its slots (k = {counts}; seed"
                       f"{'s' if len(seeds) > 1 else ''} {', '.join(str(s) for s in seeds)})")
            rows.append(_growth_row("the harm grows with the number of BN layers (controlled)",
                                    dataset, subject, target, scoring, harms))
    return pd.DataFrame(rows, columns=GROWTH_COLUMNS).assign(rule_name="bn_growth")
