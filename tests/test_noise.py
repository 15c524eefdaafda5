import pytest
import torch
from torch import nn

from bnnoise.config.setups import NoiseProtocol
from bnnoise.nets.models import build_model
from bnnoise.noise.injection import injected_noise, reference_scale
from bnnoise.noise.protocol import draw_seed, select_tensors


@pytest.fixture
def model() -> nn.Module:
    torch.manual_seed(0)
    m = build_model("resnet8", 10, "bn")
    for bn in (x for x in m.modules() if isinstance(x, nn.BatchNorm2d)):  # non-trivial statistics
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
    return m


def test_target_sets_touch_exactly_the_right_tensors(model: nn.Module) -> None:
    state = model.state_dict()
    all_ = set(select_tensors(model, "all"))
    trainable = set(select_tensors(model, "trainable"))
    weights = set(select_tensors(model, "weights"))
    assert all_ == {k for k, v in state.items() if v.is_floating_point()}
    assert not any(k.endswith("num_batches_tracked") for k in all_)
    assert {k for k in all_ if k.endswith(("running_mean", "running_var"))} == all_ - trainable
    assert trainable == {k for k, _ in model.named_parameters()}
    bn_params = {k for k, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}
    assert trainable - weights == {f"{p}.{w}" for p in bn_params for w in ("weight", "bias")}
    assert weights == {k for k in trainable if not any(k.startswith(p + ".") for p in bn_params)}
    kernels = set(select_tensors(model, "kernels"))
    assert kernels == {k for k in weights if k.endswith(".weight")} and "fc.bias" not in kernels


def test_kernels_treat_the_biases_of_both_arms_alike() -> None:
    none = build_model("resnet8", 10, "none")
    bn = build_model("resnet8", 10, "bn")
    # under weights, the convolution biases of the network without BN get noise ...
    assert any(k.endswith(".bias") and not k.startswith("fc") for k in select_tensors(none,
                                                                                      "weights"))
    # ... under kernels, no bias of either network does
    for model in (none, bn):
        assert not any(k.endswith(".bias") for k in select_tensors(model, "kernels"))


def test_layer_filter_restricts_the_target_set(model: nn.Module) -> None:
    chosen = select_tensors(model, "weights", layers=r"^fc\.")
    assert set(chosen) == {"fc.weight", "fc.bias"}


@pytest.mark.parametrize("scale", ["std", "max", "absolute"])
def test_noise_has_the_requested_standard_deviation(scale: str) -> None:
    t = torch.randn(200_000) * 3.0 + 1.0
    clean = t.clone()
    eta = 0.2
    with injected_noise({"t": t}, eta, seed=1, scale=scale):
        noise = t - clean
    expected = eta * reference_scale(clean, scale)
    assert abs(float(noise.std()) / expected - 1) < 0.01  # 200k samples: relative s.e. 0.16 %
    assert abs(float(noise.mean())) < 4 * expected / 200_000 ** 0.5


def test_multiplicative_noise_scales_with_each_element() -> None:
    t = torch.full((100_000,), 5.0)
    with injected_noise({"t": t}, 0.1, seed=2, kind="multiplicative"):
        ratio = t / 5.0 - 1.0
    assert abs(float(ratio.std()) - 0.1) < 0.002


def test_each_tensor_gets_its_own_scale(model: nn.Module) -> None:
    tensors = select_tensors(model, "weights")
    clean = {k: v.clone() for k, v in tensors.items()}
    with injected_noise(tensors, 0.5, seed=3):
        for k, v in tensors.items():
            if v.numel() >= 2000:
                ratio = float((v - clean[k]).std()) / (0.5 * float(clean[k].std(unbiased=False)))
                assert abs(ratio - 1) < 0.1, k


def test_clean_weights_are_restored_bit_for_bit(model: nn.Module) -> None:
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tensors = select_tensors(model, "all")
    with pytest.raises(RuntimeError), injected_noise(tensors, 1.0, seed=4):
        assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
        raise RuntimeError("evaluation failed")
    for k, v in model.state_dict().items():
        assert torch.equal(before[k], v), k


def test_seeds_reproduce_and_differ() -> None:
    t = torch.zeros(1000)
    t[0] = 1.0
    samples = []
    for seed in (5, 5, 6):
        with injected_noise({"t": t}, 1.0, seed=seed):
            samples.append(t.clone())
    assert torch.equal(samples[0], samples[1])
    assert not torch.equal(samples[0], samples[2])


def test_draw_seed_depends_only_on_seed_eta_and_draw() -> None:
    assert draw_seed(0, 0.1, 2) == draw_seed(0, 0.1, 2)
    assert len({draw_seed(0, 0.1, 2), draw_seed(1, 0.1, 2), draw_seed(0, 0.2, 2),
                draw_seed(0, 0.1, 3)}) == 4


def test_noise_on_running_variance_can_make_outputs_non_finite(model: nn.Module) -> None:
    model.eval()
    var = {k: v for k, v in select_tensors(model, "all").items() if k.endswith("running_var")}
    with injected_noise(var, 5.0, seed=0), torch.no_grad():
        assert any((v < 0).any() for v in var.values())
        out = model(torch.randn(4, 3, 32, 32))
    assert not torch.isfinite(out).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"etas": (0.1, -0.2)}, "positive numbers"),
    ({"etas": ()}, "non-empty"),
    ({"draws": 0}, "draws must be >= 1"),
    ({"targets": ("bn",)}, "valid: all, trainable, weights, kernels"),
    ({"scale": "rms"}, "valid: std, max, absolute"),
    ({"kind": "shot"}, "valid: additive, multiplicative"),
    ({"eval_per_class": 0}, "eval_per_class"),
    ({"layers": "(["}, "regular expression"),
])
def test_invalid_protocols_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NoiseProtocol(**kwargs)


def test_negative_eta_is_rejected() -> None:
    with pytest.raises(ValueError, match="eta must be >= 0"), injected_noise({}, -0.1, seed=0):
        pass
