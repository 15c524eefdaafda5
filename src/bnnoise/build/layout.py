"""Where each table and figure of the book comes from, read from the chapter sources.

:func:`chapter_map` reads one chapter notebook of ``chapters/`` (without running it) and lists

* every numbered figure: ``publish_figure("fig_x", <call>(...), profile, <csv>)`` with the
  ``:name:`` of its ``{glue:figure}`` directive;
* every numbered table: ``numbered_table(<table>, caption, "tbl-x")``, or a library function
  that renders numbered tables itself (e.g. ``claim_table``), with the labels it is given or,
  failing that, the labels written in its source;
* the CSV files the chapter writes (``save_table`` and ``publish_tables``).

For each figure and table it gives the chain of library calls behind it, outermost first, e.g.
``pages.noise_tables.average_view <- analysis.results.noise_results``.
:mod:`bnnoise.build.data_page` turns the maps into the book's page on its result tables.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

PACKAGE = "bnnoise"
SAVE_TABLE = "bnnoise.pages.elements.save_table"
PUBLISH_TABLES = "bnnoise.analysis.results.publish_tables"
PUBLISH_FIGURE = "bnnoise.pages.elements.publish_figure"
NUMBERED_TABLE = "bnnoise.pages.elements.numbered_table"
STOP = ("bnnoise.config.load_profile",)
"""Calls where a chain ends: the profile is the input of everything, not a result."""

_GLUE_FIGURE = re.compile(r"```\{glue:figure\}\s+(\S+)\n((?::[^\n]*\n)*)")


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
class ChapterMap:
    """The figures, tables and CSV files of one chapter source."""

    name: str
    title: str
    profile: str
    items: tuple[Item, ...]
    writes: tuple[str, ...]


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _short(dotted: str) -> str:
    return dotted.removeprefix(PACKAGE + ".")


def _function_source(dotted: str) -> ast.FunctionDef | None:
    """The definition of library function ``dotted``, parsed from its module's file."""
    module, _, name = dotted.rpartition(".")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    tree = ast.parse(Path(spec.origin).read_text())
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _labels_in(node: ast.AST) -> list[str]:
    """The ``tbl-`` labels written in ``node``: string constants, and f-strings with their
    fields shown as ``<field>``."""
    labels = []
    parts = {id(v) for n in ast.walk(node) if isinstance(n, ast.JoinedStr) for v in n.values}
    for n in ast.walk(node):
        if id(n) in parts:
            continue
        if isinstance(n, ast.JoinedStr):
            text = "".join(f"<{ast.unparse(v.value)}>" if isinstance(v, ast.FormattedValue)
                           else _literal(v) or "" for v in n.values)
        else:
            text = _literal(n) if isinstance(n, ast.Constant) else None
        if text and text.startswith("tbl-") and text not in labels:
            labels.append(text)
    return labels


