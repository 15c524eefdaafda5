"""Accuracy of a model on a set of images, and summaries of repeated noisy evaluations."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from bnnoise.data import Dataset, normalize

# Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom (normal beyond).
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


@torch.no_grad()
def predictions(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    batch_size: int = 1000,
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: the plain ``argmax`` of the logits (NaN counts as the largest value, as in
    PyTorch and NumPy) and whether all logits are finite. The model is put in evaluation mode
    if it is a module; ``inputs`` are already normalized."""
    if isinstance(model, nn.Module):
        model.eval()
    predicted, finite = [], []
    for i in range(0, len(inputs), batch_size):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(inputs[i:i + batch_size]).float()
        predicted.append(logits.argmax(1))
        finite.append(torch.isfinite(logits).all(1))
    return torch.cat(predicted), torch.cat(finite)


@torch.no_grad()
def correct_mask(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 1000,
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: whether it is classified correctly, and whether its logits are not all finite.

    ``inputs`` are already normalized (see :func:`bnnoise.data.normalize`); an image with any
    non-finite logit counts as wrong. A module is put in evaluation mode (BatchNorm uses its
    running statistics); ``model`` may also be any callable returning logits, e.g. a
    :class:`bnnoise.folding.FoldedBatchNorm`.
    """
    if isinstance(model, nn.Module):
        model.eval()
    hits, nonfinite = [], []
    for i in range(0, len(y), batch_size):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(inputs[i:i + batch_size]).float()
        finite = torch.isfinite(logits).all(1)
        hits.append((logits.argmax(1) == y[i:i + batch_size]) & finite)
        nonfinite.append(~finite)
    return torch.cat(hits), torch.cat(nonfinite)


def count_correct(
    model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 1000,
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
    batch_size: int = 1000,
    precision: str = "fp32",
) -> tuple[int, int]:
    """:func:`count_correct` on uint8 NCHW images ``x``, normalized with ``data``'s statistics."""
    return count_correct(model, normalize(x, data), y, batch_size, precision)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, data: Dataset,
             precision: str = "fp32") -> float:
    """Fraction of ``x`` classified correctly (non-finite outputs count as wrong)."""
    correct, _ = predict_correct(model, x, y, data, precision=precision)
    return correct / len(y)


def t_quantile_975(dof: int) -> float:
    """97.5 % quantile of Student's t with ``dof`` degrees of freedom (for 95 % intervals)."""
    if dof < 1:
        return math.nan
    return _T975[dof - 1] if dof <= len(_T975) else 1.96


def mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95 % Student-t confidence interval (NaN for one value)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan
    return mean, t_quantile_975(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)


def summarize_sweep(draws: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per (keys..., eta): mean accuracy and normalized accuracy with 95 % CIs over the draws.

    ``draws`` is the tidy per-draw table of :func:`bnnoise.noise.run_sweep` (columns ``eta``,
    ``accuracy``, ``normalized_accuracy``, ``nonfinite_fraction`` plus ``keys``).
    """
    rows = []
    for group, part in draws.groupby([*keys, "eta"], sort=True):
        acc, acc_ci = mean_ci(part["accuracy"].to_numpy())
        norm, norm_ci = mean_ci(part["normalized_accuracy"].to_numpy())
        rows.append({**dict(zip([*keys, "eta"], group, strict=True)), "draws": len(part),
                     "accuracy": acc, "accuracy_ci95": acc_ci,
                     "normalized_accuracy": norm, "normalized_accuracy_ci95": norm_ci,
                     "nonfinite_draws": int((part["nonfinite_fraction"] > 0).sum())})
    return pd.DataFrame(rows)


def average_normalized_accuracy(draws: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Average normalized accuracy over the eta grid (eta = 0 excluded), with a 95 % CI.

    Draw ``r`` of every eta uses the same seed index, so the per-draw averages over the grid are
    independent replicates; the CI is taken over them.
    """
    noisy = draws[draws["eta"] > 0]
    rows = []
    for group, part in noisy.groupby(keys, sort=True):
        per_draw = part.groupby("draw")["normalized_accuracy"].mean().to_numpy()
        mean, ci = mean_ci(per_draw)
        grid = sorted(part["eta"].unique())
        rows.append({**dict(zip(keys, group if isinstance(group, tuple) else (group,),
                                strict=True)),
                     "avg_normalized_accuracy": mean, "avg_normalized_accuracy_ci95": ci,
                     "eta_grid": " ".join(f"{e:g}" for e in grid), "draws": len(per_draw)})
    return pd.DataFrame(rows)


def nonfinite_table(draws: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys``: noisy draws (eta > 0), how many had any non-finite output, and the largest
    share of images with non-finite outputs in one draw."""
    noisy = draws[draws["eta"] > 0]
    return (noisy.assign(any_nonfinite=noisy["nonfinite_fraction"] > 0)
            .groupby(keys).agg(draws=("draw", "size"),
                               draws_with_nonfinite=("any_nonfinite", "sum"),
                               max_share_nonfinite=("nonfinite_fraction", "max"))
            .reset_index())
