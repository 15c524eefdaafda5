"""The book's page on its result tables (``book/data.md``), generated from what the chapters
recorded when they were last published.

The page lists every CSV file the chapters write (with what one row is, and the one chapter that
writes it) and, per chapter, where each numbered figure and table comes from: the lineage each
chapter records while it runs (:mod:`bnnoise.lineage`, read by
:func:`bnnoise.build.chapter_contents.chapter_contents`). Only the chapters of ``_toc.yml`` are
published: their tables are linked for download, the others are listed as not yet published.
Links follow the profile the chapters run with (their ``profile`` parameter).

Regenerate the page with ``python -m bnnoise.build.data_page``; ``--check`` only reports
whether it is up to date (``tests/test_layout_map.py`` runs the same check).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import yaml

from bnnoise.build.chapter_contents import ChapterContents, book_contents
from bnnoise.build.table_descriptions import ROWS

PAGE = Path("book") / "data.md"
"""The generated page, relative to the project root."""

OUTSIDE_CHAPTERS = {
    "pilot_vgg16_none_lr.csv": ("peak learning rate and epoch of the VGG16-without-BN pilot: "
                                "loss, test accuracy", "`scripts/pilot_lr.py`", "01_training"),
}
"""CSV files a chapter shows but a script writes: rows, writer, the chapter that shows it."""


INTRO = (
    "Every figure and table of the book is drawn from one tidy table, written by the one chapter "
    "that computes it. The tables of the published `{profile}` profile are stored under "
    "`data/results/{profile}/` (figures as SVG and PDF under `data/results/{profile}/figures/`) "
    "and can be downloaded here. Each row carries the parameters it depends on (dataset, model, "
    "normalization, target set, noise level, draw), and the trained models' artifacts (under "
    "`data/artifacts/{profile}/`) carry their full configuration in `manifest.json`.")
MAP_INTRO = (
    "Per chapter, every numbered figure and table with the library calls that compute it, "
    "outermost first (names within the `bnnoise` package; `(…)` marks a result whose field is "
    "shown), and the table a figure is drawn from, as recorded when the chapter was last "
    "published (open a chapter's section). Chapters not yet in the book are listed too, marked "
    "as not yet published.")
CLOSING = (
    "The short training runs' artifacts (`data/artifacts/{profile}/short_runs/`) hold each "
    "run's history, channel statistics and summary; the performance appendix's tables are "
    "under `data/results/benchmark/`.")
"""The page's prose around the generated tables (``{profile}``: the published profile)."""

def published_chapters(root: Path) -> list[str]:
    """The chapters the book publishes: the ``book/<name>`` entries of ``_toc.yml``."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            file = node.get("file")
            if isinstance(file, str) and file.startswith("book/"):
                found.append(file.removeprefix("book/"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    return found


def _link(root: Path, name: str, profile: str, published: bool) -> str:
    """A download link to a published table; a table its chapter has not written yet (a
    chapter changed since it was last published) is named without a link."""
    if not published:
        return f"`{name}`"
    if not (root / "data" / "results" / profile / name).is_file():
        return f"`{name}` (written when the chapter is next published)"
    return f"{{download}}`{name} <../data/results/{profile}/{name}>`"


def _chapter(chapter: ChapterContents, published: bool, code: bool = True) -> str:
    """A link to a published chapter; else its title and name (plain text in a heading)."""
    name = f"`{chapter.name}`" if code else chapter.name
    return (f"[{chapter.title}]({chapter.name}.ipynb)" if published
            else f"{chapter.title} ({name}, not yet published)")


TABLE_WIDTHS = (36, 64)
"""Relative widths of the columns of a chapter's list of tables (file, one row per)."""


def _list_table(rows: list[tuple[str, str]]) -> list[str]:
    """A MyST list table with a header row and :data:`TABLE_WIDTHS`."""
    lines = [":::{list-table}", ":header-rows: 1",
             f":widths: {' '.join(map(str, TABLE_WIDTHS))}", ":width: 100%", ""]
    for row in [("table", "one row per"), *rows]:
        lines += [f"{'* -' if i == 0 else '  -'} {cell}" for i, cell in enumerate(row)]
    return [*lines, ":::"]


def _wrap(text: str, prefix: str = "") -> list[str]:
    return textwrap.wrap(text, 100, initial_indent=prefix, subsequent_indent=prefix,
                         break_on_hyphens=False, break_long_words=False)


def data_page(root: Path) -> str:
    """The Markdown of the page on the book's result tables, from the chapters' lineage
    records (in the book's order, then the chapters not yet published)."""
    order = published_chapters(root)
    published = set(order)
    chapters = sorted(book_contents(root), key=lambda c: (
        order.index(c.name) if c.name in published else len(order), c.name))
    profiles = {c.profile for c in chapters if c.name in published}
    if len(profiles) != 1:
        raise ValueError(f"the published chapters run with several profiles: {profiles}")
    profile = profiles.pop()
    lines = [
        "# Result tables", "",
        *_wrap("Generated from the chapters' lineage records (data/results/<profile>/lineage/, "
               "written when a chapter is published) by `python -m bnnoise.build.data_page`: "
               "edit the chapters or that module, not this page.", "% "), "",
        *_wrap(INTRO.format(profile=profile)), ""]
    for chapter in chapters:  # the tables each chapter writes, under the chapter's name
        shown = chapter.name in published
        rows = [(_link(root, name, profile, shown), ROWS.get(name, ""))
                for name in chapter.writes]
        rows += [(_link(root, name, profile, shown), f"{described} (written by {writer})")
                 for name, (described, writer, shown_in) in OUTSIDE_CHAPTERS.items()
                 if shown_in == chapter.name]
        if rows:
            lines += [f"**{_chapter(chapter, shown)}**", "", *_list_table(rows), ""]
    lines += ["## Where each figure and table comes from", "", *_wrap(MAP_INTRO)]
    for chapter in chapters:  # one folded section per chapter: the page stays short
        shown = chapter.name in published
        figures = sum(item.kind == "figure" for item in chapter.items)
        count = (f"{figures} figure{'s' * (figures != 1)}, "
                 f"{len(chapter.items) - figures} table{'s' * (len(chapter.items) - figures != 1)}")
        title = chapter.title + ("" if shown else f" ({chapter.name}, not yet published)")
        lines += ["", f"::::{{dropdown}} {title}: {count}", ""]
        if shown:
            lines += [f"[The chapter]({chapter.name}.ipynb)", ""]
        for item in chapter.items:
            calls = " ← ".join(f"`{step}`" for step in item.computed_by.split(" <- ")
                               if step) or "(no library call)"
            data = f"; data: {_link(root, item.data, chapter.profile, shown)}" if item.data else ""
            kind = "Figure" if item.kind == "figure" else "Table"
            lines.append(f"* {kind} `{item.label}`: {calls}{data}")
        if not chapter.recorded:
            lines.append("* recorded when the chapter is next published")
        elif not chapter.items:
            lines.append("* no numbered figure or table")
        lines += ["", "::::"]
    lines += ["", *_wrap(CLOSING.format(profile=profile))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write ``book/data.md`` (or, with ``--check``, report whether it is up to date)."""
    from bnnoise.config import project_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, exit 1 if stale")
    args = parser.parse_args(argv)
    root = project_root()
    page, text = root / PAGE, data_page(root)
    if args.check:
        stale = not page.exists() or page.read_text() != text
        print(f"{PAGE} is {'out of date' if stale else 'up to date'}")
        return int(stale)
    page.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
