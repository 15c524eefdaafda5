"""Lineage of the book's tables and figures: the library calls behind each, recorded as it is made.

The functions a chapter calls to compute what it shows (analyses, figures, table views) are
marked :func:`produces`. While a chapter runs under the book's runner, which names a record file
in ``$BNNOISE_LINEAGE``:

* a producer's result carries its *chain*: the producer's own name, then the chain of its first
  argument (``pages.noise_tables.average_view <- analysis.results.noise_results``); a result
  that holds tables (a dataclass, a tuple) passes the chain on to them with the field's name
  (``analysis.results.noise_results(…).average``); a data frame keeps it in ``DataFrame.attrs``,
  so that the chain survives ``drop``, ``round`` or a row selection;
* the functions that publish (:func:`bnnoise.pages.elements.publish_figure`,
  :func:`~bnnoise.pages.elements.numbered_table`, :func:`~bnnoise.pages.elements.save_table`)
  call :func:`record`, which appends one JSON line per figure, table or CSV file. A table
  rendered inside a producer (e.g. ``claim_table``) is credited to the outermost producer
  running, the call the chapter made.

The runner gathers the lines into ``<results>/<profile>/lineage/<chapter>.json``
(:func:`finish`), only when the chapter ran to its end; the book's page on its result tables
reads those files (:mod:`bnnoise.build.data_page`). Outside such a run nothing is recorded and a
producer costs one environment lookup.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pandas as pd

from bnnoise.store import atomic_write_bytes

ENVIRONMENT = "BNNOISE_LINEAGE"
"""Environment variable naming the record file of the chapter that runs (set by the runner)."""
ATTRIBUTE = "computed_by"
"""Key of a data frame's ``attrs`` that holds its chain."""
FOLDER = "lineage"
"""Sub-folder of a profile's results folder with one lineage file per chapter."""
_DEPTH = 3
"""How deep a result's fields are given chains (``singularities(…).lr_tables[0].history``)."""

P = ParamSpec("P")
T = TypeVar("T")

_chains: dict[int, tuple[object, tuple[str, ...]]] = {}
"""Chains of results that cannot carry one themselves (figures, dataclasses), by ``id``; the
result is kept with its chain, so that an ``id`` is never reused while the chapter runs."""
_active: list[tuple[str, ...]] = []
"""Chains of the producers running now, outermost first."""


def recording() -> bool:
    """Whether a chapter run is recording its lineage."""
    return bool(os.environ.get(ENVIRONMENT))


def chain_of(value: object) -> tuple[str, ...]:
    """The chain of library calls behind ``value``, outermost first; empty when unknown."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return tuple(value.attrs.get(ATTRIBUTE, ()))
    entry = _chains.get(id(value))
    return entry[1] if entry is not None and entry[0] is value else ()


def _field(head: str, tail: str) -> str:
    """``head`` with a field access: ``f(…).tail`` for a call, ``f(…).x.tail`` deeper."""
    return head + ("" if "(" in head else "(…)") + tail


def _parts(value: object) -> list[tuple[str, object]]:
    """The named parts of a composite result: dataclass fields, named or plain tuple items."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(f".{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return [(f".{name}", item) for name, item in zip(value._fields, value, strict=True)]
    if isinstance(value, list | tuple):
        return [(f"[{i}]", item) for i, item in enumerate(value)]
    return []


def _mark(value: object, chain: tuple[str, ...], depth: int = 0) -> None:
    """Give ``value`` (and its tables and figures, :data:`_DEPTH` levels deep) its chain."""
    if value is None or isinstance(value, str | int | float | bool | Path):
        return
    if isinstance(value, pd.DataFrame | pd.Series):
        value.attrs[ATTRIBUTE] = list(chain)
        return
    _chains[id(value)] = (value, chain)
    if depth < _DEPTH:
        head, rest = chain[0], chain[1:]
        for name, part in _parts(value):
            _mark(part, (_field(head, name), *rest), depth + 1)


def produces(function: Callable[P, T]) -> Callable[P, T]:
    """Mark a library function whose results a chapter shows: while a chapter records its
    lineage, the result carries the function's name followed by its first argument's chain."""
    name = f"{function.__module__.removeprefix('bnnoise.')}.{function.__qualname__}"

    @functools.wraps(function)
    def producer(*args: P.args, **kwargs: P.kwargs) -> T:
        if not recording():
            return function(*args, **kwargs)
        first = args[0] if args else next(iter(kwargs.values()), None)
        chain = (name, *chain_of(first))
        _active.append(chain)
        try:
            result = function(*args, **kwargs)
        finally:
            _active.pop()
        _mark(result, chain)
        return result

    return producer


def record(kind: str, label: str, source: object = None, data: str = "",
           log_axes: list[str] | None = None) -> None:
    """Append one published item to the chapter's record: a ``figure`` or ``table`` with its
    label and the chain behind ``source`` (or behind the outermost producer running), or a
    ``file`` (a CSV table written); a figure with axes on a log scale names them
    (``log_axes``, which its caption must mention). Nothing happens outside a recording
    chapter run."""
    path = os.environ.get(ENVIRONMENT)
    if not path:
        return
    chain = _active[0] if _active else chain_of(source)
    line = {"kind": kind, "label": label, "computed_by": list(chain), "data": data,
            **({"log_axes": log_axes} if log_axes else {})}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")


def finish(records: Path, lineage: Path, chapter: str) -> None:
    """Turn a finished chapter's record (JSON lines) into its lineage file: the figures and
    tables in the order the chapter shows them, and the CSV files it writes (each once)."""
    lines = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines()
             if line.strip()] if records.exists() else []
    items = [{k: line[k] for k in ("kind", "label", "computed_by", "data", "log_axes")
              if k in line} for line in lines if line["kind"] != "file"]
    writes = list(dict.fromkeys(line["label"] for line in lines if line["kind"] == "file"))
    text = json.dumps({"chapter": chapter, "items": items, "writes": writes}, indent=1,
                      ensure_ascii=False)
    atomic_write_bytes(lineage, (text + "\n").encode())
    records.unlink(missing_ok=True)


def read(lineage: Path) -> dict[str, Any]:
    """The lineage file of one chapter, as :func:`finish` wrote it."""
    return json.loads(lineage.read_text(encoding="utf-8"))
