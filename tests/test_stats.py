"""Intervals and the verdict rules."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bnnoise.stats import Difference, Rule, Verdict, mean_ci, normal_difference, welch_difference


def test_mean_ci_matches_scipy() -> None:
    values = np.array([1.0, 2.0, 4.0, 7.0])
    low, high = scipy_stats.t.interval(0.95, 3, loc=values.mean(), scale=scipy_stats.sem(values))
    mean, half = mean_ci(values)
    assert mean == pytest.approx(values.mean()) and half == pytest.approx((high - low) / 2)
    assert math.isnan(mean_ci(np.array([1.0]))[1])


def test_welch_difference_matches_scipys_welch_test() -> None:
    a, b = np.array([3.0, 3.4, 2.9, 3.8]), np.array([2.0, 2.6, 1.1])
    diff = welch_difference(a, b)
    result = scipy_stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(0.95)
    assert diff.estimate == pytest.approx(a.mean() - b.mean())
    assert (diff.low, diff.high) == pytest.approx((ci.low, ci.high))
    with pytest.raises(ValueError, match="at least two values"):
        welch_difference(a, b[:1])


@pytest.mark.parametrize("low, high, margin, expected", [
    (0.5, 2.0, 0.0, Verdict.REPRODUCED),
    (-2.0, -0.5, 0.0, Verdict.CONTRADICTED),
    (-1.0, 1.0, 0.0, Verdict.INCONCLUSIVE),
    (-0.5, 1.5, 2.0, Verdict.CONTRADICTED),  # no effect as large as the margin fits the data
    (-0.5, 2.5, 2.0, Verdict.INCONCLUSIVE),
    (0.1, 1.0, 2.0, Verdict.REPRODUCED),  # the sign is settled even if the effect is small
    (math.nan, 1.0, 0.0, Verdict.INCONCLUSIVE),
])
def test_rule_outcomes(low: float, high: float, margin: float, expected: Verdict) -> None:
    assert Rule(margin).verdict(Difference((low + high) / 2, low, high)) is expected


def test_rule_text_names_its_thresholds() -> None:
    assert "below +2 points" in Rule(2.0, " points").text()
    assert "lies below 0" in Rule().text()


def test_normal_difference_is_symmetric() -> None:
    d = normal_difference(1.0, 0.5)
    assert d.low == pytest.approx(1 - 1.959964 * 0.5) and d.half_width == pytest.approx(0.98, 1e-3)


def test_image_term_vanishes_for_the_whole_test_set_only() -> None:
    from bnnoise.sampling import image_variance

    rng = np.random.default_rng(0)
    clean = rng.random(400) < 0.8
    noisy = [(rng.random((5, 400)) < 0.6) & clean for _ in range(3)]
    assert image_variance(noisy, clean, population=400) == 0.0  # the images are the population
    assert image_variance(noisy, clean, population=10_000) > 0.0


def test_image_term_covers_resampled_subsets() -> None:
    # a model whose draws do not vary: only the choice of images makes the estimate vary
    from bnnoise.sampling import image_variance

    rng = np.random.default_rng(1)
    population = 5000
    clean = rng.random(population) < 0.85
    survives = (rng.random(population) < 0.7) & clean
    estimates, ses = [], []
    for _ in range(300):
        idx = rng.choice(population, 500, replace=False)
        noisy = [np.tile(survives[idx], (4, 1))]
        estimates.append(survives[idx].mean() / clean[idx].mean())
        ses.append(np.sqrt(image_variance(noisy, clean[idx], population)))
    assert np.std(estimates) == pytest.approx(np.mean(ses), rel=0.15)


def test_binomial_interval_and_slope() -> None:
    from bnnoise.stats import binomial_interval, slope

    low, high = binomial_interval(0, 10)
    assert low == 0 and high == pytest.approx(0.3085, abs=1e-3)
    s = slope(np.array([0, 1, 2, 3.0]), np.array([1, 3, 5, 7.0]))
    assert s.estimate == pytest.approx(2) and s.low == pytest.approx(2)
    with pytest.raises(ValueError, match="at least 3 points"):
        slope(np.array([0, 1.0]), np.array([0, 1.0]))
