"""The book's tidy summary tables, computed from per-run and per-draw results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bnnoise.pipeline.sweeps import RUN_COLUMNS, run_key
from bnnoise.pipeline.trained import TrainedModel
from bnnoise.sampling import image_variance
from bnnoise.stats import mean_ci, t_quantile_975


def training_table(runs: list[TrainedModel]) -> pd.DataFrame:
    """One row per trained model: clean accuracy, BN layers, parameters, training time, the
    precision of its stored weights (the stored weights are the model), the CPU-hours its
    training took (all threads; NaN where older code did not record them) and the number of
    machines it trained on (a training resumed on another machine counts both)."""
    rows = [{**dict(zip(RUN_COLUMNS, run_key(r), strict=True)),
             **{k: r.summary[k] for k in ("clean_accuracy", "test_images", "conv_layers",
                                          "parameters", "train_seconds", "seconds_per_epoch")},
             "stored_weights": r.summary.get("stored_weights", "fp32"),
             "cpu_hours": r.summary.get("cpu_hours", float("nan")),
             "machines": len(r.summary.get("trained_on") or [None]),
             "artifact": r.key} for r in runs]
    return pd.DataFrame(rows)


def history_table(runs: list[TrainedModel]) -> pd.DataFrame:
    """Tidy per-epoch training history of every run."""
    return pd.concat([r.history.assign(**dict(zip(RUN_COLUMNS, run_key(r), strict=True)))
                      for r in runs], ignore_index=True)


SCORINGS = {"wrong": "accuracy", "argmax": "accuracy_argmax"}
"""How a non-finite output is scored (see :data:`bnnoise.config.setups.NONFINITE_SCORINGS`), and
the sweep table's column of accuracies under that scoring."""


def per_scoring(draws: pd.DataFrame) -> pd.DataFrame:
    """The per-draw table with one row per scoring: columns ``scoring``, ``accuracy``,
    ``normalized_accuracy``."""
    parts = []
    for scoring, column in SCORINGS.items():
        part = draws.drop(columns=[c for c in draws if c.endswith("accuracy_argmax")
                                   or c in ("accuracy", "normalized_accuracy")])
        parts.append(part.assign(scoring=scoring, accuracy=draws[column],
                                 normalized_accuracy=draws[f"normalized_{column}"]))
    return pd.concat(parts, ignore_index=True)


def summarize_sweep(draws: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per (keys..., scoring, eta): mean accuracy and normalized accuracy with 95 % CIs over the
    draws, and how many draws had non-finite outputs or collapsed.

    ``draws`` is the tidy per-draw table of :func:`bnnoise.pipeline.sweeps.noise_sweep`.
    """
    rows = []
    for group, part in per_scoring(draws).groupby([*keys, "scoring", "eta"], sort=True):
        acc, acc_ci = mean_ci(part["accuracy"].to_numpy())
        norm, norm_ci = mean_ci(part["normalized_accuracy"].to_numpy())
        rows.append({**dict(zip([*keys, "scoring", "eta"], group, strict=True)),
                     "draws": len(part), "accuracy": acc, "accuracy_ci95": acc_ci,
                     "normalized_accuracy": norm, "normalized_accuracy_ci95": norm_ci,
                     "nonfinite_draws": int((part["nonfinite_fraction"] > 0).sum()),
                     "collapsed_draws": int(part["collapsed"].sum())})
    return pd.DataFrame(rows)


def average_normalized_accuracy(draws: pd.DataFrame, keys: list[str],
                                hits: dict | None = None, population: int | None = None
                                ) -> pd.DataFrame:
    """Average normalized accuracy over the eta grid (eta = 0 excluded) per (keys, scoring),
    with its standard error and 95 % interval.

    Without ``hits`` the interval covers the noise draws only (draw ``d`` of every eta shares
    its seed index, so the per-draw averages over the grid are replicates). With ``hits``
    (:func:`bnnoise.pipeline.sweeps.profile_hits`) and the test set's size ``population``, it
    also covers the sampling of the test images (:func:`bnnoise.sampling.image_variance`); the image
    term of the ``argmax`` scoring is taken from the stored hits, which score non-finite outputs
    as wrong. ``keys`` must hold :data:`bnnoise.pipeline.sweeps.RUN_COLUMNS` and ``target``
    when ``hits`` is given.
    """
    noisy = per_scoring(draws[draws["eta"] > 0])
    rows = []
    for group, part in noisy.groupby([*keys, "scoring"], sort=True):
        labels = dict(zip([*keys, "scoring"], group, strict=True))
        grid = sorted(part["eta"].unique())
        per_draw = part.groupby("draw")["normalized_accuracy"].mean().to_numpy()
        mean, ci = mean_ci(per_draw)
        row = {**labels, "avg_normalized_accuracy": mean,
               "standard_error": ci / t_quantile_975(len(per_draw) - 1) if len(per_draw) > 1
               else math.nan,
               "low": mean - ci, "high": mean + ci, "interval": "draws",
               "eta_grid": " ".join(f"{e:g}" for e in grid), "draws": len(per_draw)}
        if hits is not None and population is not None:
            run = hits[tuple(labels[c] for c in RUN_COLUMNS)]
            var_images = image_variance([run[(labels["target"], e)] for e in grid],
                                        run[(labels["target"], 0.0)][0], population)
            se = math.sqrt(np.nan_to_num(row["standard_error"]) ** 2 + var_images)
            q = t_quantile_975(len(per_draw) - 1) if len(per_draw) > 1 else 1.96
            row.update(standard_error=se, low=mean - q * se, high=mean + q * se,
                       interval="draws and images")
        rows.append(row)
    return pd.DataFrame(rows)
