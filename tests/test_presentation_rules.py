"""Small presentation rules of the book's tables and figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from bnnoise.build.data_page import _list_table
from bnnoise.figures.colours import norm_colors
from bnnoise.figures.noise_figures import progress_figure
from bnnoise.figures.style import PALETTE
from bnnoise.pages.markdown_tables import configuration_rows
from bnnoise.pages.noise_tables import fit_view
from bnnoise.pages.number_format import gathered, interval_text, scientific, spoken_list

ROOT = Path(__file__).resolve().parents[1]


def test_an_unset_layer_filter_reads_as_all_layers() -> None:
    rows = dict(configuration_rows({"noise.layers": None, "noise.targets": None}))
    assert rows["noise: layers with noise (regex)"] == "all (no filter)"
    assert rows["noise: noise targets"] == "none"
    assert dict(configuration_rows({"noise.layers": "conv"}))[
        "noise: layers with noise (regex)"] == "conv"


def test_parameter_values_read_as_a_list_in_prose() -> None:
    assert spoken_list((0.2, 0.5)) == "0.2 and 0.5"
    assert spoken_list([1, 2, 3]) == "1, 2 and 3" and spoken_list([256]) == "256"
    assert spoken_list(()) == "none"
    assert gathered(["BN recalibrated, 128 images", "noise-aware", "BN recalibrated, 32 images",
                     "BN folded"], " images") == ("BN recalibrated (128 and 32 images), "
                                                  "noise-aware, BN folded")


def test_large_and_small_numbers_read_as_powers_of_ten() -> None:
    assert scientific(8.37e7, 2) == "8.4\u00a0×\u00a010⁷"
    assert scientific(-1.234e-5) == "−1.23\u00a0×\u00a010⁻⁵"


def test_the_first_point_of_each_progress_line_is_hollow_the_last_large_and_both_named() -> None:
    rows = [{"model": "resnet32", "norm": norm, "seed": 0, "epoch": epoch, "target": target,
             "clean_accuracy": 0.4 + 0.05 * epoch, "avg_normalized_accuracy": 0.6}
            for norm in ("bn", "none") for epoch in (10, 2, 4) for target in ("all", "weights")]
    fig = progress_figure(pd.DataFrame(rows))
    for ax in fig.axes[:2]:
        first = [c for c in ax.collections if c.get_gid() == "first-epoch"]
        last = [c for c in ax.collections if c.get_gid() == "last-epoch"]
        assert len(first) == len(last) == 2  # one per line: with and without BN
        assert all(c.get_offsets()[0][0] == 100 * (0.4 + 0.05 * 2) for c in first)
        assert all(c.get_offsets()[0][0] == 100 * (0.4 + 0.05 * 10) for c in last)
        assert all(tuple(c.get_facecolor()[0][:3]) == (1.0, 1.0, 1.0) for c in first)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "epoch 2" in labels and "epoch 10" in labels
    plt.close(fig)


def test_the_fit_view_splits_the_reading_into_short_columns_best_first() -> None:
    fit = pd.DataFrame({"family": ["grid", "uniform"], "target": ["all", "weights"],
                        "scoring": ["wrong", "argmax"], "eta_max": [1.0, 0.86],
                        "numbers": [4, 4], "rmse": [24.6, 18.6],
                        "residual resnet44 bn": [5.7, -14.2]})
    view = fit_view(fit)
    assert list(view.columns[:6]) == ["grid", "target", "scoring", "ηₘₐₓ", "fitted", "rms"]
    assert list(view["grid"]) == ["dense", "ours"] and list(view["rms"]) == ["18.6", "24.6"]
    assert list(view["ηₘₐₓ"]) == ["0.86", "1\u00a0(end)"]
    assert list(view["R44 BN"]) == ["−14.2", "+5.7"]


PROPAGATION_NORMS = ("bn", "ln", "gn4", "in", "none", "wn", "sws")
"""The normalizers of the signal-propagation figure."""


def test_the_normalizers_of_the_propagation_figure_get_distinct_colours() -> None:
    colors = norm_colors(list(PROPAGATION_NORMS))
    assert len(set(colors.values())) == len(PROPAGATION_NORMS)
    assert PALETTE[5] not in colors.values()  # the brown next to the oranges
    assert norm_colors(["in", "bn"]) == {"in": colors["in"], "bn": colors["bn"]}


def test_the_data_page_lists_its_tables_with_column_widths() -> None:
    lines = _list_table([("`a.csv`", "rows")])
    assert lines[:3] == [":::{list-table}", ":header-rows: 1", ":widths: 36 64"]
    assert "* - `a.csv`" in lines and lines[-1] == ":::"


def test_the_collapse_figure_has_a_panel_per_dataset_and_one_colour_per_network() -> None:
    from bnnoise.figures.noise_figures import collapse_figure

    rows = [{"dataset": dataset, "model": model, "norm": "bn", "eta": eta,
             "collapse_probability": eta, "sampled_rate": eta, "rate_low": 0.0, "rate_high": 1.0}
            for dataset in ("cifar10", "cifar100") for model in ("resnet20", "vgg16")
            for eta in (0.1, 0.5)]
    fig = collapse_figure(pd.DataFrame(rows), panels="dataset")
    assert [ax.get_title() for ax in fig.axes] == ["CIFAR-10", "CIFAR-100"]
    colours = [{tuple(line.get_color()) for line in ax.get_lines()  # the probability curves
                if line.get_label().startswith("_child")} for ax in fig.axes]
    assert colours[0] == colours[1] and len(colours[0]) == 2
    plt.close(fig)


def test_an_estimate_that_rounds_to_zero_has_no_minus_sign() -> None:

    assert interval_text(-0.001, -0.36, 0.35, 2) == "0.00 (−0.36 to 0.35)"
    assert interval_text(-1.25, -2.0, -0.5) == "−1.2 (−2.0 to −0.5)"
    assert interval_text(5.0, 1.0, 9.0) == "5.0 (1.0–9.0)"


def test_each_provenance_note_appears_once_per_page() -> None:
    from bnnoise.pages import provenance as P

    P._notes.clear()
    first = P.provenance_markdown([{"created": "2026-11-22 10:00 UTC"}], "cpu", [0])
    second = P.provenance_markdown([{"created": "2026-11-23 10:00 UTC"}], "cpu", [1])
    refs = [P.cite(first), P.cite(second), P.cite(first)]
    assert ["note 1" in refs[0], "note 2" in refs[1], "note 1" in refs[2]] == [True] * 3
    notes = P.provenance_notes().data
    assert notes.count("2026-11-22") == 1 and notes.count("2026-11-23") == 1
    assert "1. Computed with profile cpu" in notes and "2. Computed" in notes
    P._notes.clear()
    assert P.provenance_notes().data == ""


def test_every_page_that_cites_provenance_lists_its_notes_last() -> None:
    import nbformat

    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        if any("provenance" in c.source for c in code):
            assert "provenance_notes()" in code[-1].source, path.name


def test_no_directive_caption_holds_a_backtick() -> None:
    """A backtick fence whose first line holds a backtick is not a fence in CommonMark: the
    directive (a table, a figure) would silently render as plain text."""
    import nbformat

    texts = {p.name: p.read_text() for p in (ROOT / "book").glob("*.md")}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        texts[path.name] = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                                     if c.cell_type == "markdown")
    for name, text in texts.items():
        for line in text.splitlines():
            if line.startswith("```{"):
                assert "`" not in line[3:], (name, line[:80])


def test_no_published_page_holds_a_path_of_the_machine_that_ran_it() -> None:
    import re

    for path in sorted((ROOT / "book").glob("*.ipynb")):
        text = path.read_text()
        assert not re.search(r'"(input|output)_path"', text), path.name
        assert not re.search(r'"/(work|root|home|tmp|Users)/', text), path.name


def test_the_book_style_is_set_in_one_place() -> None:
    """Every figure starts from ``figures.style.figure``, which applies the style; no chapter
    sets it again."""
    import nbformat

    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                         if c.cell_type == "code")
        assert "use_book_style" not in code, path.name
