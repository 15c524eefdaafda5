import pytest
import torch
from torch import nn

from bnnoise.nets.models import build_model, model_facts


@pytest.mark.parametrize("name, n", [("resnet8", 1), ("resnet20", 3), ("resnet44", 7)])
def test_resnet_bn_count_is_6n_plus_1(name: str, n: int) -> None:
    facts = model_facts(build_model(name, 10, "bn"))
    assert facts.bn_layers == 6 * n + 1
    assert facts.conv_layers == 6 * n + 1 + 2  # plus the two 1x1 projection shortcuts


def test_resnet20_parameter_count_matches_he_et_al() -> None:
    # He et al. (2016) report 0.27M parameters for ResNet20.
    assert round(model_facts(build_model("resnet20", 10, "bn")).parameters / 1e6, 2) == 0.27


@pytest.mark.parametrize("name", ["resnet20", "vgg11", "vgg16"])
def test_norm_none_has_no_batchnorm(name: str) -> None:
    model = build_model(name, 10, "none")
    assert model_facts(model).bn_layers == 0
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is not None for c in convs)


def test_vgg16_has_13_bn_layers_and_runs() -> None:
    model = build_model("vgg16", 100, "bn")
    assert model_facts(model).bn_layers == 13
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 100)


@pytest.mark.parametrize("k", [0, 1, 5, 19])
def test_bn_in_first_k_convolutions(k: int) -> None:
    model = build_model("resnet20", 10, "bn", bn_layers=k)
    assert model_facts(model).bn_layers == k
    slots = [m for m in model.modules() if isinstance(m, nn.Sequential) and len(m) == 2
             and isinstance(m[0], nn.Conv2d)]
    has_bn = [isinstance(s[1], nn.BatchNorm2d) for s in slots]
    assert has_bn == [True] * k + [False] * (len(slots) - k)


def test_unnormalized_resnet_blocks_start_as_identity() -> None:
    model = build_model("resnet8", 10, "none")
    block = model.blocks[0]
    x = torch.randn(2, 16, 8, 8).relu()
    assert torch.equal(block(x), x)


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "resnet21"}, "valid: resnet<6n+2>"),
    ({"name": "alexnet"}, "vgg16"),
    ({"norm": "gn"}, "unknown norm .gn.; valid: activation part"),
    ({"norm": "none", "bn_layers": 3}, "needs an activation normalization"),
    ({"bn_layers": 99}, "exceeds the 19 normalization slots"),
])
def test_bad_parameters_raise_clear_errors(kwargs: dict, message: str) -> None:
    args = {"name": "resnet20", "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("+", r"\+")):
        build_model(**args)


@pytest.mark.parametrize("name", ["resnet8", "resnet20", "vgg11", "vgg16", "plain4"])
def test_normalization_slots_counts_without_building(name: str) -> None:
    from bnnoise.nets.models import normalization_slots

    assert normalization_slots(name) == model_facts(build_model(name, 10, "bn")).bn_layers


@pytest.mark.parametrize("k", [0, 3, 19])
def test_bn_in_last_k_convolutions(k: int) -> None:
    model = build_model("resnet20", 10, "bn", bn_layers=k, placement="last")
    slots = [m for m in model.modules() if isinstance(m, nn.Sequential) and len(m) == 2
             and isinstance(m[0], nn.Conv2d)]
    has_bn = [isinstance(s[1], nn.BatchNorm2d) for s in slots]
    assert has_bn == [False] * (len(slots) - k) + [True] * k


def test_full_partial_series_endpoints_equal_the_plain_models() -> None:
    # k = 0 and k = 19 build (and initialise) exactly the no-BN and the BN ResNet20.
    for k, norm in ((0, "none"), (19, "bn")):
        for placement in ("first", "last"):
            torch.manual_seed(0)
            partial = build_model("resnet20", 10, "bn", bn_layers=k, placement=placement)
            torch.manual_seed(0)
            full = build_model("resnet20", 10, norm)
            a, b = partial.state_dict(), full.state_dict()
            assert a.keys() == b.keys()
            assert all(torch.equal(a[n], b[n]) for n in a)


def test_unknown_placement_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid: first, last"):
        build_model("resnet20", 10, "bn", bn_layers=3, placement="middle")
