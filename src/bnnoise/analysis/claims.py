"""The study's claims, each turned into a verdict by a rule fixed before the runs.

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

from bnnoise.analysis.study import PUBLISHED
from bnnoise.lineage import produces
from bnnoise.rules import RULES
from bnnoise.stats import Difference, Rule, mean_ci, normal_difference, slope, welch_difference

BN_GAP_RULE = RULES["bn_gap"].rule
GROWTH_RULE = RULES["bn_growth"].rule
ROBUST_RULE = RULES["robust"].rule
ROBUST_THRESHOLD = RULES["robust"].value
HEADLINE_TOLERANCE = RULES["headline"].value
"""The claims' rules, as :data:`bnnoise.rules.RULES` fixes and words them."""

COLUMNS = ["claim", "dataset", "subject", "target", "scoring", "estimate", "low", "high",
           "interval", "verdict", "rule"]
"""The columns of a claim's rows; each claim function adds ``rule_name``, the key of the rule
in :data:`bnnoise.rules.RULES` (which the ledger dates)."""


def _full(average: pd.DataFrame) -> pd.DataFrame:
    """The fully normalized and unnormalized networks (no partial-normalization series)."""
    return average[average["placement"] == "all"]


def arm_difference(larger: pd.DataFrame, smaller: pd.DataFrame) -> tuple[Difference, str]:
    """Difference of two arms' averages (points): over seeds (Welch) when both have at least two
    seeds, else from the standard errors of single runs."""
    a, b = 100 * larger["avg_normalized_accuracy"], 100 * smaller["avg_normalized_accuracy"]
    if len(a) >= 2 and len(b) >= 2:
        return welch_difference(a.to_numpy(), b.to_numpy()), f"seeds ({len(a)} vs {len(b)})"
    se = 100 * math.sqrt(float((larger["standard_error"] ** 2).mean())
                         + float((smaller["standard_error"] ** 2).mean()))
    return normal_difference(float(a.mean() - b.mean()), se), "draws and images, one seed"


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


@produces
def harm_grows_across_depths(average: pd.DataFrame, family: str = "resnet") -> pd.DataFrame:
    """Claim 2 across depths: slope of the BN harm (no-BN minus BN, points, seed means) over
    the BN layer count of the ``family``'s depths (at least three depths)."""
    rows = []
    full = _full(average)
    full = full[full["model"].str.startswith(family)]
    for (dataset, target, scoring), part in full.groupby(["dataset", "target", "scoring"]):
        means = part.groupby(["model", "norm"]).agg(
            avg=("avg_normalized_accuracy", "mean"), layers=("bn_layers", "max")).reset_index()
        pivot = means.pivot(index="model", columns="norm", values="avg").dropna()
        if len(pivot) < 3 or not {"bn", "none"} <= set(pivot.columns):
            continue
        layers = means[means["norm"] == "bn"].set_index("model")["layers"].loc[pivot.index]
        d = slope(layers.to_numpy(), 100 * (pivot["none"] - pivot["bn"]).to_numpy())
        rows.append(claim_row("the harm grows with the number of BN layers (depth series)", dataset,
                         f"{family} \u00d7 {len(pivot)} depths", target, scoring, d,
                         "least-squares slope, t interval", GROWTH_RULE))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name="bn_growth")


@produces
def harm_grows_controlled(average: pd.DataFrame, model: str = "resnet20") -> pd.DataFrame:
    """Claim 2 in the controlled series: BN in only k of ``model``'s slots, first or last k.
    The estimate is minus the slope of the average over k (points per BN layer): positive when
    every added BN layer costs noise resistance. ``k = 0`` and all slots are the unnormalized
    and the fully normalized model, which belong to both placements."""
    rows = []
    part_model = average[average["model"] == model]
    ends = part_model[part_model["placement"] == "all"]
    for placement in ("first", "last"):
        series = pd.concat([ends, part_model[part_model["placement"] == placement]])
        for (dataset, target, scoring), part in series.groupby(["dataset", "target", "scoring"]):
            means = part.groupby("bn_layers")["avg_normalized_accuracy"].mean()
            if len(means) < 3:
                continue
            d = slope(means.index.to_numpy(), 100 * means.to_numpy())
            d = Difference(-d.estimate, -d.high, -d.low)
            rows.append(claim_row("the harm grows with the number of BN layers (controlled)",
                             dataset, f"{model}, BN in the {placement} k of its slots "
                             f"(k = {', '.join(str(int(k)) for k in means.index)})", target,
                             scoring, d, "least-squares slope over the trained counts k, "
                             "t interval", GROWTH_RULE))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name="bn_growth")


def headline_numbers(average: pd.DataFrame) -> pd.DataFrame:
    """Claim 3: each published number against ours on our grid (points). The estimate is ours,
    the interval ours; the verdict compares the published value (column ``published``)."""
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
                interval = "draws and images, one seed"
            published = 100 * r.avg_normalized_accuracy
            matched = low - HEADLINE_TOLERANCE <= published <= high + HEADLINE_TOLERANCE
            rows.append({"claim": "the headline numbers", "dataset": r.dataset,
                         "subject": f"{r.model} {'with' if r.norm == 'bn' else 'without'} BN",
                         "target": target, "scoring": scoring, "estimate": est, "low": low,
                         "high": high, "interval": interval, "published": published,
                         "verdict": "reproduced" if matched else "contradicted",
                         "rule": f"reproduced if the published value lies within our 95 % "
                                 f"interval widened by {HEADLINE_TOLERANCE:g} points; "
                                 f"otherwise contradicted"})
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
            d = normal_difference(float(values.iloc[0]) - ROBUST_THRESHOLD,
                                  100 * float(part["standard_error"].iloc[0]))
            interval = "draws and images, one seed"
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
