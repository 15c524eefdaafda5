"""The Snakemake workflow: dry runs of the paper and smoke profiles, and the campaign's order (a
real run of the smoke profile is the campaign example's test, tests/test_examples.py)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"


def _snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--cores", "2",
               "--directory", str(project), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=project, timeout=900,
                          env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                               "HOME": str(project), "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def paper_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder holding only the parameters file (dry runs must leave it so)."""
    project = tmp_path_factory.mktemp("paper")
    shutil.copy(ROOT / "params.yaml", project / "params.yaml")
    return project


@pytest.fixture(scope="module")
def paper_dry_run(paper_project: Path) -> subprocess.CompletedProcess:
    """One dry run of the paper profile (device: auto) with its shell commands, shared by the
    tests below: planning the paper profile's 300-odd jobs is the slow part of these tests."""
    return _snakemake(paper_project, "-n", "-p", "--config", "profile=paper")


@pytest.mark.slow
def test_paper_profile_dry_run_lists_one_job_per_model_and_sweep(
        paper_project: Path, paper_dry_run: subprocess.CompletedProcess) -> None:
    run = paper_dry_run
    assert run.returncode == 0, run.stderr[-3000:]
    counts = dict(line.split() for line in run.stdout.splitlines()
                  if line.split()[:1] and line.split()[0] in ("train", "sweep", "chapters"))
    # main: 8 models x 2 norms x 2 datasets x 3 seeds = 96; bn_count: 8 partial ResNet20s x 3
    # seeds = 24; normalizers: 6 further norms x 2 models x 3 seeds = 36
    assert counts == {"train": "156", "sweep": "156", "chapters": "1"}
    assert not (paper_project / "data").exists()  # a dry run computes nothing


def _jobs(dry_run_output: str) -> dict[str, list[str]]:
    """The jobs a dry run with ``-p`` lists: each rule's job texts (resources, shell command)."""
    jobs: dict[str, list[str]] = {}
    rule = None
    for line in dry_run_output.splitlines():
        if match := re.match(r"^(?:local)?rule (\w+):", line):
            rule = match.group(1)
            jobs.setdefault(rule, []).append("")
        elif line.startswith("Job stats"):
            rule = None
        elif rule is not None:
            jobs[rule][-1] += line + "\n"
    return jobs


@pytest.mark.slow
def test_dry_run_shows_one_device_for_every_job_and_gpus_for_auto_or_cuda(
        tmp_path: Path, paper_dry_run: subprocess.CompletedProcess) -> None:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    paper = paper_dry_run  # device: auto
    assert paper.returncode == 0, paper.stderr[-3000:]
    jobs = _jobs(paper.stdout)
    assert len(jobs["device"]) == 1 and "resolve_device('auto')" in jobs["device"][0]
    for rule in ("device", "train", "sweep", "mechanism", "chapters"):
        for job in jobs[rule]:
            assert re.search(r"resources: .*\bgpu=1\b", job), (rule, job)
            if rule != "device":
                assert "--device $(cat runs/workflow/paper/device)" in job, (rule, job)
    assert "gpu=1" not in jobs["short_runs"][0] and "--device" not in jobs["short_runs"][0]
    # a cuda workflow can be planned on a host without a GPU; a cpu one asks for no GPU
    cuda = _snakemake(tmp_path, "-n", "-p", "--config", "profile=smoke", "device=cuda")
    assert cuda.returncode == 0, cuda.stderr[-3000:]
    assert "resolve_device('cuda')" in cuda.stdout
    smoke = _snakemake(tmp_path, "-n", "-p", "--config", "profile=smoke")
    assert smoke.returncode == 0 and "gpu=1" not in smoke.stdout
    assert "resolve_device('cpu')" in smoke.stdout
    bad = _snakemake(tmp_path, "-n", "--config", "profile=smoke", "device=tpu")
    assert bad.returncode != 0 and "unknown device 'tpu'" in bad.stdout + bad.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "runs").exists()


def test_the_campaign_order_puts_the_pilot_then_the_reproduction_then_the_other_grids() -> None:
    from bnnoise.config import load_profile
    from bnnoise.pipeline.campaign import grid_tiers, mechanism_priority, training_priorities

    profile = load_profile("cpu")
    assert grid_tiers(profile.grid_names)[:2] == [("length_pilot",), ("main", "bn_count")]
    assert grid_tiers(["seeds", "main"]) == [("main",), ("seeds",)]
    ranks = training_priorities(profile, profile.grid_names)
    pilot, main = ranks["cifar10-resnet20-bn-ep60"], ranks["cifar10-vgg16-none"]
    assert pilot > main == ranks["cifar10-resnet20-bn-bn3"] > mechanism_priority(
        profile.grid_names) > ranks["cifar10-resnet20-gn4"] > ranks["cifar100-vgg16-bn"]
    assert ranks["cifar10-resnet20-bn"] == main  # a network of two grids ranks by the first
    assert min(ranks.values()) > 20  # every grid before the readings and the short runs


def test_a_half_trained_network_resumes_before_its_tiers_untouched_ones(tmp_path: Path) -> None:
    from dataclasses import replace

    from bnnoise.config import load_profile
    from bnnoise.pipeline.campaign import RESUMING_BONUS, training_priorities

    profile = replace(load_profile("cpu"), root=tmp_path)
    before = training_priorities(profile, ["converged"])
    resume = profile.store_dir / "resume"
    resume.mkdir(parents=True)
    (resume / "cifar10-resnet44-none-ep40-0123456789abcdef.pt").write_bytes(b"")
    (resume / "cifar10-resnet44-none-ep40-0123456789abcdef-epochs").mkdir()
    after = training_priorities(profile, ["converged"])
    half = "cifar10-resnet44-none-ep40"
    assert after[half] == before[half] + RESUMING_BONUS
    assert {slug: value for slug, value in after.items() if slug != half} == {
        slug: value for slug, value in before.items() if slug != half}
    assert RESUMING_BONUS < 10  # below a tier's step: the tiers keep their order
