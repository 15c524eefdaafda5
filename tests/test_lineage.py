"""The lineage a chapter records while it runs: the library calls behind each figure and table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from bnnoise import lineage
from bnnoise.lineage import chain_of, produces
from bnnoise.pages.markdown_tables import numbered_table, publish_table


@dataclass
class Results:
    summary: pd.DataFrame
    parts: list[pd.DataFrame]


@produces
def results_of(profile: str) -> Results:
    return Results(pd.DataFrame({"x": [1.0, 2.0]}), [pd.DataFrame({"y": [3.0]})])


@produces
def view(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(z=table["x"] * 2)


@produces
def figure(table: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots()
    ax.plot(table["x"])
    return fig


@produces
def rendered_inside(results: Results) -> None:
    numbered_table(results.summary, "Caption.", "tbl-inside")


NAME = __name__.removeprefix("bnnoise.")


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "results" / "cpu" / lineage.FOLDER / ".partial-42_demo.jsonl"
    monkeypatch.setenv(lineage.ENVIRONMENT, str(path))
    return path


def test_outside_a_chapter_run_nothing_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(lineage.ENVIRONMENT, raising=False)
    results = results_of("cpu")
    assert chain_of(results) == () and chain_of(results.summary) == ()
    assert lineage.ATTRIBUTE not in view(results.summary).attrs


def test_a_result_carries_its_producer_then_its_first_arguments_chain(records: Path) -> None:
    results = results_of("cpu")
    assert chain_of(results) == (f"{NAME}.results_of",)
    assert chain_of(results.summary) == (f"{NAME}.results_of(…).summary",)
    assert chain_of(results.parts[0]) == (f"{NAME}.results_of(…).parts[0]",)
    shown = view(results.summary)
    assert chain_of(shown) == (f"{NAME}.view", f"{NAME}.results_of(…).summary")
    # the chain survives what a chapter does to a table before showing it
    assert chain_of(shown.drop(columns="z").round(1)[shown["x"] > 1]) == chain_of(shown)
    assert chain_of(figure(shown))[0] == f"{NAME}.figure"
    assert chain_of(pd.DataFrame({"x": [1]})) == ()  # a table no producer made


def test_published_items_are_recorded_in_order_and_finished_into_one_file(
        records: Path) -> None:
    results = results_of("cpu")
    publish_table("tbl-view", view(results.summary))
    rendered_inside(results)  # credited to the call the chapter made, not to numbered_table
    lineage.record("file", "demo_summary.csv")
    lineage.record("file", "demo_summary.csv")
    final = records.parent / "42_demo.json"
    lineage.finish(records, final, "42_demo")
    assert not records.exists()
    written = lineage.read(final)
    assert written["writes"] == ["demo_summary.csv"]
    assert [(i["label"], i["computed_by"]) for i in written["items"]] == [
        ("tbl-view", [f"{NAME}.view", f"{NAME}.results_of(…).summary"]),
        ("tbl-inside", [f"{NAME}.rendered_inside", f"{NAME}.results_of"]),
    ]
    assert json.loads(final.read_text())["chapter"] == "42_demo"


def test_a_chapter_that_published_nothing_gets_an_empty_lineage(tmp_path: Path) -> None:
    final = tmp_path / "lineage" / "43_empty.json"
    lineage.finish(tmp_path / "missing.jsonl", final, "43_empty")
    assert lineage.read(final) == {"chapter": "43_empty", "items": [], "writes": []}
