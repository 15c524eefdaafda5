"""Statements of the cited literature about remedies and robust BN variants, judged by the recovery
they predict (:data:`bnnoise.rules.RULES`, ``literature``)."""

from __future__ import annotations

import math

from bnnoise.rules import RULES
from bnnoise.stats import Difference, Verdict

LITERATURE_RULE = RULES["literature"].rule
"""The rule that judges a statement of the literature by the recovery it predicts
(:data:`bnnoise.rules.RULES`, ``literature``)."""

LITERATURE_VERDICT = {Verdict.REPRODUCED: "confirmed", Verdict.CONTRADICTED: "contradicted",
                      Verdict.INCONCLUSIVE: "inconclusive at this power"}
"""The verdicts of :data:`LITERATURE_RULE` as the literature table words them."""


def literature_verdict(low: float, high: float, worse_is_confirmed: bool = False) -> str:
    """:data:`LITERATURE_RULE` on the recovery's 95 % interval ``[low, high]``; when the
    statement says the remedy is worse, on the interval of minus the recovery."""
    interval = (-high, -low) if worse_is_confirmed else (low, high)
    return LITERATURE_VERDICT[LITERATURE_RULE.verdict(Difference(math.nan, *interval))]
