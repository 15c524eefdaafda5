"""The pieces every claim of :mod:`bnnoise.analysis.claims` is built from: the claims' rules as
:data:`bnnoise.rules.RULES` fixes and words them, the columns of a claim's rows, the difference
of two arms with its interval, and one row with its verdict."""

from __future__ import annotations

import math

import pandas as pd

from bnnoise.rules import RULES
from bnnoise.stats import Difference, Equivalence, Rule, t_difference, welch_difference

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


def fully_normalized(average: pd.DataFrame) -> pd.DataFrame:
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
