"""Packaging: the library declares what it imports, and a wheel built from the project works."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "bnnoise"
PRESENTATION = ("figures", "pages", "build")
"""Packages that need the ``chapters`` extra; the rest needs only the core dependencies."""

EXTRA_MODULES = {"analog_device.py": "device", "analog_periphery.py": "device"}
"""Modules that need an extra of their own; they import it where it is used, so that the rest of
their package works without it."""

DISTRIBUTION = {"yaml": "pyyaml", "IPython": "ipython", "myst_nb": "myst-nb"}
"""Import names whose distribution is named otherwise."""


def _requirement_names(requirements: list[str]) -> set[str]:
    import re

    return {re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower() for r in requirements}


def _third_party_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "bnnoise"}


def test_every_import_of_the_library_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = _requirement_names(project["dependencies"])
    chapters = _requirement_names(project["optional-dependencies"]["chapters"])
    for path in SRC.rglob("*.py"):
        package = path.relative_to(SRC).parts[0]
        allowed = core | chapters if package in PRESENTATION else core
        if path.name in EXTRA_MODULES:
            allowed |= _requirement_names(
                project["optional-dependencies"][EXTRA_MODULES[path.name]])
        for name in _third_party_imports(path):
            assert DISTRIBUTION.get(name, name).lower() in allowed, (path.name, name)


def test_the_pinned_requirements_pin_every_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _requirement_names(project["dependencies"]) | set().union(
        *(_requirement_names(v) for v in project["optional-dependencies"].values()))
    pinned = set()
    for file in ("requirements.txt", "requirements-book.txt"):
        lines = [line.split("#")[0].strip() for line in (ROOT / file).read_text().splitlines()]
        pinned |= _requirement_names([line for line in lines if line and "==" in line])
    assert declared - pinned == set()


@pytest.mark.slow
def test_a_wheel_of_the_project_imports_and_runs_a_noise_draw(tmp_path: Path) -> None:
    import shutil

    project, wheels, site = tmp_path / "project", tmp_path / "wheels", tmp_path / "site"
    project.mkdir()  # build from a copy: the build leaves its own folders behind
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(SRC, project / "src" / "bnnoise",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(project)], check=True)
    wheel = next(wheels.glob("bnnoise-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(site), str(wheel)], check=True)
    script = """
import bnnoise, torch
from bnnoise.data import synthetic
from bnnoise.evaluation import accuracy
from bnnoise.nets.models import build_model
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import select_tensors
torch.manual_seed(0)
model = build_model("resnet8", 10, "bn").eval()
data = synthetic(10, n_train=64, n_test=40, seed=1)
clean = accuracy(model, data.x_test, data.y_test, data)
with injected_noise(select_tensors(model, "weights"), 0.5, seed=1):
    noisy = accuracy(model, data.x_test, data.y_test, data)
assert accuracy(model, data.x_test, data.y_test, data) == clean  # restored exactly
print(bnnoise.__file__, 0 <= noisy <= 1)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={"PYTHONPATH": str(site), "OMP_NUM_THREADS": "1",
                                 "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    location, ok = result.stdout.split()
    assert location.startswith(str(site)) and ok == "True"
