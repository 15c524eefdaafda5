"""Is it batch statistics or normalization as such? (bnnoise.analysis.normalizer_comparison)
on constructed tables."""

import numpy as np
import pandas as pd
import pytest

from bnnoise.analysis.normalizer_comparison import (
    normalizer_answer,
    normalizer_gaps,
    uses_batch_statistics,
)


def _row(norm, avg, seed=0, se=0.005, target="weights"):
    return {"dataset": "cifar10", "model": "resnet20", "norm": norm, "bn_layers": 0,
            "placement": "all", "seed": seed, "target": target, "scoring": "wrong",
            "avg_normalized_accuracy": avg, "standard_error": se, "low": avg - 2 * se,
            "high": avg + 2 * se, "draws": 5}


@pytest.mark.parametrize("norm, batch", [("bn", True), ("l1bn", True), ("topkbn", True),
                                         ("bcn4+ws", True), ("gn4", False), ("ln", False),
                                         ("gn4+ws", False), ("in", False), ("none", False)])
def test_batch_statistics_by_normalizer(norm, batch) -> None:
    assert uses_batch_statistics(norm) is batch


def _answer(averages: dict[str, float]) -> str:
    table = pd.DataFrame([_row(norm, avg) for norm, avg in averages.items()])
    return normalizer_answer(normalizer_gaps(table))["answer"].iloc[0]


def test_the_answer_follows_the_fixed_rule() -> None:
    assert _answer({"none": 0.9, "bn": 0.5, "l1bn": 0.6, "gn4": 0.9, "ln": 0.898}) == \
        "batch statistics"
    assert _answer({"none": 0.9, "bn": 0.5, "l1bn": 0.6, "gn4": 0.5, "ln": 0.6}) == \
        "normalization as such"
    assert _answer({"none": 0.9, "bn": 0.9, "gn4": 0.9}) == "neither"
    assert _answer({"none": 0.9, "bn": 0.5, "gn4": 0.89}) == "mixed or inconclusive"
    assert _answer({"none": 0.9, "bn": 0.5, "l1bn": 0.6}).startswith("not answerable")


def test_gaps_are_none_minus_normalizer_over_seeds_when_both_have_two() -> None:
    table = pd.DataFrame([_row("none", v, s) for s, v in enumerate([0.90, 0.92])]
                         + [_row("gn4", v, s) for s, v in enumerate([0.60, 0.70])]
                         + [_row("bn", 0.5)])
    gaps = normalizer_gaps(table).set_index("norm")
    assert gaps.loc["gn4", "estimate"] == pytest.approx(26.0)
    assert gaps.loc["gn4", "interval"] == "seeds (2 vs 2)"
    assert gaps.loc["bn", "interval"] == "one seed (t)"
    assert not gaps.loc["gn4", "batch_statistics"] and gaps.loc["bn", "batch_statistics"]


def test_a_grid_without_the_unnormalized_network_gives_no_gap() -> None:
    assert normalizer_gaps(pd.DataFrame([_row("bn", 0.5), _row("gn4", 0.6)])).empty


def test_robust_bn_differences_are_variant_minus_standard_bn() -> None:
    from bnnoise.analysis.normalizer_comparison import robust_bn_differences

    table = pd.DataFrame([_row("bn", v, s) for s, v in enumerate([0.50, 0.54])]
                         + [_row("l1bn", v, s) for s, v in enumerate([0.60, 0.62])]
                         + [_row("topkbn", 0.40)] + [_row("none", 0.9)])
    diff = robust_bn_differences(table).set_index("norm")
    assert list(diff.index) == ["l1bn", "topkbn"]
    assert diff.loc["l1bn", "estimate"] == pytest.approx(9.0)
    assert diff.loc["l1bn", "interval"] == "seeds (2 vs 2)"
    assert diff.loc["topkbn", "estimate"] == pytest.approx(-12.0)
    assert diff.loc["topkbn", "high"] < 0  # one seed each: the standard errors' interval
    assert robust_bn_differences(pd.DataFrame([_row("bn", 0.5)])).empty


def _progress(norm, points, target="weights", seed=1):
    """A training trajectory: (epoch, clean accuracy, average normalized accuracy) triples."""
    return [{"dataset": "cifar10", "model": "resnet20", "norm": norm, "bn_layers": 0,
             "placement": "all", "seed": seed, "epoch": e, "target": target,
             "clean_accuracy": c, "avg_normalized_accuracy": a} for e, c, a in points]


