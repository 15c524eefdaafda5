"""Shared fixtures: tiny synthetic data and a temporary project root with the real params.yaml."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
import torch

from bnnoise.data import synthetic

ROOT = Path(__file__).resolve().parents[1]
# Compiling every smoke network in every process of the suite costs seconds each and shows
# nothing the eager reference does not (bnnoise.compilation); tests/test_compilation.py turns it
# back on where it is tested.
os.environ.setdefault("BNNOISE_COMPILE", "off")


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def tiny_data():
    return synthetic(10, n_train=128, n_test=40, seed=1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project root holding a copy of the real params.yaml."""
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    return tmp_path


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scratch project (the real params.yaml and chapters) for the tests that run chapters,
    the campaign or the README's examples on the smoke profile, shared by every pytest-xdist
    worker of the session: each smoke network and sweep cell is computed by the first test
    that needs it and found in the store by the others (the store is content-addressed and its
    writes atomic, so two workers computing the same artifact publish it once). Tests that
    need an empty store use :func:`project`."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "smoke-project"
    root.mkdir(exist_ok=True)
    if not (root / "params.yaml").exists():
        tmp = root / f".params-{os.getpid()}.yaml"
        shutil.copy(ROOT / "params.yaml", tmp)
        os.replace(tmp, root / "params.yaml")
    with contextlib.suppress(FileExistsError):
        (root / "chapters").symlink_to(ROOT / "chapters")
    return root


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests (chapters, workflows, trainings) first: with pytest-xdist's work
    stealing, a long test that starts last keeps one worker busy while the other idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
