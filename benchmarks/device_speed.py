"""How long a sweep cell on the PCM-like device takes against a Gaussian sweep cell of the same
network, in one run.

    python benchmarks/device_speed.py [--profile cpu] [--model resnet20] [--draws 5] [--repeats 3]
                                      [--dac-bits 7]

Both cells evaluate a trained network of the profile's main grid (``--model``, with BN and
without) on random CIFAR-shaped images as many as the device protocol's test subset, with the
same number of draws and the weights of every convolution and linear layer under noise
(target set ``kernels``): the Gaussian cell with the profile's noise (η = 0.1), the device
cell with the profile's device read one day after programming, and, where the profile has a
device variant ``periphery``, that device with its tiles' converters and per-forward read noise
(fresh noise on every output of every image), and that device with a ``--dac-bits`` input
converter too (timed in the first repeat only: it takes tens of seconds). The table
``data/results/benchmark/device_speed.csv`` (or under ``--out``) holds, per network and cell,
the median seconds per draw over the repeats (the two cells interleaved), the device cell's
ratio to the Gaussian one and the machine record (:func:`bnnoise.hardware.machine_record`);
``device_speed_display.csv`` is the performance page's view of it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch
from benchmark import random_dataset

from bnnoise.config import load_profile
from bnnoise.data import normalize
from bnnoise.hardware import machine_record
from bnnoise.noise.deployments import STANDARD
from bnnoise.pipeline import device_sweeps, sweep_cells
from bnnoise.pipeline.specs import profile_specs
from bnnoise.pipeline.trained import profile_model

OUT = Path(__file__).resolve().parents[1] / "data" / "results" / "benchmark"
PERIPHERY = "periphery"
"""The device variant whose tiles read through their converters and per-forward noise
(:mod:`bnnoise.noise.analog_periphery`), timed as a third cell where the profile has it."""


def timed(run, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``run``."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return seconds


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The performance page's view of ``device_speed.csv``."""
    return pd.DataFrame({
        "model": table["model"], "BN": table["norm"].map({"bn": "with", "none": "without"}),
        "cell": table["cell"], "seconds per draw": table["seconds_per_draw"].round(3),
        "ratio to the Gaussian cell": table["ratio_to_gaussian"].round(2),
        "machine": table["vector_unit"] + ", " + table["threads"].astype(str) + " threads"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", help="whose trained models to use")
    parser.add_argument("--model", default="resnet20", help="a model of the main grid")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the tables")
    parser.add_argument("--draws", type=int, default=5, help="draws per cell")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per cell")
    parser.add_argument("--dac-bits", type=int, default=7,
                        help="also time the periphery with a DAC of this many bits, whose "
                             "input vectors are unfolded patches (0: not)")
    parser.add_argument("--tables-only", action="store_true",
                        help="rewrite the display table from device_speed.csv, time nothing")
    args = parser.parse_args()
    if args.tables_only:
        display = display_table(pd.read_csv(args.out / "device_speed.csv"))
        display.to_csv(args.out / "device_speed_display.csv", index=False)
        return
    profile = load_profile(args.profile)
    study = profile.devices
    if study is None:
        raise SystemExit(f"profile {args.profile} has no devices entry in params.yaml")
    device = replace(study.protocol, draws=args.draws, times=(86_400.0,))
    variants = dict(study.variants)
    periphery = (replace(variants[PERIPHERY], draws=args.draws, times=(86_400.0,))
                 if PERIPHERY in variants else None)
    with_dac = periphery and replace(periphery, device=replace(periphery.device,
                                                               inp_bits=args.dac_bits))
    gaussian = replace(profile.noise, draws=args.draws)
    images = 10 * (device.eval_per_class or 1000)
    data = random_dataset(16, images)
    inputs, y = normalize(data.x_test, data), data.y_test
    cell_inputs = device_sweeps._Inputs(inputs, y, None, {"clean_accuracy": 1.0,
                                                           "clean_accuracy_argmax": 1.0})
    rows = []
    specs = [s for s in profile_specs(profile, "main") if s.model == args.model and s.seed == 0]
    if not specs:
        raise SystemExit(f"no model {args.model!r} with seed 0 in the main grid of profile "
                         f"{args.profile}; see: python -m bnnoise list --profile {args.profile}")
    for spec in specs:
        trained = profile_model(profile, spec)
        cells = {
            "gaussian": lambda t=trained: sweep_cells._sweep_cell(
                t, inputs, y, gaussian, "kernels", 0.1),
            "device": lambda t=trained: device_sweeps._device_cell(
                t, cell_inputs, device, "kernels", 86_400.0, STANDARD)}
        if periphery is not None:
            cells["device, periphery"] = lambda t=trained: device_sweeps._device_cell(
                t, cell_inputs, periphery, "kernels", 86_400.0, STANDARD)
            if args.dac_bits:
                cells[f"device, periphery, {args.dac_bits}-bit DAC"] = (
                    lambda t=trained: device_sweeps._device_cell(
                        t, cell_inputs, with_dac, "kernels", 86_400.0, STANDARD))
        seconds: dict[str, list[float]] = {name: [] for name in cells}
        for repeat in range(args.repeats):  # interleaved, so that a slower spell hits all
            for name, run in cells.items():
                if repeat == 0 or "DAC" not in name:  # a DAC cell, tens of seconds, once
                    seconds[name] += timed(run, 1)
        per_draw = {name: statistics.median(s) / args.draws for name, s in seconds.items()}
        for name, value in per_draw.items():
            rows.append({"model": spec.model, "norm": spec.norm, "cell": name,
                         "images": images, "draws": args.draws,
                         "repeats": len(seconds[name]),
                         "seconds_per_draw": value,
                         "ratio_to_gaussian": value / per_draw["gaussian"],
                         "threads": torch.get_num_threads(), **machine_record()})
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "device_speed.csv", index=False, float_format="%.6g")
    display = display_table(table)
    display.to_csv(args.out / "device_speed_display.csv", index=False)
    print(display.to_string(index=False))


if __name__ == "__main__":
    main()