def test_final_points_take_the_clean_accuracy_of_the_sweep_subset() -> None:
    from bnnoise.analysis.normalizer_comparison import final_points

    average = pd.DataFrame([_row("gn4", 0.7), _row("gn4", 0.6, target="all")])
    summary = pd.DataFrame([{**_row("gn4", 0.0), "eta": eta, "accuracy": acc}
                            for eta, acc in ((0.0, 0.81), (0.1, 0.7))])
    finals = final_points(summary, average)
    assert finals[["norm", "target", "clean_accuracy", "avg_normalized_accuracy"]].values.tolist() \
        == [["gn4", "weights", 0.81, 0.7]]  # no clean row for target all: left out


def test_trajectories_are_interpolated_at_the_clean_accuracy_and_never_extrapolated() -> None:
    from bnnoise.analysis.normalizer_comparison import at_matched_accuracy

    progress = pd.DataFrame(_progress("bn", [(2, 0.5, 0.9), (4, 0.7, 0.7), (10, 0.86, 0.6)])
                            + _progress("none", [(2, 0.4, 0.95), (10, 0.8, 0.8)])
                            + _progress("none", [(2, 0.5, 0.85), (10, 0.8, 0.7)], seed=2))
    finals = pd.DataFrame([{"dataset": "cifar10", "model": "resnet20", "norm": norm, "seed": 0,
                            "target": "weights", "clean_accuracy": clean,
                            "avg_normalized_accuracy": 0.7}
                           for norm, clean in (("gn4", 0.6), ("gn4+ws", 0.84))])
    matched = at_matched_accuracy(finals, progress).set_index("norm")
    assert matched.loc["gn4", "bn_trajectory"] == pytest.approx(0.8)
    # none: mean over seeds per epoch, (0.45, 0.9) to (0.8, 0.75)
    assert matched.loc["gn4", "none_trajectory"] == pytest.approx(0.9 - 0.15 * 0.15 / 0.35)
    assert matched.loc["gn4+ws", "bn_trajectory"] == pytest.approx(0.6 + 0.1 * 0.02 / 0.16)
    assert np.isnan(matched.loc["gn4+ws", "none_trajectory"])  # beyond its last epoch


def test_without_any_trajectory_every_reading_is_empty() -> None:
    from bnnoise.analysis.normalizer_comparison import at_matched_accuracy

    finals = pd.DataFrame([{"dataset": "cifar10", "model": "resnet20", "norm": "gn4", "seed": 0,
                            "target": "all", "clean_accuracy": 0.8,
                            "avg_normalized_accuracy": 0.7}])
    matched = at_matched_accuracy(finals, pd.DataFrame())
    assert matched[["bn_trajectory", "none_trajectory"]].isna().all().all()


def test_mean_trajectories_average_the_seeds_of_fully_normalized_runs_only() -> None:
    from bnnoise.analysis.normalizer_comparison import mean_trajectories

    partial = [{**row, "placement": "first", "avg_normalized_accuracy": 0.0}
               for row in _progress("bn", [(2, 0.3, 0.3)])]
    progress = pd.DataFrame(_progress("bn", [(2, 0.5, 0.9)], seed=0)
                            + _progress("bn", [(2, 0.7, 0.7)], seed=1) + partial)
    paths = mean_trajectories(progress)
    assert paths[["norm", "epoch", "clean_accuracy", "avg_normalized_accuracy"]].values.tolist() \
        == [["bn", 2, pytest.approx(0.6), pytest.approx(0.8)]]
    assert mean_trajectories(pd.DataFrame()).empty


def test_normalizer_summary_interval_over_seeds_stays_within_0_and_100_percent() -> None:
    from bnnoise.analysis.normalizer_comparison import normalizer_summary
    average = pd.DataFrame({
        "dataset": "cifar10", "model": "resnet20", "norm": "bn", "target": "all",
        "scoring": "wrong", "placement": "all", "seed": [0, 1],
        "avg_normalized_accuracy": [0.05, 0.9], "low": [0.0, 0.8], "high": [0.1, 1.0]})
    training = pd.DataFrame({"dataset": "cifar10", "model": "resnet20", "norm": "bn",
                             "seed": [0, 1], "clean_accuracy": [0.85, 0.86]})
    row = normalizer_summary(average, training).iloc[0]
    assert row["seeds"] == 2 and row["avg_normalized_accuracy"] == pytest.approx(0.475)
    assert row["low"] == 0.0 and row["high"] == 1.0  # two seeds, t = 12.7: clipped both ways
    above = average.assign(avg_normalized_accuracy=[1.01, 1.03])
    row = normalizer_summary(above, training).iloc[0]
    assert row["high"] >= row["avg_normalized_accuracy"] > 1.0  # never excludes its mean
