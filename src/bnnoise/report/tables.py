"""The book's tidy summary tables, computed from per-run and per-draw results."""

from __future__ import annotations

import pandas as pd

from bnnoise.pipeline.models import TrainedModel
from bnnoise.stats import mean_ci


def training_table(runs: list[TrainedModel]) -> pd.DataFrame:
    """One row per trained model: clean accuracy, BN layers, parameters, training time."""
    rows = [{"dataset": r.spec.dataset, "model": r.spec.model, "norm": r.spec.norm,
             **{k: r.summary[k] for k in ("clean_accuracy", "test_images", "bn_layers",
                                          "conv_layers", "parameters", "train_seconds",
                                          "seconds_per_epoch")},
             "epochs": len(r.history), "artifact": r.key} for r in runs]
    return pd.DataFrame(rows)


def history_table(runs: list[TrainedModel]) -> pd.DataFrame:
    """Tidy per-epoch training history of every run."""
    return pd.concat([r.history.assign(dataset=r.spec.dataset, model=r.spec.model,
                                       norm=r.spec.norm) for r in runs], ignore_index=True)


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
