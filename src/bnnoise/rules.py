"""Every decision rule of the book, once: what it decides, its wording, the test that pins it and
the commit that first fixed it in its present form.

A verdict or a choice in the book follows a rule written down before the data it judges. The
code that applies a rule takes it from :data:`RULES` (``RULES["bn_gap"].rule``), never from a
copy, so that the wording printed beside a verdict and the rule applied cannot drift apart; a
test checks that every entry names a test that exists and a commit of the project's history.
The interval rules are :class:`bnnoise.stats.Rule` objects; the others (tolerances, thresholds,
a choice among pilot runs) carry their number in ``value`` and are applied by the function named
in ``applied_by``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bnnoise.stats import Rule


@dataclass(frozen=True)
class RegisteredRule:
    """One rule of the book.

    Attributes:
        decides: the claim or choice it decides, in words.
        wording: the rule in words, as the pages print it.
        applied_by: the function (dotted path) that applies it.
        test: the test (``tests/<file>.py::<name>``) that pins its outcomes.
        fixed_in: the commit that first committed the rule in its present form.
        rule: the interval rule, where the verdict is read off a 95 % interval.
        value: the rule's number otherwise (a tolerance, a threshold).
        judges: the results it decides on, for the ledger (:mod:`bnnoise.analysis.ledger`):
            grids of the published profile, ``store:<kind>/<pattern>`` for other artifacts,
            ``file:<path>`` for a table a script writes.
    """

    decides: str
    wording: str
    applied_by: str
    test: str
    fixed_in: str
    rule: Rule | None = None
    value: float | None = None
    judges: tuple[str, ...] = ()


RULES: dict[str, RegisteredRule] = {
    "bn_gap": RegisteredRule(
        decides="Claim 1, BN lowers noise resistance (and each normalizer's gap in the "
                "remedies chapter)",
        wording="no-BN minus BN average normalized accuracy, points; a gap below 2 points "
                "would not matter to a hardware designer, and the margin applies on both "
                "sides (one-seed intervals: Student's t over the noise draws)",
        applied_by="bnnoise.analysis.claims.bn_lowers_resistance", rule=Rule(2.0, " points"),
        test="tests/test_reproduction_claims.py::test_bn_gap_outcomes", fixed_in="1d3d3c9",
        judges=("main", "seeds", "cifar100")),
    "bn_growth": RegisteredRule(
        decides="Claim 2, the harm grows with the number of BN layers",
        wording="the harm of BN (no-BN minus BN average across depths; the drop from the "
                "network without BN in the controlled series) at the largest BN-layer count "
                "minus at the smallest, points, on the seeds every member of the series has: "
                "growth beyond the first layers; below 2 points the harm has saturated. "
                "Kendall's tau over all counts and the share of the harm reached at the "
                "smallest count are reported beside it",
        applied_by="bnnoise.analysis.growth_claims.harm_grows_across_depths",
        rule=Rule(2.0, " points"),
        test="tests/test_reproduction_claims.py::test_controlled_series_per_placement",
        fixed_in="1d3d3c9",
        judges=("main", "bn_count")),
    "headline": RegisteredRule(
        decides="Claim 3, the study's headline numbers",
        wording="an equivalence test with a tolerance of 5 points (the protocol's unknowns): "
                "reproduced when our whole 95 % interval lies within 5 points of the "
                "published number, contradicted when it lies entirely farther, otherwise "
                "inconclusive",
        applied_by="bnnoise.analysis.claims.headline_numbers", value=5.0,
        test="tests/test_reproduction_claims.py::test_headline_and_robustness",
        fixed_in="1d3d3c9",
        judges=("main",)),
    "robust": RegisteredRule(
        decides="Claim 4, networks without BN stay robust",
        wording="their average normalized accuracy minus 90 % (the study reports 91.95 % and "
                "93.80 %)",
        applied_by="bnnoise.analysis.claims.no_bn_stays_robust", rule=Rule(0.0, " points"),
        value=90.0, test="tests/test_reproduction_claims.py::test_headline_and_robustness",
        fixed_in="1d3d3c9",
        judges=("main", "seeds")),
    "device_bn_gap": RegisteredRule(
        decides="Claim 1 on the PCM-like analog device: BN lowers noise resistance",
        wording="no-BN minus BN (BN kept digital and exact) average normalized accuracy over "
                "the times after programming, points; the Gaussian claim's margin of 2 points "
                "on both sides (one-seed intervals: Student's t over the programmed devices)",
        applied_by="bnnoise.analysis.device_claims.device_bn_gap", rule=Rule(2.0, " points"),
        test="tests/test_device_claims.py::test_device_verdicts_follow_the_margins",
        fixed_in="6b066f1", judges=("store:device_sweeps/*",)),
    "device_parity": RegisteredRule(
        decides="Which deployment on the PCM-like device makes a BN network at least as robust "
                "as its twin without BN",
        wording="BN network so deployed minus its twin without BN, average normalized accuracy "
                "over the times after programming, points; a non-inferiority test with a "
                "margin of 2 points",
        applied_by="bnnoise.analysis.device_claims.device_parity", rule=Rule(-2.0, " points"),
        test="tests/test_device_claims.py::test_device_verdicts_follow_the_margins",
        fixed_in="6b066f1", judges=("store:device_sweeps/*",)),
    "recovery": RegisteredRule(
        decides="A remedy helps (remedies chapter)",
        wording="the remedy's average normalized accuracy minus the standard deployment's "
                "(Welch, over draws): reproduced if its interval lies above 2 points, "
                "contradicted if below 2 points",
        applied_by="bnnoise.pipeline.remedies.remedy_ranking", rule=Rule(2.0, " points"),
        test="tests/test_remedies.py::test_ranking_measures_recovery_against_the_standard_"
             "deployment", fixed_in="1d3d3c9",
        judges=("store:sweeps/cifar10-resnet20-bn-*-eta*-[a-z]*-" + "?" * 16,)),
    "literature": RegisteredRule(
        decides="A statement of the literature about a remedy or a robust BN variant",
        wording="confirmed when the 95 % interval of the recovery it predicts lies above 0, "
                "contradicted when it lies below 0, else inconclusive",
        applied_by="bnnoise.analysis.literature_claims.literature_verdict",
        rule=Rule(0.0, " points"),
        test="tests/test_remedies.py::test_literature_verdicts_follow_the_sign_of_the_recovery",
        fixed_in="fea68e9",
        judges=("store:sweeps/cifar10-resnet20-bn-*-eta*-[a-z]*-" + "?" * 16, "normalizers")),
    "normalizer_answer": RegisteredRule(
        decides="Is it batch statistics or normalization as such?",
        wording="batch statistics: every normalizer with batch statistics lowers noise "
                "resistance (verdict reproduced) and every one without does not (verdict "
                "contradicted); normalization as such: every normalizer, with or without batch "
                "statistics, lowers it; neither: no normalizer lowers it (all contradicted); "
                "otherwise mixed or inconclusive",
        applied_by="bnnoise.analysis.normalizer_comparison.normalizer_answer",
        test="tests/test_normalizers.py::test_the_answer_follows_the_fixed_rule",
        fixed_in="5b63736",
        judges=("normalizers",)),
    "propagation_growth": RegisteredRule(
        decides="Lubana et al.'s claims on activation growth at initialisation",
        wording="the log10 distance of the growth to the linear bound, decades: reproduced "
                "when its 95 % interval lies on the claimed side of 0",
        applied_by="bnnoise.theory.propagation.growth_checks", rule=Rule(0.0, " decades"),
        test="tests/test_propagation.py::test_growth_claims_reproduced_contradicted_and_"
             "inconclusive", fixed_in="bd906ed",
        judges=("store:propagation/*",)),
    "theory_default": RegisteredRule(
        decides="The other claims of the normalization literature (short runs, dead channels)",
        wording="reproduced if the 95 % CI of the difference lies above 0; contradicted if it "
                "lies below 0; otherwise inconclusive at this power",
        applied_by="bnnoise.theory.literature.welch_check", rule=Rule(),
        test="tests/test_claims.py::test_welch_check_gives_each_of_the_three_verdicts",
        fixed_in="bd906ed",
        judges=("store:short_runs/*",)),
    "failed_run": RegisteredRule(
        decides="Whether a short training run failed (the stability check of the gradient-norms "
                "chapter)",
        wording="a run failed when it diverged or its final test accuracy lies at most 5 points "
                "above chance (1 / number of classes)",
        applied_by="bnnoise.theory.short_run_claims.failed_runs", value=0.05,
        test="tests/test_short_runs.py::test_a_run_that_ends_at_chance_counts_as_unstable",
        fixed_in="81e28bb",
        judges=("store:short_runs/*",)),
    "learning_rate_pilot": RegisteredRule(
        decides="The peak learning rate of a pilot",
        wording="the rate of the best final test accuracy among the runs that did not diverge",
        applied_by="bnnoise.analysis.pilots.pilot_choice",
        test="tests/test_report.py::test_pilot_choice_takes_the_best_rate_that_did_not_diverge",
        fixed_in="86fdcde",
        judges=("file:data/results/cpu/pilot_vgg16_none_lr.csv",)),
    "training_length": RegisteredRule(
        decides="How long the converged tier trains",
        wording="the smallest pilot length whose clean accuracy (full test set, fp32) lies "
                "within 0.5 points of the longest pilot run's",
        applied_by="bnnoise.analysis.pilots.length_choice", value=0.005,
        test="tests/test_report.py::test_the_training_length_rule_takes_the_shortest_run_close_"
             "to_the_longest", fixed_in="fb6a076",
        judges=("length_pilot",)),
    "fast_evaluation": RegisteredRule(
        decides="Where the fast evaluation (BN folded, bfloat16) may replace the fp32 reference",
        wording="for a network and target set, only when every number the book reports from its "
                "sweep (normalized accuracy per noise level and its average over the grid) lies "
                "within the 95 % interval of the fp32 value, computed with the same noise draws",
        applied_by="bnnoise.analysis.fast_path.fast_path_allowed",
        test="tests/test_sweep_speed.py::test_the_fast_path_needs_every_number_within_the_"
             "reference_interval", fixed_in="d6782dc",
        judges=("file:data/results/benchmark/fast_evaluation_check.csv",)),
    "margin_designs": RegisteredRule(
        decides="Whether the margin-strata designs are as precise as the plain loop",
        wording="judged on fresh draws over the whole test set, a cell passes if its design's "
                "standard error is at most 1.25 times the plain loop's; the designs hold if "
                "at least 90 % of the cells checked pass",
        applied_by="bnnoise.stratified_design.designs_hold",
        test="tests/test_sweep_speed.py::test_the_published_design_check_applies_its_rule_to_"
             "every_cell", fixed_in="86edd2a",
        judges=("file:data/results/benchmark/sweep_speed/AVX512/design_check.csv",)),
}


def rule_table() -> pd.DataFrame:
    """Every rule as one row: name, what it decides, its wording (with the interval rule's own
    text where it has one), the test that pins it and the commit that fixed it."""
    return pd.DataFrame([
        {"rule": name, "decides": r.decides,
         "wording": r.wording + (f" ({r.rule.text()})" if r.rule is not None else ""),
         "applied by": r.applied_by, "test": r.test, "fixed in": r.fixed_in}
        for name, r in RULES.items()])
