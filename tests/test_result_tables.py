"""The result tables of the chapters: collapse agreement, claims per dataset and the verdicts
that differ, the literature verdicts, one producer per published table, the protocol fit."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import pandas as pd
import pytest

from bnnoise.analysis.literature_claims import literature_verdict
from bnnoise.analysis.results import TABLES, collapse_agreement, protocol_fit, publish_tables
from bnnoise.config import load_profile
from bnnoise.pages.dataset_tables import (
    claims_by_dataset_view,
    disagreements,
    no_disagreement_text,
)
from bnnoise.pages.noise_tables import collapse_agreement_text

matplotlib.use("Agg")


def _collapse(rows: list[tuple[str, int, int, float, bool]]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "norm": n, "eta": 0.1 * (i + 1), "draws": draws,
                          "collapsed_draws": collapsed, "collapse_probability": p,
                          "consistent": consistent}
                         for i, (m, n, draws, collapsed, p, consistent) in enumerate(rows)])


def _old_recovery_verdict(low: float, high: float, worse: bool = False) -> str:
    """The hand-written rule the literature table used before it used ``stats.Rule``."""
    if worse:
        low, high = -high, -low
    if low > 0:
        return "confirmed"
    if high < 0:
        return "contradicted"
    return "inconclusive at this power"


def test_collapse_agreement_pools_only_the_bn_networks() -> None:
    collapse = _collapse([("resnet20", "bn", 10, 5, 0.5, True),
                          ("resnet20", "bn", 10, 10, 0.9, True),
                          ("resnet20", "bn", 10, 0, 0.6, False),
                          ("resnet20", "none", 10, 7, 0.0, False)])
    a = collapse_agreement(SimpleNamespace(collapse=collapse))
    assert a["cells"] == 3 and a["consistent_cells"] == 2
    assert a["observed"] == 15 and a["expected"] == pytest.approx(20.0)
    # two-sided normal approximation with continuity correction, worked out by hand:
    # sd = sqrt(10 (0.25 + 0.09 + 0.24)) = 2.408, z = (20 - 15 - 0.5) / 2.408 = 1.869
    assert a["p_value"] == pytest.approx(0.0617, abs=5e-4)
    assert a["largest_gap_eta"] == pytest.approx(0.3)  # 0 observed where 6 were expected
    assert (a["largest_gap_observed"], a["largest_gap_expected"]) == pytest.approx((0, 6))


def test_collapse_agreement_text_interprets_a_rejected_pooled_test() -> None:
    base = {"cells": 40, "consistent_cells": 40, "observed": 93, "expected": 85.8,
            "largest_gap_eta": 0.3, "largest_gap_observed": 16, "largest_gap_expected": 10.0}
    rejected = collapse_agreement_text({**base, "p_value": 0.04}).data
    assert "most at η = 0.3 (16 observed, 10.0 expected), with every cell" in rejected
    assert "5 % level" not in collapse_agreement_text({**base, "p_value": 0.3}).data


def test_collapse_agreement_without_bn_networks_is_empty() -> None:
    a = collapse_agreement(SimpleNamespace(collapse=_collapse(
        [("resnet20", "none", 10, 0, 0.0, True)])))
    assert a["cells"] == 0 and a["consistent_cells"] == 0


def test_disagreements_list_only_comparisons_whose_verdict_differs() -> None:
    keys = {"claim": "BN lowers noise resistance", "scoring": "wrong"}
    verdicts = pd.DataFrame([
        {**keys, "dataset": "cifar10", "subject": "resnet20", "target": "all",
         "verdict": "reproduced"},
        {**keys, "dataset": "cifar100", "subject": "resnet20", "target": "all",
         "verdict": "contradicted"},
        {**keys, "dataset": "cifar10", "subject": "resnet20", "target": "weights",
         "verdict": "reproduced"},
        {**keys, "dataset": "cifar100", "subject": "resnet20", "target": "weights",
         "verdict": "reproduced"},
        {**keys, "dataset": "cifar10", "subject": "vgg16", "target": "all",
         "verdict": "reproduced"},  # no CIFAR-100 counterpart: not a disagreement
    ])
    differ = disagreements(verdicts, "cifar10", "cifar100")
    assert differ.to_dict("records") == [{
        "claim": "BN lowers noise resistance", "subject": "resnet20", "target": "all",
        "scoring": "wrong", "verdict (CIFAR-10)": "reproduced",
        "verdict (CIFAR-100)": "contradicted"}]
    assert disagreements(verdicts, "cifar10", "cifar10").empty


def test_claims_by_dataset_count_verdicts_per_dataset_and_the_ones_that_differ() -> None:
    keys = {"claim": "BN lowers noise resistance", "scoring": "wrong"}
    verdicts = pd.DataFrame([
        {**keys, "dataset": "cifar10", "subject": "resnet20", "target": "all",
         "verdict": "reproduced"},
        {**keys, "dataset": "cifar10", "subject": "vgg16", "target": "all",
         "verdict": "inconclusive at this power"},
        {**keys, "dataset": "cifar100", "subject": "resnet20", "target": "all",
         "verdict": "contradicted"},
        {"claim": "networks without BN stay robust", "scoring": "wrong", "dataset": "cifar10",
         "subject": "resnet20", "target": "all", "verdict": "contradicted"},
    ])
    view = claims_by_dataset_view(verdicts)
    assert view.to_dict("records") == [
        {"claim": "BN lowers noise resistance", "CIFAR-10 (R/C/I)": "1/0/1",
         "CIFAR-100 (R/C/I)": "0/1/0", "verdicts that differ on CIFAR-100": "1"},
        {"claim": "networks without BN stay robust", "CIFAR-10 (R/C/I)": "0/1/0",
         "CIFAR-100 (R/C/I)": "–", "verdicts that differ on CIFAR-100": "–"}]  # unmeasured
    one = claims_by_dataset_view(verdicts[verdicts["dataset"] == "cifar10"])
    assert list(one.columns) == ["claim", "CIFAR-10 (R/C/I)"]


@pytest.mark.parametrize("worse", [False, True])
def test_recovery_verdict_is_the_margin_zero_rule(worse: bool) -> None:
    bounds = [-5.0, -0.1, 0.0, 0.1, 5.0]
    for low, high in itertools.product(bounds, bounds):
        if low <= high:
            assert literature_verdict(low, high, worse) == _old_recovery_verdict(low, high, worse)
    assert literature_verdict(math.nan, 1.0) == "inconclusive at this power"


def test_publish_tables_writes_only_the_named_tables(project: Path) -> None:
    profile = load_profile("smoke", root=project)
    results = SimpleNamespace(**{name: pd.DataFrame({"x": [i]}) for i, name in enumerate(TABLES)})
    paths = publish_tables(results, profile, "demo", ("history",))
    assert list(paths) == ["history"] and paths["history"].name == "demo_history.csv"
    assert sorted(p.name for p in profile.results_dir.glob("*.csv")) == ["demo_history.csv"]
    with pytest.raises(ValueError, match="unknown tables"):
        publish_tables(results, profile, "demo", ("collapse_check",))


def test_protocol_fit_uses_one_training_seed_only() -> None:
    rows = [{"dataset": "cifar10", "model": "resnet20", "norm": norm, "target": "all",
             "scoring": "wrong", "eta": eta, "seed": seed,
             "normalized_accuracy": (1 - eta) if seed == 0 else 0.0}
            for norm in ("bn", "none") for seed in (0, 1) for eta in (0.0, 0.5, 1.0)]
    summary = pd.DataFrame(rows)
    fit = protocol_fit(SimpleNamespace(summary=summary))
    expected = protocol_fit(SimpleNamespace(summary=summary[summary["seed"] == 0]))
    pd.testing.assert_frame_equal(fit, expected)


def test_no_disagreement_text_says_why_nothing_differs() -> None:
    verdicts = pd.DataFrame({"dataset": ["cifar10"], "verdict": ["reproduced"]})
    assert "only one dataset" in no_disagreement_text(verdicts, ["cifar10"])
    assert "judged on CIFAR-100 yet" in no_disagreement_text(verdicts, ["cifar10", "cifar100"])
    both = pd.DataFrame({"dataset": ["cifar10", "cifar100"], "verdict": ["reproduced"] * 2})
    assert "No comparison has a different verdict" in no_disagreement_text(
        both, ["cifar10", "cifar100"])

