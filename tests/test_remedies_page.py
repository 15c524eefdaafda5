"""The remedies page as the reader sees it: verdict labels, signs, notes and figures."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from bnnoise.analysis.normalizer_comparison import normalizer_status
from bnnoise.figures import mechanism_figures as M
from bnnoise.pages.mechanism_tables import (
    HURTS,
    VERDICT_RULE,
    noise_aware_note,
    ranking_view,
    verdict_label,
)
from bnnoise.pipeline.remedies import remedy_ranking


def _draws(norm, deployment, values, images=0, target="weights", train_noise=0.0):
    return [{"dataset": "cifar10", "model": "resnet20", "norm": norm, "bn_layers": 0,
             "placement": "all", "seed": 0, "deployment": deployment, "images": images,
             "train_noise": train_noise, "target": target, "draw": d,
             "avg_normalized_accuracy": v, "nonfinite_fraction": 0.0}
            for d, v in enumerate(values)]


def _ranking() -> pd.DataFrame:
    return remedy_ranking(pd.DataFrame(
        _draws("none", "standard", [0.75, 0.74, 0.76])
        + _draws("bn", "standard", [0.70, 0.69, 0.71])
        + _draws("bn", "folded", [0.60, 0.61, 0.59])          # loses 10 points
        + _draws("bn", "clamped", [0.695, 0.70, 0.705])       # about zero
        + _draws("bn", "recalibrated", [0.85, 0.84, 0.86], images=128)))


def test_a_remedy_that_loses_beyond_the_margin_hurts() -> None:
    assert verdict_label("contradicted", -6.4) == HURTS
    assert verdict_label("contradicted", -1.0) == "does not help (< 2 points)"
    assert verdict_label("contradicted", 1.5) == "does not help (< 2 points)"
    assert verdict_label("reproduced", 18.0) == "helps"
    assert verdict_label("", 0.0) == "reference"
    assert "−2 points" in VERDICT_RULE and "+2 points" in VERDICT_RULE


def test_ranking_view_uses_one_minus_sign_and_says_hurts() -> None:
    view = ranking_view(_ranking(), "weights").set_index("remedy")
    folded = view.loc["BN folded into the convs"]
    assert folded["verdict"] == HURTS
    assert folded["gap to no BN closed (%)"] == "−200"
    assert folded["recovered (points)"].startswith("−10.0")
    assert view.loc["BN recalibrated, 128 images", "gap to no BN closed (%)"] == "300"
    assert not any("-" in cell for cell in view["gap to no BN closed (%)"])


def test_noise_aware_note_names_the_levels_not_yet_ranked() -> None:
    ranking = _ranking()
    note = noise_aware_note(ranking, ("resnet20",), (0.1, 0.3)).data
    assert "not yet trained and swept" in note
    assert "resnet20 at 0.1 × std" in note and "0.3 × std" in note
    aware = remedy_ranking(pd.DataFrame(
        _draws("bn", "standard", [0.70, 0.69, 0.71])
        + _draws("bn", "noise-aware", [0.72, 0.73, 0.71], train_noise=0.1)))
    note = noise_aware_note(aware, ("resnet20",), (0.1, 0.3)).data
    assert "0.1 × std" not in note and "resnet20 at 0.3 × std" in note
    assert "every level" in noise_aware_note(aware, ("resnet20",), (0.1,)).data
    assert "no networks" in noise_aware_note(pd.DataFrame(), ("resnet20",), ()).data


def test_normalizer_status_says_what_is_still_open() -> None:
    answer = pd.DataFrame({"target": ["all", "all", "weights"],
                           "scoring": ["wrong", "argmax", "wrong"],
                           "answer": ["not answerable: one kind of normalizer is missing"] * 3})
    text = normalizer_status(answer)
    assert "answers nothing yet" in text and "{numref}`tbl-normalizer-verdicts`" in text
    answer.loc[2, "answer"] = "batch statistics"
    assert ("can be made for 1 of 2 target sets (weights) and decides the question for 1 of "
            "them (weights)") in normalizer_status(answer)
    answer.loc[2, "answer"] = "mixed or inconclusive"  # answerable, but not decided
    text = normalizer_status(answer)
    assert "decides the question for 0 of them" in text and "mixed or inconclusive" in text


def _layer_draws(accuracy: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for norm, clean in (("bn", 0.8), ("none", 0.9)):
        for layer in range(4):
            for draw in range(3):
                # a wide spread at layer 0 makes the t-interval reach far above 1 / clean
                value = float(rng.choice([0.05, 1.1])) if layer == 0 else 1.0
                rows.append({"norm": norm, "target": "all", "eta": 0.5, "layer": layer,
                             "draw": draw, "normalized_accuracy": value,
                             "perturbation": 0.05 * (layer + 1) * (draw + 1),
                             **({"accuracy": value * clean} if accuracy else {})})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("accuracy", [True, False])
def test_layer_bands_stop_at_the_ceiling(accuracy: bool) -> None:
    draws = _layer_draws(accuracy)
    bands = M.layer_bands(draws)
    ceiling = {"bn": 125.0, "none": 100 / 0.9} if accuracy else {"bn": 110.0, "none": 110.0}
    for norm, part in bands.groupby("norm"):
        assert part["high"].max() <= ceiling[norm] + 1e-9 and part["low"].min() >= 0.0
    fig = M.layer_figure(draws)
    ax = fig.axes[0]
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    tops = np.concatenate([p.vertices[:, 1] for c in polys for p in c.get_paths()])
    assert tops.max() <= max(ceiling.values()) + 1e-9
    assert ax.get_ylim()[1] <= max(ceiling.values()) + 5
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["with BN", "without BN", "η = 0.5"]
    assert len({line.get_linestyle() for line in ax.get_lines() if len(line.get_xdata())}) >= 1


def test_perturbation_legend_has_no_headings_and_the_axis_has_labels() -> None:
    draws = pd.concat([_layer_draws(False), _layer_draws(False).assign(eta=0.2)])
    fig = M.perturbation_figure(draws)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["with BN", "without BN", "η = 0.2", "η = 0.5"]
    ax = fig.axes[0]
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.get_xticklabels(minor=True) + ax.get_xticklabels()
             if t.get_text() and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
    assert len(shown) >= 3
