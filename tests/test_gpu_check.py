"""The prepared GPU check (scripts/gpu_check.py), run on the CPU as its ``--device cpu`` allows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.py"


@pytest.mark.slow
def test_the_gpu_check_runs_every_step_on_the_cpu(smoke_project: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--root",
                           str(smoke_project), "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    table = pd.read_csv(tmp_path / "gpu_check.csv")
    assert list(table["step"]) == ["noise", "train", "sweep", "chapter", "rate"]
    assert table["passed"].all() and (table["device"] == "cpu").all()
    assert table.loc[table["step"] == "noise", "detail"].item().startswith("largest gap 0 ")
    assert table.loc[table["step"] == "rate", "detail"].item().endswith("(fp32, batch 128)")
    assert list((tmp_path / "chapter").glob("02_noise*.ipynb"))  # the chapter ran


def test_the_gpu_check_failing_command_is_reported_not_raised(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from gpu_check import command_step, noise_step
    finally:
        sys.path.remove(str(SCRIPT.parent))
    passed, detail = command_step(["train", "--profile", "no-such-profile"], ROOT)
    assert not passed and detail.startswith("exit ") and "no-such-profile" in detail
    assert noise_step("cpu")[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_the_gpu_check_stops_in_one_line_without_a_gpu() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("valid here: auto, cpu")
