"""A content-addressed store of results, written atomically and verified on reading.

An artifact is a directory ``<root>/<kind>/<slug>-<hash>`` whose name hashes the artifact's full
configuration (a JSON-able dict): changing any parameter changes the key, so results are reused
exactly when everything they depend on is equal. The directory holds the artifact's files plus
``manifest.json`` (configuration and the SHA-256 of every file), which is written last.

Writes go to a temporary sibling directory that is renamed into place only when complete; a crash
leaves at most a ``.tmp-*`` directory that is never read. Reading checks every hash: a corrupt or
partial artifact is reported as missing (and removed) so that it is recomputed, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


class ArtifactStore:
    """Keyed, atomic, verified storage of results under one root directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, kind: str, slug: str, config: dict[str, Any]) -> Path:
        """Directory of the artifact of this kind and configuration (whether or not it exists)."""
        return self.root / kind / f"{slug}-{config_hash(config)}"

    def load(self, kind: str, slug: str, config: dict[str, Any]) -> Path | None:
        """Return the verified artifact directory, or ``None`` if absent or corrupt.

        A corrupt artifact (missing file, hash mismatch, configuration mismatch) is removed with a
        warning, so the caller recomputes it.
        """
        path = self.path(kind, slug, config)
        if not path.is_dir():
            return None
        problem = self._verify(path, config)
        if problem is None:
            return path
        warnings.warn(f"discarding corrupt artifact {path}: {problem}", stacklevel=2)
        shutil.rmtree(path, ignore_errors=True)
        return None

    @staticmethod
    def _verify(path: Path, config: dict[str, Any]) -> str | None:
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError) as err:
            return f"unreadable manifest ({err})"
        if canonical_json(manifest.get("config", {})) != canonical_json(config):
            return "configuration differs from its key"
        for name, digest in manifest.get("files", {}).items():
            file = path / name
            if not file.is_file() or _sha256(file) != digest:
                return f"file {name} missing or changed"
        return None

    @contextmanager
    def writer(self, kind: str, slug: str, config: dict[str, Any]) -> Iterator[Path]:
        """Context manager yielding a fresh directory to fill; published atomically on success.

        If the body raises, nothing is published. An existing artifact with the same key is
        replaced.
        """
        final = self.path(kind, slug, config)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
        try:
            yield tmp
            files = {p.name: _sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
            manifest = {"config": config, "files": files}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str))
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates it private
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
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
