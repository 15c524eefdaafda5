"""The book's two styles of table, rendered as MyST Markdown.

* :func:`table_markdown` renders a table the book numbers, with human headers (:data:`HEADERS`)
  and rounded numbers (:func:`bnnoise.pages.number_format.format_number`), narrow enough for
  the 704 px text column, and short labels that never wrap
  (:func:`bnnoise.pages.number_format.unbreakable`); :func:`publish_table` glues it for a
  ``{table}`` directive whose caption the chapter writes in Markdown, :func:`numbered_table`
  gives it a caption the library composes (a claim's rule);
* :func:`configuration_table` is the one style of configuration table (parameter | value), for a
  profile or any setup dataclass, with human parameter names (:data:`PARAMETER_LABELS`).

The chapters import both from :mod:`bnnoise.pages.elements`, beside the helpers that write tables
and figures to the results folder; they live here so that the formatting rules stay in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd
from IPython.display import Markdown
from myst_nb import glue

from bnnoise.config import Profile
from bnnoise.lineage import record
from bnnoise.pages.number_format import SHORT_CELL, align_decimals, format_number, unbreakable
from bnnoise.pages.provenance import cite

CI_SUFFIX = "_ci95"
"""Columns ``<x>_ci95`` hold the 95 % CI half-width of column ``<x>``."""

HEADERS: dict[str, str] = {
    "norm": "normalizer", "model": "model", "seeds": "seeds", "seed": "seed",
    "diverged": "diverged", "group_size": "channels / group", "batch_size": "batch",
    "lr": "peak lr", "train_loss": "training loss", "test_acc": "test accuracy",
    "dead_fraction": "dead channels", "max_step_loss": "largest step loss",
    "cosine_similarity": "cosine similarity", "stable_rank": "stable rank",
    "grad_ratio": "gradient ratio first / last",
}
"""Default human headers of the library's column names (a table's ``headers`` come first)."""

PARAMETER_LABELS: dict[str, str] = {
    "dataset": "dataset", "datasets": "datasets", "model": "model", "models": "models",
    "norms": "normalizers", "seeds": "seeds (random initialisations or runs)",
    "batch_size": "batch size (images)", "group_model": "network of the group-size series",
    "group_sizes": "channels per group", "train_per_class": "training images per class",
    "test_per_class": "test images per class (per-epoch accuracy)",
    "probe_per_class": "held-out images per class (channel statistics)",
    "epochs": "epochs", "lr": "peak learning rate", "warmup_epochs": "warm-up (epochs)",
    "weight_decay": "weight decay", "precision": "precision", "momentum": "momentum",
    "group_norms": "normalizers of the group-size series",
    "high_lr": "high peak learning rate", "high_lr_epochs": "epochs at the high learning rate",
    "singularity_norms": "normalizers of the singularity runs",
    "micro_batch": "micro-batch size (images)", "label_smoothing": "label smoothing",
    "grad_clip": "gradient clipping (norm)", "etas": "noise levels η", "draws": "draws per η",
    "eval_per_class": "test images per class", "targets": "noise targets",
    "scale": "noise scale reference", "kind": "noise kind", "seed": "seed",
    "layers": "layers with noise (regex)", "evaluation": "evaluation", "profile": "profile",
}
"""Human names of configuration parameters (others are shown with spaces for underscores)."""

UNSET_WORDING: dict[str, str] = {"layers": "all (no filter)"}
"""Unset (``None``) parameters for which "none" would mislead, and what they mean instead."""


def _header(column: str, headers: Mapping[str, str]) -> str:
    """The header of ``column``; hyphens never break (a header may wrap at its spaces)."""
    if column in headers:
        label = headers[column]
    elif column.endswith(CI_SUFFIX):
        label = "± 95 % CI"
    else:
        label = HEADERS.get(column, column.replace("_", " "))
    return label.replace("-", "\u2011")


def _formatted_columns(shown: pd.DataFrame, headers: dict[str, str], digits: int,
                       merge_ci: bool) -> tuple[list[tuple[str, pd.Series]], list[bool]]:
    """The columns of :func:`numbered_table` as they are shown, each with its header, and
    whether each is numeric (right-aligned)."""
    columns: list[tuple[str, pd.Series]] = []
    numeric: list[bool] = []
    bounds = merge_ci and {"ci_low", "ci_high"} <= set(shown.columns)
    for column in shown.columns:
        if merge_ci and column.endswith(CI_SUFFIX) and column[:-len(CI_SUFFIX)] in shown:
            continue
        if bounds and column == "ci_high":
            continue
        if bounds and column == "ci_low":
            low = shown["ci_low"].map(lambda v: format_number(v, digits))
            high = shown["ci_high"].map(lambda v: format_number(v, digits))
            columns.append((headers.get("ci_low", "95 % CI"),
                            pd.Series([f"{a}\u2009–\u2009{b}"
                                       for a, b in zip(low, high, strict=True)])))
            numeric.append(True)
            continue
        values = shown[column].map(lambda v: format_number(v, digits))
        if pd.api.types.is_float_dtype(shown[column]):
            values = align_decimals(values, digits)
        label = _header(column, headers)
        partner = f"{column}{CI_SUFFIX}"
        if merge_ci and partner in shown:
            ci = shown[partner].map(lambda v: format_number(v, 2 if digits > 2 else digits))
            values = pd.Series([m if c == "–" or m == "–" else f"{m}\u00a0±\u00a0{c}"
                                for m, c in zip(values, ci, strict=True)])
            label = headers.get(column, label)
        is_numeric = (pd.api.types.is_numeric_dtype(shown[column])
                      and not pd.api.types.is_bool_dtype(shown[column]))
        if not is_numeric:
            values = values.map(lambda v: unbreakable(v) if len(v) <= SHORT_CELL else v)
        columns.append((label, values))
        numeric.append(is_numeric)
    return columns, numeric


def table_markdown(table: pd.DataFrame, headers: Mapping[str, str] | None = None, *,
                   digits: int = 3, merge_ci: bool = False, percent: tuple[str, ...] = (),
                   name: str = "table") -> str:
    """``table`` as the book shows it, a Markdown table (no caption).

    Args:
        table: the rows to show (never its index); keep it to what fits the 704 px column
            (about seven short columns), or split it.
        headers: human headers with units, ``{column: label}``; other columns get
            :data:`HEADERS` or their name with spaces, ``<x>_ci95`` columns "± 95 % CI".
        digits: significant digits of floats (see :func:`format_number`).
        merge_ci: show ``<x>`` and ``<x>_ci95`` as one column "mean ± half-width", and
            ``ci_low`` and ``ci_high`` as one column "low – high".
        percent: columns holding shares, shown in per cent (with their ``_ci95``); say so in
            their header.
        name: the table's label, for the error message.
    """
    headers = dict(headers or {})
    shown = table.reset_index(drop=True).copy()
    for column in percent:
        for c in (column, f"{column}{CI_SUFFIX}"):
            if c in shown:
                shown[c] = 100 * shown[c]
    columns, numeric = _formatted_columns(shown, headers, digits, merge_ci)
    labels = [label for label, _ in columns]
    if len(set(labels)) < len(labels):
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        raise ValueError(f"two columns of table {name} share the header "
                         f"{', '.join(map(repr, duplicates))}; give them distinct headers")
    body = pd.DataFrame([list(row) for row in zip(*(v.to_numpy() for _, v in columns),
                                                    strict=True)], columns=labels, dtype=object)
    return body.to_markdown(index=False, disable_numparse=True,
                            colalign=["right" if n else "left" for n in numeric])


def publish_table(name: str, table: pd.DataFrame, headers: Mapping[str, str] | None = None, *,
                  provenance: str | None = None, empty: str = "No rows in this run.",
                  **style: Any) -> Markdown | None:
    """Glue ``table`` (:func:`table_markdown`, with ``headers`` and ``style``) as ``name`` for
    the ``{table}`` directive of the Markdown cell below, which holds its caption and label::

        :::{table} The caption, in Markdown (values of the run: {glue:text}`key`).
        :name: tbl-name
        :align: left

        ```{glue:md} tbl-name
        :format: myst
        ```
        :::

    Returns the short provenance reference (:func:`bnnoise.pages.provenance.cite`) shown
    above the table, as :func:`bnnoise.pages.elements.publish_figure` shows its links, or
    ``None``. A table without rows is glued as one cell saying ``empty``, so that the
    directive still holds a table.
    """
    record("table", name, table)
    text = (table_markdown(table, headers, name=name, **style) if len(table)
            else f"| |\n|:--|\n| *{empty}* |")
    glue(name, Markdown(text), display=False)
    return Markdown(cite(provenance)) if provenance else None


def numbered_table(table: pd.DataFrame, caption: str, name: str,
                   headers: Mapping[str, str] | None = None, *, provenance: str | None = None,
                   **style: Any) -> Markdown:
    """A numbered table whose caption is composed by the library (e.g. a claim's rule, from
    the rule registry), as one ``{table}`` directive; a table whose caption a person writes is
    published with :func:`publish_table` and captioned in the chapter's Markdown.

    Args:
        table, headers, style: as :func:`table_markdown`.
        caption: the table's caption.
        name: its label (``{numref}`name```).
        provenance: a MyST block (:func:`bnnoise.pages.provenance.provenance_markdown`)
            placed under the table.
    """
    record("table", name, table)
    text = table_markdown(table, headers, name=name, **style)
    out = f":::{{table}} {caption}\n:name: {name}\n:align: left\n\n{text}\n:::\n"
    if provenance:
        out += "\n" + cite(provenance)
    return Markdown(out)


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def configuration_rows(obj: Any, sections: tuple[str, ...] = ("recipe", "noise"),
                       exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(human parameter name, value) rows of a profile (its data, models and ``sections``) or
    of a setup dataclass (e.g. :class:`bnnoise.config.setups.PropagationSetup`), leaving out
    the fields named in ``exclude``."""
    if isinstance(obj, Profile):
        summary = obj.summary()
        items: list[tuple[str, Any]] = [(k, summary[k]) for k in
                                        ("profile", "datasets", "models", "norms")]
        for section in sections:
            items += [(f"{section}.{k}", v) for k, v in summary[section].items()]
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        items = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    elif isinstance(obj, Mapping):
        items = list(obj.items())
    else:
        raise TypeError(f"no configuration rows for {type(obj).__name__}")
    rows = []
    for key, value in items:
        if key in exclude or key.split(".")[-1] in exclude:
            continue
        section, _, field = key.rpartition(".")
        label = PARAMETER_LABELS.get(field, field.replace("_", " "))
        shown = UNSET_WORDING[field] if value is None and field in UNSET_WORDING else _value(value)
        rows.append((f"{section}: {label}" if section else label, shown))
    return rows


def configuration_table(obj: Any, sections: tuple[str, ...] = ("recipe", "noise"),
                        exclude: tuple[str, ...] = ()) -> Markdown:
    """The one configuration table of the book: parameter | value, human parameter names, no
    index; for a profile (its data, models and ``sections``), a setup dataclass or a dict."""
    rows = configuration_rows(obj, sections, exclude)
    body = pd.DataFrame(rows, columns=["parameter", "value"]).to_markdown(
        index=False, disable_numparse=True)
    return Markdown(f"{body}\n")
