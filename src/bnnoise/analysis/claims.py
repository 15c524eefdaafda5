"""The study's claims, each turned into a verdict by a rule of :data:`bnnoise.rules.RULES` (the
ledger, :mod:`bnnoise.analysis.ledger`, says whether each was fixed before its data).

Every function takes the table of average normalized accuracies
(:func:`bnnoise.analysis.summaries.average_normalized_accuracy`, keyed by the run columns,
``target`` and ``scoring``) and returns one row per claim and reading of the protocol (target
set, scoring of non-finite outputs): the estimate in percentage points with its 95 % interval,
the verdict (:class:`bnnoise.stats.Verdict`) and the rule in words. The rules and their
margins are module constants, printed beside every verdict.

Where a comparison has several training seeds per arm, the interval is taken over the seeds
(Welch), so that it covers the variation between trainings; with one seed it covers the noise
draws and the test images only, and the table says so in its ``interval`` column.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats as scipy_stats

from bnnoise.analysis.study import PUBLISHED
from bnnoise.lineage import produces
from bnnoise.rules import RULES
from bnnoise.stats import (
    Difference,
    Equivalence,
    Rule,
    mean_ci,
    t_difference,
    welch_difference,
    welch_satterthwaite_dof,
)

BN_GAP_RULE = RULES["bn_gap"].rule
GROWTH_RULE = RULES["bn_growth"].rule
ROBUST_RULE = RULES["robust"].rule
ROBUST_THRESHOLD = RULES["robust"].value
HEADLINE_TOLERANCE = RULES["headline"].value
HEADLINE_RULE = Equivalence(HEADLINE_TOLERANCE, " points")
"""The claims' rules, as :data:`bnnoise.rules.RULES` fixes and words them."""

ONE_SEED = "one seed (t)"
"""The ``interval`` of a comparison of one-seed networks: Student's t over the noise draws and
test images of one training run per network (Welch-Satterthwaite degrees of freedom for a
difference, :func:`bnnoise.stats.t_difference`); the claim tables explain it in their
captions."""

COLUMNS = ["claim", "dataset", "subject", "target", "scoring", "estimate", "low", "high",
           "interval", "verdict", "rule"]
"""The columns of a claim's rows; each claim function adds ``rule_name``, the key of the rule
in :data:`bnnoise.rules.RULES` (which the ledger dates)."""


def _full(average: pd.DataFrame) -> pd.DataFrame:
    """The fully normalized and unnormalized networks (no partial-normalization series)."""
    return average[average["placement"] == "all"]


def arm_difference(larger: pd.DataFrame, smaller: pd.DataFrame) -> tuple[Difference, str]:
    """Difference of two arms' averages (points): over seeds (Welch) when both have at least two
    seeds, else from the standard errors over the noise draws of single runs, with Student's t
    at the Welch-Satterthwaite degrees of freedom (draws - 1 per run)."""
    a, b = 100 * larger["avg_normalized_accuracy"], 100 * smaller["avg_normalized_accuracy"]
    if len(a) >= 2 and len(b) >= 2:
        return welch_difference(a.to_numpy(), b.to_numpy()), f"seeds ({len(a)} vs {len(b)})"
    ses = [100 * math.sqrt(float((arm["standard_error"] ** 2).mean()))
           for arm in (larger, smaller)]
    dofs = [int(arm["draws"].min()) - 1 for arm in (larger, smaller)]
    return (t_difference(float(a.mean() - b.mean()), ses, dofs),
            ONE_SEED)


def claim_row(claim: str, dataset: str, subject: str, target: str, scoring: str, d: Difference,
         interval: str, rule: Rule) -> dict:
    return {"claim": claim, "dataset": dataset, "subject": subject, "target": target,
            "scoring": scoring, "estimate": d.estimate, "low": d.low, "high": d.high,
            "interval": interval, "verdict": rule.verdict(d).value, "rule": rule.text()}


@produces
def bn_gap_at_matched_accuracy(progress: pd.DataFrame) -> pd.DataFrame:
    """Claim 1 at matched clean accuracy, from the training-progress draws
    (:func:`bnnoise.pipeline.progress.sweep_snapshots`): the final no-BN model against the
    snapshot of the BN run of the same model and seed whose clean accuracy is closest to it.
    No-BN minus BN average normalized accuracy (points), Welch interval over the draws."""
    rows = []
    full = progress[progress["placement"] == "all"]
    for (dataset, model, seed, target), part in full.groupby(
            ["dataset", "model", "seed", "target"]):
        bn, none = part[part["norm"] == "bn"], part[part["norm"] == "none"]
        if not len(bn) or not len(none):
            continue
        none = none[none["epoch"] == none["epoch"].max()]
        clean = float(none["clean_accuracy"].iloc[0])
        distance = (bn["clean_accuracy"] - clean).abs()
        bn = bn[bn["epoch"] == bn.loc[distance.idxmin(), "epoch"]]
        d = welch_difference(100 * none["avg_normalized_accuracy"].to_numpy(),
                             100 * bn["avg_normalized_accuracy"].to_numpy())
        subject = (f"{model} (seed {seed}): without BN after epoch {none['epoch'].iloc[0]} "
                   f"({100 * clean:.1f} %) vs with BN after epoch {bn['epoch'].iloc[0]} "
                   f"({100 * float(bn['clean_accuracy'].iloc[0]):.1f} %)")
        rows.append(claim_row("at matched clean accuracy, BN lowers noise resistance", dataset,
                         subject, target, "wrong", d, f"draws ({len(none)} vs {len(bn)})",
                         BN_GAP_RULE))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name="bn_gap")


