"""A reader's rerun never touches the published book, end to end through the command line.

Every test works in a scratch copy of the project (``$BNNOISE_ROOT``): the real ``params.yaml``
and chapter sources, the real published page of the chapter rerun, and small stand-ins for the
published tables. Published files are compared by hash before and after.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bnnoise import cli
from bnnoise.build.runner import run_chapter

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "07_signal_propagation"  # the quickest chapter on smoke: no training, about 20 s


def _hashes(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folders``, by path."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project: params.yaml, chapters/, the published page of :data:`CHAPTER` in
    book/ and a small published-tables folder data/results/cpu/. The library and the command
    line run in it (``$BNNOISE_ROOT``, working directory)."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "params.yaml", project / "params.yaml")
    shutil.copytree(ROOT / "chapters", project / "chapters")
    (project / "book").mkdir()
    shutil.copy(ROOT / "book" / f"{CHAPTER}.ipynb", project / "book" / f"{CHAPTER}.ipynb")
    published = project / "data" / "results" / "cpu"
    (published / "figures").mkdir(parents=True)
    (published / "propagation_layers.csv").write_text("model,norm,layer,variance\nx,bn,1,1.0\n")
    (published / "figures" / "fig_propagation.svg").write_text("<svg/>\n")
    monkeypatch.setenv("BNNOISE_ROOT", str(project))
    monkeypatch.delenv("BNNOISE_RESULTS", raising=False)
    monkeypatch.chdir(project)
    return project


def _published(project: Path) -> dict[str, str]:
    return _hashes(project / "book", project / "data" / "results")


@pytest.mark.slow
def test_a_smoke_rerun_from_the_command_line_goes_to_a_run_folder_and_leaves_the_book(
        scratch: Path) -> None:
    before = _published(scratch)
    env = {**os.environ, "BNNOISE_ROOT": str(scratch), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "bnnoise", "chapter", CHAPTER, "--profile",
                             "smoke"], capture_output=True, text=True, cwd=scratch, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _published(scratch) == before  # book/*.ipynb and data/results/ untouched
    runs = list((scratch / "runs").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"\d{8}-\d{6}-smoke", runs[0].name)
    run = runs[0]
    notebook = run / f"{CHAPTER}.ipynb"
    assert str(notebook) in result.stdout
    assert not list(run.glob(".partial-*"))
    tables = run / "results" / "smoke"
    assert {p.name for p in tables.glob("*.csv")} == {"propagation_layers.csv",
                                                      "propagation_growth.csv"}
    assert (tables / "figures" / "fig_propagation.svg").is_file()
    executed = nbformat.read(notebook, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'profile = "smoke"' in injected[0].source
    text = nbformat.writes(executed)
    assert "results/smoke/propagation_layers.csv" in text  # links beside the run's notebook
    assert "data/results" not in text


@pytest.mark.parametrize("output_dir", ["book", "book/", "book/reruns", "./book/../book",
                                        "{root}/book", "alias", "data"])
def test_chapter_refuses_to_write_into_the_published_book(scratch: Path, output_dir: str,
                                                          capsys: pytest.CaptureFixture) -> None:
    (scratch / "alias").symlink_to(scratch / "book", target_is_directory=True)
    before = _published(scratch)
    with pytest.raises(SystemExit) as stop:
        cli.main(["chapter", CHAPTER, "--profile", "smoke", "--output-dir",
                  output_dir.format(root=scratch)])
    message = str(stop.value.code)
    assert message.startswith("bnnoise: output folder ") and "\n" not in message
    assert "python -m bnnoise publish" in message
    assert _published(scratch) == before
    assert not (scratch / "book" / "reruns").exists() and not (scratch / "runs").exists()


def test_only_publishing_writes_into_the_book_folder(scratch: Path) -> None:
    with pytest.raises(ValueError, match="published book's folder.*bnnoise publish"):
        run_chapter(scratch, CHAPTER, {"profile": "smoke"}, scratch / "book")
    with pytest.raises(ValueError, match="publishing writes into .*book only"):
        run_chapter(scratch, CHAPTER, {"profile": "cpu"}, scratch / "elsewhere", publish=True)
    for extra in (["--output-dir", "book"], ["--device", "cpu"], ["--profile", "smoke"]):
        with pytest.raises(SystemExit, match="from the cpu profile only"):
            cli.main(["publish", CHAPTER, *extra])


def _midway_chapter(project: Path) -> str:
    """A chapter that writes two tables (one over a published file, one new) and then, when its
    parameter ``fail`` is true, stops."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells = [
        nbformat.v4.new_code_cell('profile = "cpu"\noverrides = {}\ndata_dir = None\n'
                                  "fail = True\nsleep = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import pandas as pd\n\nfrom bnnoise.config import load_profile\n"
            "from bnnoise.pages.elements import save_table\n\n"
            "cfg = load_profile(profile, data_dir=data_dir, **overrides)\n"
            'save_table(pd.DataFrame({"value": [2]}), cfg, "propagation_layers.csv")\n'
            'save_table(pd.DataFrame({"value": [3]}), cfg, "added.csv")'),
        nbformat.v4.new_code_cell("import time\n\ntime.sleep(sleep)"),
        nbformat.v4.new_code_cell('if fail:\n    raise RuntimeError("stopped midway")'),
    ]
    nbformat.write(notebook, project / "chapters" / "99_midway.ipynb")
    return "99_midway"


