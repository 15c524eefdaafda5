
import pytest
import torch
from torch import nn

from bnnoise.nets.models import build_model, model_facts
from bnnoise.nets.norms import (
    BatchChannelNorm2d,
    ScaledWSConv2d,
    WSConv2d,
    make_activation_norm,
    parse_norm,
)

ALL_NORMS = ["bn", "none", "gn1", "gn4", "in", "ln", "bcn4", "ws", "sws", "wn", "gn4+ws",
             "bcn4+ws", "ln+ws", "bn+ws"]


@pytest.mark.parametrize("norm", ALL_NORMS)
def test_every_norm_builds_trains_one_step_and_stays_finite(norm: str) -> None:
    torch.manual_seed(0)
    model = build_model("resnet8", 10, norm)
    out = model(torch.randn(8, 3, 32, 32))
    out.sum().backward()
    assert out.shape == (8, 10) and torch.isfinite(out).all()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())


def test_weight_standardized_filters_have_zero_mean_unit_std() -> None:
    conv = WSConv2d(8, 16, 3)
    nn.init.normal_(conv.weight, mean=0.3, std=2.0)
    w = conv.standardized_weight()
    assert torch.allclose(w.mean(dim=(1, 2, 3)), torch.zeros(16), atol=1e-5)
    assert torch.allclose(w.std(dim=(1, 2, 3), unbiased=False), torch.ones(16), atol=1e-4)


def test_scaled_ws_keeps_unit_variance_through_relu_at_init() -> None:
    # (Brock et al., 2021): standardised filters of squared norm gamma^2 map ReLU(N(0, 1))
    # inputs, whose variance is (1 - 1/pi) / 2, to unit-variance outputs.
    torch.manual_seed(0)
    conv = ScaledWSConv2d(64, 64, 3, bias=False)
    with torch.no_grad():
        y = conv(torch.relu(torch.randn(32, 64, 12, 12)))
    assert abs(float(y.var()) - 1) < 0.1


def test_bcn_is_bn_then_group_norm_with_per_group_affine() -> None:
    torch.manual_seed(0)
    bcn = BatchChannelNorm2d(8, group_size=2)
    with torch.no_grad():
        bcn.weight.copy_(torch.tensor([1.5, 0.5, 2.0, 1.0]))
        bcn.bias.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
    x = torch.randn(6, 8, 5, 5) * 3 + 1
    bn = nn.BatchNorm2d(8)
    reference = nn.functional.group_norm(bn(x), 4)  # no affine
    scale = bcn.weight.repeat_interleave(2).view(1, 8, 1, 1)
    shift = bcn.bias.repeat_interleave(2).view(1, 8, 1, 1)
    assert torch.allclose(bcn(x), reference * scale + shift, atol=1e-5)


def test_group_norm_ends_are_instance_and_layer_norm() -> None:
    x = torch.randn(4, 16, 6, 6)
    ln = make_activation_norm(parse_norm("ln"), 16)
    inorm = make_activation_norm(parse_norm("in"), 16)
    assert torch.allclose(ln(x), nn.functional.layer_norm(x, x.shape[1:]), atol=1e-5)
    assert torch.allclose(inorm(x), nn.functional.instance_norm(x), atol=1e-5)
    assert make_activation_norm(parse_norm("gn4"), 16).num_groups == 4


def test_weight_norm_reproduces_the_weight_and_counts_no_activation_norm() -> None:
    model = build_model("resnet8", 10, "wn")
    facts = model_facts(model)
    assert facts.norm_layers == 0 and facts.bn_layers == 0
    conv = model.stem[0]
    g, v = conv.parametrizations.weight.original0, conv.parametrizations.weight.original1
    norm_v = v.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt()
    assert torch.allclose(conv.weight, g * v / norm_v, atol=1e-6)
    assert torch.allclose(g, norm_v)  # initialised so that the weight equals v


def test_bn_and_none_models_keep_their_state_dict_names() -> None:
    # trained artifacts of the noise chapters must keep loading
    keys = list(build_model("resnet8", 10, "bn").state_dict())
    assert keys[:4] == ["stem.0.weight", "stem.1.weight", "stem.1.bias", "stem.1.running_mean"]
    assert "blocks.0.branch2.0.weight" in build_model("resnet8", 10, "none").state_dict()


def test_unnormalized_residual_branches_start_at_zero_unless_told_otherwise() -> None:
    x = torch.randn(2, 16, 8, 8).relu()
    for norm in ("none", "wn", "sws", "ws"):
        assert torch.allclose(build_model("resnet8", 10, norm).blocks[0](x), x), norm
    plain = build_model("resnet8", 10, "none", zero_init_residual=False).blocks[0]
    assert not torch.allclose(plain(x), x)


@pytest.mark.parametrize("name", ["gn", "gn0", "xn", "bn+gn", "bn+ws+wn", "ws+bn"])
def test_invalid_norm_names_explain_the_grammar(name: str) -> None:
    with pytest.raises(ValueError, match="valid: activation part one of bn, l1bn, topkbn, gn<k>"):
        parse_norm(name)


def test_group_size_must_divide_the_channels() -> None:
    with pytest.raises(ValueError, match="group size 3 does not divide 16"):
        build_model("resnet8", 10, "gn3")
