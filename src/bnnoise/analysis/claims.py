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

import pandas as pd

from bnnoise.analysis.claim_rows import (
    BN_GAP_RULE,
    COLUMNS,
    GROWTH_RULE,
    HEADLINE_RULE,
    HEADLINE_TOLERANCE,
    ONE_SEED,
    ROBUST_RULE,
    ROBUST_THRESHOLD,
    arm_difference,
    claim_row,
    fully_normalized,
)
from bnnoise.analysis.growth_claims import (
    GROWTH_COLUMNS,
    common_seeds,
    harm_grows_across_depths,
    harm_grows_controlled,
    harm_growth,
    harm_shape,
)
from bnnoise.analysis.study import PUBLISHED
from bnnoise.lineage import produces
from bnnoise.rules import RULES
from bnnoise.stats import Difference, mean_ci, t_difference, welch_difference

__all__ = [  # the claims, and the pieces a reader of this module looks for here
    "BN_GAP_RULE", "COLUMNS", "GROWTH_COLUMNS", "GROWTH_RULE", "HEADLINE_RULE",
    "HEADLINE_TOLERANCE", "ONE_SEED", "ROBUST_RULE", "ROBUST_THRESHOLD", "all_claims",
    "arm_difference", "bn_gap_at_matched_accuracy", "bn_lowers_resistance", "claim_row",
    "common_seeds", "harm_grows_across_depths", "harm_grows_controlled", "harm_growth",
    "harm_shape", "headline_numbers", "no_bn_stays_robust", "verdict_counts",
]


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


def bn_lowers_resistance(average: pd.DataFrame, rule_name: str = "bn_gap",
                         claim: str = "BN lowers noise resistance") -> pd.DataFrame:
    """Claim 1 per (dataset, model, target, scoring): no-BN minus BN average, points, by the
    rule ``rule_name`` of :data:`bnnoise.rules.RULES` (the device chapter's ``device_bn_gap``
    takes the same comparison). The arms are compared on the training seeds both have
    (:func:`common_seeds`): a seed trained for one arm only, as while a replicate pair is in
    training, waits for its twin."""
    rule = BN_GAP_RULE if rule_name == "bn_gap" else RULES[rule_name].rule
    assert rule is not None, rule_name
    rows = []
    full = fully_normalized(average)
    for (dataset, model, target, scoring), part in full.groupby(
            ["dataset", "model", "target", "scoring"]):
        part = part[part["norm"].isin(["bn", "none"])]
        part = part[part["seed"].isin(common_seeds(part, ["norm"]))]
        bn, none = part[part["norm"] == "bn"], part[part["norm"] == "none"]
        if len(bn) and len(none):
            d, interval = arm_difference(none, bn)
            rows.append(claim_row(claim, dataset, model, target, scoring, d, interval, rule))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name=rule_name)


def headline_numbers(average: pd.DataFrame) -> pd.DataFrame:
    """Claim 3: each published number against ours on our grid (points). The estimate is ours
    with its 95 % interval (over seeds where there are two or more, else Student's t over the
    noise draws of one run); :data:`HEADLINE_RULE` compares the published value (column
    ``published``) with it, an equivalence test: imprecision cannot make a number match. The
    interval stops at 0 %, below which no average normalized accuracy lies (two seeds give
    Student's t one degree of freedom, whose interval can reach far below)."""
    rows = []
    full = fully_normalized(average)
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
            low = max(low, 0.0)  # an average normalized accuracy is never below 0 %
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
    full = fully_normalized(average)
    for (dataset, model, target, scoring), part in full[full["norm"] == "none"].groupby(
            ["dataset", "model", "target", "scoring"]):
        values = 100 * part["avg_normalized_accuracy"]
        if len(values) >= 2:
            mean, half = mean_ci(values.to_numpy())
            # the average itself is never below 0 %: neither is the interval's lower end
            d, interval = Difference(mean - ROBUST_THRESHOLD,
                                     max(mean - half, 0.0) - ROBUST_THRESHOLD,
                                     mean - ROBUST_THRESHOLD + half), f"seeds ({len(values)})"
        else:
            d = t_difference(float(values.iloc[0]) - ROBUST_THRESHOLD,
                             [100 * float(part["standard_error"].iloc[0])],
                             [int(part["draws"].iloc[0]) - 1])
            d = Difference(d.estimate, max(d.low, -ROBUST_THRESHOLD), d.high)
            interval = ONE_SEED
        rows.append(claim_row(f"networks without BN stay robust (average above "
                         f"{ROBUST_THRESHOLD:g} %)", dataset, model, target, scoring, d,
                         interval, ROBUST_RULE))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name="robust")


@produces
def all_claims(average: pd.DataFrame, progress: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim's rows, in the order of the claims page; with the training-progress draws,
    claim 1 also at matched clean accuracy. Networks trained for different lengths (column
    ``epochs`` of the run columns: the recipe's, a converged tier's) are judged apart, each
    length's rows marked in a column ``epochs``, shortest first."""
    lengths = sorted(average["epochs"].unique()) if "epochs" in average else [None]
    parts = []
    for epochs in lengths:
        mine = average if epochs is None else average[average["epochs"] == epochs]
        steps = (progress[progress["epochs"] == epochs]
                 if progress is not None and epochs is not None and "epochs" in progress
                 else progress)
        rows = _claims_of(mine, steps)
        parts.append(rows if epochs is None else rows.assign(epochs=int(epochs)))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def _claims_of(average: pd.DataFrame, progress: pd.DataFrame | None) -> pd.DataFrame:
    matched = ([bn_gap_at_matched_accuracy(progress)]
               if progress is not None and len(progress) else [])
    parts = [bn_lowers_resistance(average), *matched, harm_grows_across_depths(average),
             harm_grows_controlled(average), headline_numbers(average),
             no_bn_stays_robust(average)]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


@produces
def verdict_counts(claims: pd.DataFrame) -> pd.DataFrame:
    """Per claim, dataset, training length (where the rows have several) target set and
    scoring: how many rows got each verdict."""
    keys = ["claim", "dataset", *(["epochs"] if _lengths(claims) > 1 else []), "target",
            "scoring"]
    table = (claims.groupby([*keys, "verdict"], sort=False)
             .size().unstack("verdict", fill_value=0).reset_index())
    for v in ("reproduced", "contradicted", "inconclusive at this power"):
        if v not in table:
            table[v] = 0
    return table[[*keys, "reproduced", "contradicted",
                  "inconclusive at this power"]].astype(
        {"reproduced": int, "contradicted": int, "inconclusive at this power": int})


def _lengths(claims: pd.DataFrame) -> int:
    return int(claims["epochs"].nunique()) if "epochs" in claims else 1