@pytest.mark.slow
def test_a_failed_publish_leaves_the_published_tables_as_they_were(
        scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _midway_chapter(scratch)
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("BNNOISE_RESULTS", str(elsewhere))  # publish ignores it
    before = _published(scratch)
    with pytest.raises(SystemExit, match=r"chapter 99_midway stopped in cell \d+: "
                                         r"RuntimeError: stopped midway"):
        cli.main(["publish", name])
    assert _published(scratch) == before  # the rewritten table is back, the new one gone
    results = scratch / "data" / "results"
    assert not list(results.glob(".*")) and not list((scratch / "book").glob(".partial-*"))
    assert not (scratch / "book" / f"{name}.ipynb").exists()

    cli.main(["publish", name, "-p", "fail", "false"])  # the same chapter, succeeding
    assert (scratch / "book" / f"{name}.ipynb").is_file()
    assert (results / "cpu" / "propagation_layers.csv").read_text() == "value\n2\n"
    assert (results / "cpu" / "added.csv").is_file()
    assert (results / "cpu" / "figures" / "fig_propagation.svg").is_file()
    assert not list(results.glob(".*")) and not elsewhere.exists()


@pytest.mark.slow
def test_a_publish_stopped_by_sigterm_puts_the_published_state_back(scratch: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    name = _midway_chapter(scratch)
    before = _published(scratch)
    command = [sys.executable, "-m", "bnnoise", "publish", name, "-p", "fail", "false",
               "-p", "sleep", "120"]
    process = subprocess.Popen(command, cwd=scratch, env={**os.environ},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    added = scratch / "data" / "results" / "cpu" / "added.csv"
    deadline = time.time() + 120
    while not added.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
    assert added.exists(), process.communicate()  # the chapter is midway: tables rewritten
    process.send_signal(signal.SIGTERM)  # as `kill`, `timeout` or a cluster's job cancel
    _, err = process.communicate(timeout=120)
    assert process.returncode != 0
    # one line of its own and no traceback through the library; the notebook kernel, shut down
    # midway, may log its own interrupted cell (before or after that line, as the two processes
    # flush their output)
    ours = [line for line in err.splitlines() if line.startswith("bnnoise: ")]
    assert len(ours) == 1 and ours[0].startswith("bnnoise: interrupted")
    assert "bnnoise/" not in err
    assert _published(scratch) == before
    assert not list((scratch / "book").glob(".partial-*"))


@pytest.mark.slow
def test_publishing_an_unchanged_chapter_again_gives_the_same_files(scratch: Path) -> None:
    name = _midway_chapter(scratch)
    cli.main(["publish", name, "-p", "fail", "false"])
    first = _published(scratch)
    cli.main(["publish", name, "-p", "fail", "false"])
    assert _published(scratch) == first  # no timings, no paths: byte for byte the same
