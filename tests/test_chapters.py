"""Every chapter runs end to end through Papermill with the smoke profile, in a scratch project."""

import re
from pathlib import Path

import nbformat
import pytest

from bnnoise import lineage
from bnnoise.build.chapter_parameters import chapter_names, chapter_parameters
from bnnoise.build.runner import run_chapter

ROOT = Path(__file__).resolve().parents[1]


def test_every_chapter_declares_profile_data_dir_and_overrides() -> None:
    for name in chapter_names(ROOT):
        params = chapter_parameters(ROOT, name)
        assert {"profile", "overrides", "data_dir"} <= set(params), name


def test_check_cells_are_removed_and_figure_and_table_cells_fold_their_code() -> None:
    for name in chapter_names(ROOT):
        notebook = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)
        for cell in notebook.cells:
            tags = cell.metadata.get("tags", [])
            if "NBVAL_CHECK_OUTPUT" in cell.source and "print(" in cell.source:
                assert "remove-cell" in tags, (name, cell.source[:60])  # a copy for nbval only
            elif cell.cell_type == "code" and any(
                    call in cell.source for call in ("publish_figure(", "publish_table(")):
                assert tags and {"hide-input", "remove-input", "remove-cell"} & set(tags), (
                    name, cell.source[:60])


def test_every_published_table_is_captioned_in_the_markdown_cell_after_it() -> None:
    """A table a chapter publishes (``publish_table("tbl-x", ...)``) is shown by the ``{table}``
    directive of a later Markdown cell, which holds its caption and label and pastes the glued
    rows; no directive pastes a table that no cell publishes."""
    for name in chapter_names(ROOT):
        cells = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4).cells
        published: list[str] = []
        for cell in cells:
            if cell.cell_type == "code":
                published += re.findall(r'publish_table\(\s*"([\w-]+)"', cell.source)
                continue
            for label, pasted in re.findall(
                    r":::\{table\} \S.*\n:name: ([\w-]+)\n(?::\w+: .*\n)*\n```\{glue:md\} "
                    r"([\w-]+)\n:format: myst\n```\n:::", cell.source):
                assert label == pasted and label in published, (name, label)
                published.remove(label)
        assert published == [], (name, published)  # published, never shown


