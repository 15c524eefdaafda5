import pytest
import torch
from torch import nn

from bnnoise.nets.effective_weights import deployed, has_reparametrized_weights, is_reparametrized
from bnnoise.nets.models import build_model
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import select_tensors

REPARAMETRIZED = ["ws", "sws", "wn", "gn4+ws", "bcn4+ws"]


def _trained_looking(norm: str) -> nn.Module:
    """A small model with non-trivial weights and statistics, in evaluation mode."""
    torch.manual_seed(0)
    model = build_model("resnet8", 10, norm)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        model.train()
        model(torch.randn(32, 3, 32, 32))  # non-default running statistics where there are any
    return model.eval()


@pytest.mark.parametrize("norm", REPARAMETRIZED)
def test_deployed_network_computes_the_same_function_with_plain_convolutions(norm: str) -> None:
    model = _trained_looking(norm)
    network = deployed(model)
    x = torch.randn(16, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(network(x), model(x), atol=1e-4, rtol=1e-4)
    assert has_reparametrized_weights(model) and not has_reparametrized_weights(network)
    assert not network.training
    assert has_reparametrized_weights(model)  # the original is left as it was


@pytest.mark.parametrize("norm", ["bn", "none", "gn4", "l1bn"])
def test_models_without_reparametrized_weights_are_deployed_as_they_are(norm: str) -> None:
    model = build_model("resnet8", 10, norm)
    assert deployed(model) is model


def test_weight_target_covers_every_convolution_of_a_weight_normalized_model() -> None:
    model = _trained_looking("wn")
    convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    with pytest.raises(ValueError, match="reparametrized"):
        select_tensors(model, "weights")  # would silently skip the parametrized weights
    effective = select_tensors(deployed(model), "weights")
    assert sum(k.endswith("weight") and t.dim() == 4 for k, t in effective.items()) == convs


def test_noise_lands_on_the_effective_weight_and_is_not_standardized_away() -> None:
    model = _trained_looking("ws")
    network = deployed(model)
    conv_name = next(n for n, m in model.named_modules() if is_reparametrized(m))
    clean = model.get_submodule(conv_name).standardized_weight().detach()
    tensors = select_tensors(network, "weights")
    with injected_noise(tensors, 0.5, seed=1):
        noisy = tensors[f"{conv_name}.weight"].clone()
    # additive noise of std 0.5 * std(W_eff) = 0.5 on a standardized filter: the per-filter std
    # of the difference is near 0.5, and the noisy filter is no longer standardized
    diff_std = (noisy - clean).std(dim=(1, 2, 3), unbiased=False)
    assert torch.allclose(diff_std.mean(), torch.tensor(0.5), atol=0.05)
    assert (noisy.std(dim=(1, 2, 3), unbiased=False) - 1).abs().max() > 0.02
    assert torch.equal(tensors[f"{conv_name}.weight"], clean)  # restored after the draw
