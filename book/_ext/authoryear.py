"""Author-year citations that tell apart works with the same authors and year.

sphinxcontrib-bibtex's ``author_year`` referencing style renders the year field as it is, so three
2022 papers by the same two authors all read "Fagbohungbe and Qian, 2022". This extension adds the
usual a/b/c suffixes ("2022a", "2022b", ...), in the citations and in the bibliography alike:

* the pybtex formatting style ``authoryear`` (``bibtex_default_style``) sorts the bibliography by
  author, year and title (leading "A", "An", "The" ignored, as in APA) and labels every entry with
  exactly the text its citations show, e.g. ``Fagbohungbe and Qian, 2022a``; a suffix is added only
  where two entries would otherwise render the same citation text;
* the referencing style ``author_year_suffixed`` (``bibtex_reference_style``) is sphinxcontrib-
  bibtex's ``author_year`` with the year taken from that label, so ``{cite:p}``, ``{cite:t}`` and
  ``{cite:year}`` carry the suffix.

Both are registered through the plugin registries that sphinxcontrib-bibtex documents for custom
styles (``pybtex.plugin.register_plugin`` and ``sphinxcontrib.bibtex.plugin.register_plugin``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, fields
from typing import Any

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import field as bib_field
from pybtex.style.template import first_of, node, optional
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import (
    join,
    join2,
    post_text,
    pre_text,
    reference,
)

FORMATTING_STYLE = "authoryear"
REFERENCE_STYLE = "author_year_suffixed"
LABEL_SEP = ", "
_LEADING_ARTICLE = re.compile(r"^(a|an|the)\s+", re.IGNORECASE)


def _plain_year(entry) -> str:
    return entry.fields.get("year", "") or "n.d."


def _suffix(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, 27 -> ab, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


class AuthorYearTitleSortingStyle(AuthorYearTitleSorting):
    """Author, year, then title without braces and without a leading article."""

    def sorting_key(self, entry):
        author_key, year, title = super().sorting_key(entry)
        title = _LEADING_ARTICLE.sub("", title.replace("{", "").replace("}", "")).lower()
        return author_key, year, title


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels equal to the citation text, with a/b/c suffixes where that text would repeat."""

    def __init__(self) -> None:
        # Same person style as the referencing style: last names, "and", "et al." for three or more.
        self._reference_style = AuthorYearReferenceStyle(person=PersonStyle())

    def _authors(self, entry) -> str:
        template = self._reference_style.person.author_or_editor_or_title(full=False)
        text = template.format_data({"entry": entry, "style": self._reference_style})
        return text.render_as("text")

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        bases = [(self._authors(entry), _plain_year(entry)) for entry in entries]
        totals = Counter(bases)
        seen: Counter = Counter()
        for authors, year in bases:
            suffix = ""
            if totals[authors, year] > 1:
                suffix = _suffix(seen[authors, year])
                seen[authors, year] += 1
            yield f"{authors}{LABEL_SEP}{year}{suffix}"


class AuthorYearStyle(UnsrtStyle):
    """unsrt entries, sorted and labelled author-year."""

    default_sorting_style = AuthorYearTitleSortingStyle
    default_label_style = AuthorYearLabelStyle


@node
def year_with_suffix(children, data: dict[str, Any]):
    """The entry's year plus the suffix its bibliography label carries ("2022b")."""
    assert not children
    year = first_of[optional[bib_field("year")], "n.d."].format_data(data)
    formatted = data.get("formatted_entry")
    label = getattr(formatted, "label", "") or ""
    labelled_year = label.rpartition(LABEL_SEP)[2]
    plain = year.render_as("text")
    if labelled_year.startswith(plain) and labelled_year[len(plain):].isalpha():
        return Text(year, labelled_year[len(plain):])
    return year


@dataclass
class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name: str):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[
                join(sep=self.author_year_sep)[
                    self.person.author_or_editor_or_title(full="s" in role_name),
                    year_with_suffix,
                ]
            ],
            post_text,
        ]


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name: str):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[
                self.bracket.left,
                join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
                    pre_text,
                    reference[year_with_suffix],
                    post_text,
                ],
                self.bracket.right,
            ],
        ]


@dataclass
class _Year(ExtraYearReferenceStyle):
    def inner(self, role_name: str):
        return reference[year_with_suffix]


_REPLACEMENTS = {
    BasicAuthorYearParentheticalReferenceStyle: _Parenthetical,
    BasicAuthorYearTextualReferenceStyle: _Textual,
    ExtraYearReferenceStyle: _Year,
}


def _suffixed(style):
    twin = _REPLACEMENTS.get(type(style))
    if twin is None:
        return style
    return twin(**{f.name: getattr(style, f.name) for f in fields(style) if f.init})


@dataclass
class AuthorYearSuffixedReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author_year, with year suffixes wherever a year is shown."""

    def __post_init__(self):
        super().__post_init__()
        # Swap each year-rendering sub-style for its suffixed twin, keeping its settings, then let
        # the group rebuild its role -> style table.
        self.styles = [_suffixed(style) for style in self.styles]
        self.role_style.clear()
        self.role_style.update(
            (role_name, style) for style in self.styles for role_name in style.role_names()
        )


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.formatting", FORMATTING_STYLE, AuthorYearStyle)
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE, AuthorYearSuffixedReferenceStyle
    )
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