@pytest.mark.slow
@pytest.mark.parametrize("name", chapter_names(ROOT))
def test_chapter_runs_with_the_smoke_profile(name: str, smoke_project: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BNNOISE_ROOT", str(smoke_project))  # the session's store: trains what
    # no earlier test of the session has
    output = run_chapter(ROOT, name, {"profile": "smoke"}, tmp_path / "out")
    notebook = nbformat.read(output, as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    defaults = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    # the page shows the parameters it ran with, not the defaults
    assert injected and "remove-cell" not in injected[0].metadata["tags"]
    assert 'profile = "smoke"' in injected[0].source
    assert "remove-cell" in defaults[0].metadata["tags"]
    assert not list(output.parent.glob(".partial-*"))
    # executed outside book/, the tables go beside the notebook, not over the linked ones
    written = tmp_path / "out" / "results" / "smoke"
    assert list(written.glob("*.csv"))
    assert not (smoke_project / "data" / "results").exists()
    # the run recorded what it shows and writes, and the call behind every figure and table
    record = lineage.read(written / lineage.FOLDER / f"{name}.json")
    assert set(record["writes"]) == {p.name for p in written.glob("*.csv")}
    assert all(item["computed_by"] for item in record["items"]), record["items"]
    assert not list((written / lineage.FOLDER).glob(".partial-*"))


def test_unknown_chapter_parameter_stops_before_running(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="has no parameter colour; valid: profile"):
        run_chapter(ROOT, chapter_names(ROOT)[0], {"colour": "red"}, tmp_path)
    assert not list(tmp_path.iterdir())


def test_unknown_chapter(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown chapter 'intro'; valid: 00_claims"):
        run_chapter(ROOT, "intro", {}, tmp_path)


@pytest.mark.parametrize("parameters, message", [
    ({"profile": "smoke", "etas": [-0.1]}, "positive numbers"),
    ({"profile": "gpu"}, "unknown profile 'gpu'; valid: smoke, cpu, paper"),
    ({"profile": "smoke", "models": ["alexnet"]}, "unknown model 'alexnet'"),
    ({"profile": "smoke", "scoring": "nan"}, "unknown scoring 'nan'; valid: wrong, argmax"),
])
def test_bad_values_stop_before_papermill_and_leave_nothing(parameters: dict, message: str,
                                                            tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        run_chapter(ROOT, "02_noise", parameters, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_failing_chapter_reports_one_line_and_leaves_no_partial_file(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bnnoise.build.runner import ChapterError

    monkeypatch.setenv("BNNOISE_ROOT", str(project))
    monkeypatch.setenv("BNNOISE_NO_TRAINING", "1")  # nothing trained in the scratch store
    with pytest.raises(ChapterError, match=r"stopped in cell \d+: FileNotFoundError: .*not "
                                           r"trained yet"):
        run_chapter(ROOT, "01_training", {"profile": "smoke"}, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # the run folder it created is gone again


@pytest.mark.slow
def test_publish_takes_only_the_published_profile_and_bad_values_stop_in_one_line() -> None:
    # that a rerun goes to a run folder is tested end to end in test_safe_reruns.py
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "bnnoise", "publish", "02_noise", "--profile",
                             "smoke"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and result.stderr.strip().count("\n") == 0
    assert "from the cpu profile only" in result.stderr
    result = subprocess.run([sys.executable, "-m", "bnnoise", "chapter", "02_noise", "-p",
                             "etas", "[-1]"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and result.stderr.startswith("bnnoise: invalid noise")
    assert "Traceback" not in result.stderr


GLUED = "application/papermill.record/text/markdown"
"""Where an executed notebook keeps Markdown glued for the page (a published table's rows)."""


def printed_text(notebook: Path) -> str:
    """Everything an executed notebook shows as Markdown or plain text, one output a line; a
    glued table's rows after a line ``[tbl-name]``."""
    lines = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if GLUED in data:
                lines.append(f"[{output['metadata']['scrapbook']['name']}]\n{data[GLUED]}")
            else:
                lines.append(str(data.get("text/markdown", output.get("text", ""))))
    return "\n".join(lines)


@pytest.mark.slow
def test_remedies_chapter_answers_the_normalizer_question_on_smoke(
        smoke_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BNNOISE_ROOT", str(smoke_project))
    output = run_chapter(ROOT, "06_remedies", {"profile": "smoke", "train_missing": True},
                         tmp_path / "out")
    text = printed_text(output)
    assert "Every normalizer of the grid is trained and shown." in text
    for norm in ("gn4+ws", "l1bn", "gn4"):
        assert f"| {norm} " in text  # a row of the normalizer table
    assert "not answerable" not in text  # both kinds of normalizer are there
    assert "L1 BatchNorm is more noise resistant than standard BN" in text  # the companion paper
    assert "BN trajectory there (%)" in text and "No training trajectory yet" not in text


@pytest.mark.slow
def test_cifar100_chapter_puts_both_datasets_side_by_side_on_smoke(
        smoke_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BNNOISE_ROOT", str(smoke_project))
    output = run_chapter(ROOT, "05_cifar100", {"profile": "smoke", "train_missing": True},
                         tmp_path / "out")
    text = printed_text(output)
    assert "synthetic10 clean acc. (%)" in text and "synthetic100 clean acc. (%)" in text
    assert "[tbl-chance]" in text and "| synthetic100 | resnet8 |       100 |" in text
    # the claims page, run after it on the same store, gets a column per dataset
    claims = printed_text(run_chapter(ROOT, "00_claims", {"profile": "smoke"}, tmp_path / "out"))
    assert "[tbl-claims-datasets]" in claims
    assert "synthetic100 (R/C/I)" in claims and "verdicts that differ on synthetic100" in claims
