"""The prepared check for a machine with a CUDA GPU: a few minutes that say whether the book's
CUDA path works there, before any longer run is spent on it.

    python scripts/gpu_check.py [--device cuda] [--out DIR] [--root DIR] [--chapter NAME]

Steps, each timed and judged:

1. ``noise``: the same seed perturbs ResNet20's arrays alike on the CPU and on the device (the
   noise is drawn on the CPU and moved, :mod:`bnnoise.noise.injection`); passes if every
   perturbed array agrees within 1e-5 of its noise scale (the reference scale is a reduction,
   whose last bits may differ between devices);
2. ``train``, ``sweep``: the ``smoke`` profile's trainings and noise sweeps on the device,
   through the command line (``python -m bnnoise train|sweep --profile smoke --device ...``);
3. ``chapter``: one chapter on the ``smoke`` profile on the device (``--chapter``, default
   ``02_noise``); skipped, and said so, where papermill is not installed;
4. ``rate``: training steps of ResNet20 with BN on random CIFAR-shaped batches of 128, in
   bfloat16 autocast on a GPU and in fp32 on a CPU: the images per second that size the
   converged tier's trainings on that machine; passes if every loss is finite.

Written to ``DIR/gpu_check.csv`` (default ``runs/gpu_check/``), rewritten after every step so
that a run cut short keeps the steps it finished: one row per step with its seconds, whether it
passed, what it measured (or the error that stopped it), and the machine record (GPU name,
torch). The trainings and sweeps go to the store of ``--root`` (default: a temporary project
holding the real ``params.yaml``, removed at the end, so nothing lands in this checkout's
store). Exits with status 1 if a step failed. ``--device cpu`` runs the same steps on the
CPU; the tests do, so that the script stays runnable on machines without a GPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from bnnoise.hardware import machine_record, resolve_device
from bnnoise.nets.models import build_model
from bnnoise.noise.injection import injected_noise, reference_scale
from bnnoise.noise.protocol import select_tensors
from bnnoise.throughput import training_step_rate

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = 1e-5
"""Largest difference between the CPU's and the device's perturbed arrays, over the noise's
scale, that the ``noise`` step accepts."""


def noise_step(device: str, eta: float = 0.1, seed: int = 3) -> tuple[bool, str]:
    """Step 1: ResNet20 with BN perturbed with one seed on the CPU and on ``device``."""
    torch.manual_seed(0)
    on_cpu = build_model("resnet20", 10, norm="bn")
    on_device = build_model("resnet20", 10, norm="bn").to(device)
    on_device.load_state_dict(on_cpu.state_dict())
    cpu_arrays, device_arrays = (select_tensors(m, "all") for m in (on_cpu, on_device))
    worst = 0.0
    with injected_noise(cpu_arrays, eta, seed), injected_noise(device_arrays, eta, seed):
        for name, array in cpu_arrays.items():
            scale = eta * reference_scale(array, "std") or 1.0
            gap = (device_arrays[name].cpu() - array).abs().max().item() / scale
            worst = max(worst, gap)
    return worst <= AGREEMENT, (f"largest gap {worst:.2g} of the noise scale, "
                                f"{len(cpu_arrays)} arrays")


def command_step(words: list[str], root: Path) -> tuple[bool, str]:
    """Steps 2 and 3: one command of the book's command line in the project ``root``."""
    done = subprocess.run([sys.executable, "-m", "bnnoise", *words], cwd=ROOT,
                          env={**os.environ, "BNNOISE_ROOT": str(root)},
                          capture_output=True, text=True)
    if done.returncode == 0:
        return True, "exit 0"
    last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
    return False, f"exit {done.returncode}: {last[0][:300]}"


def rate_step(device: str, steps: int = 20, batch: int = 128) -> tuple[bool, str]:
    """Step 4: images per second of ResNet20 training steps (bf16 on a GPU, fp32 on a CPU)."""
    precision = "bf16" if device == "cuda" else "fp32"
    measured = training_step_rate(device, precision, steps=steps, batch=batch)
    return measured.finite, (f"{measured.images_per_second:.0f} img/s ({precision}, batch {batch})"
                             f"{'' if measured.finite else ', non-finite loss'}")


def scratch_project() -> Path:
    """A temporary project: the real ``params.yaml`` and a link to the chapters."""
    root = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    shutil.copy(ROOT / "params.yaml", root / "params.yaml")
    (root / "chapters").symlink_to(ROOT / "chapters")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu_check")
    parser.add_argument("--root", type=Path, default=None, help="project whose store to use")
    parser.add_argument("--chapter", default="02_noise")
    args = parser.parse_args()
    try:
        device = resolve_device(args.device)
    except ValueError as error:  # no GPU here: one line, nothing run
        parser.error(str(error))
    out = args.out.resolve()  # the chapter's command runs in the checkout's root
    root = args.root.resolve() if args.root else scratch_project()
    on = ["--profile", "smoke", "--device", device]
    steps = {
        "noise": lambda: noise_step(device),
        "train": lambda: command_step(["train", *on], root),
        "sweep": lambda: command_step(["sweep", *on], root),
        "chapter": lambda: (command_step(["chapter", args.chapter, *on, "--output-dir",
                                          str(out / "chapter")], root)
                            if importlib.util.find_spec("papermill") else
                            (True, "skipped: papermill is not installed")),
        "rate": lambda: rate_step(device),
    }
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, run in steps.items():
        start = time.perf_counter()
        try:
            passed, detail = run()
        except Exception as error:  # a failed step is a row, and the next steps still run
            passed, detail = False, f"{type(error).__name__}: {error}"[:300]
        rows.append({"step": name, "passed": passed, "seconds": time.perf_counter() - start,
                     "detail": detail, **machine_record(device)})
        print(f"{name:8s} {'ok' if passed else 'FAILED':6s} {rows[-1]['seconds']:7.1f} s  "
              f"{detail}", flush=True)
        pd.DataFrame(rows).to_csv(out / "gpu_check.csv", index=False)
    if args.root is None:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if all(row["passed"] for row in rows) else 1)


if __name__ == "__main__":
    main()
