"""The bare training-step rate that the benchmark and the GPU check share."""

import pytest
import torch

from bnnoise import throughput
from bnnoise.throughput import training_step_rate


def test_step_rate_is_positive_and_finite_on_the_cpu() -> None:
    measured = training_step_rate("cpu", "fp32", steps=1, warmup=1, batch=4)
    assert measured.images_per_second > 0
    assert measured.finite


def test_a_non_finite_loss_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def nan_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return logits.sum() * float("nan")

    monkeypatch.setattr(throughput.nn.functional, "cross_entropy", nan_loss)
    assert not training_step_rate("cpu", "fp32", steps=1, warmup=1, batch=4).finite


@pytest.mark.parametrize(("precision", "steps", "message"), [
    ("fp16", 1, "valid: bf16, fp32"),
    ("fp32", 0, "at least 1"),
])
def test_bad_arguments_stop_before_any_compute(precision: str, steps: int, message: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network was built")

    monkeypatch.setattr(throughput, "build_model", no_network)
    with pytest.raises(ValueError, match=message):
        training_step_rate("cpu", precision, steps=steps)
