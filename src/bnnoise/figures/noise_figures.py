"""The reproduction chapters' figures, each drawn with seaborn from one tidy table.

Every figure uses the book's style (:mod:`bnnoise.figures.style`): full width, readable at 100 %,
one colour per model, solid lines with BN and dashed lines without, intervals clipped to the
possible range (normalized accuracy: never below 0 %, and free to exceed 100 %, since a noisy
network can beat its clean one on the test images; :data:`bnnoise.figures.style.NORMALIZED_RANGE`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bnnoise.figures.axes import (
    eta_axis,
    label_twos_threes_and_fives,
    legend_below,
    normalized_ceiling,
    normalized_limits,
)
from bnnoise.figures.colours import colours_by, model_colors, target_colors
from bnnoise.figures.style import clip_band, clip_normalized, figure
from bnnoise.labels import TARGET_LABEL, dataset_label, with_arm_labels
from bnnoise.lineage import produces

DASHES = {"with BN": "", "without BN": (4, 2)}


@produces
def training_curves(history: pd.DataFrame) -> Figure:
    """Test accuracy and training loss per epoch; colour: model, line style: with/without BN."""
    data = with_arm_labels(history).assign(test_acc_pct=100 * history["test_acc"])
    fig, axes = figure(rows=2, height_per_row=2.8, sharex=True)
    palette = model_colors(list(data["model"]))
    for ax, (column, label) in zip(axes[:, 0], [("test_acc_pct", "test accuracy (%)"),
                                               ("train_loss", "training loss")], strict=True):
        sns.lineplot(data=data, x="epoch", y=column, hue="model", style="BN", dashes=DASHES,
                     palette=palette, marker="o", markersize=4, ax=ax, legend=ax is axes[0, 0])
        ax.set_ylabel(label)
    axes[1, 0].set_yscale("log")
    axes[1, 0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes[1, 0].yaxis.set_minor_formatter(FuncFormatter(label_twos_threes_and_fives))
    legend_below(fig, axes[0, 0])
    return fig


@produces
def noise_curves(summary: pd.DataFrame, scoring: str = "wrong") -> Figure:
    """Normalized accuracy versus eta with 95 % intervals (between 0 and the curve's
    :func:`normalized_ceiling`) for one scoring of non-finite outputs, log x axis, as small
    multiples: one panel per model (two per row) or, when the summary holds two datasets, one
    column per dataset and one row per model trained on both (every model if none is). Within
    a panel, colour: target set; solid: with BN, dashed: without BN."""
    data = with_arm_labels(summary[(summary["scoring"] == scoring) & (summary["eta"] > 0)])
    models = list(dict.fromkeys(data["model"]))
    datasets = list(dict.fromkeys(data["dataset"]))
    if len(datasets) > 1:  # rows: the models trained on more than one dataset
        shared = [m for m in models if data.loc[data["model"] == m, "dataset"].nunique() > 1]
        cells = [(model, dataset) for model in shared or models for dataset in datasets]
        cols = len(datasets)
    else:
        cells = [(model, datasets[0]) for model in models]
        cols = min(2, len(models))
    rows = -(-len(cells) // cols)
    # a lone panel spans the full width: give it the height that keeps its aspect readable
    fig, axes = figure(rows=rows, cols=cols, height_per_row=2.4 if len(cells) > 1 else 3.6,
                       sharex=True, sharey=True)
    palette = target_colors(list(data["target"]))
    half = data["normalized_accuracy_ci95"].fillna(0)
    ceiling = pd.concat(pd.Series(normalized_ceiling(curve), index=curve.index) for _, curve
                        in data.groupby(["dataset", "target", "model", "BN"], sort=False))
    limits = normalized_limits(np.minimum(data["normalized_accuracy"] + half, ceiling))
    for ax, (model, dataset) in zip(axes.flat, cells, strict=False):
        part = data[(data["model"] == model) & (data["dataset"] == dataset)]
        if part.empty:
            ax.set_visible(False)
            continue
        for (target, _), curve in part.groupby(["target", "BN"], sort=False):
            low, high = clip_normalized(curve["normalized_accuracy"]
                                        - curve["normalized_accuracy_ci95"].fillna(0),
                                        curve["normalized_accuracy"]
                                        + curve["normalized_accuracy_ci95"].fillna(0))
            high = np.minimum(high, ceiling[curve.index])
            ax.fill_between(curve["eta"], 100 * low, 100 * high, color=palette[target],
                            alpha=0.08, linewidth=0)
        sns.lineplot(data=part.assign(pct=100 * part["normalized_accuracy"]), x="eta", y="pct",
                     hue="target", style="BN", dashes=DASHES, palette=palette, marker="o",
                     markersize=4, ax=ax, errorbar=None)
        ax.set_title(f"{dataset_label(dataset)}, {model}" if len(datasets) > 1 else model)
        ax.set_ylabel("normalized acc. (%)")
        ax.set_ylim(*limits)
        eta_axis(ax, sorted(data["eta"].unique()))
    for ax in list(axes.flat)[len(cells):]:
        ax.set_visible(False)
    legend_below(fig, axes.flat, ncol=5)
    return fig


@produces
def collapse_figure(check: pd.DataFrame, panels: str | None = None) -> Figure:
    """Exact collapse probability (lines) and sampled collapse rates with Clopper-Pearson
    intervals (points) versus eta, one colour per model with BN; one panel per value of the
    column ``panels`` (e.g. ``"dataset"``) if given, else one panel."""
    data = check[check["norm"] == "bn"]
    groups = list(dict.fromkeys(data[panels])) if panels else [None]
    fig, axes = figure(rows=len(groups), height_per_row=3.4, sharex=True)
    palette = model_colors(list(data["model"]))
    for ax, group in zip(axes[:, 0], groups, strict=True):
        part = data if group is None else data[data[panels] == group]
        _collapse_panel(ax, part, palette, legend=ax is axes[0, 0])
        if group is not None:
            ax.set_title(dataset_label(group))
    legend_below(fig, axes[0, 0])
    return fig


def _collapse_panel(ax: Axes, data: pd.DataFrame, palette: dict, legend: bool) -> None:
    """One panel of :func:`collapse_figure`: the rates are shifted a little along eta per
    model, so that their intervals do not hide each other."""
    sns.lineplot(data=data, x="eta", y="collapse_probability", hue="model", palette=palette,
                 ax=ax, errorbar=None, legend=legend)
    models = list(dict.fromkeys(data["model"]))
    shift = data["model"].map(lambda m: 1.0 + 0.04 * (models.index(m) - (len(models) - 1) / 2))
    low, high = clip_band(data["rate_low"], data["rate_high"])  # probabilities: [0, 1]
    points = data.assign(shifted_eta=data["eta"] * shift, low=low, high=high)
    for model, part in points.groupby("model", sort=False):
        ax.errorbar(part["shifted_eta"], part["sampled_rate"],
                    yerr=[part["sampled_rate"] - part["low"], part["high"] - part["sampled_rate"]],
                    fmt="none", ecolor=palette[model], capsize=3,
                    label="sampled rate, 95 % CI" if legend and model == models[0] else None)
    sns.scatterplot(data=points, x="shifted_eta", y="sampled_rate", hue="model",
                    palette=palette, s=25, linewidth=0, zorder=3, legend=False, ax=ax)
    ax.set(ylabel="P(collapse)", ylim=(-0.03, 1.03))
    eta_axis(ax, sorted(data["eta"].unique()))


@produces
def average_versus(table: pd.DataFrame, x: str, xlabel: str, hue: str = "target",
                   style: str | None = None) -> Figure:
    """Average normalized accuracy (with its 95 % interval, never below 0) against ``x``, one
    colour per ``hue`` value; e.g. against the number of BN layers."""
    data = table.assign(pct=100 * table["avg_normalized_accuracy"])
    low, high = clip_normalized(table["low"], table["high"])
    data = data.assign(low_pct=100 * low, high_pct=100 * high)
    fig, axes = figure(rows=1, height_per_row=3.6)
    ax = axes[0, 0]
    palette = colours_by(hue, data[hue])
    for key, part in data.groupby([hue] + ([style] if style else []), sort=False):
        name = key[0] if isinstance(key, tuple) else key
        part = part.sort_values(x)
        ax.fill_between(part[x], part["low_pct"], part["high_pct"], color=palette[name],
                        alpha=0.12, linewidth=0)
    sns.lineplot(data=data, x=x, y="pct", hue=hue, style=style, palette=palette, marker="o",
                 ax=ax, errorbar=None)
    ax.set(xlabel=xlabel, ylabel="avg. normalized acc. (%)",
           ylim=normalized_limits(table["avg_normalized_accuracy"], high))
    ax.set_xticks(sorted(data[x].unique()))  # the values measured, e.g. whole layer counts
    legend_below(fig, ax, ncol=3)
    return fig


def _mark_epochs(ax: Axes, part: pd.DataFrame, palette: dict) -> None:
    """The first point of each line of ``part`` hollow, its last one enlarged, and a legend entry
    for each naming the epochs (numbers beside the points would overlap where lines meet)."""
    points = part.groupby(["model", "BN", "epoch"], sort=False)[["clean_pct", "pct"]].mean()
    firsts, lasts = set(), set()
    for (model, _), line in points.groupby(level=["model", "BN"], sort=False):
        line = line.sort_index(level="epoch")
        epochs = line.index.get_level_values("epoch")
        firsts.add(int(epochs[0]))
        lasts.add(int(epochs[-1]))
        ax.scatter(*line.iloc[0], s=70, facecolor="white", edgecolor=palette[model],
                   linewidth=1.8, zorder=4, gid="first-epoch")
        ax.scatter(*line.iloc[-1], s=110, color=palette[model], edgecolor="white",
                   linewidth=0.8, zorder=4, gid="last-epoch")
    first = f"epoch {firsts.pop()}" if len(firsts) == 1 else "first stored epoch"
    last = f"epoch {lasts.pop()}" if len(lasts) == 1 else "final epoch"
    ax.scatter([], [], s=70, facecolor="white", edgecolor="0.25", linewidth=1.8, label=first)
    ax.scatter([], [], s=110, color="0.25", label=last)


@produces
def progress_figure(progress: pd.DataFrame) -> Figure:
    """Average normalized accuracy against clean accuracy along training (one point per stored
    epoch; the first point of each line hollow, the last enlarged), one panel per target set,
    colour: model, solid/dashed: with/without BN."""
    data = with_arm_labels(progress).assign(clean_pct=100 * progress["clean_accuracy"],
                                      pct=100 * progress["avg_normalized_accuracy"])
    targets = list(dict.fromkeys(data["target"]))
    fig, axes = figure(rows=len(targets), height_per_row=2.8, sharex=True, sharey=True)
    palette = model_colors(list(data["model"]))
    for ax, target in zip(axes[:, 0], targets, strict=True):
        part = data[data["target"] == target]
        sns.lineplot(data=part, x="clean_pct", y="pct", hue="model", style="BN", dashes=DASHES,
                     palette=palette, marker="o", sort=False, ax=ax, errorbar=None,
                     legend=ax is axes[0, 0])
        _mark_epochs(ax, part, palette)
        ax.set(title=f"noise on {TARGET_LABEL.get(target, target)}",
               xlabel="clean test accuracy (%)", ylabel="avg. normalized acc. (%)",
               ylim=normalized_limits(progress["avg_normalized_accuracy"]))
    legend_below(fig, axes[0, 0])
    return fig


@produces
def pilot_curves(history: pd.DataFrame) -> Figure:
    """Test accuracy per epoch of the training-length pilot's trained runs, one line per run
    length (a sequential palette: the longer the run, the darker); a note when none is trained."""
    fig, axes = figure(height_per_row=3.2)
    ax = axes[0, 0]
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    if history.empty:
        ax.text(0.5, 0.5, "no pilot run trained yet", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    data = history.assign(test_acc_pct=100 * history["test_acc"],
                          run=history["epochs"].map(lambda e: f"{e} epochs"))
    runs = list(dict.fromkeys(data.sort_values("epochs")["run"]))
    palette = dict(zip(runs, sns.color_palette("crest", len(runs)), strict=True))
    sns.lineplot(data=data, x="epoch", y="test_acc_pct", hue="run", hue_order=runs,
                 palette=palette, marker="o", markersize=4, ax=ax)
    legend_below(fig, ax, ncol=len(runs))
    return fig

