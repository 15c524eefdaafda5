"""The page on the book's result tables, built from the lineage the chapters recorded."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from bnnoise.build.chapter_contents import book_contents
from bnnoise.build.data_page import (
    OUTSIDE_CHAPTERS,
    PAGE,
    ROWS,
    data_page,
    main,
    published_chapters,
)

ROOT = Path(__file__).resolve().parents[1]


def test_every_table_has_one_producer_and_a_description() -> None:
    chapters = book_contents(ROOT)
    producers = Counter(name for chapter in chapters for name in chapter.writes)
    assert [name for name, n in producers.items() if n > 1] == []
    assert sorted(set(producers) - set(ROWS)) == []
    assert sorted(set(ROWS) - set(producers)) == []  # no description of a table nobody writes
    assert not set(OUTSIDE_CHAPTERS) & set(producers)


def test_every_figure_and_table_has_a_label_and_a_library_call() -> None:
    for chapter in book_contents(ROOT):
        for item in chapter.items:
            assert item.label.startswith("fig-" if item.kind == "figure" else "tbl-"), item
            assert item.computed_by, item
            assert not item.data or item.data in chapter.writes, item


def test_the_page_links_only_tables_that_exist() -> None:
    page = data_page(ROOT)
    linked = re.findall(r"\{download\}`[^<`]+<\.\./([^>]+)>`", page)
    assert linked and [p for p in linked if not (ROOT / p).is_file()] == []


def test_links_follow_the_published_profile() -> None:
    from bnnoise.build.chapter_command import PUBLISHED_PROFILE

    published = set(published_chapters(ROOT))
    assert {c.profile for c in book_contents(ROOT) if c.name in published} == {PUBLISHED_PROFILE}
    page = data_page(ROOT)
    assert f"../data/results/{PUBLISHED_PROFILE}/reproduction_collapse.csv" in page
    assert "collapse_check.csv" not in page
    assert "not yet published" in page or published >= {c.name for c in book_contents(ROOT)}


def test_every_published_chapter_has_recorded_its_lineage() -> None:
    published = set(published_chapters(ROOT))
    missing = [c.name for c in book_contents(ROOT) if c.name in published and not c.recorded]
    assert missing == [], f"publish these chapters again to record their lineage: {missing}"


def test_the_data_page_is_up_to_date_with_the_chapters(monkeypatch) -> None:
    monkeypatch.setenv("BNNOISE_ROOT", str(ROOT))
    assert (ROOT / PAGE).read_text() == data_page(ROOT), (
        "book/data.md is out of date: run python -m bnnoise.build.data_page")
    assert main(["--check"]) == 0
