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
