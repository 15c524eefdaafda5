"""L1 and TopK BatchNorm: Gaussian matching, running statistics, names."""

import pytest
import torch

from bnnoise.nets.models import build_model, model_facts
from bnnoise.nets.robust_bn import L1_CONSTANT, RobustBatchNorm2d, topk_constant


@pytest.mark.parametrize("scale", ["l1", "topk"])
def test_scale_matches_the_standard_deviation_for_gaussian_inputs(scale: str) -> None:
    g = torch.Generator().manual_seed(0)
    x = 3.0 + 2.5 * torch.randn(64, 4, 16, 16, generator=g)
    layer = RobustBatchNorm2d(4, scale).train()
    y = layer(x)
    assert y.mean().item() == pytest.approx(0.0, abs=1e-4)
    assert y.std().item() == pytest.approx(1.0, abs=0.04)  # the scale estimates sigma


def test_l1_constant_and_topk_constant() -> None:
    assert pytest.approx((torch.pi / 2) ** 0.5) == L1_CONSTANT
    z = torch.randn(200, 10_000, generator=torch.Generator().manual_seed(1)).abs()
    simulated = z.topk(100, dim=1).values.mean().item()
    assert topk_constant(10_000, 100) == pytest.approx(simulated, rel=0.01)


def test_running_statistics_are_used_in_evaluation() -> None:
    layer = RobustBatchNorm2d(2, "l1", momentum=1.0).train()
    x = torch.randn(32, 2, 4, 4) * 4 + 1
    layer(x)
    assert layer.running_mean == pytest.approx(x.mean((0, 2, 3)), abs=1e-5)
    layer.eval()
    expected = (x - layer.running_mean.view(1, -1, 1, 1)) / (
        layer.running_scale.view(1, -1, 1, 1) + layer.eps)
    assert torch.allclose(layer(x), expected, atol=1e-6)


@pytest.mark.parametrize("norm", ["l1bn", "topkbn"])
def test_networks_by_name(norm: str) -> None:
    model = build_model("resnet8", 10, norm)
    facts = model_facts(model)
    assert facts.bn_layers == 0 and facts.norm_layers == 7
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    with pytest.raises(ValueError, match="unknown robust scale"):
        RobustBatchNorm2d(4, "l3")
