"""One colour per entity (bnnoise.figures.colours): fixed maps, and figures that use them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from bnnoise.figures import colours as C
from bnnoise.figures import mechanism_figures as M
from bnnoise.figures import noise_figures as P
from bnnoise.figures import theory_figures as T
from bnnoise.labels import NORM_LABEL, TARGET_LABEL


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line_colours(fig) -> set[tuple[float, float, float]]:
    """The colours of the plotted lines of every panel (not the legends)."""
    return {tuple(round(v, 4) for v in to_rgb(line.get_color()))
            for ax in fig.axes for line in ax.get_lines() if len(line.get_xdata())}


def _rounded(colours) -> set[tuple[float, float, float]]:
    return {tuple(round(v, 4) for v in c) for c in colours}


def test_each_family_gives_each_member_one_colour_whatever_else_is_shown() -> None:
    every = C.norm_colors(C.NORM_COLOURS)
    shared = {n for pair in C.SHARED_NORM_COLOURS for n in pair}
    alone = [n for n in every if n not in shared]
    assert len({every[n] for n in alone}) == len(alone)  # distinct but for the named pairs
    for first, second in C.SHARED_NORM_COLOURS:
        assert every[first] == every[second]
    assert C.norm_colors(["none", "bn"]) == {"none": every["none"], "bn": every["bn"]}
    assert C.arm_colors([NORM_LABEL["bn"], NORM_LABEL["none"]]) == {
        NORM_LABEL["bn"]: every["bn"], NORM_LABEL["none"]: every["none"]}
    assert C.target_colors(["weights"])["weights"] == C.target_colors(
        [TARGET_LABEL["weights"]])[TARGET_LABEL["weights"]]
    models = C.model_colors(["resnet20", "resnet32", "resnet44", "resnet56", "vgg16"])
    assert len(set(models.values())) == 5
    assert C.model_colors(["resnet56"])["resnet56"] == models["resnet56"]
    extra = C.norm_colors(["bn", "gn2"])  # a normalizer of no map takes a free colour
    assert extra["gn2"] != extra["bn"]
    with pytest.raises(ValueError, match="no colour family for column 'seed'"):
        C.colours_by("seed", [0, 1])


def test_ordered_quantities_follow_their_order() -> None:
    colours = C.ordered_colors(["ln", "gn16", "in", "gn4"])
    assert list(colours) == ["in", "gn4", "gn16", "ln"]  # channels per group: 1, 4, 16, all
    lightness = [sum(c) for c in colours.values()]
    assert lightness == sorted(lightness)  # viridis: dark to light


def test_noise_curves_colour_every_target_set_by_its_own_colour() -> None:
    rows = [{"dataset": "cifar10", "model": model, "norm": norm, "target": target,
             "scoring": "wrong", "eta": eta, "accuracy": 0.5, "normalized_accuracy": 0.5,
             "normalized_accuracy_ci95": 0.1}
            for model in ("resnet56", "vgg16") for norm in ("bn", "none")
            for target in ("all", "weights") for eta in (0.1, 0.5)]
    fig = P.noise_curves(pd.DataFrame(rows))
    assert len(fig.axes) == 2  # small multiples: one panel per model
    assert _line_colours(fig) == _rounded(C.target_colors(["all", "weights"]).values())


def test_arms_targets_and_group_sizes_keep_their_colours() -> None:
    draws = pd.DataFrame([{"norm": norm, "target": "all", "eta": 0.5, "layer": layer,
                           "draw": d, "normalized_accuracy": 0.5 + 0.1 * d}
                          for norm in ("bn", "none") for layer in range(3) for d in range(3)])
    arms = C.arm_colors(NORM_LABEL.values()).values()
    assert _line_colours(M.layer_figure(draws)) == _rounded(arms)
    table = pd.DataFrame({"k": [0, 7] * 2, "target": ["all"] * 2 + ["weights"] * 2,
                          "avg_normalized_accuracy": [0.7, 0.4, 0.9, 0.8]})
    table = table.assign(low=table["avg_normalized_accuracy"] - 0.1,
                         high=table["avg_normalized_accuracy"] + 0.1)
    fig = P.average_versus(table, "k", "BN layers k")
    assert _line_colours(fig) == _rounded(C.target_colors(["all", "weights"]).values())
    history = pd.DataFrame([{"norm": norm, "batch_size": 32, "lr": 0.1, "seed": 0,
                             "epoch": epoch, "train_loss": 1.0 / epoch, "test_acc": 0.5,
                             "diverged_step": float("nan")}
                            for norm in ("in", "gn4", "ln") for epoch in (1, 2)])
    fig = T.short_run_curves(history, {"train_loss": "training loss"})
    assert _line_colours(fig) == _rounded(C.ordered_colors(["in", "gn4", "ln"]).values())
    # named by the ordered quantity their colour encodes, not as normalizers of fixed colour
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "1 per group (in)", "4 per group (gn4)", "all in one (ln)"]
    assert C.colour_problems(fig) == []


def test_a_legend_entry_in_another_colour_than_its_entity_is_refused(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bnnoise.config import load_profile
    from bnnoise.pages.elements import publish_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], color=C.NORM_COLOURS["bn"], label=NORM_LABEL["bn"])
    ax.plot([0, 1], [1, 0], color="black", linestyle="--", label=NORM_LABEL["none"])  # style
    ax.plot([0, 1], [0.5, 0.5], color=C.PALETTE[5], label="η = 0.2")  # names no entity
    ax.legend()
    assert C.colour_problems(fig) == []
    ax.scatter([0], [0], facecolor="none", edgecolor=C.TARGET_COLOURS["all"],
               label=TARGET_LABEL["weights"])  # an open marker shows its edge
    ax.legend()
    problems = C.colour_problems(fig)
    assert len(problems) == 1 and TARGET_LABEL["weights"] in problems[0]
    monkeypatch.setenv("BNNOISE_RESULTS", str(tmp_path))
    profile = load_profile("smoke")
    with pytest.raises(ValueError, match="figure fig_x: 'weights and biases"):
        publish_figure("fig_x", fig, profile)
    assert not (tmp_path / "smoke").exists()  # nothing saved
