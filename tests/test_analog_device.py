"""The PCM-like device (bnnoise.noise.analog_device) against the published formulas, on large
samples; its mapping, drift compensation, seeding and exact restore."""

import math

import pandas as pd
import pytest
import torch

pytest.importorskip("aihwkit")

from bnnoise.noise.analog_device import (  # noqa: E402
    PCMDevice,
    conductance_draw,
    device_noise,
    device_weights,
    drift_moments,
    programming_spread,
)

N = 200_000


def _draw(g: float, device: PCMDevice):
    torch.manual_seed(0)
    return conductance_draw(torch.full((N,), g), device)


@pytest.mark.parametrize("fraction", [0.5, 1.0])
def test_programming_noise_has_the_published_spread(fraction: float) -> None:
    device = PCMDevice(t_inference=0.0)
    g = fraction * device.g_max
    programmed = _draw(g, device).programmed
    assert float(programmed.mean()) == pytest.approx(g, abs=0.01)
    assert float(programmed.std()) == pytest.approx(programming_spread(g, device), rel=0.01)


def test_programming_noise_at_zero_is_clipped_to_a_half_normal() -> None:
    device = PCMDevice(t_inference=0.0)
    programmed = _draw(0.0, device).programmed
    sigma = programming_spread(0.0, device)  # 0.26348 µS at G_max = 25 µS
    assert sigma == pytest.approx(0.26348)
    assert float((programmed == 0).float().mean()) == pytest.approx(0.5, abs=0.01)
    assert float(programmed.mean()) == pytest.approx(sigma / math.sqrt(2 * math.pi), rel=0.02)


@pytest.mark.parametrize("fraction", [0.1, 1.0])
def test_drift_coefficients_have_the_published_mean_and_spread(fraction: float) -> None:
    device = PCMDevice()
    g = fraction * device.g_max
    nu = _draw(g, device).nu
    mean, spread = drift_moments(g, device)
    assert float(nu.mean()) == pytest.approx(mean, rel=0.02)
    assert float(nu.std()) == pytest.approx(spread, rel=0.03)


def test_read_noise_grows_with_the_square_root_of_log_time() -> None:
    g, t_read, t0 = 12.5, 250e-9, 20.0
    spreads = {}
    for t in (3600.0, 86400.0):
        device = PCMDevice(t_inference=t, prog_noise_scale=0.0, drift_scale=0.0)
        spreads[t] = float(_draw(g, device).read.std())
    expected = math.sqrt(math.log((86400 + t0 + t_read) / (2 * t_read))
                         / math.log((3600 + t0 + t_read) / (2 * t_read)))
    assert spreads[86400.0] / spreads[3600.0] == pytest.approx(expected, rel=0.02)


def test_drift_compensation_restores_the_mean_read_out_without_noise() -> None:
    torch.manual_seed(1)
    weights = torch.randn(16, 8, 3, 3)
    quiet = dict(prog_noise_scale=0.0, read_noise_scale=0.0, t_inference=86400.0 * 365)
    drifted = device_weights(weights, PCMDevice(**quiet, drift_compensation=False))
    assert float(drifted.abs().mean()) < 0.7 * float(weights.abs().mean())  # a year of drift
    restored = device_weights(weights, PCMDevice(**quiet))
    assert float(restored.abs().mean()) == pytest.approx(float(weights.abs().mean()), rel=1e-5)


def test_column_mapping_of_one_column_is_the_tensor_mapping() -> None:
    weights = torch.randn(1, 50)
    draws = []
    for mapping in ("tensor", "column"):
        torch.manual_seed(3)
        draws.append(device_weights(weights, PCMDevice(mapping=mapping)))
    assert torch.equal(*draws)
    torch.manual_seed(3)
    wide = torch.cat([weights, 0.01 * weights])  # a column of small weights
    per_column = device_weights(wide, PCMDevice(mapping="column", t_inference=0.0))
    per_tensor = device_weights(wide, PCMDevice(t_inference=0.0))
    small = slice(1, 2)
    error = {m: float((d[small] - wide[small]).abs().mean() / wide[small].abs().mean())
             for m, d in (("column", per_column), ("tensor", per_tensor))}
    assert error["column"] < error["tensor"] / 10  # its own G_max: far less relative noise