class _Reader:
    """Reads a chapter's code cells in order, keeping its imports and assignments."""

    def __init__(self, figures: dict[str, str]) -> None:
        self.figures = figures
        self.imports: dict[str, str] = {}
        self.names: dict[str, ast.expr] = {}
        self.items: list[Item] = []
        self.writes: list[str] = []

    def dotted(self, node: ast.expr) -> str | None:
        """The imported name ``node`` refers to (``R.noise_results`` ->
        ``bnnoise.analysis.results.noise_results``), or None for anything local."""
        if isinstance(node, ast.Name):
            return self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def chain(self, node: ast.expr | None, depth: int = 0) -> list[str]:
        """The library calls behind ``node``, outermost first."""
        if node is None or depth > 8:
            return []
        if isinstance(node, ast.Name):
            return self.chain(self.names.get(node.id), depth + 1)
        if isinstance(node, ast.IfExp):
            return self.chain(node.body, depth + 1)
        if isinstance(node, ast.Attribute | ast.Subscript):
            inner = self.chain(node.value, depth + 1)
            if inner:
                tail = (f".{node.attr}" if isinstance(node, ast.Attribute)
                        else f"[{ast.unparse(node.slice)}]")
                inner[-1] += ("" if "(" in inner[-1] else "(…)") + tail
            return inner
        if not isinstance(node, ast.Call):
            return []
        dotted = self.dotted(node.func)
        if dotted is None:  # a method of a local value, e.g. ``table.drop(...)``
            return self.chain(node.func.value, depth + 1) if isinstance(
                node.func, ast.Attribute) else []
        if dotted in STOP or not dotted.startswith(PACKAGE + "."):
            return []
        return [_short(dotted), *self.chain(node.args[0] if node.args else None, depth + 1)]

    def csv(self, node: ast.expr | None) -> str | None:
        """The CSV file name an expression stands for, if it is one the chapter writes."""
        if isinstance(node, ast.Name):
            return self.csv(self.names.get(node.id))
        if isinstance(node, ast.Call) and self.dotted(node.func) == SAVE_TABLE:
            return _literal(_argument(node, 2, "filename"))
        if isinstance(node, ast.Subscript):
            value = node.value
            if isinstance(value, ast.Name):
                value = self.names.get(value.id)
            if isinstance(value, ast.Call) and self.dotted(value.func) == PUBLISH_TABLES:
                prefix, key = _literal(_argument(value, 2, "prefix")), _literal(node.slice)
                return f"{prefix}_{key}.csv" if prefix and key else None
        return None

    def call(self, node: ast.Call) -> None:
        """Record what one call of a chapter publishes."""
        dotted = self.dotted(node.func)
        if dotted is None or not dotted.startswith(PACKAGE + "."):
            return
        if dotted == SAVE_TABLE:
            self.writes.append(_literal(_argument(node, 2, "filename")) or ast.unparse(node))
        elif dotted == PUBLISH_TABLES:
            prefix = _literal(_argument(node, 2, "prefix"))
            names = _argument(node, 3, "names")
            for name in names.elts if isinstance(names, ast.Tuple | ast.List) else []:
                self.writes.append(f"{prefix}_{_literal(name)}.csv")
        elif dotted == PUBLISH_FIGURE:
            name = _literal(_argument(node, 0, "name")) or ""
            self.items.append(Item("figure", self.figures.get(name, name),
                                   " <- ".join(self.chain(_argument(node, 1, "fig"))),
                                   self.csv(_argument(node, 3, "data_file")) or ""))
        elif dotted == NUMBERED_TABLE:
            for label in _labels_in(ast.Tuple(elts=[*node.args[1:], *(
                    k.value for k in node.keywords)])):
                self.items.append(Item("table", label, " <- ".join(self.chain(node.args[0]))))
        else:
            source = _function_source(dotted)
            if source is None or not any(
                    isinstance(n, ast.Call) and getattr(n.func, "id", "") == "numbered_table"
                    for n in ast.walk(source)):
                return
            given = _labels_in(ast.Tuple(elts=[*node.args, *(k.value for k in node.keywords)]))
            for label in given or _labels_in(source):
                self.items.append(Item("table", label, " <- ".join(self.chain(node))))

    def cell(self, source: str) -> None:
        """Read one code cell: imports, then per statement its calls and assignments."""
        for statement in ast.parse(source).body:
            if isinstance(statement, ast.ImportFrom) and statement.module:
                for alias in statement.names:
                    self.imports[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
                continue
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    self.imports[alias.asname or alias.name] = alias.name
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Call):
                    self.call(node)
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        self.names[target.id] = statement.value


def chapter_map(path: Path) -> ChapterMap:
    """The figures, tables and written CSV files of the chapter source at ``path``."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    figures = {}
    for name, options in _GLUE_FIGURE.findall(text + "\n"):
        label = re.search(r"^:name:\s*(\S+)", options, re.MULTILINE)
        figures[name] = label.group(1) if label else name
    title = next((line.lstrip("# ").strip() for line in text.splitlines()
                  if line.startswith("# ")), path.stem)
    reader = _Reader(figures)
    profile = ""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "parameters" in cell.metadata.get("tags", []):
            defaults = ast.parse(cell.source)
            profile = next((_literal(s.value) or "" for s in defaults.body
                            if isinstance(s, ast.Assign) and getattr(
                                s.targets[0], "id", "") == "profile"), "")
            continue
        reader.cell(cell.source)
    return ChapterMap(path.stem, title, profile, tuple(reader.items),
                      tuple(dict.fromkeys(reader.writes)))


def book_map(root: Path) -> list[ChapterMap]:
    """:func:`chapter_map` of every chapter source under ``<root>/chapters``, in file order."""
    return [chapter_map(p) for p in sorted((root / "chapters").glob("*.ipynb"))]
