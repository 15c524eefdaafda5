"""The benchmark's display tables: fraction of peak and unreachable draws (no timing here)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "benchmarks" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fraction_of_peak_marks_rates_above_the_measured_peak(bench) -> None:
    assert bench._of_peak(0.234) == "23 %"
    assert bench._of_peak(1.0) == "100 %"
    assert bench._of_peak(1.3) == "130 % (over)"
    assert bench._of_peak(math.nan) == "–"
    assert bench.PEAK_SIZE >= 4096  # smaller matmuls understate the peak


def test_unreachable_draws_never_read_none(bench) -> None:
    task = "noise sweep cell ResNet20 (weights target, eta 0.5) at equal standard error 0.01"
    rows = [bench.row("matmul 4096x4096 (peak, best of 5)", "fp32", 100.0, "GFLOP/s", 100.0, 1.0),
            bench.row(task, "plain: 5 draws x 10000 images, fp32", 20.0, "s", 20.0,
                      higher_is_better=False),
            bench.row(task, "library fast: None draws x 1000-image stratified subset",
                      math.nan, "s", 20.0, higher_is_better=False)]
    tables = bench.display_tables(pd.DataFrame(rows))
    campaign = tables["benchmark_campaign.csv"]
    assert not campaign["variant"].str.contains("None").any()
    assert campaign["variant"].iloc[1] == (
        "library fast, 1000-image stratified subset: not reachable (its image sampling error "
        "alone exceeds the target)")
    assert list(campaign["time"]) == ["20 s", "–"] and "rate" not in campaign
    assert "of peak" not in campaign  # no row of it has a peak to compare with
    assert list(campaign["task"]) == [task, ""]
    peak = tables["benchmark_peak_training.csv"]
    assert list(peak["of peak"]) == ["100 %"]


def test_unreachable_draws_in_the_variance_components(bench) -> None:
    table = pd.DataFrame([bench.row("matmul", "fp32", 1.0, "GFLOP/s", 1.0, 1.0)])
    components = pd.DataFrame({"eta": [0.05, 0.5], "draw_variance": [1e-4, 1e-3],
                               "image_variance": [1e-3, 1e-2], "residual_variance": [1e-2, 1e-1],
                               "standard_error": [0.002, 0.01],
                               "subset_draws_needed": [12, None]})
    shown = bench.display_tables(table, components)["variance_components_display.csv"]
    assert list(shown["subset draws"]) == ["12", "not reachable"]