def test_a_draw_is_seeded_restored_exactly_and_leaves_biases_exact() -> None:
    weight, bias = torch.randn(4, 3), torch.randn(4)
    tensors = {"layer.weight": weight, "layer.bias": bias}
    before = {k: v.clone() for k, v in tensors.items()}
    state = torch.random.get_rng_state()
    with device_noise(tensors, PCMDevice(), seed=7):
        first = weight.clone()
        assert not torch.equal(first, before["layer.weight"])
        assert torch.equal(bias, before["layer.bias"])
    with device_noise(tensors, PCMDevice(), seed=7):
        assert torch.equal(weight, first)
    assert torch.equal(weight, before["layer.weight"])
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("change, message", [
    ({"g_max": 0}, "g_max must be > 0"), ({"mapping": "row"}, "unknown mapping 'row'"),
    ({"t_inference": -1}, "t_inference must be >= 0"), ({"drift_scale": -0.5}, "drift_scale"),
    ({"clip_sigmas": 0}, "clip_sigmas must be > 0"),
])
def test_bad_parameters_stop_in_one_line(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PCMDevice(**change)


def test_a_device_sweep_stores_each_cell_once_and_normalizes_by_the_clean_network(
        tmp_path, monkeypatch) -> None:
    from bnnoise.config.setups import Recipe
    from bnnoise.data import synthetic
    from bnnoise.noise.deployments import Deployment
    from bnnoise.pipeline import device_sweeps as D
    from bnnoise.pipeline.specs import ModelSpec
    from bnnoise.pipeline.trained import trained_model
    from bnnoise.store import ArtifactStore

    data = synthetic(10, n_train=128, n_test=40, seed=1)
    store = ArtifactStore(tmp_path / "store")
    trained = trained_model(store, ModelSpec("synthetic10", "resnet8", "bn"),
                            Recipe(epochs=1, batch_size=32, lr=0.05, warmup_epochs=0,
                                   precision="fp32"), lambda name: data)
    from bnnoise.config.devices import YEAR, DeviceProtocol

    protocol = DeviceProtocol(times=(0.0, YEAR), draws=2, eval_per_class=4)
    table = D.device_sweep(store, trained, protocol, lambda name: data)
    assert len(table) == 2 * 2 and set(table["t_inference"]) == {0.0, YEAR}
    assert set(table["deployment"]) == {"standard"} and (table["norm"] == "bn").all()
    assert table["accuracy"].between(0, 1).all()
    ratio = table["accuracy"] / table["normalized_accuracy"]
    assert ratio.nunique() == 1  # one clean reference for every cell
    monkeypatch.setattr(D, "_device_cell", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("computed again")))
    no_data = lambda name: (_ for _ in ()).throw(AssertionError("data read"))  # noqa: E731
    again = D.device_sweep(store, trained, protocol, no_data)  # stored: no data needed
    pd.testing.assert_frame_equal(again, table)
    folded = D.device_cell_config(trained, protocol, "kernels", 0.0, Deployment("folded"))
    assert folded != D.device_cell_config(trained, protocol, "kernels", 0.0)
    with pytest.raises(ValueError, match="times must be a non-empty list of seconds >= 0"):
        DeviceProtocol(times=(-1.0,))


def test_the_devices_command_sweeps_the_profile_and_bad_entries_stop_in_one_line(
        project, monkeypatch, capsys) -> None:
    from bnnoise import cli
    from bnnoise.config import load_profile
    from bnnoise.config.devices import device_study

    monkeypatch.setenv("BNNOISE_ROOT", str(project))
    cli.main(["devices", "--profile", "smoke", "--only", "synthetic10-resnet8-bn"])
    out = capsys.readouterr().out
    for run in ("default device, standard", "default device, folded",
                "column device, standard", "periphery device, standard"):
        assert f"({run}): mean accuracy per time" in out, run
    store = load_profile("smoke", root=project).store_dir / "device_sweeps"
    assert len(list(store.iterdir())) == 4 * 2  # (two deployments + two variants) x two times
    assert len(list(store.glob("*-standard-column-*"))) == 2
    assert len(list(store.glob("*-standard-periphery-*"))) == 2
    from bnnoise.pipeline.device_sweeps import stored_device_results

    stored = stored_device_results(load_profile("smoke", root=project))  # no data, no compute
    assert stored is not None and set(stored.draws["model"]) == {"resnet8"}
    assert set(stored.draws["device"]) == {"default", "column", "periphery"}
    with pytest.raises(ValueError, match="devices: unknown entry tims; valid: grid, times"):
        device_study({"tims": [1]}, 100)
    with pytest.raises(ValueError, match="devices.device: unknown field t_inference"):
        device_study({"device": {"t_inference": 3}}, 100)
    with pytest.raises(ValueError, match="unknown deployment 'digital'"):
        device_study({"deployments": ["digital"]}, 100)
    with pytest.raises(ValueError, match="devices.variants.col: unknown field maping"):
        device_study({"variants": {"col": {"maping": "column"}}}, 100)
    with pytest.raises(ValueError, match="'default' names devices.device itself"):
        device_study({"variants": {"default": {"mapping": "column"}}}, 100)


def test_the_chapter_s_device_statistics_match_the_published_formulas() -> None:
    from bnnoise.analysis.device_model import device_statistics

    table = device_statistics(PCMDevice(), (1.0, 3600.0, 86400.0 * 365), samples=50_000)
    assert set(table["quantity"]) == {"programming spread", "drift mean", "drift spread",
                                      "read noise growth"}
    assert (table["measured"] / table["published"]).between(0.95, 1.05).all(), table
    growth = table[table["quantity"] == "read noise growth"]["measured"].to_numpy()
    assert growth[0] == 1.0 and (growth[1:] > 1.1).all()


@pytest.mark.slow
def test_the_device_speed_benchmark_times_every_cell(smoke_project, tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(root / "benchmarks" / "device_speed.py"), "--profile",
                    "smoke", "--model", "resnet8", "--draws", "1", "--repeats", "1", "--out",
                    str(tmp_path)], check=True, capture_output=True,
                   env={**os.environ, "BNNOISE_ROOT": str(smoke_project)})
    table = pd.read_csv(tmp_path / "device_speed.csv")
    assert set(table["cell"]) == {"gaussian", "device", "device, periphery",
                                  "device, periphery, 7-bit DAC"}
    assert set(table["norm"]) == {"bn", "none"}
    assert (table["seconds_per_draw"] > 0).all()
    assert (table.loc[table["cell"] == "gaussian", "ratio_to_gaussian"] == 1).all()
    shown = pd.read_csv(tmp_path / "device_speed_display.csv")
    assert list(shown.columns) == ["model", "BN", "cell", "seconds per draw",
                                   "ratio to the Gaussian cell", "machine"]
