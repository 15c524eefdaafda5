"""The Snakemake workflow: a real run of the smoke profile and a dry run of the paper profile."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"


def _snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--cores", "2",
               "--directory", str(project), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=project, timeout=900,
                          env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                               "HOME": str(project), "OMP_NUM_THREADS": "1"})


def test_smoke_workflow_trains_and_sweeps_every_model_once(tmp_path: Path) -> None:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    run = _snakemake(tmp_path, "sweeps", "--config", "profile=smoke", "grids=main")
    assert run.returncode == 0, run.stderr[-3000:]
    store = tmp_path / "data" / "artifacts" / "smoke"
    assert len(list((store / "models").iterdir())) == 2  # ResNet8 with and without BN
    assert any((store / "sweeps").iterdir())
    again = _snakemake(tmp_path, "sweeps", "--config", "profile=smoke", "grids=main")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_paper_profile_dry_run_lists_one_job_per_model_and_sweep(tmp_path: Path) -> None:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    run = _snakemake(tmp_path, "-n", "--config", "profile=paper")
    assert run.returncode == 0, run.stderr[-3000:]
    counts = dict(line.split() for line in run.stdout.splitlines()
                  if line.split()[:1] and line.split()[0] in ("train", "sweep", "chapters"))
    # main: 8 models x 2 norms x 2 datasets x 3 seeds = 96; bn_count: 8 partial ResNet20s x 3
    # seeds = 24; normalizers: 6 further norms x 2 models x 3 seeds = 36
    assert counts == {"train": "156", "sweep": "156", "chapters": "1"}
    assert not (tmp_path / "data").exists()  # a dry run computes nothing
