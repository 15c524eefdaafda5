"""Shared fixtures: tiny synthetic data and a temporary project root with the real params.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from bnnoise.data import synthetic

ROOT = Path(__file__).resolve().parents[1]


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
