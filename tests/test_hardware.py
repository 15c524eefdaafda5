"""Device selection, precision warnings and the machine facts stored with results."""

import pytest
import torch

from bnnoise import hardware
from bnnoise.config import load_profile
from bnnoise.config.setups import NoiseProtocol, Recipe
from bnnoise.origin import config_device
from bnnoise.pipeline.specs import ModelSpec, model_config
from bnnoise.store import ArtifactStore


@pytest.mark.parametrize("gpu, expected", [(False, "cpu"), (True, "cuda")])
def test_auto_picks_a_gpu_only_when_there_is_one(monkeypatch, gpu: bool, expected: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    assert hardware.resolve_device("auto") == expected
    assert hardware.resolve_device("cpu") == "cpu"


def test_cuda_without_a_gpu_and_unknown_devices_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU is available here; valid here: auto, cpu"):
        hardware.resolve_device("cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'; valid: auto, cpu, cuda"):
        hardware.resolve_device("tpu")


def test_profiles_resolve_their_device_before_any_compute(monkeypatch, project) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    profile = load_profile("paper", root=project)  # device: auto
    assert profile.device == profile.recipe.device == profile.noise.device == "cpu"
    with pytest.raises(ValueError, match="no CUDA GPU"):
        load_profile("smoke", root=project, device="cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert load_profile("paper", root=project).recipe.device == "cuda"


def test_devices_never_share_artifacts_and_cpu_keys_stay_as_they_were() -> None:
    spec = ModelSpec("cifar10", "resnet20", "bn")
    cpu, cuda = model_config(spec, Recipe()), model_config(spec, Recipe(device="cuda"))
    assert "device" not in cpu["recipe"] and cuda["recipe"]["device"] == "cuda"
    assert cpu != cuda
    assert "device" not in NoiseProtocol().as_dict()
    assert NoiseProtocol(device="cuda").as_dict()["device"] == "cuda"
    with pytest.raises(ValueError, match="device must be one of"):
        Recipe(device="auto")  # resolved by the profile, never stored as such


def test_autocast_follows_device_and_precision() -> None:
    bf16 = hardware.autocast("cpu", "bf16")
    assert bf16.fast_dtype == torch.bfloat16 and bf16._enabled
    assert not hardware.autocast("cpu", "fp32")._enabled
    with hardware.autocast("cpu", "bf16"):
        out = torch.nn.Linear(4, 4)(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16


def test_slow_bf16_is_warned_about_with_the_expected_slowdown(monkeypatch) -> None:
    monkeypatch.setattr(hardware, "native_bf16", lambda: False)
    monkeypatch.setattr(hardware, "vector_unit", lambda: "AVX512")
    with pytest.warns(UserWarning, match="about 2.2x slower than fp32"):
        hardware.check_precision("bf16")
    monkeypatch.setattr(hardware, "vector_unit", lambda: "AVX2")
    with pytest.warns(UserWarning, match="about 11.6x slower than fp32"):
        hardware.check_precision("bf16")
    monkeypatch.setattr(hardware, "vector_unit", lambda: "DEFAULT")
    with pytest.warns(UserWarning, match="not measured"):
        hardware.check_precision("bf16")
    monkeypatch.setattr(hardware, "native_bf16", lambda: True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hardware.check_precision("bf16")
        hardware.check_precision("fp32")
        hardware.check_precision("bf16", "cuda")


def test_machine_record_names_the_gpu_only_for_gpu_runs(monkeypatch) -> None:
    record = hardware.machine_record()
    assert {"cpu", "amx", "avx512_bf16", "threads", "torch", "python"} <= set(record)
    assert record["device"] == "cpu" and "gpu" not in record
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *_: "Test GPU 80GB")
    gpu = hardware.machine_record("cuda")
    assert gpu["device"] == "cuda" and gpu["gpu"] == "Test GPU 80GB"


def test_config_device_reads_the_device_a_key_names() -> None:
    spec = ModelSpec("cifar10", "resnet20", "bn")
    assert config_device(model_config(spec, Recipe())) == "cpu"
    assert config_device(model_config(spec, Recipe(device="cuda"))) == "cuda"
    sweep_cell = {"model_key": "m-0123", "eta": 0.1, **NoiseProtocol(device="cuda").as_dict()}
    assert config_device(sweep_cell) == "cuda"
    assert config_device({"model_key": "m-0123", **NoiseProtocol().as_dict()}) == "cpu"


def test_manifests_record_the_device_used_and_keys_stay_as_they_were(monkeypatch,
                                                                     tmp_path) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *_: "Test GPU 80GB")
    store = ArtifactStore(tmp_path)
    spec = ModelSpec("cifar10", "resnet20", "bn")
    for recipe, device, gpu in ((Recipe(), "cpu", None),
                                (Recipe(device="cuda"), "cuda", "Test GPU 80GB")):
        config = model_config(spec, recipe)
        with store.writer("models", spec.slug, config, {"data_fingerprint": "abc"}) as out:
            (out / "model.pt").write_bytes(b"weights")
        record = store.provenance("models", spec.slug, config)
        assert record["device"] == device and record.get("gpu") == gpu
        assert record["data_fingerprint"] == "abc"
        assert store.load("models", spec.slug, config) is not None  # keyed as before
    assert len(list((tmp_path / "models").iterdir())) == 2  # devices never share artifacts
