"""Statistics of the book: confidence intervals and the precision of noisy-accuracy estimates.

Intervals use Student's t from scipy. The rest of this module concerns how precise a
noisy-accuracy estimate is, given how many test images and noise draws it uses.

A sweep cell estimates the accuracy of a network under weight noise, averaged over noise draws,
on a population of test images (the full test set). With ``draws`` draws evaluated on the same
``images`` images taken at random from a population of ``population`` images, the correctness of
image ``i`` under draw ``d`` is modelled as a two-way random-effects layout

    c[d, i] = mu + a[d] + b[i] + e[d, i],

with variances ``draw`` (how much a draw changes the accuracy of every image), ``image`` (how
much images differ in their chance of being right) and ``residual`` (the draw-image interaction,
including the Bernoulli noise). The estimate's variance is then

    draw / draws + image / images * (1 - images / population) + residual / (images * draws).

:func:`variance_components` estimates the three variances from a draws x images matrix of hits
(the usual ANOVA estimators); :func:`standard_error` and :func:`draws_needed` answer how many
draws a subset of images needs to be as precise as the full test set with a given number of
draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import torch
from scipy import stats as scipy_stats


def t_quantile_975(dof: int) -> float:
    """97.5 % quantile of Student's t with ``dof`` degrees of freedom (for 95 % intervals)."""
    if dof < 1:
        return math.nan
    return float(scipy_stats.t.ppf(0.975, dof))


def mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95 % Student-t confidence interval (NaN for one value)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan
    return mean, t_quantile_975(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)


@dataclass(frozen=True)
class VarianceComponents:
    """Variances of the two-way layout of hits (see the module docstring)."""

    draw: float
    image: float
    residual: float


def variance_components(hits: torch.Tensor) -> VarianceComponents:
    """ANOVA estimates from a (draws, images) boolean matrix of correct predictions; negative
    estimates are set to zero. Needs at least two draws and two images."""
    c = hits.double()
    d, n = c.shape
    if d < 2 or n < 2:
        raise ValueError(f"need at least 2 draws and 2 images, got {d} x {n}")
    grand = c.mean()
    draw_means, image_means = c.mean(1), c.mean(0)
    ms_draw = n * ((draw_means - grand) ** 2).sum() / (d - 1)
    ms_image = d * ((image_means - grand) ** 2).sum() / (n - 1)
    resid = c - draw_means[:, None] - image_means[None, :] + grand
    ms_resid = (resid**2).sum() / ((d - 1) * (n - 1))
    return VarianceComponents(draw=max(0.0, float(ms_draw - ms_resid) / n),
                              image=max(0.0, float(ms_image - ms_resid) / d),
                              residual=float(ms_resid))


def standard_error(v: VarianceComponents, images: int, draws: int, population: int) -> float:
    """Standard error of the mean accuracy over ``draws`` draws on ``images`` images sampled
    without replacement from ``population`` test images."""
    if not 1 <= images <= population or draws < 1:
        raise ValueError("need 1 <= images <= population and draws >= 1")
    fpc = 1.0 - images / population
    return math.sqrt(v.draw / draws + v.image / images * fpc + v.residual / (images * draws))


