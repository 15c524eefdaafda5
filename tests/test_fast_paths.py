"""The library's fast paths compute what the plain ones compute."""

import copy
import math

import pytest
import torch
from torch import nn

from bnnoise.data import normalize, synthetic
from bnnoise.evaluation import correct_mask, predict_correct
from bnnoise.nets.folding import FoldedBatchNorm
from bnnoise.nets.models import build_model, model_facts
from bnnoise.noise.injection import injected_noise, reference_scale
from bnnoise.noise.protocol import select_tensors
from bnnoise.sampling import draws_needed, standard_error, variance_components


def test_in_place_noise_equals_deep_copy_noise() -> None:
    torch.manual_seed(0)
    model = build_model("resnet8", 10, "bn").eval()
    data = synthetic(10, n_train=16, n_test=64)
    x = normalize(data.x_test, data)

    plain = copy.deepcopy(model)
    g = torch.Generator().manual_seed(42)
    params = dict(select_tensors(plain, "weights"))
    with torch.no_grad():
        for name in sorted(params):
            t = params[name]
            t.add_(torch.randn(t.shape, generator=g) * 0.3 * reference_scale(t, "std"))
        expected = plain(x)

    tensors = select_tensors(model, "weights")
    with injected_noise(tensors, 0.3, seed=42), torch.no_grad():
        got = model(x)
        correct, _ = predict_correct(model, data.x_test, data.y_test, data)
    assert torch.allclose(got, expected, atol=1e-5)  # same noise; rounding of the add differs
    assert torch.equal(got.argmax(1), expected.argmax(1))
    assert correct == int((expected.argmax(1) == data.y_test).sum())


def test_batched_evaluation_equals_one_big_batch() -> None:
    torch.manual_seed(0)
    model = build_model("resnet8", 10, "none").eval()
    data = synthetic(10, n_train=16, n_test=50)
    with torch.no_grad():
        reference = int((model(normalize(data.x_test, data)).argmax(1) == data.y_test).sum())
    assert predict_correct(model, data.x_test, data.y_test, data, batch_size=7)[0] == reference


def test_channels_last_training_input_matches_contiguous() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 8, 3, padding=1)
    x = torch.randn(4, 3, 8, 8)
    assert torch.allclose(conv(x), conv(x.contiguous(memory_format=torch.channels_last)),
                          atol=1e-6)


def _trained_like_bn_model(name: str) -> nn.Module:
    """A network whose BatchNorm layers hold non-trivial affine parameters and statistics."""
    torch.manual_seed(0)
    model = build_model(name, 10, "bn")
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval().to(memory_format=torch.channels_last)


@pytest.mark.parametrize("name", ["resnet8", "vgg11"])
def test_folded_batchnorm_computes_the_unfolded_network(name: str) -> None:
    model = _trained_like_bn_model(name)
    folded = FoldedBatchNorm(model)
    assert len(folded.pairs) == model_facts(model).bn_layers
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.folded.modules())
    data = synthetic(10, n_train=16, n_test=32)
    x = normalize(data.x_test, data)
    with torch.no_grad():
        assert torch.allclose(folded(x), model(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("target", ["weights", "all"])
def test_refolding_after_noise_sees_the_noise_of_every_target(target: str) -> None:
    model = _trained_like_bn_model("resnet8")
    folded = FoldedBatchNorm(model)
    data = synthetic(10, n_train=16, n_test=64)
    x = normalize(data.x_test, data)
    tensors = select_tensors(model, target)
    with injected_noise(tensors, 0.2, seed=3), torch.no_grad():
        folded.refresh()
        noisy = model(x)
        assert torch.allclose(folded(x), noisy, rtol=1e-4, atol=1e-4)
        hits, _ = correct_mask(folded, x, data.y_test)
        assert torch.equal(hits, noisy.argmax(1) == data.y_test)
    folded.refresh()  # after the restore, the clean network again
    with torch.no_grad():
        assert torch.allclose(folded(x), model(x), rtol=1e-4, atol=1e-4)


def test_variance_components_recover_a_simulated_layout() -> None:
    g = torch.Generator().manual_seed(0)
    draws, images = 60, 4000
    draw_effect = 0.08 * torch.randn(draws, 1, generator=g)   # variance 0.0064
    image_p = torch.rand(1, images, generator=g)                # variance 1/12 of p
    p = (image_p + draw_effect).clamp(0, 1)
    hits = torch.rand(draws, images, generator=g) < p
    v = variance_components(hits)
    assert v.draw == pytest.approx(0.0064, rel=0.4)
    assert v.image == pytest.approx(1 / 12, rel=0.15)
    full = standard_error(v, images=10_000, draws=5, population=10_000)
    assert full == pytest.approx(math.sqrt(v.draw / 5 + v.residual / 50_000))
    needed = draws_needed(v, images=1000, population=10_000, target_se=full)
    assert needed is not None and standard_error(v, 1000, needed, 10_000) <= full
    assert standard_error(v, 1000, needed - 1, 10_000) > full
    assert draws_needed(v, 10, 10_000, target_se=1e-4, max_draws=50) is None


def test_variance_components_need_two_draws_and_two_images() -> None:
    with pytest.raises(ValueError, match="at least 2 draws"):
        variance_components(torch.ones(1, 5, dtype=torch.bool))
