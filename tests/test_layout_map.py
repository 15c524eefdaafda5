"""The generated map of where each table and figure comes from, and the page built from it."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import nbformat

from bnnoise.build.data_page import (
    OUTSIDE_CHAPTERS,
    PAGE,
    ROWS,
    data_page,
    main,
    published_chapters,
)
from bnnoise.build.layout import book_map, chapter_map

ROOT = Path(__file__).resolve().parents[1]


def _chapter(path: Path, cells: list[tuple[str, str, list[str]]]) -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in cells:
        cell = (nbformat.v4.new_code_cell(source) if kind == "code"
                else nbformat.v4.new_markdown_cell(source))
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def test_chapter_map_reads_figures_tables_and_written_csvs(tmp_path: Path) -> None:
    path = _chapter(tmp_path / "42_demo.ipynb", [
        ("markdown", "# A demo chapter", []),
        ("code", 'profile = "cpu"\nscoring = "wrong"', ["parameters"]),
        ("code", "from bnnoise.analysis import results as R\n"
                 "from bnnoise.pages import noise_tables as V\n"
                 "from bnnoise.pages.elements import numbered_table, publish_figure, save_table\n"
                 "from bnnoise.figures.noise_figures import noise_curves\n"
                 "results = R.noise_results(cfg)\n"
                 'tables = R.publish_tables(results, cfg, "demo", ("summary", "average"))\n'
                 'extra = save_table(results.average, cfg, "extra.csv")', []),
        ("code", 'publish_figure("fig_demo", noise_curves(results.summary, scoring), cfg, '
                 'tables["summary"])', ["hide-input"]),
        ("markdown", "```{glue:figure} fig_demo\n:name: fig-demo\n:width: 100%\n\nCaption.\n```",
         []),
        ("code", 'numbered_table(V.average_view(results), "Caption.", "tbl-demo")\n'
                 'V.claim_table(verdicts, "claim", "tbl-claim", None)', []),
    ])
    chapter = chapter_map(path)
    assert (chapter.name, chapter.title, chapter.profile) == ("42_demo", "A demo chapter", "cpu")
    assert chapter.writes == ("demo_summary.csv", "demo_average.csv", "extra.csv")
    figure, table, claim = chapter.items
    assert (figure.kind, figure.label, figure.data) == ("figure", "fig-demo", "demo_summary.csv")
    assert figure.computed_by == ("figures.noise_figures.noise_curves <- "
                                  "analysis.results.noise_results(…).summary")
    assert (table.kind, table.label) == ("table", "tbl-demo")
    assert table.computed_by == "pages.noise_tables.average_view <- analysis.results.noise_results"
    assert (claim.label, claim.computed_by) == ("tbl-claim", "pages.noise_tables.claim_table")


def test_tables_rendered_inside_a_library_function_are_found_in_its_source(
        tmp_path: Path) -> None:
    path = _chapter(tmp_path / "43_demo.ipynb", [
        ("code", "from bnnoise.pages.mechanism_tables import remedy_tables\n"
                 "from bnnoise.pages.pilot_tables import pilot_table\n"
                 'remedy_tables(ranking, "Caption.")\npilot_table(cfg, "vgg16", "none")', []),
    ])
    labels = [item.label for item in chapter_map(path).items]
    assert labels == ["tbl-remedies-<target>", "tbl-remedy-costs", "tbl-pilot"]


def test_every_table_has_one_producer_and_a_description() -> None:
    chapters = book_map(ROOT)
    producers = Counter(name for chapter in chapters for name in chapter.writes)
    assert [name for name, n in producers.items() if n > 1] == []
    assert sorted(set(producers) - set(ROWS)) == []
    assert sorted(set(ROWS) - set(producers)) == []  # no description of a table nobody writes
    assert not set(OUTSIDE_CHAPTERS) & set(producers)


def test_every_figure_and_table_has_a_label_and_a_library_call() -> None:
    for chapter in book_map(ROOT):
        for item in chapter.items:
            assert item.label.startswith("fig-" if item.kind == "figure" else "tbl-"), item
            assert item.computed_by, item
            assert not item.data or item.data in chapter.writes, item


def test_the_page_links_only_tables_that_exist() -> None:
    page = data_page(ROOT)
    linked = re.findall(r"\{download\}`[^<`]+<\.\./([^>]+)>`", page)
    assert linked and [p for p in linked if not (ROOT / p).is_file()] == []


def test_links_follow_the_published_profile() -> None:
    from bnnoise.cli import PUBLISHED_PROFILE

    published = set(published_chapters(ROOT))
    assert {c.profile for c in book_map(ROOT) if c.name in published} == {PUBLISHED_PROFILE}
    page = data_page(ROOT)
    assert f"../data/results/{PUBLISHED_PROFILE}/reproduction_collapse.csv" in page
    assert "collapse_check.csv" not in page
    assert "not yet published" in page or published >= {c.name for c in book_map(ROOT)}


def test_the_data_page_is_up_to_date_with_the_chapters(monkeypatch) -> None:
    monkeypatch.setenv("BNNOISE_ROOT", str(ROOT))
    assert (ROOT / PAGE).read_text() == data_page(ROOT), (
        "book/data.md is out of date: run python -m bnnoise.build.data_page")
    assert main(["--check"]) == 0
