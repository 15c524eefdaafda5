"""The book's author-year citations (book/_ext/authoryear.py): same authors, same year, a/b/c."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from pybtex.database import BibliographyData, Entry, Person, parse_file

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
THREE_2022 = ("fagbohungbe2022effect", "fagbohungbe2022l1", "fagbohungbe2022learning")


@pytest.fixture(scope="module")
def authoryear() -> ModuleType:
    """The book's local Sphinx extension, imported from its file (it is not a package)."""
    spec = importlib.util.spec_from_file_location("authoryear", ROOT / "book/_ext/authoryear.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("authoryear", module)
    spec.loader.exec_module(module)
    return module


def _labels(authoryear: ModuleType, entries) -> dict[str, str]:
    style = authoryear.AuthorYearStyle()
    return {e.key: e.label for e in style.format_entries(entries)}


def _entry(key: str, authors: list[str], year: str, title: str) -> Entry:
    entry = Entry("article", fields={"title": title, "year": year, "journal": "J"})
    entry.key = key
    entry.persons["author"] = [Person(a) for a in authors]
    return entry


def test_the_three_2022_papers_of_the_study_authors_get_a_b_c(authoryear: ModuleType) -> None:
    labels = _labels(authoryear, parse_file(BIB).entries.values())
    # Sorted by title with the leading article ignored: "(The) Effect ..." before "Impact ...".
    assert [labels[k] for k in THREE_2022] == [
        "Fagbohungbe and Qian, 2022a", "Fagbohungbe and Qian, 2022b",
        "Fagbohungbe and Qian, 2022c"]
    # The same authors in another year, and a single work per author and year: no suffix.
    assert labels["fagbohungbe2020benchmarking"] == "Fagbohungbe and Qian, 2020"
    assert labels["lubana2021beyond"] == "Lubana et al., 2021"
    assert labels["salimans2016weight"] == "Salimans and Kingma, 2016"
    assert len(set(labels.values())) == len(labels)  # every label tells its work apart


def test_suffixes_count_only_the_works_in_the_bibliography(authoryear: ModuleType) -> None:
    entries = parse_file(BIB).entries
    labels = _labels(authoryear, [entries[k] for k in ("fagbohungbe2022l1",
                                                       "fagbohungbe2022learning",
                                                       "he2016deep")])
    assert labels == {"fagbohungbe2022l1": "Fagbohungbe and Qian, 2022a",
                      "fagbohungbe2022learning": "Fagbohungbe and Qian, 2022b",
                      "he2016deep": "He et al., 2016"}
    alone = _labels(authoryear, [entries["fagbohungbe2022learning"]])
    assert alone == {"fagbohungbe2022learning": "Fagbohungbe and Qian, 2022"}


def test_suffixes_follow_the_citation_text_not_the_full_author_list(
        authoryear: ModuleType) -> None:
    bib = BibliographyData(entries={e.key: e for e in [
        _entry("x", ["Smith, Ann", "Jones, Bo", "Lee, Cy"], "2020", "Second title"),
        _entry("y", ["Smith, Ann", "Brown, Di", "Kim, Ed"], "2020", "A first title"),
        _entry("z", ["Smith, Ann", "Jones, Bo"], "2020", "Third title"),
        _entry("w", ["Smith, Ann", "Jones, Bo"], "2021", "Fourth title")]})
    labels = _labels(authoryear, bib.entries.values())
    # x and y both read "Smith et al., 2020": they need a suffix although their authors differ.
    assert {labels["x"], labels["y"]} == {"Smith et al., 2020a", "Smith et al., 2020b"}
    assert labels["z"] == "Smith and Jones, 2020" and labels["w"] == "Smith and Jones, 2021"


@pytest.mark.parametrize(("index", "suffix"), [(0, "a"), (2, "c"), (25, "z"), (26, "aa"),
                                               (27, "ab"), (701, "zz"), (702, "aaa")])
def test_suffix_letters(authoryear: ModuleType, index: int, suffix: str) -> None:
    assert authoryear._suffix(index) == suffix


def test_citations_show_the_suffix_of_their_bibliography_label(authoryear: ModuleType) -> None:
    import pybtex_docutils
    from sphinxcontrib.bibtex.style.referencing import format_references
    from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

    bib = parse_file(BIB).entries
    formatted = {e.key: e for e in authoryear.AuthorYearStyle().format_entries(bib.values())}
    # A builder named "rinoh" makes plain citation nodes, without a Sphinx project.
    info = SphinxReferenceInfo(builder=SimpleNamespace(name="rinoh"), fromdocname="a",
                               todocname="b", citation_id="c", title=None, pre_text="",
                               post_text="")
    style = authoryear.AuthorYearSuffixedReferenceStyle()

    def cite(role: str, *keys: str) -> str:
        text = format_references(style, role, [(bib[k], formatted[k], info) for k in keys])
        return "".join(node.astext() for node in text.render(pybtex_docutils.Backend()))

    assert "Fagbohungbe and Qian, 2022b" in cite("p", "fagbohungbe2022l1")
    textual = cite("t", "fagbohungbe2022effect")
    assert textual.startswith("Fagbohungbe and Qian") and "2022a" in textual
    assert cite("year", "fagbohungbe2022learning") == "2022c"
    assert "2020" in cite("p", "fagbohungbe2020benchmarking")
    assert "2020a" not in cite("p", "fagbohungbe2020benchmarking")