def draws_needed(v: VarianceComponents, images: int, population: int, target_se: float,
                 max_draws: int = 10_000) -> int | None:
    """Fewest draws on ``images`` images whose standard error is at most ``target_se``;
    ``None`` if even ``max_draws`` draws are not enough (the image term alone is too large)."""
    for draws in range(1, max_draws + 1):
        if standard_error(v, images, draws, population) <= target_se:
            return draws
    return None


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
    """Difference of two independent means with Welch's t interval (unequal variances).

    Needs at least two values on each side; a side with zero spread on both gives a zero-width
    interval."""
    a, b = np.asarray(larger, dtype=float), np.asarray(smaller, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least two values per group, got {len(a)} and {len(b)}")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    estimate = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return Difference(estimate, estimate, estimate)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(scipy_stats.t.ppf(0.5 + level / 2, dof)) * se
    return Difference(estimate, estimate - half, estimate + half)


def normal_difference(estimate: float, standard_error: float, level: float = 0.95
                      ) -> Difference:
    """A difference with a normal-approximation interval from its standard error."""
    half = float(scipy_stats.norm.ppf(0.5 + level / 2)) * standard_error
    return Difference(float(estimate), float(estimate) - half, float(estimate) + half)


@dataclass(frozen=True)
class Rule:
    """A decision rule fixed before the runs, for a claim "A is larger than B".

    With the 95 % interval of the difference A - B:

    * reproduced: the interval lies above zero;
    * contradicted: the interval lies below ``margin`` and does not lie above zero (no effect
      of the claimed sign as large as ``margin`` is compatible with the data; with margin 0:
      the interval lies below zero);
    * otherwise inconclusive at this power (the interval is too wide to decide).

    ``margin`` is the smallest difference that would matter, in the units of the difference.
    """

    margin: float = 0.0
    unit: str = ""

    def verdict(self, difference: Difference) -> Verdict:
        if not (math.isfinite(difference.low) and math.isfinite(difference.high)):
            return Verdict.INCONCLUSIVE
        if difference.low > 0:
            return Verdict.REPRODUCED
        if difference.high < self.margin:
            return Verdict.CONTRADICTED
        return Verdict.INCONCLUSIVE

    def text(self) -> str:
        """The rule in words, printed beside every verdict."""
        if self.margin > 0:
            against = (f"it includes 0 or lies below it, and lies entirely below "
                       f"+{self.margin:g}{self.unit} (no effect that matters fits the data)")
        else:
            against = "it lies below 0"
        return (f"reproduced if the 95 % CI of the difference lies above 0; contradicted if "
                f"{against}; otherwise inconclusive at this power")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and 95 % interval."""

    estimate: float
    standard_error: float
    low: float
    high: float


def _grid_stack(noisy: list[np.ndarray], clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stacked = np.stack([np.asarray(h, dtype=float) for h in noisy])  # (etas, draws, images)
    c = np.asarray(clean, dtype=float)
    if c.mean() == 0:
        raise ValueError("the clean model classifies no image correctly")
    return stacked, c


def image_variance(noisy: list[np.ndarray], clean: np.ndarray, population: int) -> float:
    """The image-sampling term of :func:`grid_average`'s variance (see there)."""
    stacked, c = _grid_stack(noisy, clean)
    n = stacked.shape[2]
    if n < 2:
        return 0.0
    r = stacked.mean() / c.mean()
    u = stacked.mean(axis=(0, 1))
    fpc = max(0.0, 1.0 - n / population)
    return float(((u - r * c) / c.mean()).var(ddof=1)) / n * fpc


def grid_average(noisy: list[np.ndarray], clean: np.ndarray, population: int) -> Estimate:
    """Average normalized accuracy over a noise grid, with an interval that includes the
    sampling of the test images as well as the sampling of the noise draws.

    Args:
        noisy: per eta of the grid, the (draws, images) boolean hit matrix; draw ``d`` of every
            eta shares its index, so the per-draw averages over the grid are replicates.
        clean: the clean model's hits on the same images.
        population: the size of the test set the images were drawn from (no image term when
            the images are the whole test set).

    The estimate is ``R = mean_{eta, d, i} hit / mean_i clean_i``. Its variance is the sum of
    the draw term (variance of the per-draw averages over the draws) and the image term (the
    linearised variance of the ratio over images, ``var(u_i - R c_i) / (n c^2)`` times the
    finite-population correction ``1 - n / population``, with ``u_i`` the image's hit rate over
    etas and draws). The interval uses Student's t with ``draws - 1`` degrees of freedom.
    """
    stacked, c = _grid_stack(noisy, clean)
    per_draw = stacked.mean(axis=(0, 2)) / c.mean()
    r = float(per_draw.mean())
    draws = stacked.shape[1]
    var_draw = per_draw.var(ddof=1) / draws if draws > 1 else 0.0
    se = math.sqrt(var_draw + image_variance(noisy, clean, population))
    q = t_quantile_975(draws - 1) if draws > 1 else float(scipy_stats.norm.ppf(0.975))
    return Estimate(r, se, r - q * se, r + q * se)


def binomial_interval(successes: int, trials: int) -> tuple[float, float]:
    """Clopper-Pearson 95 % interval of a proportion."""
    result = scipy_stats.binomtest(successes, trials).proportion_ci(0.95, method="exact")
    return float(result.low), float(result.high)


def slope(x: np.ndarray, y: np.ndarray) -> Difference:
    """Least-squares slope of ``y`` on ``x`` with its 95 % t interval (``n - 2`` degrees of
    freedom); needs at least three points."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3:
        raise ValueError(f"a slope with an interval needs at least 3 points, got {len(x)}")
    fit = scipy_stats.linregress(x, y)
    half = t_quantile_975(len(x) - 2) * fit.stderr
    return Difference(float(fit.slope), float(fit.slope - half), float(fit.slope + half))
