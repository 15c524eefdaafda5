"""The conventions of the book's figures (bnnoise.figures.conventions): accuracies and shares in
%, every log axis named in the published caption, titles, labels and legends that fit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from bnnoise.figures.conventions import figure_problems, log_axes, unit_problems

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_an_accuracy_or_share_axis_without_percent_is_a_problem() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    left.set(xlabel="epoch", ylabel="test accuracy")
    right.set(xlabel="noise level η", ylabel="dead channels (share)")
    assert len(unit_problems(fig)) == 2
    left.set_ylabel("test accuracy (%)")
    right.set_ylabel("dead channels (%)")
    assert unit_problems(fig) == [] == figure_problems(fig)


def test_log_axes_are_named_by_their_labels() -> None:
    fig, ax = plt.subplots()
    ax.set(xlabel="recalibration images", ylabel="avg. normalized acc. (%)")
    assert log_axes(fig) == []
    ax.set_xscale("log", base=2)
    assert log_axes(fig) == ["x: recalibration images"]


def _captions(chapter: str) -> dict[str, str]:
    """Each figure of a published chapter with the Markdown cell that captions it."""
    cells = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4).cells
    return {name: cell.source for cell in cells if cell.cell_type == "markdown"
            for name in re.findall(r"\{glue:figure\} (\S+)", cell.source)}


def test_every_published_figure_with_a_log_axis_says_so_in_its_caption() -> None:
    lineages = sorted((ROOT / "data" / "results" / "cpu" / "lineage").glob("*.json"))
    assert lineages
    logged = 0
    for path in lineages:
        lineage = json.loads(path.read_text(encoding="utf-8"))
        captions = _captions(lineage["chapter"])
        for item in lineage["items"]:
            if item["kind"] == "figure" and item.get("log_axes"):
                logged += 1
                caption = captions[item["label"]]
                assert re.search(r"\blog", caption), (lineage["chapter"], item["label"],
                                                       item["log_axes"])
    assert logged  # the published figures do have log axes (the noise grid, image counts)


def test_a_title_wider_than_its_panel_is_a_problem() -> None:
    from bnnoise.figures.conventions import layout_problems
    from bnnoise.figures.style import figure

    fig, axes = figure(rows=1, cols=2)
    axes[0, 0].set_title("resnet20 · noise on conv/linear weights, every draw and every level")
    axes[0, 1].set_title("resnet44")
    problems = layout_problems(fig)
    assert len(problems) == 1 and problems[0].startswith("title 'resnet20")
    axes[0, 0].set_title("resnet20")
    assert layout_problems(fig) == [] == figure_problems(fig)


def test_overlapping_axis_labels_are_a_problem() -> None:
    from bnnoise.figures.conventions import layout_problems
    from bnnoise.figures.style import figure

    fig, axes = figure(rows=3, cols=1, height_per_row=0.8, sharex="col")
    for ax in axes[:, 0]:
        ax.set_ylabel("average normalized accuracy (%)")
    assert any("overlap" in problem for problem in layout_problems(fig))
    for ax in axes[:, 0]:
        ax.set_ylabel("acc.")
    assert layout_problems(fig) == []


def test_a_legend_outside_the_figure_is_a_problem_and_legend_below_keeps_it_inside() -> None:
    from bnnoise.figures.axes import legend_below
    from bnnoise.figures.conventions import layout_problems
    from bnnoise.figures.style import figure

    fig, axes = figure()
    for i in range(8):
        axes[0, 0].plot([0, 1], [i, i], label=f"a rather long legend entry {i}")
    fig.legend(loc="outside lower center", ncol=8)
    assert any("legend reaches outside" in problem for problem in layout_problems(fig))
    fig.legends.clear()
    legend_below(fig, axes[0, 0], ncol=8)
    assert layout_problems(fig) == [] and len(fig.legends) == 1
    assert fig.legends[0].get_window_extent().width <= fig.bbox.width


def test_a_left_title_and_a_legend_below_the_figure_are_checked_too() -> None:
    from bnnoise.figures.axes import legend_under
    from bnnoise.figures.conventions import layout_problems
    from bnnoise.figures.style import figure

    fig, axes = figure(rows=1, cols=2)
    axes[0, 0].set_title("a left title far wider than the half of a figure", loc="left")
    assert any("a left title" in problem for problem in layout_problems(fig))
    axes[0, 0].set_title("", loc="left")
    (line,) = axes[0, 0].plot([0, 1], [0, 1])
    fig.legend([line], ["below"], loc="upper center", bbox_to_anchor=(0.5, -0.5))
    assert any("legend reaches outside" in problem for problem in layout_problems(fig))
    fig.legends.clear()
    legend_under(fig, [], ncol=3)  # no entries: no legend
    legend_under(fig, [(line, "one")], ncol=0)  # at least one column
    assert len(fig.legends) == 1 and layout_problems(fig) == []
