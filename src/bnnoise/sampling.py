"""The precision of noisy-accuracy estimates, given their test images and noise draws.

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
draws; :func:`image_variance` is the image term of the average normalized accuracy over a
noise grid.

**Paired estimates.** The book reports normalized accuracy, the noisy network's accuracy over
the clean network's, both on the same images: ``R = mean(c[d, i]) / mean(k[i])`` with ``k[i]``
the clean network's hit on image ``i``. To first order around the population ratio ``rho``,
``R - rho = mean(z[d, i]) / mean(k)`` with ``z[d, i] = c[d, i] - rho k[i]``. The clean hit does
not change with the draw, so ``z`` follows the same two-way layout as ``c`` with the same draw
and residual variances, but with the image variance of ``u[i] - rho k[i]`` (``u[i]``: the
image's hit rate under noise) in place of that of ``u[i]``. An image the noise rarely flips
contributes nearly nothing: at small noise most of the image-sampling error cancels, because
the clean network is wrong on the same hard images. :func:`paired_components` gives these
variances on the scale of ``R`` (divided by ``mean(k)^2``); on the full test set the image term
is zero for both estimates, so pairing only pays on a subset of the test images.

Where even pairing leaves a subset too imprecise (small noise), :mod:`bnnoise.stratified_design`
splits the test set by the clean network's margin instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


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


def paired_components(hits: torch.Tensor, clean: torch.Tensor) -> VarianceComponents:
    """The variance components of the paired estimate of normalized accuracy (module
    docstring): those of ``hits - R * clean`` over ``mean(clean)^2``, where ``hits`` is the
    (draws, images) boolean matrix under noise, ``clean`` the clean network's hits on the same
    images and ``R`` the estimate itself. :func:`standard_error` of the result is the standard
    error of normalized accuracy."""
    c, k = hits.double(), clean.double()
    if k.mean() == 0:
        raise ValueError("the clean model classifies no image correctly")
    ratio = c.mean() / k.mean()
    v = variance_components(c - ratio * k[None, :])
    scale = float(k.mean()) ** 2
    return VarianceComponents(v.draw / scale, v.image / scale, v.residual / scale)


def unpaired_components(hits: torch.Tensor, clean_accuracy: float) -> VarianceComponents:
    """The variance components of normalized accuracy estimated without pairing: the noisy
    accuracy on the images (``hits``, draws x images) over a clean accuracy taken as exact
    (e.g. measured on the full test set)."""
    v = variance_components(hits)
    scale = clean_accuracy**2
    return VarianceComponents(v.draw / scale, v.image / scale, v.residual / scale)


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


def _grid_stack(noisy: list[np.ndarray], clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stacked = np.stack([np.asarray(h, dtype=float) for h in noisy])  # (etas, draws, images)
    c = np.asarray(clean, dtype=float)
    if c.mean() == 0:
        raise ValueError("the clean model classifies no image correctly")
    return stacked, c


def image_variance(noisy: list[np.ndarray], clean: np.ndarray, population: int) -> float:
    """The image-sampling variance of the average normalized accuracy over a noise grid.

    Args:
        noisy: per eta of the grid, the (draws, images) boolean hit matrix.
        clean: the clean model's hits on the same images.
        population: the size of the test set the images were drawn from (zero when the images
            are the whole test set).

    The average is ``R = mean_{eta, d, i} hit / mean_i clean_i``; its image term is the
    linearised variance of the ratio over images, ``var(u_i - R c_i) / (n c^2)`` times the
    finite-population correction ``1 - n / population``, with ``u_i`` the image's hit rate over
    etas and draws. The draw term (the variance of the per-draw averages) is added by the
    caller (:func:`bnnoise.analysis.summaries.average_normalized_accuracy`).
    """
    stacked, c = _grid_stack(noisy, clean)
    n = stacked.shape[2]
    if n < 2:
        return 0.0
    r = stacked.mean() / c.mean()
    u = stacked.mean(axis=(0, 1))
    fpc = max(0.0, 1.0 - n / population)
    return float(((u - r * c) / c.mean()).var(ddof=1)) / n * fpc
