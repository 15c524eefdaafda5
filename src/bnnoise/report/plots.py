"""The book's figures, each drawn from one tidy table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

NORM_STYLE = {"bn": "-", "none": "--"}
NORM_LABEL = {"bn": "with BN", "none": "without BN"}


def _colors(models: list[str]) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {m: cycle[i % len(cycle)] for i, m in enumerate(models)}


def training_curves(history: pd.DataFrame) -> Figure:
    """Test accuracy and training loss per epoch; colour = model, line style = normalization."""
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = _colors(list(dict.fromkeys(history["model"])))
    for (dataset, model, norm), run in history.groupby(["dataset", "model", "norm"], sort=False):
        style = {"color": colors[model], "linestyle": NORM_STYLE.get(norm, ":"), "marker": "o",
                 "markersize": 3, "label": f"{model} {NORM_LABEL.get(norm, norm)} ({dataset})"}
        ax_acc.plot(run["epoch"], 100 * run["test_acc"], **style)
        ax_loss.plot(run["epoch"], run["train_loss"], **style)
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="Training loss", yscale="log")
    ax_acc.legend(fontsize=8)
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def noise_curves(summary: pd.DataFrame) -> Figure:
    """Normalized accuracy versus eta with 95 % CIs; columns: target sets, rows: datasets.

    ``summary`` is :func:`bnnoise.evaluation.summarize_sweep` output keyed by dataset, model,
    norm and target. The x axis is symmetric-log so that the clean point eta = 0 is shown.
    """
    datasets = list(dict.fromkeys(summary["dataset"]))
    targets = list(dict.fromkeys(summary["target"]))
    fig, axes = plt.subplots(len(datasets), len(targets),
                             figsize=(4.2 * len(targets), 3.8 * len(datasets)), sharey=True,
                             squeeze=False)
    colors = _colors(list(dict.fromkeys(summary["model"])))
    for row, dataset in zip(axes, datasets, strict=True):
        for ax, target in zip(row, targets, strict=True):
            part = summary[(summary["target"] == target) & (summary["dataset"] == dataset)]
            for (model, norm), curve in part.groupby(["model", "norm"], sort=False):
                ax.errorbar(curve["eta"], 100 * curve["normalized_accuracy"],
                            yerr=100 * curve["normalized_accuracy_ci95"].fillna(0),
                            color=colors[model], linestyle=NORM_STYLE.get(norm, ":"),
                            marker="o", markersize=3, capsize=2,
                            label=f"{model} {NORM_LABEL.get(norm, norm)}")
            ax.set_xscale("symlog", linthresh=0.02)
            ax.set(title=f"{dataset}, noise on: {target}", xlabel="noise level eta")
            ax.grid(alpha=0.3)
        row[0].set_ylabel("normalized accuracy (%)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig
