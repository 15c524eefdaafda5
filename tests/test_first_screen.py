"""Every published page opens with its answer: among its first cells, a sentence with numbers
that a code cell computed from the page's results (issue: answers first)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIRST_CELLS = 7
"""The cells that make a page's first screen: title and introduction, parameters, setup, and
the finding."""
TUTORIALS = {"book/11_own_network": "a tutorial: its answer, the verdict on the reader's "
                                    "network, is what the page builds up to"}


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f for f in files if (ROOT / f"{f}.ipynb").exists() and f not in TUTORIALS]


def _computed_sentences(cell: nbformat.NotebookNode) -> list[str]:
    """The Markdown a code cell displayed, when it is prose (not a table) with a number outside
    its code spans, links and directives (a file name is not a finding)."""
    texts = [output.get("data", {}).get("text/markdown", "") for output in cell.get("outputs", [])]
    prose = [re.sub(r"`[^`]*`|\]\([^)]*\)|:::[^\n]*", "", t) for t in texts
             if t and not t.lstrip().startswith(("|", ":::"))]
    return [t for t in prose if re.search(r"\d", t)]


@pytest.mark.parametrize("page", _pages())
def test_the_first_screen_states_the_finding_computed_from_the_results(page: str) -> None:
    cells = nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells[:FIRST_CELLS]
    found = [text for cell in cells if cell.cell_type == "code"
             for text in _computed_sentences(cell)]
    assert found, (f"{page}: no sentence computed from the results among its first "
                   f"{FIRST_CELLS} cells")


def test_the_tutorial_exemptions_name_pages_of_the_book() -> None:
    toc = (ROOT / "_toc.yml").read_text()
    assert all(page in toc for page in TUTORIALS)
