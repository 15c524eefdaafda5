"""A sweep cell's images and draws chosen by the clean network's margin: as precise as the plain
loop for less work.

At small noise a subset of the test set cannot match the plain loop on the full test set (the
subset's image term alone exceeds the plain loop's whole variance, :mod:`bnnoise.sampling`),
and on the full test set every draw costs the whole test set, although noise flips almost only
the images near the clean network's decision boundary. The design therefore splits the test
set into strata by the clean network's signed margin (true logit minus the largest other one,
:func:`bnnoise.evaluation.signed_margins`; :data:`MARGIN_QUANTILES` fixes the edges) and gives
stratum ``h`` of ``N_h`` images its own sample of ``n_h`` images, drawn without replacement, and
its own number of draws ``D_h``. Draws are shared: draw ``d`` is evaluated on the sampled
images of every stratum with ``D_h > d``.

The normalized accuracy is estimated as ``sum_h W_h mean_h(c) / sum_h W_h mean_h(k)`` with
``W_h = N_h / N``, ``c`` the hits under noise and ``k`` the clean hits on the same images. To
first order (:mod:`bnnoise.sampling`, *paired estimates*) its error is ``sum_h W_h mean_h(z) /
mean(k)`` with ``z = c - R k``, and in each stratum ``z`` follows the two-way layout of draws
and images. With ``A`` the covariance, over draws, of the strata's draw effects, and
``residual_h`` and ``image_h`` the stratum's residual and image variances (all divided by
``mean(k)^2``), its variance is

    sum_{h,g} W_h W_g A[h, g] / max(D_h, D_g)
      + sum_h W_h^2 (residual_h / (n_h D_h) + image_h (1 / n_h - 1 / N_h)),

because two strata share ``min(D_h, D_g)`` draws. ``n_h = N_h`` and ``D_h = D`` everywhere is the
plain loop with ``D`` draws; one stratum sampled at the same fraction everywhere is the
stratified subset. :func:`stratum_variances` estimates the three parts from hits on a sample of
each stratum; :func:`cheapest_design` searches for the design with the fewest image
evaluations whose variance is no larger than the plain loop's. Designs chosen from those
estimates alone failed a check on fresh draws at small noise (``benchmarks/design_check.py``):
where the sample saw few flips the estimates are too small, so :func:`flip_floor` first raises
them to what an upper bound of the stratum's flip rate allows. Designs so chosen still failed a
second check at large noise, where the draw term dominates and ``A``, a 10 x 10 matrix, comes
from the stored sweep's five draws: those designs gave some strata fewer draws than the plain
loop, which pays only where the strata's draw effects cancel as the poorly estimated
off-diagonal of ``A`` says. :func:`cheapest_design` therefore gives no stratum fewer draws than
the plain loop, and asks its design to be no more variable than the plain loop at both ends of
a chi-square interval for the scale of ``A`` (:func:`draw_scale_bounds`); the variance being
linear in that scale, the design then holds at every multiple of the estimated ``A`` between.
Errors in the shape of ``A`` are not covered: five draws give it rank four at most, and uneven
extra draws on strata whose effects cancel can still cost precision, so whether the designs
hold is a question for the fresh-draw check, not a guarantee. A sweep that used the design
would learn the variances from a first draw; here they come from stored sweeps.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy import stats

from bnnoise.sampling import variance_components

MARGIN_QUANTILES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0)
"""Edges of the strata, as quantiles of the clean network's signed margin over the test set:
narrow strata below the median, where networks of 55 to 95 % accuracy have their decision
boundary (the share of wrong images), wide ones above it. Fixed before any design was computed
with them."""
FRACTIONS = (0.1, 0.2, 0.5, 1.0)
"""The shares of a stratum the design may sample."""
FLIP_CONFIDENCE = 0.95
"""Confidence of the upper bound on a stratum's flip rate that :func:`flip_floor` assumes."""
DRAW_CONFIDENCE = 0.95
"""Two-sided confidence of the interval for the scale of the draw covariance that
:func:`cheapest_design` guards against (:func:`draw_scale_bounds`)."""