def bn_lowers_resistance(average: pd.DataFrame) -> pd.DataFrame:
    """Claim 1 per (dataset, model, target, scoring): no-BN minus BN average, points."""
    rows = []
    full = _full(average)
    for (dataset, model, target, scoring), part in full.groupby(
            ["dataset", "model", "target", "scoring"]):
        bn, none = part[part["norm"] == "bn"], part[part["norm"] == "none"]
        if len(bn) and len(none):
            d, interval = arm_difference(none, bn)
            rows.append(claim_row("BN lowers noise resistance", dataset, model, target, scoring, d,
                             interval, BN_GAP_RULE))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name="bn_gap")


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
    full = _full(average)
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


def headline_numbers(average: pd.DataFrame) -> pd.DataFrame:
    """Claim 3: each published number against ours on our grid (points). The estimate is ours
    with its 95 % interval (over seeds where there are two or more, else Student's t over the
    noise draws of one run); :data:`HEADLINE_RULE` compares the published value (column
    ``published``) with it, an equivalence test: imprecision cannot make a number match."""
    rows = []
    full = _full(average)
    for r in PUBLISHED.itertuples():
        part = full[(full["dataset"] == r.dataset) & (full["model"] == r.model)
                    & (full["norm"] == r.norm)]
        for (target, scoring), cell in part.groupby(["target", "scoring"]):
            est = 100 * float(cell["avg_normalized_accuracy"].mean())
            if len(cell) >= 2:
                _, half = mean_ci(100 * cell["avg_normalized_accuracy"].to_numpy())
                low, high, interval = est - half, est + half, f"seeds ({len(cell)})"
            else:
                low, high = 100 * float(cell["low"].iloc[0]), 100 * float(cell["high"].iloc[0])
                interval = ONE_SEED
            published = 100 * r.avg_normalized_accuracy
            rows.append({"claim": "the headline numbers", "dataset": r.dataset,
                         "subject": f"{r.model} {'with' if r.norm == 'bn' else 'without'} BN",
                         "target": target, "scoring": scoring, "estimate": est, "low": low,
                         "high": high, "interval": interval, "published": published,
                         "verdict": HEADLINE_RULE.verdict(low, high, published).value,
                         "rule": HEADLINE_RULE.text()})
    columns = [*COLUMNS[:-2], "published", "verdict", "rule"]
    return pd.DataFrame(rows, columns=columns).assign(rule_name="headline")


def no_bn_stays_robust(average: pd.DataFrame) -> pd.DataFrame:
    """Claim 4 per (dataset, model, target, scoring): the no-BN average minus 90 %, points."""
    rows = []
    full = _full(average)
    for (dataset, model, target, scoring), part in full[full["norm"] == "none"].groupby(
            ["dataset", "model", "target", "scoring"]):
        values = 100 * part["avg_normalized_accuracy"]
        if len(values) >= 2:
            mean, half = mean_ci(values.to_numpy())
            d, interval = Difference(mean - ROBUST_THRESHOLD, mean - ROBUST_THRESHOLD - half,
                                     mean - ROBUST_THRESHOLD + half), f"seeds ({len(values)})"
        else:
            d = t_difference(float(values.iloc[0]) - ROBUST_THRESHOLD,
                             [100 * float(part["standard_error"].iloc[0])],
                             [int(part["draws"].iloc[0]) - 1])
            interval = ONE_SEED
        rows.append(claim_row(f"networks without BN stay robust (average above "
                         f"{ROBUST_THRESHOLD:g} %)", dataset, model, target, scoring, d,
                         interval, ROBUST_RULE))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name="robust")


@produces
def all_claims(average: pd.DataFrame, progress: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim's rows, in the order of the claims page; with the training-progress draws,
    claim 1 also at matched clean accuracy."""
    matched = [bn_gap_at_matched_accuracy(progress)] if progress is not None else []
    parts = [bn_lowers_resistance(average), *matched, harm_grows_across_depths(average),
             harm_grows_controlled(average), headline_numbers(average),
             no_bn_stays_robust(average)]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


@produces
def verdict_counts(claims: pd.DataFrame) -> pd.DataFrame:
    """Per claim, dataset, target set and scoring: how many rows got each verdict."""
    table = (claims.groupby(["claim", "dataset", "target", "scoring", "verdict"], sort=False)
             .size().unstack("verdict", fill_value=0).reset_index())
    for v in ("reproduced", "contradicted", "inconclusive at this power"):
        if v not in table:
            table[v] = 0
    return table[["claim", "dataset", "target", "scoring", "reproduced", "contradicted",
                  "inconclusive at this power"]].astype(
        {"reproduced": int, "contradicted": int, "inconclusive at this power": int})
