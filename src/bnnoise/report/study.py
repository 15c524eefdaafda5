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


def compare_with_published(average: pd.DataFrame) -> pd.DataFrame:
    """Our average normalized accuracy (in %, with its 95 % CI half-width) beside the published
    value where the study reported one (NaN elsewhere).

    ``average`` is :func:`bnnoise.evaluation.average_normalized_accuracy` output keyed by
    dataset, model, norm and target.
    """
    merged = average.merge(PUBLISHED.rename(columns={"avg_normalized_accuracy": "published"}),
                           on=["dataset", "model", "norm"], how="left")
    return pd.DataFrame({
        "dataset": merged["dataset"], "model": merged["model"], "norm": merged["norm"],
        "target": merged["target"],
        "ours (%)": (100 * merged["avg_normalized_accuracy"]).round(1),
        "± 95 % CI": (100 * merged["avg_normalized_accuracy_ci95"]).round(1),
        "study (%)": (100 * merged["published"]).round(2),
    })


def matching_ranges(summary: pd.DataFrame) -> pd.DataFrame:
    """For every curve with a published counterpart, the ``eta_max`` of
    :func:`matching_eta_max` (NaN where our grid does not reach the published value)."""
    rows = []
    keys = ["dataset", "model", "norm", "target"]
    for (dataset, model, norm, target), curve in summary.groupby(keys):
        published = PUBLISHED[(PUBLISHED["dataset"] == dataset) & (PUBLISHED["model"] == model)
                              & (PUBLISHED["norm"] == norm)]
        if len(published):
            value = float(published["avg_normalized_accuracy"].iloc[0])
            curve = curve.sort_values("eta")
            eta_max = matching_eta_max(curve["eta"].to_numpy(),
                                       curve["normalized_accuracy"].to_numpy(), value)
            rows.append({"dataset": dataset, "model": model, "norm": norm, "target": target,
                         "published (%)": round(100 * value, 2),
                         "matching eta_max": round(eta_max, 3)})
    return pd.DataFrame(rows, columns=[*keys, "published (%)", "matching eta_max"])


def bn_gap(average: pd.DataFrame) -> dict[str, float]:
    """Per target set: mean over (dataset, model) of the average normalized accuracy without BN
    minus with BN, in percentage points (NaN where either is missing)."""
    table = average.pivot_table(index=["dataset", "model", "target"], columns="norm",
                                values="avg_normalized_accuracy")
    if not {"bn", "none"} <= set(table.columns):
        return {t: float("nan") for t in average["target"].unique()}
    gap = (100 * (table["none"] - table["bn"])).groupby("target").mean()
    return {str(t): float(v) for t, v in gap.items()}
