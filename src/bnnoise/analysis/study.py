"""What the reproduced study published, and which reading of its protocol explains its numbers.

The study reports one average normalized accuracy per (model, with/without BN) on CIFAR-10,
without its noise grid, its target set or how it scored non-finite outputs. A *reading* of the
protocol fixes all three: a grid family with its upper end ``eta_max``, a target set and a
scoring. :func:`joint_fit` finds, for every reading, the one ``eta_max`` that brings our curves
closest to all published numbers at once, and reports the residual of each number.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.integrate import cumulative_trapezoid

PUBLISHED = pd.DataFrame([
    {"dataset": "cifar10", "model": "resnet44", "norm": "bn", "avg_normalized_accuracy": 0.4132},
    {"dataset": "cifar10", "model": "resnet44", "norm": "none",
     "avg_normalized_accuracy": 0.9195},
    {"dataset": "cifar10", "model": "vgg16", "norm": "bn", "avg_normalized_accuracy": 0.1075},
    {"dataset": "cifar10", "model": "vgg16", "norm": "none", "avg_normalized_accuracy": 0.9380},
])
"""Average normalized inference accuracy under weight noise reported by Fagbohungbe & Qian
(IEEE Access 10, 2022, abstract). Their noise grid and protocol details are not known."""

GRID_FAMILIES = ("uniform", "grid")
"""How a reading averages a curve up to ``eta_max``: ``uniform``, the mean of the
piecewise-linear curve through our points (starting at 1 for eta = 0) over ``[0, eta_max]``
(a dense uniform grid); ``grid``, the mean over our own grid's points up to ``eta_max`` (our
grid, truncated)."""


def running_average(eta: np.ndarray, normalized: np.ndarray, eta_max: np.ndarray) -> np.ndarray:
    """Mean of the piecewise-linear curve through ``(eta, normalized)`` over ``[0, eta_max]``,
    exactly: the trapezoid integral up to the last grid point below ``eta_max``
    (:func:`scipy.integrate.cumulative_trapezoid`) plus the trapezoid from there to
    ``eta_max``.

    ``eta`` must be increasing and start at 0 (where ``normalized`` is 1 by definition).
    """
    eta, normalized = np.asarray(eta, dtype=float), np.asarray(normalized, dtype=float)
    integral = cumulative_trapezoid(normalized, eta, initial=0.0)
    top = np.asarray(eta_max, dtype=float)
    below = np.clip(np.searchsorted(eta, top, side="right") - 1, 0, len(eta) - 1)
    at_top = np.interp(top, eta, normalized)
    partial = (top - eta[below]) * (normalized[below] + at_top) / 2
    return (integral[below] + partial) / top


def truncated_grid_average(eta: np.ndarray, normalized: np.ndarray, eta_max: np.ndarray
                           ) -> np.ndarray:
    """Mean of ``normalized`` over the grid points ``0 < eta <= eta_max`` (NaN below the first)."""
    eta, normalized = np.asarray(eta, dtype=float), np.asarray(normalized, dtype=float)
    keep = eta > 0
    eta, normalized = eta[keep], normalized[keep]
    out = []
    for top in np.atleast_1d(eta_max):
        chosen = normalized[eta <= top + 1e-12]
        out.append(chosen.mean() if len(chosen) else np.nan)
    return np.asarray(out)


def _candidates(family: str, etas: np.ndarray) -> np.ndarray:
    if family == "uniform":
        return np.linspace(etas[etas > 0][0] / 4, etas[-1], 800)
    return etas[etas > 0]


def _average(family: str, eta: np.ndarray, normalized: np.ndarray, tops: np.ndarray
             ) -> np.ndarray:
    if family == "uniform":
        return running_average(eta, normalized, tops)
    return truncated_grid_average(eta, normalized, tops)


def joint_fit(summary: pd.DataFrame) -> pd.DataFrame:
    """For every reading (grid family, target set, scoring), the one ``eta_max`` that minimises
    the squared distance between our averages and *all* published numbers we have curves for.

    Args:
        summary: :func:`bnnoise.analysis.summaries.summarize_sweep` output with columns dataset,
            model, norm, target, scoring, eta, normalized_accuracy (one training seed).

    Returns one row per reading: family, target, scoring, eta_max, numbers (how many published
    numbers entered), rmse (percentage points), and one ``residual <model> <norm>`` column per
    published number (ours minus published, points; NaN where we have no curve), sorted by rmse.
    """
    rows = []
    published = PUBLISHED.set_index(["dataset", "model", "norm"])["avg_normalized_accuracy"]
    for family, (target, scoring) in itertools.product(
            GRID_FAMILIES, summary[["target", "scoring"]].drop_duplicates().itertuples(
                index=False)):
        part = summary[(summary["target"] == target) & (summary["scoring"] == scoring)]
        curves = {}
        for key, curve in part.groupby(["dataset", "model", "norm"]):
            if key in published.index:
                curve = curve.sort_values("eta")
                curves[key] = (curve["eta"].to_numpy(), curve["normalized_accuracy"].to_numpy())
        if not curves:
            continue
        etas = next(iter(curves.values()))[0]
        tops = _candidates(family, etas)
        ours = {k: _average(family, e, n, tops) for k, (e, n) in curves.items()}
        sse = sum((ours[k] - published[k]) ** 2 for k in curves)
        best = int(np.nanargmin(sse))
        row = {"family": family, "target": target, "scoring": scoring,
               "eta_max": float(tops[best]), "numbers": len(curves),
               "rmse": float(100 * np.sqrt(sse[best] / len(curves)))}
        for (dataset, model, norm), value in published.items():
            res = (100 * (ours[(dataset, model, norm)][best] - value)
                   if (dataset, model, norm) in curves else np.nan)
            row[f"residual {model} {norm}"] = float(res)
        rows.append(row)
    columns = ["family", "target", "scoring", "eta_max", "numbers", "rmse",
               *(f"residual {r.model} {r.norm}" for r in PUBLISHED.itertuples())]
    return pd.DataFrame(rows, columns=columns).sort_values("rmse", ignore_index=True)


def chance_reading(clean_accuracy: float, num_classes: int) -> float:
    """The average normalized accuracy of a model whose every noisy draw collapses, when a plain
    argmax scores non-finite outputs: it picks class 0, right for one image in ``num_classes``
    on a balanced test set, so the normalized accuracy is ``1 / num_classes / clean``."""
    return 1.0 / num_classes / clean_accuracy
