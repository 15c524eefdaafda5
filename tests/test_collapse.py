"""The exact collapse probability against direct simulation of the noise."""

import numpy as np
import pytest
import torch
from scipy.stats import norm as gaussian
from torch import nn

from bnnoise.nets.models import build_model
from bnnoise.noise.collapse import collapse_probability
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import draw_seed, select_tensors


def _with_running_variances(model: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_var.copy_(torch.rand(m.num_features, generator=g) * 2 + 0.05)
    return model


def test_single_channel_matches_the_gaussian_tail() -> None:
    bn = nn.BatchNorm2d(2)
    bn.running_var.copy_(torch.tensor([1.0, 3.0]))  # std (population) = 1
    p = collapse_probability(nn.Sequential(bn), 0.5)
    expected = 1 - gaussian.cdf((1 + 1e-5) / 0.5) * gaussian.cdf((3 + 1e-5) / 0.5)
    assert p == pytest.approx(expected, rel=1e-9)


def test_no_batchnorm_never_collapses() -> None:
    assert collapse_probability(build_model("resnet8", 10, "none"), 1.0) == 0.0


@pytest.mark.parametrize("eta, kind", [(0.1, "additive"), (0.15, "additive"),
                                       (0.3, "multiplicative")])
def test_probability_agrees_with_simulated_draws(eta: float, kind: str) -> None:
    model = _with_running_variances(build_model("resnet8", 10, "bn"))
    p = collapse_probability(model, eta, kind=kind)
    tensors = select_tensors(model, "all")
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    draws = 2000
    collapsed = 0
    for d in range(draws):
        with injected_noise(tensors, eta, draw_seed(0, eta, d), kind=kind):
            collapsed += any(bool((m.running_var + m.eps < 0).any()) for m in bns)
    se = np.sqrt(p * (1 - p) / draws)
    assert 0.02 < p < 0.98
    assert abs(collapsed / draws - p) < 4 * se


def test_bad_eta_is_refused() -> None:
    with pytest.raises(ValueError, match="eta must be > 0"):
        collapse_probability(build_model("resnet8", 10, "bn"), 0.0)
