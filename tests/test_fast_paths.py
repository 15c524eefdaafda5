"""The library's fast paths compute what the plain ones compute."""

import copy

import torch
from torch import nn

from bnnoise.data import normalize, synthetic
from bnnoise.evaluation import predict_correct
from bnnoise.models import build_model
from bnnoise.noise import injected_noise, reference_scale, select_tensors


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
