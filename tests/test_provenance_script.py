"""Provenance of tables written by scripts: generated from git, never typed by hand."""

import subprocess
from pathlib import Path

from bnnoise.pages.provenance import NOT_RECORDED, script_table_markdown


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
                        "GIT_COMMITTER_DATE": "2026-01-02T03:04:05", "PATH": "/usr/bin:/bin"})


def test_a_committed_table_names_its_script_date_and_commit(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    table = tmp_path / "pilot.csv"
    table.write_text("a,b\n1,2\n")
    _git(tmp_path, "add", "pilot.csv")
    _git(tmp_path, "commit", "-q", "-m", "pilot")
    block = script_table_markdown(table, "scripts/pilot_lr.py")
    assert "Written by scripts/pilot_lr.py" in block and "committed on 2026-01-02 in " in block
    assert block.startswith(":::{container} provenance")


def test_an_uncommitted_table_says_so(tmp_path: Path) -> None:
    table = tmp_path / "pilot.csv"
    table.write_text("a\n1\n")
    assert f"not committed (commit {NOT_RECORDED})" in script_table_markdown(table, "x.py")
