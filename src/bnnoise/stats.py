"""Statistics of the book: confidence intervals, differences and the verdict rules.

Intervals use Student's t from scipy. How precise a noisy-accuracy estimate is, given its test
images and noise draws, is in :mod:`bnnoise.sampling`.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType

import numpy as np


@functools.cache
def _scipy_stats() -> ModuleType:
    """``scipy.stats``, imported on first use: it takes about a second, which every process of
    the workflow that never needs it (a training job) would pay."""
    from scipy import stats

    return stats


def t_quantile_975(dof: int) -> float:
    """97.5 % quantile of Student's t with ``dof`` degrees of freedom (for 95 % intervals)."""
    if dof < 1:
        return math.nan
    return float(_scipy_stats().t.ppf(0.975, dof))


def mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95 % Student-t confidence interval (NaN for one value)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan
    return mean, t_quantile_975(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)


class Verdict(StrEnum):
    """The three outcomes of a claim tested against an interval."""

    REPRODUCED = "reproduced"
    CONTRADICTED = "contradicted"
    INCONCLUSIVE = "inconclusive at this power"


@dataclass(frozen=True)
class Difference:
    """An estimated difference (claimed-larger minus claimed-smaller) with its 95 % interval."""

    estimate: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def welch_difference(larger: np.ndarray, smaller: np.ndarray, level: float = 0.95
                     ) -> Difference:
    """Difference of two independent means with Welch's t interval (unequal variances), as
    :func:`scipy.stats.ttest_ind` computes it.

    Needs at least two values on each side; a side with zero spread on both gives a zero-width
    interval."""
    a, b = np.asarray(larger, dtype=float), np.asarray(smaller, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least two values per group, got {len(a)} and {len(b)}")
    estimate = float(a.mean() - b.mean())
    if a.var() == 0 and b.var() == 0:
        return Difference(estimate, estimate, estimate)
    with warnings.catch_warnings():  # nearly equal values (e.g. identical accuracies): scipy
        # warns of lost precision in an interval that is then negligibly narrow either way
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        interval = _scipy_stats().ttest_ind(a, b, equal_var=False).confidence_interval(level)
    return Difference(estimate, float(interval.low), float(interval.high))


def normal_difference(estimate: float, standard_error: float, level: float = 0.95
                      ) -> Difference:
    """A difference with a normal-approximation interval from its standard error."""
    half = float(_scipy_stats().norm.ppf(0.5 + level / 2)) * standard_error
    return Difference(float(estimate), float(estimate) - half, float(estimate) + half)


def welch_satterthwaite_dof(standard_errors: Sequence[float], dofs: Sequence[int]) -> float:
    """Degrees of freedom of a sum of independent estimates with the given standard errors,
    each with its own degrees of freedom (Welch-Satterthwaite approximation)."""
    se = np.asarray(standard_errors, dtype=float)
    dof = np.asarray(dofs, dtype=float)
    if np.any(dof < 1):
        return math.nan
    numerator = float((se ** 2).sum()) ** 2
    denominator = float(((se ** 4) / dof).sum())
    return numerator / denominator if denominator > 0 else math.inf


def t_difference(estimate: float, standard_errors: Sequence[float], dofs: Sequence[int],
                 level: float = 0.95) -> Difference:
    """A difference (or any sum) of independent estimates with a Student-t interval: its
    standard error is the root of the summed squares, its degrees of freedom those of
    :func:`welch_satterthwaite_dof`. For one-seed networks each estimate is a mean over noise
    draws, with draws - 1 degrees of freedom; the normal quantile 1.96 would understate the
    interval with five draws (t = 2.78 at 4 degrees of freedom)."""
    se = math.sqrt(float((np.asarray(standard_errors, dtype=float) ** 2).sum()))
    dof = welch_satterthwaite_dof(standard_errors, dofs)
    if not math.isfinite(se) or math.isnan(dof):
        return Difference(float(estimate), math.nan, math.nan)
    quantile = float(_scipy_stats().t.ppf(0.5 + level / 2, dof)) if math.isfinite(dof) else float(
        _scipy_stats().norm.ppf(0.5 + level / 2))
    return Difference(float(estimate), float(estimate) - quantile * se,
                      float(estimate) + quantile * se)


@dataclass(frozen=True)
class Rule:
    """A decision rule fixed before the runs, for a claim "A is larger than B by an effect that
    matters".

    ``margin`` is the smallest difference A - B that would matter (in the units of the
    difference; 0 where any difference of the claimed sign counts; negative for
    non-inferiority, "A is not smaller than B by a difference that matters"). With the 95 %
    interval of the difference, the margin applies on both sides:

    * reproduced: the interval lies above ``margin`` (an effect that matters, of the claimed
      sign);
    * contradicted: the interval lies below ``margin`` (every effect that matters, or one of the
      other sign, is excluded);
    * otherwise inconclusive at this power.

    A wider interval can therefore only turn a verdict into "inconclusive", never into
    "reproduced" or "contradicted" (tested in ``tests/test_stats.py``).
    """

    margin: float = 0.0
    unit: str = ""

    def verdict(self, difference: Difference) -> Verdict:
        if not (math.isfinite(difference.low) and math.isfinite(difference.high)):
            return Verdict.INCONCLUSIVE
        if difference.low > self.margin:
            return Verdict.REPRODUCED
        if difference.high < self.margin:
            return Verdict.CONTRADICTED
        return Verdict.INCONCLUSIVE

    def text(self) -> str:
        """The rule in words, printed beside every verdict."""
        if self.margin > 0:
            bound = f"+{self.margin:g}{self.unit}"
            return (f"reproduced if the 95 % CI of the difference lies above {bound} (an effect "
                    f"that matters); contradicted if it lies below {bound} (no effect that "
                    f"matters fits the data); otherwise inconclusive at this power")
        if self.margin < 0:  # non-inferiority: A at least as large as B, up to |margin|
            bound = f"{self.margin:g}{self.unit}".replace("-", "\N{MINUS SIGN}")
            return (f"reproduced if the 95 % CI of the difference lies above {bound} (worse by "
                    f"no difference that matters); contradicted if it lies below {bound} "
                    f"(worse by a difference that matters); otherwise inconclusive at this "
                    f"power")
        return ("reproduced if the 95 % CI of the difference lies above 0; contradicted if it "
                "lies below 0; otherwise inconclusive at this power")


@dataclass(frozen=True)
class Equivalence:
    """A rule for a claim "our value equals a published one", up to ``tolerance``.

    With the 95 % interval of our value: reproduced when the whole interval lies within
    ``tolerance`` of the published value (an equivalence test, two one-sided tests at 2.5 %
    each); contradicted when the whole interval lies farther than ``tolerance`` from it;
    otherwise inconclusive at this power. As with :class:`Rule`, a wider interval can only make
    a verdict inconclusive.
    """

    tolerance: float
    unit: str = ""

    def verdict(self, low: float, high: float, published: float) -> Verdict:
        if not (math.isfinite(low) and math.isfinite(high)):
            return Verdict.INCONCLUSIVE
        if published - self.tolerance <= low and high <= published + self.tolerance:
            return Verdict.REPRODUCED
        if low > published + self.tolerance or high < published - self.tolerance:
            return Verdict.CONTRADICTED
        return Verdict.INCONCLUSIVE

    def text(self) -> str:
        """The rule in words, printed beside every verdict."""
        band = f"{self.tolerance:g}{self.unit}"
        return (f"reproduced if our 95 % interval lies entirely within {band} of the published "
                f"value; contradicted if it lies entirely farther than {band} from it; "
                f"otherwise inconclusive at this power")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and 95 % interval."""

    estimate: float
    standard_error: float
    low: float
    high: float


def binomial_interval(successes: int, trials: int) -> tuple[float, float]:
    """Clopper-Pearson 95 % interval of a proportion."""
    result = _scipy_stats().binomtest(successes, trials).proportion_ci(0.95, method="exact")
    return float(result.low), float(result.high)


def slope(x: np.ndarray, y: np.ndarray) -> Difference:
    """Least-squares slope of ``y`` on ``x`` with its 95 % t interval (``n - 2`` degrees of
    freedom); needs at least three points."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3:
        raise ValueError(f"a slope with an interval needs at least 3 points, got {len(x)}")
    fit = _scipy_stats().linregress(x, y)
    half = t_quantile_975(len(x) - 2) * fit.stderr
    return Difference(float(fit.slope), float(fit.slope - half), float(fit.slope + half))


def wilson_interval(events: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval of a proportion (:func:`scipy.stats.binomtest`; 0 to 1 for no
    trials)."""
    if trials == 0:
        return 0.0, 1.0
    interval = _scipy_stats().binomtest(events, trials).proportion_ci(level, method="wilson")
    return max(0.0, float(interval.low)), min(1.0, float(interval.high))


def newcombe_difference(events_a: int, trials_a: int, events_b: int, trials_b: int,
                        level: float = 0.95) -> Difference:
    """Difference of two proportions a - b with Newcombe's hybrid score interval (method 10 of
    Newcombe, Statistics in Medicine 1998), from the two Wilson intervals."""
    if trials_a < 1 or trials_b < 1:
        raise ValueError("need at least one trial on each side")
    pa, pb = events_a / trials_a, events_b / trials_b
    la, ua = wilson_interval(events_a, trials_a, level)
    lb, ub = wilson_interval(events_b, trials_b, level)
    d = pa - pb
    return Difference(d, d - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2),
                      d + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2))
