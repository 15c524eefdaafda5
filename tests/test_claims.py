"""The claim checks: intervals, the three verdicts, combined claims and their printed form."""

from __future__ import annotations

import pytest

from bnnoise.stats import Difference, Rule, Verdict, newcombe_difference, wilson_interval
from bnnoise.theory.literature import (
    Check,
    Checks,
    all_of,
    combine,
    interaction_check,
    one_sample_check,
    proportion_check,
    welch_check,
)


def test_welch_check_gives_each_of_the_three_verdicts() -> None:
    clear = welch_check("a > b", "a minus b", [2.0, 2.1, 1.9], [1.0, 1.1, 0.9])
    assert clear.verdict is Verdict.REPRODUCED and clear.difference.low > 0
    opposite = welch_check("a > b", "a minus b", [1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
    assert opposite.verdict is Verdict.CONTRADICTED
    # Welch t of about 4.7 with three seeds a side: the interval excludes zero
    t47 = welch_check("a > b", "a minus b", [0.5738 + d for d in (-0.006, 0.0, 0.006)],
                      [0.5450 + d for d in (-0.009, 0.0, 0.009)])
    assert t47.verdict is Verdict.REPRODUCED
    # t of about 1.7: a real-looking gap, but inconclusive at three seeds
    weak = welch_check("a > b", "a minus b", [1.77, 1.70, 1.84], [1.64, 1.61, 1.67])
    assert weak.verdict is Verdict.INCONCLUSIVE and weak.difference.low < 0 < weak.difference.high


def test_a_margin_turns_a_small_effect_into_a_contradiction() -> None:
    wide = ([1.0, 1.3, 0.7], [1.0, 1.2, 0.8])
    assert welch_check("a > b", "d", *wide).verdict is Verdict.INCONCLUSIVE
    assert welch_check("a > b", "d", [1.0, 1.3, 0.7], [1.0, 1.2, 0.8],
                       Rule(margin=2.0)).verdict is Verdict.CONTRADICTED


def test_too_few_runs_are_inconclusive_and_say_why() -> None:
    check = welch_check("a > b", "a minus b", [5.0], [1.0, 1.1])
    assert check.verdict is Verdict.INCONCLUSIVE and check.difference is None
    assert "needs at least two runs on each side" in check.text()
    nan_only = welch_check("a > b", "d", [float("nan")] * 3, [1.0, 1.1])
    assert nan_only.verdict is Verdict.INCONCLUSIVE and "0 vs 2 runs" in nan_only.numbers()


def test_one_sample_check_against_a_reference() -> None:
    assert one_sample_check("m > 1", "m - 1", [1.5, 1.6, 1.55], 1.0).reproduced
    assert one_sample_check("m > 1", "m - 1", [0.5, 0.6, 0.55],
                            1.0).verdict is Verdict.CONTRADICTED
    assert one_sample_check("m > 1", "m - 1", [0.5, 1.6, 1.0],
                            1.0).verdict is Verdict.INCONCLUSIVE


def test_interaction_check_tests_a_difference_of_differences() -> None:
    import numpy as np

    from bnnoise.stats import welch_difference

    larger = interaction_check("gap larger in 1", "d1 - d2", [3.0, 3.1, 2.9], [1.0, 1.1, 0.9],
                               [1.5, 1.6, 1.4], [1.0, 1.1, 0.9], conditions=("in 1", "in 2"))
    assert larger.verdict is Verdict.REPRODUCED
    assert larger.difference.estimate == pytest.approx(1.5)
    assert "in 1 2.00, in 2 0.500" in larger.numbers() and "3 vs 3 and 3 vs 3" in larger.numbers()
    # the same gap in both conditions: a gap, but no interaction
    same = interaction_check("c", "m", [2.0, 2.3, 1.8], [1.0, 1.2, 0.9], [2.1, 2.2, 1.9],
                             [1.1, 1.0, 0.8])
    assert same.verdict is Verdict.INCONCLUSIVE
    smaller = interaction_check("c", "m", [1.5, 1.6, 1.4], [1.0, 1.1, 0.9], [3.0, 3.1, 2.9],
                                [1.0, 1.1, 0.9])
    assert smaller.verdict is Verdict.CONTRADICTED
    # with constant second-condition groups the interval is Welch's of the first condition
    a, b = np.array([3.0, 3.4, 2.9]), np.array([1.0, 1.1, 0.7, 0.9])
    shifted = interaction_check("c", "m", a, b, [0.5, 0.5], [0.5, 0.5])
    welch = welch_difference(a, b)
    assert (shifted.difference.low, shifted.difference.high) == pytest.approx(
        (welch.low, welch.high))
    few = interaction_check("c", "m", [1.0, 2.0], [1.0], [1.0, 2.0], [1.0, 2.0])
    assert few.verdict is Verdict.INCONCLUSIVE and "at least two runs in each group" in few.text()


def test_wilson_and_newcombe_intervals() -> None:
    low, high = wilson_interval(0, 3)
    assert low == pytest.approx(0, abs=1e-12) and high == pytest.approx(0.5615, abs=1e-3)
    assert wilson_interval(2, 3) == pytest.approx((0.2077, 0.9385), abs=1e-3)
    d = newcombe_difference(0, 3, 2, 3)
    assert (d.estimate, d.low, d.high) == pytest.approx((-0.6667, -0.9385, 0.0587), abs=1e-3)
    # Newcombe (1998), table II, example (a): 56/70 - 48/80 = 0.2, CI 0.0524 to 0.3339
    d = newcombe_difference(56, 70, 48, 80)
    assert (d.low, d.high) == pytest.approx((0.0524, 0.3339), abs=1e-3)


def test_proportion_check_verdicts() -> None:
    assert proportion_check("a > b", "d", 10, 10, 0, 10).verdict is Verdict.REPRODUCED
    assert proportion_check("a > b", "d", 0, 10, 10, 10).verdict is Verdict.CONTRADICTED
    check = proportion_check("a > b", "d", 0, 3, 2, 3)
    assert check.verdict is Verdict.INCONCLUSIVE and "0 of 3 vs 2 of 3" in check.numbers()


def test_combined_claims() -> None:
    R, C, U = Verdict.REPRODUCED, Verdict.CONTRADICTED, Verdict.INCONCLUSIVE
    assert combine([R, R]) is R and combine([R, U]) is U and combine([R, U, C]) is C
    assert combine([]) is U
    yes = welch_check("x", "p1", [2.0, 2.1, 1.9], [1.0, 1.1, 0.9])
    no = welch_check("x", "p2", [1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
    claim = all_of("both", "two parts", [yes, no])
    assert claim.verdict is C
    text = claim.text()
    # a difference's three numbers at the decimals of the largest: one precision each
    assert "  - p1: difference 1.00, 95 % CI [0.77, 1.23]" in text
    small = Check("x", "m", Verdict.INCONCLUSIVE, difference=Difference(0.0012, -0.00034, 0.0027))
    assert small.numbers() == "difference 0.00120, 95 % CI [-0.00034, 0.00270]"
    wide = Check("x", "m", Verdict.INCONCLUSIVE, difference=Difference(0.00339, -0.0112, 0.018))
    assert wide.numbers() == "difference 0.0034, 95 % CI [-0.0112, 0.0180]"
    # a positive bound that the shared precision would round to 0 keeps its own digits
    near = Check("x", "m", Verdict.REPRODUCED, difference=Difference(2.5, 0.004, 5.0))
    assert near.numbers() == "difference 2.50, 95 % CI [0.00400, 5.00]"
    assert text.endswith("Verdict: contradicted")
    assert all_of("nothing", "no parts", []).verdict is U


def test_checks_print_rule_and_verdict_as_text_and_markdown() -> None:
    check = welch_check("LN trains more slowly", "training loss, ln minus gn4",
                        [1.77, 1.70, 1.84], [1.64, 1.61, 1.67])
    text = check.text()
    assert text.splitlines()[0] == "Claim: LN trains more slowly"
    assert "Rule: reproduced if the 95 % CI of the difference lies above 0" in text
    assert text.endswith("Verdict: inconclusive at this power")
    assert repr(check) == text
    markdown = check._repr_markdown_()
    assert "**Verdict: inconclusive at this power**" in markdown
    both = Checks([check, check])
    assert both.text().count("Claim:") == 2 and both._repr_markdown_().startswith("1. ")
    assert both.by_claim("slowly") is check
