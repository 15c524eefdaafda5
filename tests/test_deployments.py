"""The remedies' deployments of a noisy BN network (bnnoise.noise.deployments)."""

import pytest
import torch
from torch import nn

from bnnoise.config import load_profile
from bnnoise.data import DataCache
from bnnoise.image_selection import content_order
from bnnoise.nets.models import build_model
from bnnoise.noise.deployments import (
    STANDARD,
    ChannelAffine,
    Deployment,
    prepare,
    realised,
    recalibrate,
)
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import select_tensors
from bnnoise.pipeline.specs import ModelSpec
from bnnoise.pipeline.sweeps import noise_sweep
from bnnoise.pipeline.trained import trained_model
from bnnoise.store import ArtifactStore


def _bn_model() -> nn.Module:
    torch.manual_seed(0)
    model = build_model("resnet8", 10, "bn")
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(64, 3, 32, 32))
    return model.eval()


@pytest.mark.parametrize("name", ["gain", "folded"])
def test_gain_and_folded_networks_compute_the_trained_function(name: str) -> None:
    model = _bn_model()
    network = prepare(model, Deployment(name))
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(network(x), model(x), atol=1e-4, rtol=1e-4)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in network.modules())
    if name == "gain":
        assert any(isinstance(m, ChannelAffine) for m in network.modules())
        # noise on the affine map: the gain and shift arrays are the only BN-side arrays
        assert not any("running" in k for k in select_tensors(network, "all"))


def test_clamping_prevents_the_collapse_and_is_undone_after_the_draw() -> None:
    model = _bn_model()
    variances = {k: v for k, v in select_tensors(model, "all").items()
                 if k.endswith("running_var")}
    x = torch.randn(8, 3, 32, 32)
    with injected_noise(variances, 20.0, seed=0):
        assert any((v < 0).any() for v in variances.values())
        with torch.no_grad():
            assert not torch.isfinite(model(x)).all()  # collapse: sqrt of a negative number
        noisy = {k: v.clone() for k, v in variances.items()}
        with realised(model, Deployment("clamped")):
            assert all((v >= 0).all() for v in variances.values())
            with torch.no_grad():
                assert torch.isfinite(model(x)).all()
        assert all(torch.equal(v, noisy[k]) for k, v in variances.items())


def test_recalibration_measures_the_noisy_networks_statistics_and_restores_them() -> None:
    model = _bn_model()
    stem_conv, stem_bn = model.stem[0], model.stem[1]
    stored = stem_bn.running_mean.clone()
    images = torch.randn(512, 3, 32, 32)
    weights = select_tensors(model, "weights")
    with (injected_noise(weights, 0.5, seed=1),
          realised(model, Deployment("recalibrated", images=512), images)):
        with torch.no_grad():
            expected = stem_conv(images).mean(dim=(0, 2, 3))
        assert torch.allclose(stem_bn.running_mean, expected, atol=1e-4)
        assert not stem_bn.training
    assert torch.equal(stem_bn.running_mean, stored)
    with (pytest.raises(ValueError, match="needs 512 images"),
          realised(model, Deployment("recalibrated", images=512), images[:10])):
        pass
    recalibrate(model, images[:32])  # one batch: the cumulative average is that batch's
    assert stem_bn.momentum == 0.1


def test_deployments_are_validated_and_only_non_standard_ones_enter_keys() -> None:
    with pytest.raises(ValueError, match="unknown deployment 'x'; valid: standard, clamped"):
        Deployment("x")
    with pytest.raises(ValueError, match="recalibrated takes images > 0"):
        Deployment("recalibrated")
    assert STANDARD.key() == {}
    assert Deployment("recalibrated", 64).key() == {"deployment": "recalibrated",
                                                    "recalibration_images": 64}


def test_calibration_order_is_defined_by_content_and_nested() -> None:
    images = torch.randint(0, 255, (50, 3, 4, 4), dtype=torch.uint8)
    order = content_order(images, seed=3)
    shuffled = torch.randperm(50)
    other = content_order(images[shuffled], seed=3)
    assert torch.equal(images[order], images[shuffled][other])
    assert sorted(order.tolist()) == list(range(50))


def test_a_deployment_sweep_shares_the_clean_reference_and_has_its_own_cells(tmp_path) -> None:
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).resolve().parents[1] / "params.yaml", tmp_path / "params.yaml")
    profile = load_profile("smoke", root=tmp_path, draws=2, etas=[0.5], targets=["all"])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    run = trained_model(store, ModelSpec("synthetic10", "resnet8", "bn"), profile.recipe, data)
    standard = noise_sweep(store, run, profile.noise, data)
    before = {p.name for p in (store.root / "sweeps").iterdir()}
    recalibrated = noise_sweep(store, run, profile.noise, data,
                               deployment=Deployment("recalibrated", 64))
    new = {p.name for p in (store.root / "sweeps").iterdir()} - before
    assert len(new) == 1 and "recalibrated64" in new.pop()  # eta 0.5 only; clean is shared
    clean = standard[standard["eta"] == 0]["accuracy"].iloc[0]
    assert recalibrated[recalibrated["eta"] == 0]["accuracy"].iloc[0] == clean
    gain = noise_sweep(store, run, profile.noise, data, deployment=Deployment("gain"))
    assert len(gain) == 1 + 2
