"""Where the fast evaluation may stand in for the fp32 reference, by the rule fixed for it.

The fast evaluation folds BatchNorm into the convolutions after every draw and evaluates in
bfloat16 (``evaluation: fast``). The benchmark computes every number of the profile's sweeps
both ways with the same noise draws (``fast_evaluation_check.csv``) and summarises, per network
and target set, how many of them lie within the fp32 value's 95 % interval
(``fast_evaluation_summary.csv``). :func:`fast_path_allowed` applies the rule
``fast_evaluation`` of :data:`bnnoise.rules.RULES` to that summary.
"""

from __future__ import annotations

import pandas as pd

from bnnoise.rules import RULES

RULE = RULES["fast_evaluation"]


def fast_path_allowed(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with a column ``fast_path``: whether the fast evaluation may replace the fp32
    reference for that network and target set (every reported number within the reference's
    interval; a summary row with no numbers never qualifies)."""
    allowed = (summary["numbers"] > 0) & (summary["within_fp32_ci"] == summary["numbers"])
    return summary.assign(fast_path=allowed.astype(bool))
