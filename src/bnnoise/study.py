"""What the reproduced study published, and how the book's curves are compared with it."""

from __future__ import annotations

import numpy as np
import pandas as pd

PUBLISHED = pd.DataFrame([
    {"dataset": "cifar10", "model": "resnet44", "norm": "bn", "avg_normalized_accuracy": 0.4132},
    {"dataset": "cifar10", "model": "resnet44", "norm": "none",
     "avg_normalized_accuracy": 0.9195},
    {"dataset": "cifar10", "model": "vgg16", "norm": "bn", "avg_normalized_accuracy": 0.1075},
    {"dataset": "cifar10", "model": "vgg16", "norm": "none", "avg_normalized_accuracy": 0.9380},
])
"""Average normalized inference accuracy under weight noise reported by Fagbohungbe & Qian
(IEEE Access 10, 2022, abstract). Their noise grid and protocol details are not known."""


def running_average(eta: np.ndarray, normalized: np.ndarray, eta_max: np.ndarray) -> np.ndarray:
    """Mean of the piecewise-linear curve through ``(eta, normalized)`` over ``[0, eta_max]``.

    ``eta`` must be increasing and start at 0 (where ``normalized`` is 1 by definition).
    """
    fine = np.linspace(0.0, float(eta[-1]), 4001)
    values = np.interp(fine, eta, normalized)
    step = fine[1] - fine[0]
    integral = np.concatenate([[0.0], np.cumsum((values[1:] + values[:-1]) / 2 * step)])
    eta_max = np.asarray(eta_max, dtype=float)
    return np.interp(eta_max, fine, integral) / eta_max


def matching_eta_max(eta: np.ndarray, normalized: np.ndarray, target: float) -> float:
    """The upper end ``eta_max`` of a uniform grid ``(0, eta_max]`` on which our curve's average
    equals ``target``; NaN when no ``eta_max`` within the swept range reaches it.

    This answers the inverse question "which noise range would give the published number", with
    the average taken over a continuous uniform grid (a proxy for the study's unknown grid).
    """
    candidates = np.linspace(float(eta[1]) / 10, float(eta[-1]), 2000)
    averages = running_average(eta, normalized, candidates)
    below = np.nonzero(averages <= target)[0]
    if len(below) == 0 or below[0] == 0:
        return float("nan")
    i = below[0]
    x0, x1, y0, y1 = candidates[i - 1], candidates[i], averages[i - 1], averages[i]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))
