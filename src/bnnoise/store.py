"""A content-addressed store of results, written atomically and verified on reading.

An artifact is a directory ``<root>/<kind>/<slug>-<hash>`` whose name hashes the artifact's full
configuration (a JSON-able dict): changing any parameter changes the key, so results are reused
exactly when everything they depend on is equal. The directory holds the artifact's files plus
``manifest.json`` (configuration and the SHA-256 of every file), which is written last.

Writes go to a temporary sibling directory that is renamed into place only when complete; a crash
leaves at most a ``.tmp-*`` directory that is never read. An artifact is never replaced: when a
valid one with the same key appears first (another process computed it), the new copy is
discarded. Reading checks every hash and that the manifest lists every file:

* a corrupt artifact that nobody published is moved aside (``.corrupt-*``, with a warning) and
  reported as missing, so that it is recomputed, never used;
* a corrupt artifact that git tracks (a published result) stops the run with a message saying
  how to restore it: published results are never recomputed over.

Every manifest also records its provenance (not part of the key): the machine (CPU, bfloat16
capability, threads, torch, the device used and the GPU's name on a GPU), the library version,
the code commit and the date, plus what the caller adds (e.g. the fingerprint of the data).
Results computed elsewhere are reused as they are: the key says *what* was computed, the
provenance *where*. A published store (one git tracks) takes no result from a library with
uncommitted changes (:meth:`ArtifactStore.check_code_committed`), so no published provenance
reads ``+dirty``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bnnoise.origin import (
    UncommittedCodeError,
    code_commit,
    config_device,
    dated_by_git,
    provenance,
    published_store,
)

MANIFEST = "manifest.json"


def canonical_json(config: dict[str, Any]) -> str:
    """Serialise a configuration deterministically (sorted keys, no whitespace)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(config: dict[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of the canonical configuration."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tracked_by_git(path: Path) -> bool:
    try:
        return subprocess.run(["git", "-C", str(path.parent), "ls-files", "--error-unmatch",
                               str(path / MANIFEST)], capture_output=True).returncode == 0
    except OSError:
        return False


class PublishedArtifactError(RuntimeError):
    """A published (git-tracked) artifact does not verify."""


NO_COMPUTE = "BNNOISE_NO_COMPUTE"
"""Environment variable: when set, the store only reads; writing any new artifact raises
:class:`StoreReadOnlyError` (the tests that re-derive the book from committed results)."""


class StoreReadOnlyError(RuntimeError):
    """A result would be computed and stored while :data:`NO_COMPUTE` forbids it."""


def read_only() -> bool:
    """Whether :data:`NO_COMPUTE` is set: the store reads, and nothing may be computed."""
    return bool(os.environ.get(NO_COMPUTE))


class ArtifactStore:
    """Keyed, atomic, verified storage of results under one root directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def check_code_committed(self) -> None:
        """Refuse, before any compute, a result for a published store (one git tracks) while
        the library has uncommitted changes: every published result names the commit of the
        code that made it (``commit`` in its provenance), never a ``+dirty`` tree.

        Raises:
            UncommittedCodeError: one line saying what to do.
        """
        commit = code_commit(Path(__file__).resolve().parent)
        if commit.endswith("+dirty") and self.root.is_dir() and published_store(
                self.root.resolve()):
            raise UncommittedCodeError(
                f"{self.root} is published (tracked by git) and the library has uncommitted "
                f"changes ({commit}): commit them first, so that every published result names "
                "the code that made it")

    def path(self, kind: str, slug: str, config: dict[str, Any]) -> Path:
        """Directory of the artifact of this kind and configuration (whether or not it exists)."""
        return self.root / kind / f"{slug}-{config_hash(config)}"

    def load(self, kind: str, slug: str, config: dict[str, Any]) -> Path | None:
        """Return the verified artifact directory, or ``None`` if absent or corrupt.

        A corrupt artifact (missing, extra or changed file, configuration mismatch, a manifest
        listing no files) is moved aside with a warning, so the caller recomputes it.

        Raises:
            PublishedArtifactError: the corrupt artifact is tracked by git (published).
        """
        path = self.path(kind, slug, config)
        if not path.is_dir():
            return None
        problem = self._verify(path, config)
        if problem is None:
            return path
        if _tracked_by_git(path):
            raise PublishedArtifactError(
                f"published artifact {path} does not verify ({problem}); restore it with "
                f"`git checkout -- {path}` (published results are never recomputed over)")
        aside = path.with_name(f".corrupt-{path.name}-{os.getpid()}")
        warnings.warn(f"discarding corrupt artifact {path}: {problem} (moved to {aside.name})",
                      stacklevel=2)
        os.replace(path, aside)
        return None

    def provenance(self, kind: str, slug: str, config: dict[str, Any]) -> dict[str, Any]:
        """The provenance recorded in a stored artifact's manifest (empty if it has none), with
        the commit that first added it to git where it records no date
        (:func:`bnnoise.origin.dated_by_git`)."""
        path = self.path(kind, slug, config)
        manifest = json.loads((path / MANIFEST).read_text())
        return dated_by_git(manifest.get("provenance") or {}, path)

    @staticmethod
    def _verify(path: Path, config: dict[str, Any]) -> str | None:
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError) as err:
            return f"unreadable manifest ({err})"
        if canonical_json(manifest.get("config", {})) != canonical_json(config):
            return "configuration differs from its key"
        files = manifest.get("files", {})
        if not files:
            return "manifest lists no files"
        present = {p.name for p in path.iterdir() if p.is_file() and p.name != MANIFEST}
        if present - set(files):
            return f"files not in the manifest: {', '.join(sorted(present - set(files)))}"
        for name, digest in files.items():
            file = path / name
            if not file.is_file() or _sha256(file) != digest:
                return f"file {name} missing or changed"
        return None

    @contextmanager
    def writer(self, kind: str, slug: str, config: dict[str, Any],
               extra_provenance: dict[str, Any] | None = None) -> Iterator[Path]:
        """Context manager yielding a fresh directory to fill; published atomically on success.

        If the body raises, nothing is published. If a valid artifact with the same key exists
        by then (computed by another process), it is kept and the new copy discarded; a corrupt
        one is first moved aside (see :meth:`load`). The manifest records :func:`provenance`,
        with the device the configuration names (:func:`config_device`).

        Raises:
            StoreReadOnlyError: the environment variable :data:`NO_COMPUTE` is set.
            UncommittedCodeError: the store is published and the library has uncommitted
                changes (:meth:`check_code_committed`).
        """
        final = self.path(kind, slug, config)
        self.check_code_committed()
        if read_only():
            raise StoreReadOnlyError(
                f"{kind}/{final.name} is not stored and {NO_COMPUTE} is set: the committed "
                "results do not hold it (its key changed, or it was never computed)")
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
        try:
            yield tmp
            files = {p.name: _sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
            if not files:
                raise ValueError(f"artifact {final.name} would hold no files")
            manifest = {"config": config, "files": files,
                        "provenance": provenance(extra_provenance, config_device(config))}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str))
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates it private
            if final.exists() and self.load(kind, slug, config) is not None:
                return  # the same result is already published; never replace it
            os.replace(tmp, final)  # fails (and publishes nothing) if a directory appeared
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new one, never a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates it private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
