"""The theory chapters' figures (signal propagation, group size, short runs, channels)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bnnoise.report.plots import _colors
from bnnoise.stats import mean_ci


def propagation_curves(table: pd.DataFrame, quantity: str = "activation_variance",
                       log: bool = True) -> Figure:
    """A per-layer quantity versus depth, one line per normalizer (mean over seeds, with the
    seeds' min-max range shaded); one panel per (model, residual initialisation)."""
    panels = list(dict.fromkeys(zip(table["model"], table["residual_init"], strict=True)))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 3.8), squeeze=False)
    colors = _colors(list(dict.fromkeys(table["norm"])))
    for ax, (model, init) in zip(axes[0], panels, strict=True):
        part = table[(table["model"] == model) & (table["residual_init"] == init)]
        for norm, runs in part.groupby("norm", sort=False):
            stats = runs.groupby("layer")[quantity].agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], color=colors[norm], label=norm)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=colors[norm],
                            alpha=0.2)
        title = model if not model.startswith("resnet") else f"{model}, {init} init"
        ax.set(title=title, xlabel="layer (block or unit)", yscale="log" if log else "linear")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(quantity.replace("_", " "))
    axes[0][-1].legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def versus_group_size(summary: pd.DataFrame, quantities: dict[str, str]) -> Figure:
    """Quantities of :func:`bnnoise.propagation.group_size_summary` versus the group size, with
    95 % CIs over seeds; one panel per quantity (``{column: axis label}``)."""
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.5 * len(quantities), 3.6),
                             squeeze=False)
    for ax, (column, label) in zip(axes[0], quantities.items(), strict=True):
        ax.errorbar(summary["group_size"], summary[column],
                    yerr=summary[f"{column}_ci95"].fillna(0), marker="o", capsize=3)
        ax.set_xscale("log", base=2)
        ax.set(xlabel="channels per group (1 = InstanceNorm; all = LayerNorm)", ylabel=label)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _run_grid(table: pd.DataFrame, quantities: dict[str, str]
              ) -> tuple[Figure, list[tuple[Axes, pd.DataFrame, str, str]], dict[str, str]]:
    """A grid for short-run tables: one row per (batch size, learning rate), one column per
    quantity. Returns the figure, (axes, rows of that configuration, column, axis label) per
    panel with the panel titled, and a colour per normalizer."""
    configurations = list(dict.fromkeys(zip(table["batch_size"], table["lr"], strict=True)))
    fig, axes = plt.subplots(len(configurations), len(quantities),
                             figsize=(4.5 * len(quantities), 3.5 * len(configurations)),
                             squeeze=False)
    panels = []
    for row, (batch, lr) in zip(axes, configurations, strict=True):
        part = table[(table["batch_size"] == batch) & (table["lr"] == lr)]
        for ax, (column, label) in zip(row, quantities.items(), strict=True):
            ax.set(ylabel=label, title=f"batch {batch}, peak lr {lr:g}")
            ax.grid(alpha=0.3)
            panels.append((ax, part, column, label))
    return fig, panels, _colors(list(dict.fromkeys(table["norm"])))


def short_run_curves(history: pd.DataFrame, quantities: dict[str, str]) -> Figure:
    """Per-epoch quantities of short training runs (:mod:`bnnoise.short_runs`): one line per
    normalizer, the mean over seeds with its 95 % CI shaded; one column per quantity
    (``{column: axis label}``), one row per (batch size, learning rate)."""
    fig, panels, colors = _run_grid(history, quantities)
    for ax, part, column, _ in panels:
        for norm, runs in part.groupby("norm", sort=False):
            stats = runs.groupby("epoch")[column].agg(
                lambda v: mean_ci(v.dropna().to_numpy()) if v.notna().any() else None
            ).dropna()
            if stats.empty:
                continue
            mean = stats.map(lambda t: t[0])
            ci = stats.map(lambda t: t[1]).fillna(0)
            ax.plot(stats.index, mean, marker="o", markersize=3, color=colors[norm], label=norm)
            ax.fill_between(stats.index, mean - ci, mean + ci, color=colors[norm], alpha=0.2)
        ax.set(xlabel="epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    panels[len(quantities) - 1][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def channel_profile(channels: pd.DataFrame, quantities: dict[str, str]) -> Figure:
    """Per-ReLU channel statistics after training (:mod:`bnnoise.singularity`), mean over seeds
    per layer; one line per normalizer, one column per quantity, one row per batch size."""
    fig, panels, colors = _run_grid(channels[channels["stage"] == "trained"], quantities)
    for ax, part, column, _ in panels:
        for norm, runs in part.groupby("norm", sort=False):
            mean = runs.groupby("layer")[column].mean()
            ax.plot(mean.index, mean, color=colors[norm], label=norm)
        ax.set(xlabel="ReLU (forward order)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    panels[len(quantities) - 1][0].legend(fontsize=8)
    fig.tight_layout()
    return fig
