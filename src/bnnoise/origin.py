"""Where and when a result was computed, and whether the code that computed it is committed.

Every artifact's manifest records :func:`provenance` (not part of its key): the machine (CPU,
bfloat16 capability, threads, torch, the device used and the GPU's name on a GPU), the library
version, the code commit and the date. :func:`published_store` and
:class:`UncommittedCodeError` keep a ``+dirty`` commit out of every published store
(:meth:`bnnoise.store.ArtifactStore.check_code_committed`).
"""

from __future__ import annotations

import datetime
import functools
import os
import subprocess
from pathlib import Path
from typing import Any


@functools.lru_cache(maxsize=8)
def code_commit(root: Path) -> str:
    """The git commit of the code under ``root`` (``+dirty`` with uncommitted changes to the
    library), or ``unknown`` outside a git checkout."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def config_device(config: dict[str, Any]) -> str:
    """The device an artifact was computed on, as its configuration says: results computed on
    a GPU carry a ``device`` entry (the recipe's, or the noise protocol's at the top level);
    CPU results carry none, so that their keys stay as they were."""
    for key, value in config.items():
        if key == "device" and value in ("cpu", "cuda"):
            return str(value)
        if isinstance(value, dict) and (found := config_device(value)) != "cpu":
            return found
    return "cpu"


def provenance(extra: dict[str, Any] | None = None, device: str = "cpu") -> dict[str, Any]:
    """Where and when a result is computed: machine (with the ``device`` used and, on a GPU,
    its name), library version, code commit, UTC date."""
    from bnnoise import __version__
    from bnnoise.hardware import machine_record

    return {**machine_record(device), "library": __version__,
            "commit": code_commit(Path(__file__).resolve().parent),
            "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **(extra or {})}


class UncommittedCodeError(RuntimeError):
    """A result would enter a published store from a library with uncommitted changes."""


@functools.lru_cache(maxsize=8)
def published_store(root: Path) -> bool:
    """Whether the store under ``root`` is published: git tracks files in it."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "--", "."],
                                capture_output=True, text=True)
    except OSError:
        return False
    return listed.returncode == 0 and bool(listed.stdout.strip())


@functools.lru_cache(maxsize=16)
def _first_commits(folder: Path) -> tuple[Path | None, dict[str, str]]:
    """The repository's top folder and, per file under ``folder`` (its path from the top), the
    date and commit that first added it ("2026-11-22 4736f06"); ``(None, {})`` outside a git
    checkout. One ``git log`` per folder, newest commit first: a file's last adding commit in
    it is its first."""
    try:
        top = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        log = subprocess.run(["git", "-C", str(folder), "log", "--diff-filter=A", "--name-only",
                              "--format=>%cd %h", "--date=format-local:%Y-%m-%d", "--", "."],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "TZ": "UTC"}).stdout  # dates in UTC
    except (OSError, subprocess.CalledProcessError):
        return None, {}
    found, commit = {}, ""
    for line in log.splitlines():
        if line.startswith(">"):
            commit = line[1:]
        elif line.strip():
            found[line.strip()] = commit
    return Path(top), found


def dated_by_git(record: dict[str, Any], artifact: Path) -> dict[str, Any]:
    """``record`` (an artifact's provenance) with, where it has no date of its own (older
    results), ``committed``: the date and commit that first added the ``artifact`` folder's
    manifest to git, the latest the result can have been computed; as it is where git does not
    know the folder (a checkout without history, an uncommitted result)."""
    if record.get("created"):
        return record
    artifact = artifact.resolve()
    top, commits = _first_commits(artifact.parent)
    if top is None:
        return record
    found = commits.get(str((artifact / "manifest.json").relative_to(top)))
    return {**record, "committed": found} if found else record
