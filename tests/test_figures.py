"""The book's figures: seaborn drawing, and bands clipped to the possible range of their quantity.

Accuracies stay in [0, 1]; a normalized accuracy (noisy / clean accuracy) is never below 0 but may
exceed 1, so its bands are cut at 0 only and the axes make room above 100 %.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import seaborn as sns
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba

from bnnoise.figures import mechanism_figures as M
from bnnoise.figures import noise_figures as P
from bnnoise.figures.axes import eta_tick_labels, normalized_ceiling, normalized_limits
from bnnoise.figures.colours import TARGET_COLOURS
from bnnoise.figures.style import (
    ACCURACY_RANGE,
    clip_band,
    clip_normalized,
)

RUN = {"dataset": "cifar10", "model": "resnet20", "bn_layers": 19, "placement": "all",
       "seed": 0, "train_noise": 0}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def seaborn_calls(monkeypatch) -> list[str]:
    """Names of the seaborn plotting functions a figure calls (they still draw)."""
    calls: list[str] = []
    for name in ("lineplot", "scatterplot", "pointplot"):
        original = getattr(sns, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(sns, name, spy)
    return calls


def _band_values(ax) -> np.ndarray:
    """Every y value of the filled bands (PolyCollections) of an axes."""
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    return np.concatenate([p.vertices[:, 1] for c in polys for p in c.get_paths()])


def test_bands_of_accuracies_are_clipped_to_their_range() -> None:
    low, high = clip_band([-0.1, 0.5], [0.2, 1.3], *ACCURACY_RANGE)
    assert low.tolist() == [0.0, 0.5] and high.tolist() == [0.2, 1.0]


def test_normalized_bands_are_cut_at_zero_and_never_below_their_point() -> None:
    low, high = clip_normalized([-0.2, 0.95, 1.001], [0.3, 1.08, 1.012])
    assert low.tolist() == [0.0, 0.95, 1.001] and high.tolist() == [0.3, 1.08, 1.012]
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1.2, 200)  # normalized accuracies, some above 1
    half = rng.uniform(0, 0.5, 200)
    low, high = clip_normalized(points - half, points + half)
    assert (low >= 0).all() and (low <= points).all() and (high >= points).all()


def test_noise_levels_are_labelled_at_one_two_and_five_times_a_power_of_ten() -> None:
    grid = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]
    assert eta_tick_labels(grid) == ["0.02", "0.05", "0.1", "0.2", "", "0.5", "", "1"]
    assert eta_tick_labels([0.3, 0.7]) == ["0.3", "0.7"]  # too few 1-2-5 levels: all labelled
    assert eta_tick_labels([0.1, 0.3]) == ["0.1", "0.3"]


def test_axis_limits_make_room_for_bands_above_100_percent() -> None:
    assert normalized_limits([0.2, 0.9]) == (-3.0, 105.0)
    assert normalized_limits([0.5], [1.1, np.nan, np.inf]) == pytest.approx((-3.0, 113.0))
    assert normalized_limits([]) == (-3.0, 105.0)


def _noise_summary() -> pd.DataFrame:
    rows = []
    for norm, values, halves in (("bn", [1.003, 0.6, 0.05], [0.02, 0.2, 0.1]),
                                 ("none", [1.0, 0.9, 0.7], [0.01, 0.05, 0.05])):
        for eta, value, half in zip([0.1, 0.3, 0.5], values, halves, strict=True):
            rows.append({**RUN, "norm": norm, "target": "all", "scoring": "wrong", "eta": eta,
                         "accuracy": 0.8 * value, "normalized_accuracy": value,
                         "normalized_accuracy_ci95": half})
    return pd.DataFrame(rows)


def test_noise_curves_band_is_cut_at_zero_only(seaborn_calls: list[str]) -> None:
    fig = P.noise_curves(_noise_summary())
    ax = fig.axes[0]
    bands = _band_values(ax)
    assert bands.min() == pytest.approx(0.0)  # 0.05 - 0.1 is cut at 0
    assert bands.max() == pytest.approx(102.3)  # 1.003 + 0.02, not cut at 100 %
    assert ax.get_ylim()[1] >= bands.max() and "lineplot" in seaborn_calls


def test_noise_curves_band_stops_at_one_over_the_clean_accuracy() -> None:
    summary = _noise_summary()
    summary.loc[0, "normalized_accuracy_ci95"] = 0.5  # 1.003 + 0.5 is beyond 1 / 0.8
    assert normalized_ceiling(summary[summary["norm"] == "bn"]) == pytest.approx(1.25)
    bands = _band_values(P.noise_curves(summary).axes[0])
    assert bands.max() == pytest.approx(125.0)
    assert normalized_ceiling(summary.assign(accuracy=0.0)) == np.inf


def _remedy_summary() -> pd.DataFrame:
    rows = [{**RUN, "norm": "bn", "deployment": "recalibrated", "images": n, "target": t,
             "avg_normalized_accuracy": m, "low": m - h, "high": m + h}
            for t in ("all", "weights")
            for n, m, h in ((32, 0.05, 0.1), (128, 1.02, 0.06), (512, 0.9, 0.01))]
    rows += [{**RUN, "norm": norm, "deployment": "standard", "images": 0, "target": t,
              "avg_normalized_accuracy": m, "low": m - 0.05, "high": m + 0.05}
             for t in ("all", "weights") for norm, m in (("bn", 0.45), ("none", 0.75))]
    return pd.DataFrame(rows)


def test_recalibration_figure_is_drawn_with_seaborn(seaborn_calls: list[str]) -> None:
    fig = M.recalibration_figure(_remedy_summary())
    assert seaborn_calls.count("lineplot") == 4  # per panel: the recalibrated line, references
    top = fig.axes[0]
    bands = _band_values(top)
    assert bands.min() == pytest.approx(0.0)  # 0.05 - 0.1 is cut at 0
    assert bands.max() == pytest.approx(108.0)  # 1.02 + 0.06: the old cap at 105 % is gone
    assert top.get_ylim()[1] > 108.0
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == list(M.ARMS.values())
    fig.canvas.draw()  # tick labels of the shared x axis: on the bottom panel
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()] == ["32", "128", "512"]
    flat = [line for line in top.get_lines() if len(set(line.get_ydata())) == 1]
    assert sorted(line.get_ydata()[0] for line in flat) == pytest.approx([45.0, 75.0])


def _normalizer_summary() -> pd.DataFrame:
    rows = []
    for norm, batch, means in (("bn", True, (0.45, 0.7)), ("gn8", False, (0.8, 1.01)),
                               ("none", False, (0.75, 0.74))):
        for target, mean in zip(("all", "weights"), means, strict=True):
            rows.append({"dataset": "cifar10", "model": "resnet20", "norm": norm,
                         "target": target, "scoring": "wrong", "seeds": 1,
                         "avg_normalized_accuracy": mean, "low": mean - 0.6,
                         "high": mean + 0.05, "batch_statistics": batch,
                         "clean_accuracy": 0.85})
    return pd.DataFrame(rows)


def test_normalizer_figure_is_drawn_with_seaborn(seaborn_calls: list[str]) -> None:
    fig = M.normalizer_figure(_normalizer_summary())
    ax = fig.axes[0]
    assert seaborn_calls.count("scatterplot") == 2  # filled and open markers
    assert [t.get_text() for t in ax.get_yticklabels()] == ["gn8", "none", "bn"]  # best first
    bars = np.concatenate([np.asarray(c.get_segments())[:, :, 0] for c in ax.collections
                           if isinstance(c, LineCollection)])
    assert bars.min() == pytest.approx(0.0)  # 0.45 - 0.6 is cut at 0
    assert bars.max() == pytest.approx(106.0) and ax.get_xlim()[1] > 106.0
    filled, hollow = [c for c in ax.collections if c.get_offsets().shape[0] and
                      not isinstance(c, LineCollection)]
    assert len(filled.get_offsets()) == 2 and len(hollow.get_offsets()) == 4
    assert all(tuple(f) == to_rgba("white") for f in hollow.get_facecolors())
    assert tuple(hollow.get_edgecolors()[0][:3]) == pytest.approx(TARGET_COLOURS["all"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [P.TARGET_LABEL["all"], P.TARGET_LABEL["weights"]]


def test_average_versus_band_is_cut_at_zero_only(seaborn_calls: list[str]) -> None:
    table = pd.DataFrame({"k": [0, 7, 19] * 2, "target": ["all"] * 3 + ["weights"] * 3,
                          "BN": ["BN"] * 3 + ["no BN"] * 3,
                          "avg_normalized_accuracy": [0.75, 0.4, 0.02, 1.0, 0.9, 0.8]})
    table = table.assign(low=table["avg_normalized_accuracy"] - 0.1,
                         high=table["avg_normalized_accuracy"] + 0.1)
    fig = P.average_versus(table, "k", "BN layers k", style="BN")
    bands = _band_values(fig.axes[0])
    assert bands.min() == pytest.approx(0.0) and bands.max() == pytest.approx(110.0)
    assert fig.axes[0].get_ylim()[1] > 110.0 and "lineplot" in seaborn_calls
    # seaborn's headings ("target", "BN") are dropped; the value "BN" keeps its entry
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["all", "weights", "BN", "no BN"]


def test_layer_figure_bands_are_never_below_zero() -> None:
    rng = np.random.default_rng(1)
    draws = pd.DataFrame([{"norm": norm, "target": "all", "eta": 0.5, "layer": layer,
                           "draw": d, "normalized_accuracy": value}
                          for norm in ("bn", "none") for layer in range(3) for d in range(3)
                          for value in [float(rng.choice([0.0, 0.02, 1.0]))]])
    fig = M.layer_figure(draws)
    bands = _band_values(fig.axes[0])
    assert bands.min() >= 0.0 and fig.axes[0].get_ylim()[1] >= bands.max()


def test_collapse_figure_points_are_seaborn(seaborn_calls: list[str]) -> None:
    check = pd.DataFrame({"model": ["resnet20"] * 2, "norm": ["bn"] * 2, "eta": [0.1, 0.5],
                          "collapse_probability": [0.01, 0.9], "sampled_rate": [0.0, 1.0],
                          "rate_low": [0.0, 0.48], "rate_high": [0.52, 1.0]})
    fig = P.collapse_figure(check)
    assert seaborn_calls == ["lineplot", "scatterplot"]
    assert fig.axes[0].get_ylim() == pytest.approx((-0.03, 1.03))


def test_matched_accuracy_figure_puts_every_network_over_both_trajectories(
        seaborn_calls: list[str]) -> None:
    progress = pd.DataFrame([{**RUN, "norm": norm, "epoch": e, "target": t,
                              "clean_accuracy": c, "avg_normalized_accuracy": a}
                             for norm, path in (("bn", [(2, 0.5, 0.9), (10, 0.86, 0.6)]),
                                                ("none", [(2, 0.4, 0.95), (10, 0.8, 0.8)]))
                             for e, c, a in path for t in ("all", "weights")])
    finals = pd.DataFrame([{**RUN, "norm": norm, "target": t, "clean_accuracy": 0.8,
                            "avg_normalized_accuracy": 0.7}
                           for norm in ("gn4", "bn", "ln") for t in ("all", "weights")])
    fig = M.matched_accuracy_figure(finals, progress, ("all", "weights"))
    assert seaborn_calls.count("lineplot") == 2 and seaborn_calls.count("scatterplot") == 2
    assert [ax.get_title() for ax in fig.axes[:2]] == [
        "noise on every array (all)", "noise on weights and biases (weights)"]
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert {"gn4", "bn", "ln", "batch statistics", "no batch statistics",
            "BN, along training", "no norm., along training"} <= set(texts)


def test_matched_accuracy_figure_without_trajectories_shows_the_networks(
        seaborn_calls: list[str]) -> None:
    finals = pd.DataFrame([{**RUN, "norm": "gn4", "target": t, "clean_accuracy": 0.8,
                            "avg_normalized_accuracy": 0.7} for t in ("all", "weights")])
    fig = M.matched_accuracy_figure(finals, pd.DataFrame(), ("all", "weights"))
    assert len(fig.axes) == 2
    assert seaborn_calls == ["scatterplot", "scatterplot"]  # no trajectory drawn


def test_noise_curves_of_two_datasets_name_them_in_the_panel_titles() -> None:
    one = _noise_summary()
    fig = P.noise_curves(pd.concat([one, one.assign(dataset="cifar100")], ignore_index=True))
    model = one["model"].iloc[0]
    assert [ax.get_title() for ax in fig.axes[:2]] == [f"CIFAR-10, {model}",
                                                       f"CIFAR-100, {model}"]


def test_the_layer_figure_names_its_units() -> None:
    units = ["stem.0", "blocks.0.branch1.0", "blocks.3.shortcut", "fc"]
    draws = pd.DataFrame([{"norm": norm, "target": "all", "eta": 0.5, "layer": i, "unit": unit,
                           "draw": d, "normalized_accuracy": 0.5 + 0.1 * d}
                          for norm in ("bn", "none") for i, unit in enumerate(units)
                          for d in range(2)])
    fig = M.layer_figure(draws)
    fig.canvas.draw()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["stem", "0.1", "3.sc", "fc"]