def margin_strata(margins: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """The stratum of every image (0 = smallest margins), by the :data:`MARGIN_QUANTILES` of
    ``reference`` (default: ``margins`` itself; pass the full test set's margins to place a
    subset's images in the test set's strata)."""
    edges = torch.quantile((margins if reference is None else reference).double(),
                           torch.tensor(MARGIN_QUANTILES[1:-1], dtype=torch.float64))
    return torch.bucketize(margins.double(), edges, right=True)


@dataclass(frozen=True)
class StratumVariances:
    """The parts of the design's variance (module docstring), on the scale of normalized
    accuracy: ``draw`` the strata's draw-effect covariance, ``residual`` and ``image`` per
    stratum, ``sizes`` the strata's sizes ``N_h``, ``draws_seen`` the number of draws the
    estimates come from."""

    draw: np.ndarray
    residual: np.ndarray
    image: np.ndarray
    sizes: tuple[int, ...]
    draws_seen: int


@dataclass(frozen=True)
class Design:
    """Images sampled and draws, per stratum."""

    images: tuple[int, ...]
    draws: tuple[int, ...]

    @property
    def evaluations(self) -> int:
        """Image evaluations the design costs."""
        return int(np.dot(self.images, self.draws))


def stratum_variances(hits: torch.Tensor, clean: torch.Tensor, of_image: torch.Tensor,
                      sizes: tuple[int, ...]) -> StratumVariances:
    """Estimates from ``hits`` (draws x images) and ``clean`` hits on a sample of the images;
    ``of_image`` gives each image's stratum. The draw covariance is that of the strata's mean
    ``z`` over draws, less the residual's share, projected onto the positive semi-definite
    matrices. Needs two draws and two sampled images of every stratum."""
    k = clean.double()
    z = hits.double() - hits.double().mean() / k.mean() * k[None, :]
    members = [of_image == h for h in range(len(sizes))]
    if min(int(m.sum()) for m in members) < 2:
        raise ValueError("every stratum needs at least two sampled images")
    parts = [variance_components(z[:, m]) for m in members]
    sampled = np.array([int(m.sum()) for m in members])
    residual = np.array([p.residual for p in parts])
    means = np.stack([z[:, m].mean(1).numpy() for m in members])
    draw = np.atleast_2d(np.cov(means, ddof=1)) - np.diag(residual / sampled)
    values, vectors = np.linalg.eigh(draw)
    scale = float(k.mean()) ** 2
    return StratumVariances((vectors * values.clip(min=0)) @ vectors.T / scale,
                            residual / scale, np.array([p.image for p in parts]) / scale,
                            tuple(int(s) for s in sizes), int(hits.shape[0]))


def flip_floor(v: StratumVariances, hits: torch.Tensor, clean: torch.Tensor,
               of_image: torch.Tensor, confidence: float = FLIP_CONFIDENCE) -> StratumVariances:
    """``v`` made safe to choose a design with: where a stratum's image and residual variances
    sum to less than ``p (1 - p)``, with ``p`` the one-sided Clopper-Pearson upper bound of its
    flip rate (hits under noise that differ from the clean hits, over the sampled images and
    draws of ``hits``), each is raised by the difference. A stratum in which the sample saw few
    flips is thereby not taken for one that noise never flips; in strata with many flips the
    bound lies close to the estimate, which rises only by the bound's margin."""
    flips = hits.bool() != clean.bool()[None, :]
    scale = float(clean.double().mean()) ** 2
    image, residual = v.image.copy(), v.residual.copy()
    for h in range(len(v.sizes)):
        members = of_image == h
        trials, count = int(members.sum()) * hits.shape[0], int(flips[:, members].sum())
        upper = 1.0 if count >= trials else float(stats.beta.ppf(confidence, count + 1,
                                                                 trials - count))
        deficit = max(0.0, upper * (1 - upper) / scale - image[h] - residual[h])
        image[h], residual[h] = image[h] + deficit, residual[h] + deficit
    return replace(v, image=image, residual=residual)


def design_variance(v: StratumVariances, design: Design) -> float:
    """The design's variance (module docstring)."""
    w = np.asarray(v.sizes, dtype=float) / sum(v.sizes)
    n, d = np.asarray(design.images, dtype=float), np.asarray(design.draws, dtype=float)
    shared = v.draw / np.maximum.outer(d, d)
    own = v.residual / (n * d) + v.image * (1 / n - 1 / np.asarray(v.sizes, dtype=float))
    return float(w @ shared @ w + (w**2 * own).sum())


def draw_scale_bounds(draws_seen: int, confidence: float = DRAW_CONFIDENCE
                      ) -> tuple[float, float]:
    """The factors by which the true draw covariance may fall short of or exceed one estimated
    from ``draws_seen`` draws: the chi-square interval of a variance with ``draws_seen - 1``
    degrees of freedom (0.36 and 8.3 for five draws at 95 %). Needs two draws."""
    if draws_seen < 2:
        raise ValueError(f"a variance needs at least two draws, got {draws_seen}")
    freedom, tail = draws_seen - 1, (1 - confidence) / 2
    return (freedom / float(stats.chi2.ppf(1 - tail, freedom)),
            freedom / float(stats.chi2.ppf(tail, freedom)))


def plain_design(v: StratumVariances, draws: int) -> Design:
    """The plain loop: every image, ``draws`` draws."""
    return Design(v.sizes, (draws,) * len(v.sizes))


def _neighbours(v: StratumVariances, design: Design, max_draws: int) -> list[Design]:
    """One draw more on a run of neighbouring strata (neighbours' accuracies can move in
    opposite directions under a draw, and only the draws they share cancel that), or the next
    sampled share of one stratum."""
    strata = range(len(v.sizes))
    moves = []
    for first, last in itertools.combinations(range(len(v.sizes) + 1), 2):
        draws = tuple(d + (first <= h < last) for h, d in zip(strata, design.draws, strict=True))
        if max(draws) <= max_draws:
            moves.append(Design(design.images, draws))
    for h in strata:
        larger = [n for n in (math.ceil(f * v.sizes[h]) for f in FRACTIONS)
                  if n > design.images[h]]
        if larger:
            moves.append(Design(design.images[:h] + (larger[0],) + design.images[h + 1:],
                                design.draws))
    return moves


def cheapest_design(v: StratumVariances, plain_draws: int, max_draws: int = 1000) -> Design:
    """A design at most as variable as the plain loop's (:func:`plain_design`) with the draw
    covariance at either end of its interval (:func:`draw_scale_bounds`), with as few image
    evaluations as a greedy search finds: from the smallest share and the plain loop's draws
    everywhere (no stratum gets fewer, module docstring), take
    the move (:func:`_neighbours`) that lowers the excess over the plain loop's variance most
    per evaluation added (relative excess, summed over both ends), until there is none. The
    plain design where nothing cheaper is found."""
    plain = plain_design(v, plain_draws)
    ends = [replace(v, draw=v.draw * factor) for factor in draw_scale_bounds(v.draws_seen)]
    targets = [design_variance(end, plain) for end in ends]
    if not np.isfinite(targets).all():
        raise ValueError("the stratum variances are not finite (an empty stratum?)")
    if min(targets) <= 0:
        return plain

    def excess(design: Design) -> float:
        return sum(max(0.0, design_variance(end, design) / target - 1)
                   for end, target in zip(ends, targets, strict=True))

    design = Design(tuple(max(2, math.ceil(FRACTIONS[0] * s)) for s in v.sizes),
                    (plain_draws,) * len(v.sizes))
    while (over := excess(design)) > 0:
        def rate(move: Design, over: float = over, design: Design = design) -> float:
            return (over - excess(move)) / (move.evaluations - design.evaluations)
        best = max(_neighbours(v, design, max_draws), key=rate, default=None)
        if best is None or rate(best) <= 0:
            return plain
        design = best
    return design if design.evaluations < plain.evaluations else plain


DESIGN_RATIO_LIMIT, DESIGN_SHARE = 1.25, 0.9
"""The rule that judges designs on fresh draws (``benchmarks/design_check.py``): a design is as
precise as the plain loop if its standard error, estimated from fresh draws on the whole test
set, is at most ``DESIGN_RATIO_LIMIT`` times the plain loop's (ten draws estimate a standard
error to within about a quarter), and the designs hold if a ``DESIGN_SHARE`` of the cells
checked pass."""


def designs_hold(se_ratios: list[float]) -> tuple[list[bool], bool]:
    """The rule of :data:`DESIGN_RATIO_LIMIT`: per cell whether its design passes (the ratio of
    its fresh standard error to the plain loop's), and whether the designs hold."""
    passes = [ratio <= DESIGN_RATIO_LIMIT for ratio in se_ratios]
    return passes, bool(passes) and sum(passes) / len(passes) >= DESIGN_SHARE
