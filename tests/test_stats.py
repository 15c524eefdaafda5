"""Intervals and the verdict rules."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bnnoise.stats import (
    Difference,
    Equivalence,
    Rule,
    Verdict,
    mean_ci,
    normal_difference,
    t_difference,
    welch_difference,
)


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
    (0.1, 1.0, 2.0, Verdict.CONTRADICTED),  # an effect of the claimed sign, too small to matter
    (-0.5, 2.5, 2.0, Verdict.INCONCLUSIVE),
    (0.1, 2.5, 2.0, Verdict.INCONCLUSIVE),  # the sign is settled, its size is not
    (2.1, 4.0, 2.0, Verdict.REPRODUCED),  # an effect that matters
    (math.nan, 1.0, 0.0, Verdict.INCONCLUSIVE),
])
def test_rule_outcomes(low: float, high: float, margin: float, expected: Verdict) -> None:
    assert Rule(margin).verdict(Difference((low + high) / 2, low, high)) is expected


@pytest.mark.parametrize("margin", [0.0, 2.0])
def test_a_wider_interval_never_settles_a_verdict(margin: float) -> None:
    """Symmetry: widening an interval around the same estimate can turn a verdict into
    "inconclusive", never out of it or into the other verdict."""
    rule = Rule(margin)
    for estimate in np.linspace(-6, 8, 57):
        verdicts = [rule.verdict(Difference(estimate, estimate - h, estimate + h))
                    for h in np.linspace(0.01, 10, 60)]
        settled = [v for v in verdicts if v is not Verdict.INCONCLUSIVE]
        assert len(set(settled)) <= 1
        if settled:
            first = verdicts.index(Verdict.INCONCLUSIVE) if Verdict.INCONCLUSIVE in verdicts \
                else len(verdicts)
            assert all(v is Verdict.INCONCLUSIVE for v in verdicts[first:])


def test_equivalence_rule() -> None:
    rule = Equivalence(5.0, " points")
    assert rule.verdict(43.0, 46.0, 41.3) is Verdict.REPRODUCED
    assert rule.verdict(78.0, 82.0, 91.95) is Verdict.CONTRADICTED
    assert rule.verdict(41.0, 60.0, 41.3) is Verdict.INCONCLUSIVE  # wide: cannot match
    assert rule.verdict(math.nan, 60.0, 41.3) is Verdict.INCONCLUSIVE
    assert "entirely within 5 points" in rule.text()


def test_t_difference_matches_welchs_test_on_the_means_of_draws() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 0.3, 5), rng.normal(0.0, 0.6, 5)
    se = [a.std(ddof=1) / math.sqrt(5), b.std(ddof=1) / math.sqrt(5)]
    d = t_difference(a.mean() - b.mean(), se, [4, 4])
    w = welch_difference(a, b)
    assert (d.low, d.high) == pytest.approx((w.low, w.high))
    assert math.isnan(t_difference(1.0, [0.1], [0]).low)


def test_rule_text_names_its_thresholds() -> None:
    assert "above +2 points" in Rule(2.0, " points").text()
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
