"""Accuracy of a model on a set of images: predictions, per-image hits, counts."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from bnnoise.data import Dataset, normalize
from bnnoise.hardware import autocast, device_of

EVALUATION_BATCH = 100
"""Images per forward pass when evaluating. ``benchmarks/sweep_speed.py`` times it against the
earlier 1,000 (fp32, channels-last): on a CPU whose caches do not hold the activations of 1,000
images, smaller batches are faster. The batch size moves no prediction: the same script
recomputes stored sweep cells at this size and compares them hit for hit, and
``tests/test_sweep_speed.py`` checks it on a trained network."""


@torch.no_grad()
def predictions(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    batch_size: int = EVALUATION_BATCH,
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: the plain ``argmax`` of the logits (NaN counts as the largest value, as in
    PyTorch and NumPy) and whether all logits are finite, on the CPU. The model is put in
    evaluation mode if it is a module and runs on the device of its parameters (the batches are
    moved there); ``inputs`` are already normalized."""
    if not inputs.is_floating_point():
        raise TypeError(f"predictions take normalized float images, got {inputs.dtype}: "
                        "normalize uint8 images first (bnnoise.data.normalize), or use "
                        "bnnoise.evaluation.predict_correct, which does")
    if isinstance(model, nn.Module):
        model.eval()
    device = device_of(getattr(model, "source", model), inputs.device)
    predicted, finite = [], []
    for i in range(0, len(inputs), batch_size):
        with autocast(device.type, precision):
            logits = model(inputs[i:i + batch_size].to(device)).float().cpu()
        predicted.append(logits.argmax(1))
        finite.append(torch.isfinite(logits).all(1))
    return torch.cat(predicted), torch.cat(finite)


@torch.no_grad()
def correct_mask(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = EVALUATION_BATCH,
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: whether it is classified correctly, and whether its logits are not all finite.

    ``inputs`` are already normalized (see :func:`bnnoise.data.normalize`); an image with any
    non-finite logit counts as wrong. A module is put in evaluation mode (BatchNorm uses its
    running statistics); ``model`` may also be any callable returning logits, e.g. a
    :class:`bnnoise.nets.folding.FoldedBatchNorm`.
    """
    predicted, finite = predictions(model, inputs, batch_size, precision)
    return (predicted == y) & finite, ~finite


def count_correct(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = EVALUATION_BATCH,
    precision: str = "fp32",
) -> tuple[int, int]:
    """Numbers of correct predictions and of images with non-finite logits
    (see :func:`correct_mask`)."""
    hits, nonfinite = correct_mask(model, inputs, y, batch_size, precision)
    return int(hits.sum()), int(nonfinite.sum())


def predict_correct(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    data: Dataset,
    batch_size: int = EVALUATION_BATCH,
    precision: str = "fp32",
) -> tuple[int, int]:
    """:func:`count_correct` on uint8 NCHW images ``x``, normalized with ``data``'s statistics."""
    return count_correct(model, normalize(x, data), y, batch_size, precision)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, data: Dataset,
             precision: str = "fp32") -> float:
    """Fraction of ``x`` classified correctly (non-finite outputs count as wrong)."""
    correct, _ = predict_correct(model, x, y, data, precision=precision)
    return correct / len(y)


@torch.no_grad()
def signed_margins(model: nn.Module, inputs: torch.Tensor, y: torch.Tensor,
                   batch_size: int = EVALUATION_BATCH) -> torch.Tensor:
    """Per image, the true class's logit minus the largest other logit, in fp32 (positive:
    classified correctly); an image with a non-finite logit gets the most negative float.
    The margin strata of :mod:`bnnoise.sampling` are cut on it. ``inputs`` are normalized."""
    model.eval()
    device = device_of(model, inputs.device)
    margins = []
    for i in range(0, len(inputs), batch_size):
        logits = model(inputs[i:i + batch_size].to(device)).float().cpu()
        true = logits.gather(1, y[i:i + batch_size, None]).squeeze(1)
        other = logits.scatter(1, y[i:i + batch_size, None], float("-inf")).amax(1)
        margin = true - other
        margins.append(torch.where(torch.isfinite(logits).all(1), margin,
                                   torch.finfo(torch.float32).min))
    return torch.cat(margins)
