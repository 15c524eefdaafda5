"""The margin-strata designs (bnnoise.stratified_design) on simulated strata: their variance
formula, their cost, the flip floor and the draw-scale interval."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch


def _strata_population(seed: int = 0) -> tuple[list[int], np.ndarray]:
    """Ten strata of a 10,000-image test set: only strata 3 and 4 (the decision boundary) ever
    flip, and a draw that flips many images of one flips few of the other."""
    sizes = [500] * 6 + [1000] * 2 + [2500] * 2
    fragility = np.zeros(10)
    fragility[[3, 4]] = [0.3, 0.5]
    return sizes, fragility


def _stratum_hits(sizes: list[int], fragility: np.ndarray, draws: list[int],
                  rng: np.random.Generator) -> list[np.ndarray]:
    """Per stratum, (draws, images) hits: draw ``d`` shifts the flip rate of stratum 3 up by
    ``s_d`` and that of stratum 4 down by as much."""
    shift = rng.uniform(-0.2, 0.2, size=max(draws))
    sign = np.array([0, 0, 0, 1, -1, 0, 0, 0, 0, 0])
    return [rng.random((d, n)) >= np.clip(f + sign[h] * shift[:d, None], 0, 1)
            for h, (n, f, d) in enumerate(zip(sizes, fragility, draws, strict=True))]


def test_the_margin_strata_design_is_as_precise_as_the_plain_loop_for_less_work() -> None:
    from bnnoise.stratified_design import (
        Design,
        cheapest_design,
        design_variance,
        plain_design,
        stratum_variances,
    )

    sizes, fragility = _strata_population()
    rng = np.random.default_rng(0)
    pilot = _stratum_hits(sizes, fragility, [5] * 10, rng)  # a plain sweep, 5 draws
    sample = [h[:, rng.choice(h.shape[1], 60, replace=False)] for h in pilot]
    of_image = torch.cat([torch.full((s.shape[1],), h) for h, s in enumerate(sample)])
    hits = torch.from_numpy(np.concatenate(sample, 1))
    v = stratum_variances(hits, torch.ones(hits.shape[1], dtype=torch.bool), of_image,
                          tuple(sizes))
    design = cheapest_design(v, plain_draws=5)
    assert design.evaluations < 0.5 * plain_design(v, 5).evaluations  # under half the work
    # no stratum gets fewer draws than the plain loop; the two that move apart get more
    assert min(design.draws) == 5 and design.draws[3] == design.draws[4] > 5
    assert design.images[-1] < sizes[-1]  # a stratum noise never flips is sampled
    weights = np.array(sizes) / sum(sizes)

    def spread(chosen: Design) -> tuple[float, float]:
        estimates = []
        for _ in range(400):
            strata = _stratum_hits(sizes, fragility, list(chosen.draws), rng)
            estimates.append(weights @ [h[:, rng.choice(h.shape[1], n, replace=False)].mean()
                                        for h, n in zip(strata, chosen.images, strict=True)])
        return float(np.var(estimates, ddof=1)), design_variance(v, chosen)

    (plain, plain_formula), (strata, strata_formula) = spread(plain_design(v, 5)), spread(design)
    # the formula's variance of the plain loop is within 30 % of the simulated one (400
    # replicates, variances from 60 images per stratum), the design's is not below it by more,
    # and the design is no less precise than the plain loop
    # (the design is chosen to hold at the upper end of the draw covariance's interval, so its
    # formula may exceed the simulation, but not by more than that interval allows)
    assert abs(plain_formula / plain - 1) < 0.3 and 0.7 < strata_formula / strata < 2
    assert strata < 1.2 * plain


def test_the_design_holds_at_both_ends_of_the_draw_covariance_interval() -> None:
    from dataclasses import replace

    from bnnoise.stratified_design import (
        StratumVariances,
        cheapest_design,
        design_variance,
        draw_scale_bounds,
        plain_design,
    )

    low, high = draw_scale_bounds(5)
    assert low == pytest.approx(0.3589, abs=1e-4) and high == pytest.approx(8.257, abs=1e-3)
    assert draw_scale_bounds(100)[1] < 1.4  # many draws: a narrow interval
    with pytest.raises(ValueError, match="at least two draws, got 1"):
        draw_scale_bounds(1)
    draw = np.diag([4e-3, 1e-3, 1e-4])
    v = StratumVariances(draw, np.array([0.2, 0.05, 0.01]), np.array([0.05, 0.01, 0.001]),
                         (1000, 3000, 6000), 5)
    design = cheapest_design(v, plain_draws=5)
    assert design.evaluations < plain_design(v, 5).evaluations and min(design.draws) >= 5
    for factor in (low, 1.0, 2.5, high):
        end = replace(v, draw=draw * factor)
        assert design_variance(end, design) <= design_variance(end, plain_design(v, 5)) * (
            1 + 1e-9)


def test_margin_strata_cut_the_test_set_at_fixed_quantiles_of_the_clean_margin() -> None:
    from bnnoise.evaluation import signed_margins
    from bnnoise.stratified_design import MARGIN_QUANTILES, margin_strata

    margins = torch.linspace(-3, 5, 1000)
    strata = margin_strata(margins)
    sizes = np.bincount(strata.numpy())
    assert list(sizes) == [round(1000 * (b - a)) for a, b in itertools.pairwise(MARGIN_QUANTILES)]
    assert torch.equal(margin_strata(margins[::7], reference=margins), strata[::7])
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 4))
    x, y = torch.randn(50, 3, 2, 2), torch.randint(0, 4, (50,))
    margin = signed_margins(model, x, y, batch_size=16)
    assert torch.equal(margin > 0, model(x).argmax(1) == y)


def test_the_flip_floor_raises_most_the_strata_where_few_flips_were_seen() -> None:
    from bnnoise.stratified_design import flip_floor, stratum_variances

    rng = np.random.default_rng(0)
    clean = torch.ones(400, dtype=torch.bool)
    of_image = torch.arange(400) // 200  # stratum 0 never flips, stratum 1 often does
    hits = torch.ones(5, 400, dtype=torch.bool)
    hits[:, 200:] = torch.from_numpy(rng.random((5, 200)) > 0.3)
    v = stratum_variances(hits, clean, of_image, (2000, 2000))
    floored = flip_floor(v, hits, clean, of_image)
    upper = 1 - 0.05 ** (1 / 1000)  # no flip in 5 x 200 trials: the rule of three, exactly
    assert np.allclose([v.image[0], v.residual[0]], 0, atol=1e-20)
    assert np.isclose(floored.image[0], upper * (1 - upper))  # the clean accuracy is 1
    assert np.isclose(floored.residual[0], upper * (1 - upper))
    total, raised = v.image[1] + v.residual[1], floored.image[1] + floored.residual[1]
    assert total < raised < 1.1 * total  # many flips: raised by the bound's margin at most
