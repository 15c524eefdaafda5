"""What each chapter of the book shows and writes, as recorded when it was last published.

:func:`chapter_contents` combines a chapter source (its title, its ``profile`` parameter, the
``:name:`` of each ``{glue:figure}``) with the lineage file its last run under the runner left
in ``data/results/<profile>/lineage/`` (:mod:`bnnoise.lineage`): every numbered figure and table
with the chain of library calls behind it, outermost first (e.g.
``pages.noise_tables.average_view <- analysis.results.noise_results``), the CSV file a figure is
drawn from, and the CSV files the chapter writes. :mod:`bnnoise.build.data_page` turns them into
the book's page on its result tables.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from bnnoise import lineage

_GLUE_FIGURE = re.compile(r"(?:```|::::)\{glue:figure\}\s+(\S+)\n((?::[^\n]*\n)*)")


@dataclass(frozen=True)
class Item:
    """One numbered figure or table of a chapter.

    Attributes:
        kind: ``"figure"`` or ``"table"``.
        label: the label the book references it by (``fig-x``, ``tbl-x``).
        computed_by: the library calls behind it, outermost first, joined by `` <- ``.
        data: the CSV file a figure is drawn from (empty when it names none).
    """

    kind: str
    label: str
    computed_by: str
    data: str = ""


@dataclass(frozen=True)
class ChapterContents:
    """The figures, tables and CSV files of one chapter; ``recorded`` is False when no
    lineage file exists yet (the chapter has not been published since lineage was kept)."""

    name: str
    title: str
    profile: str
    items: tuple[Item, ...]
    writes: tuple[str, ...]
    recorded: bool


def _profile_parameter(notebook: nbformat.NotebookNode) -> str:
    """The default of the chapter's ``profile`` parameter (its cell tagged ``parameters``)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            for statement in ast.parse(cell.source).body:
                if (isinstance(statement, ast.Assign)
                        and getattr(statement.targets[0], "id", "") == "profile"):
                    return str(ast.literal_eval(statement.value))
    return ""


def chapter_contents(root: Path, name: str) -> ChapterContents:
    """Title, profile, figures, tables and written CSV files of chapter ``name``."""
    notebook = nbformat.read(root / "chapters" / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown") + "\n"
    labels = {}
    for glued, options in _GLUE_FIGURE.findall(text):
        label = re.search(r"^:name:\s*(\S+)", options, re.MULTILINE)
        labels[glued] = label.group(1) if label else glued
    title = next((line.lstrip("# ").strip() for line in text.splitlines()
                  if line.startswith("# ")), name)
    profile = _profile_parameter(notebook)
    path = root / "data" / "results" / profile / lineage.FOLDER / f"{name}.json"
    if not path.is_file():
        return ChapterContents(name, title, profile, (), (), recorded=False)
    recorded = lineage.read(path)
    items = tuple(Item(entry["kind"], labels.get(entry["label"], entry["label"])
                       if entry["kind"] == "figure" else entry["label"],
                       " <- ".join(entry["computed_by"]), entry["data"])
                  for entry in recorded["items"])
    return ChapterContents(name, title, profile, items, tuple(recorded["writes"]), recorded=True)


def book_contents(root: Path) -> list[ChapterContents]:
    """:func:`chapter_contents` of every chapter source under ``<root>/chapters``, in file
    order."""
    return [chapter_contents(root, p.stem) for p in sorted((root / "chapters").glob("*.ipynb"))]
