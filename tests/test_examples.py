"""Every command example the README and the book's pages show, run as shown: on the smoke profile
where an example names another, with exactly its other arguments. An example that fails is a
failing test, and an example of a kind no test knows fails too."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "book").glob("*.md"))]

CI_TARGETS = ("make book", "make test", "make check-pages")
"""Examples that CI itself runs (``.ci/run`` is ``make test``, which builds the book and checks
its pages): here, only that make knows them."""


def examples() -> list[tuple[str, str]]:
    """(document, command) for every command of the documents' ``bash`` blocks: comments
    dropped, continuation lines joined."""
    found = []
    for document in DOCUMENTS:
        for block in re.findall(r"```bash\n(.*?)```", document.read_text(), re.S):
            text = re.sub(r"\\\n\s*", " ", block)
            for line in text.splitlines():
                command = re.sub(r"\s+#.*$", "", line).strip()
                if command and not command.startswith("#"):
                    found.append((document.name, command))
    return found


def smoke(command: str) -> str:
    """The example on the smoke profile (``PROFILE=…``, ``profile=…``)."""
    return re.sub(r"\b(PROFILE|profile)=\w+", r"\1=smoke", command)


def kind(command: str) -> str:
    if command.startswith(CI_TARGETS):
        return "ci"
    for prefix in ("make chapter ", "make campaign", ".venv/bin/snakemake "):
        if command.startswith(prefix):
            return prefix.strip().split()[-1].split("/")[-1]
    return "unknown"


def test_every_example_is_of_a_kind_a_test_runs() -> None:
    shown = examples()
    assert len(shown) >= 10  # the README's and the introduction's examples
    assert [c for _, c in shown if kind(c) == "unknown"] == []


@pytest.mark.parametrize("command", [c for _, c in examples() if kind(c) == "ci"])
def test_the_ci_examples_are_targets_of_the_makefile(command: str) -> None:
    target = command.split()[1]
    assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.M), command


@pytest.fixture
def project(smoke_project: Path) -> Path:
    """The session's smoke project (tests/conftest.py): the examples share its store, as a
    reader's successive commands would."""
    return smoke_project


def _make_recipe(command: str) -> list[str]:
    """The command line ``make -n`` expands the example to (its last line: the target's own
    recipe after any prerequisite's), split as the shell would."""
    words = shlex.split(smoke(command))
    out = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), *words[1:],
                          f"PY={sys.executable}"],
                         capture_output=True, text=True, check=True).stdout
    return shlex.split(out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for _, c in examples() if kind(c) == "chapter"])
def test_the_chapter_examples_rerun_their_chapter(command: str, project: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from bnnoise import cli

    recipe = _make_recipe(command)
    assert recipe[:4] == [sys.executable, "-m", "bnnoise", "chapter"], recipe
    monkeypatch.setenv("BNNOISE_ROOT", str(project))
    cli.main([*recipe[3:], "--output-dir", str(project / "runs" / "example")])
    name = recipe[4]
    assert (project / "runs" / "example" / f"{name}.ipynb").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for _, c in examples() if kind(c) == "snakemake"])
def test_the_snakemake_examples_plan_their_jobs(command: str, project: Path) -> None:
    """Each Snakemake example, on the smoke profile, as a dry run (``-n``): the workflow, its
    configuration and, for the cluster example, its SLURM profile and executor all load; the
    smoke workflow itself runs in the campaign example's test."""
    words = shlex.split(smoke(command))
    words[0] = str(Path(sys.executable).parent / "snakemake")
    words = [str(ROOT / w) if w.startswith("workflow/") else w for w in words]
    if "-n" not in words:
        words.insert(1, "-n")
    run = subprocess.run([*words, "--directory", str(project)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for _, c in examples() if kind(c) == "campaign"])
def test_the_campaign_example_computes_every_network_once(command: str,
                                                         smoke_project: Path) -> None:
    """``make campaign`` runs the workflow's ``compute`` target; on smoke it trains and sweeps
    every network of every grid once, and a second run finds everything done. It runs in the
    session's shared smoke project: what the chapter tests computed already is found in the
    store (content-addressed, atomic writes), and what it computes first they find."""
    project = smoke_project
    recipe = _make_recipe(command)
    assert recipe[0].endswith("bin/snakemake") and recipe[-1] == "compute", recipe
    words = [str(Path(sys.executable).parent / "snakemake"),
             *(str(ROOT / w) if w.startswith("workflow/") else w for w in recipe[1:])]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(project),
           "BNNOISE_COMPILE": os.environ.get("BNNOISE_COMPILE", "off")}  # as the suite's
    run = subprocess.run([*words[:-2], "--directory", str(project), *words[-2:]], env=env,
                         capture_output=True, text=True, cwd=project)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    listed = subprocess.run([sys.executable, "-m", "bnnoise", "list", "--profile", "smoke",
                             "--grid", "all"], capture_output=True, text=True, check=True,
                            env={**env, "BNNOISE_ROOT": str(project)}).stdout.split()
    models = project / "data" / "artifacts" / "smoke" / "models"
    stored = {path.name.rsplit("-", 1)[0] for path in models.iterdir()}
    assert set(listed) <= stored, sorted(set(listed) - stored)
    again = subprocess.run([*words[:-2], "--directory", str(project), *words[-2:]], env=env,
                           capture_output=True, text=True, cwd=project)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
