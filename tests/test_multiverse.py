"""The multiverse of readings: the profile's readings, the grid readings of a sweep, every claim
under every reading, and the specification curves (bnnoise.analysis.multiverse)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import yaml

from bnnoise.analysis.multiverse import (
    PROFILE_READING,
    grid_averages,
    multiverse_claims,
    verdict_by_grid,
    verdict_shares,
)
from bnnoise.config import load_profile


def test_the_readings_of_params_yaml_change_only_what_they_name(project) -> None:
    profile = load_profile("cpu", root=project)
    names = [name for name, _ in profile.readings]
    assert names == ["kernels", "max", "multiplicative", "absolute"]
    assert profile.reading("kernels").targets == ("kernels",)
    assert profile.reading("kernels").etas == profile.noise.etas
    assert profile.reading("max").scale == "max" and profile.reading("max").kind == "additive"
    assert profile.reading("multiplicative").kind == "multiplicative"
    assert max(profile.reading("absolute").etas) == 0.1
    with pytest.raises(ValueError, match="unknown reading 'x' .*valid: kernels, max"):
        profile.reading("x")


@pytest.mark.parametrize("entry, message", [
    ({"grid": "main", "variants": {"r": {"scale": "rms"}}}, "valid: std, max, absolute"),
    ({"grid": "main", "variants": {"r": {"spread": 2}}}, "readings.variants.r: unknown entry"),
    ({"grid": "main", "variants": {"r": {}}}, "must change the protocol"),
    ({"grid": "nowhere", "variants": {"r": {"scale": "max"}}}, "unknown grid 'nowhere'"),
    ({"grids": "main"}, "readings: unknown entry grids"),
])
def test_bad_readings_stop_at_load(project, entry, message) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["profiles"]["smoke"]["readings"] = entry
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ValueError, match=message):
        load_profile("smoke", root=project)


def _draws(norm: str, values: dict[float, list[float]], model: str = "resnet20",
           target: str = "weights") -> list[dict]:
    rows = []
    for eta, per_draw in {0.0: [1.0], **values}.items():
        for draw, v in enumerate(per_draw):
            rows.append({"dataset": "cifar10", "model": model, "norm": norm,
                         "bn_layers": 19 if norm == "bn" else 0, "placement": "all",
                         "seed": 0, "epochs": 10,
                         "target": target, "eta": eta, "draw": draw, "accuracy": 0.9 * v,
                         "normalized_accuracy": v, "accuracy_argmax": 0.9 * v,
                         "normalized_accuracy_argmax": v, "nonfinite_fraction": 0.0,
                         "collapsed": False})
    return rows


def test_grid_readings_average_the_levels_they_keep() -> None:
    draws = pd.DataFrame(_draws("bn", {0.1: [0.9, 0.9, 0.9], 0.5: [0.5, 0.5, 0.5],
                                       1.0: [0.1, 0.1, 0.1]}))
    averages = grid_averages(draws).query("scoring == 'wrong'").set_index("grid")
    assert averages.loc["log ≤ 0.1", "avg_normalized_accuracy"] == pytest.approx(0.9)
    assert averages.loc["log ≤ 0.5", "avg_normalized_accuracy"] == pytest.approx(0.7)
    assert averages.loc["log ≤ 1 (book)", "avg_normalized_accuracy"] == pytest.approx(0.5)
    assert "log ≤ 0.2" in averages.index and "log ≤ 0.7" in averages.index
    # uniform over [0, 1], trapezoids: (1+0.9)/2*0.1 + (0.9+0.5)/2*0.4 + (0.5+0.1)/2*0.5
    assert averages.loc["uniform", "avg_normalized_accuracy"] == pytest.approx(
        0.095 + 0.28 + 0.15)
    assert averages.loc["uniform", "standard_error"] == 0.0
    # a reading with levels of its own (absolute units) is averaged whole, never cut at
    # levels relative to each tensor's scale, and never named the book's grid
    own = grid_averages(draws, own_levels=True).query("scoring == 'wrong'").set_index("grid")
    assert list(own.index) == ["own levels ≤ 1", "uniform"]
    assert own.loc["own levels ≤ 1", "avg_normalized_accuracy"] == pytest.approx(0.5)


def _averages() -> pd.DataFrame:
    rows = []
    for grid, gap in (("log ≤ 0.1", 0.5), ("log ≤ 1 (book)", 20.0)):
        for norm, avg in (("bn", 0.7 - gap / 100), ("none", 0.7)):
            rows.append({"dataset": "cifar10", "model": "resnet20", "norm": norm,
                         "bn_layers": 19 if norm == "bn" else 0, "placement": "all",
                         "seed": 0, "epochs": 10,
                         "target": "weights", "scoring": "wrong",
                         "avg_normalized_accuracy": avg, "standard_error": 0.001,
                         "low": avg - 0.003, "high": avg + 0.003, "draws": 5, "grid": grid,
                         "reading": PROFILE_READING})
    return pd.DataFrame(rows)


def test_every_claim_is_judged_under_every_reading_by_the_claims_own_rules() -> None:
    claims = multiverse_claims(_averages())
    gap = claims[claims["claim"] == "BN lowers noise resistance"].set_index("grid")
    assert gap.loc["log ≤ 0.1", "verdict"] == "contradicted"  # 0.5 points: below the margin
    assert gap.loc["log ≤ 1 (book)", "verdict"] == "reproduced"
    robust = claims[claims["claim"].str.startswith("networks without BN stay robust")]
    assert list(robust["grid"]) == ["log ≤ 0.1", "log ≤ 1 (book)"]
    shares = verdict_shares(claims).set_index("claim")
    row = shares.loc["BN lowers noise resistance"]
    assert row["readings"] == 2 and row["reproduced"] == row["contradicted"] == 0.5
    assert row["book_reproduced"] == 1.0 and row["book_rows"] == 1


def test_the_specification_curve_sorts_the_readings_and_marks_their_choices() -> None:
    from bnnoise.figures.multiverse_figures import curve_table, specification_curve

    claims = multiverse_claims(_averages())
    table = curve_table(claims, "BN lowers noise resistance")
    assert list(table["grid"]) == ["log ≤ 0.1", "log ≤ 1 (book)"]
    assert np.all(np.diff(table["estimate"]) >= 0)
    fig = specification_curve(claims, "BN lowers noise resistance")
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels == ["grid: log ≤ 0.1", "grid: log ≤ 1 (book)"]  # the axes that vary


def test_a_claim_without_readings_gets_a_figure_that_says_so() -> None:
    from bnnoise.figures.multiverse_figures import specification_curve

    fig = specification_curve(multiverse_claims(_averages()), "the headline numbers")
    assert "No reading" in fig.axes[0].texts[0].get_text()


def test_the_readings_command_refuses_a_network_outside_its_grid(project, monkeypatch) -> None:
    from bnnoise import cli

    monkeypatch.setenv("BNNOISE_ROOT", str(project))
    with pytest.raises(SystemExit, match="unknown model 'nonsense' in the readings grid main"):
        cli.main(["readings", "--profile", "smoke", "--only", "nonsense"])
    with pytest.raises(SystemExit, match="unknown reading 'x'"):
        cli.main(["readings", "--profile", "smoke", "--reading", "x"])


def test_networks_of_several_training_lengths_are_readings_judged_apart() -> None:
    from bnnoise.analysis.multiverse import multiverse_claims

    rows = []
    for epochs, bn in ((10, 0.40), (40, 0.895)):
        for norm, avg in (("bn", bn), ("none", 0.90)):
            rows.append({"dataset": "cifar10", "model": "resnet20", "norm": norm,
                         "bn_layers": 19 if norm == "bn" else 0, "placement": "all",
                         "seed": 0, "epochs": epochs, "target": "weights", "scoring": "wrong",
                         "avg_normalized_accuracy": avg, "standard_error": 0.001,
                         "low": avg - 0.002, "high": avg + 0.002, "draws": 5,
                         "grid": "full (book)", "reading": "book"})
    claims = multiverse_claims(pd.DataFrame(rows))
    gap = claims[claims["claim"] == "BN lowers noise resistance"].set_index("epochs")
    assert gap.loc[10, "verdict"] == "reproduced" and gap.loc[40, "verdict"] == "contradicted"


def test_the_most_common_verdict_per_grid_names_ties_and_is_said_only_where_it_differs() -> None:
    from bnnoise.pages.claim_sentences import claims_in_words

    readings = pd.DataFrame({
        "claim": "robust", "reading": "std, additive",
        "grid": ["log ≤ 0.1"] * 3 + ["log ≤ 1"] * 2 + ["uniform"] * 2 + ["log ≤ 0.1"],
        "verdict": ["reproduced"] * 2 + ["contradicted"] * 3
                   + ["inconclusive at this power", "reproduced", "contradicted"]})
    readings.loc[7, "reading"] = "max"  # another reading's grid is left out
    by_grid = verdict_by_grid(readings)
    assert list(by_grid["verdict"]) == ["reproduced", "contradicted",
                                        "reproduced or inconclusive at this power"]
    assert by_grid["share"].round(2).tolist() == [0.67, 1.0, 0.5]
    verdicts = pd.DataFrame({"claim": ["robust"], "verdict": ["contradicted"]})
    said = claims_in_words(verdicts, by_grid=by_grid).data
    assert ("By noise grid (the most common verdict, the profile's noise scale and kind): "
            "log ≤ 0.1: reproduced; log ≤ 1: contradicted; uniform: reproduced or undecided."
            ) in said
    joined = verdict_by_grid(readings.assign(verdict=["reproduced"] * 3 + ["contradicted"] * 5))
    assert "log ≤ 0.1: reproduced; log ≤ 1 to uniform: contradicted." in claims_in_words(
        verdicts, by_grid=joined).data  # neighbouring grids with one verdict, joined
    steady = verdict_by_grid(readings.assign(verdict="reproduced"))
    assert "By noise grid" not in claims_in_words(verdicts, by_grid=steady).data
    assert "By noise grid" not in claims_in_words(verdicts).data


def _bias_rows(model: str, reading: str, target: str, bn: float, seed: int = 0) -> list[dict]:
    return [{"dataset": "cifar10", "model": model, "norm": norm,
             "bn_layers": 19 if norm == "bn" else 0, "placement": "all", "seed": seed,
             "epochs": 10, "target": target, "scoring": "wrong",
             "avg_normalized_accuracy": avg, "standard_error": 0.001, "low": avg - 0.003,
             "high": avg + 0.003, "draws": 5, "grid": "log ≤ 1 (book)", "reading": reading}
            for norm, avg in (("bn", bn), ("none", 0.8))]


def test_the_bias_reading_is_set_against_noisy_biases_on_the_same_seeds() -> None:
    from bnnoise.analysis.multiverse import bias_treatment
    from bnnoise.pages.claim_tables import bias_in_words, bias_view

    averages = pd.DataFrame(
        _bias_rows("a", PROFILE_READING, "weights", 0.70)
        + _bias_rows("a", PROFILE_READING, "weights", 0.20, seed=1)  # not under the reading
        + _bias_rows("a", "kernels", "kernels", 0.79)   # the gap shrinks to 1 point
        + _bias_rows("b", PROFILE_READING, "weights", 0.70)
        + _bias_rows("b", "kernels", "kernels", 0.70)
        + _bias_rows("b", PROFILE_READING, "all", 0.10))
    table = bias_treatment(averages).set_index("subject")
    assert table.loc["a", "estimate_weights"] == pytest.approx(10.0)  # seed 0 alone
    assert table.loc["a", "change"] == pytest.approx(-9.0)
    assert table.loc["a", "verdict_kernels"] == "contradicted"
    assert table.loc["b", "verdict_weights"] == table.loc["b", "verdict_kernels"] == "reproduced"
    # the change's interval: half-widths of the two gaps added in quadrature
    half = np.hypot((table.loc["a", "high_weights"] - table.loc["a", "low_weights"]) / 2,
                    (table.loc["a", "high_kernels"] - table.loc["a", "low_kernels"]) / 2)
    assert table.loc["a", "change_high"] - table.loc["a", "change"] == pytest.approx(half)
    view = bias_view(bias_treatment(averages))
    assert [c.split(" (")[0] for c in view["change (95 % CI)"]] == ["\u22129.0", "+0.0"]
    words = bias_in_words(bias_treatment(averages)).data
    assert "changes by \u22129.0 to +0.0 points" in words
    assert "same for 1 of 2 networks and changes for a: reproduced → contradicted." in words
    one = bias_in_words(bias_treatment(averages[averages["model"] == "b"])).data
    assert "changes by +0.0 points" in one and "for 1 of 1 network." in one
    assert bias_treatment(averages[averages["reading"] != "kernels"]).empty
    assert "not swept" in bias_in_words(bias_treatment(averages.iloc[:0])).data


def test_the_readings_table_keeps_the_three_shares_in_one_column() -> None:
    from bnnoise.pages.claim_tables import multiverse_view

    shares = pd.DataFrame([{"claim": "c", "readings": 8, "reproduced": 0.5,
                            "contradicted": 0.125, "inconclusive at this power": 0.375,
                            "book_rows": 2, "book_reproduced": 0.5}])
    view = multiverse_view(shares)
    assert list(view.columns) == ["claim", "readings",
                                  "reproduced / contradicted / inconclusive (%)", "book's reading"]
    assert view.iloc[0, 2] == "50 / 12 / 38" and view.iloc[0, 3] == "50 (of 2)"
