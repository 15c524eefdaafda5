"""The mechanism chapter's figures: recalibration, per-layer sensitivity, and its predictor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter, NullLocator

from bnnoise.analysis.normalizer_comparison import mean_trajectories, uses_batch_statistics
from bnnoise.figures.axes import (
    label_twos_threes_and_fives,
    legend_below,
    normalized_ceiling,
    normalized_limits,
)
from bnnoise.figures.colours import RECALIBRATION_COLOURS, colours_by
from bnnoise.figures.style import clip_normalized, figure, side_by_side
from bnnoise.labels import TARGET_LABEL, unit_label, with_arm_labels
from bnnoise.lineage import produces
from bnnoise.stats import mean_ci

ARMS = {"recalibrated": "with BN, recalibrated", "standard": "with BN, not recalibrated",
        "none": "without BN"}
"""Legend label of each line of :func:`recalibration_figure`, in the order of its colours."""


def _recalibration_lines(part: pd.DataFrame) -> pd.DataFrame:
    """Tidy rows (images, arm, pct and the band) of one target set: the recalibrated BN network
    at each number of images, and the two references (the BN network as trained, the network
    without BN) as flat lines over the same numbers of images."""
    recal = part[part["deployment"] == "recalibrated"].sort_values("images")
    low, high = clip_normalized(recal["low"], recal["high"])
    rows = [recal.assign(arm=ARMS["recalibrated"], low=low, high=high)]
    counts = recal["images"].unique()
    for key, ref in (("standard", part[(part["norm"] == "bn")
                                       & (part["deployment"] == "standard")]),
                     ("none", part[part["norm"] == "none"])):
        if len(ref):
            rows.append(pd.DataFrame({"images": counts, "arm": ARMS[key],
                                      "avg_normalized_accuracy":
                                          ref["avg_normalized_accuracy"].iloc[0]}))
    lines = pd.concat(rows, ignore_index=True)
    return lines.assign(pct=100 * lines["avg_normalized_accuracy"])


@produces
def recalibration_figure(summary: pd.DataFrame) -> Figure:
    """Average normalized accuracy of the BN network against the number of recalibration
    images, one panel per target set, with the standard deployment (no recalibration) and the
    network without BN as flat references (lines: mean; band: 95 % interval, never below 0)."""
    targets = list(dict.fromkeys(summary["target"]))
    fig, axes = side_by_side(len(targets))
    palette = {ARMS[key]: colour for key, colour in RECALIBRATION_COLOURS.items()}
    references = {ARMS["standard"]: "", ARMS["none"]: (4, 2)}
    panels = [(ax, _recalibration_lines(summary[summary["target"] == target]), target)
              for ax, target in zip(axes.flat, targets, strict=False)]
    for ax, lines, target in panels:
        recal = lines[lines["arm"] == ARMS["recalibrated"]]
        colour = palette[ARMS["recalibrated"]]
        ax.fill_between(recal["images"], 100 * recal["low"], 100 * recal["high"], color=colour,
                        alpha=0.15, linewidth=0)
        sns.lineplot(data=recal, x="images", y="pct", color=colour, marker="o", errorbar=None,
                     label=ARMS["recalibrated"], ax=ax, legend=ax is axes[0, 0])
        refs = lines[lines["arm"].isin(list(references))]
        if len(refs):
            sns.lineplot(data=refs, x="images", y="pct", hue="arm", style="arm",
                         hue_order=[a for a in references if a in set(refs["arm"])],
                         palette=palette, dashes=references, errorbar=None, ax=ax,
                         legend=ax is axes[0, 0])
        counts = sorted(recal["images"].unique())
        ax.set_xscale("log", base=2)
        if counts:
            ax.xaxis.set_major_locator(FixedLocator(counts))
            ax.xaxis.set_major_formatter(FixedFormatter([f"{c:g}" for c in counts]))
            ax.xaxis.set_minor_locator(NullLocator())
        ax.set(title=TARGET_LABEL.get(target, target), xlabel="recalibration images",
               ylabel="avg. normalized acc. (%)" if ax is axes[0, 0] else "")
    axes[0, 0].set_ylim(*normalized_limits(*(lines[column] for _, lines, _ in panels
                                             for column in ("avg_normalized_accuracy", "high"))))
    legend_below(fig, axes[0, 0], ncol=3)
    return fig


def layer_bands(draws: pd.DataFrame) -> pd.DataFrame:
    """Per network, target set, eta and layer unit: the mean normalized accuracy over the
    draws (%) and its 95 % interval, clipped below at 0 and above at the network's ceiling:
    1 / clean accuracy (:func:`bnnoise.figures.axes.normalized_ceiling`) when the draws carry
    ``accuracy``, else the highest normalized accuracy any draw of that network reached."""
    if "accuracy" in draws:
        ceiling = {norm: normalized_ceiling(part) for norm, part in draws.groupby("norm")}
    else:
        ceiling = draws.groupby("norm")["normalized_accuracy"].max().to_dict()
    rows = []
    for (norm, target, eta, layer), part in draws.groupby(["norm", "target", "eta", "layer"]):
        values = part["normalized_accuracy"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        mean, half = mean_ci(values) if len(values) else (np.nan, np.nan)
        low, high = clip_normalized(mean - half, mean + half)
        rows.append({"norm": norm, "target": target, "eta": eta, "layer": layer,
                     "pct": 100 * mean, "low": 100 * float(low),
                     "high": 100 * min(float(high), ceiling[norm])})
    return pd.DataFrame(rows)


@produces
def layer_figure(draws: pd.DataFrame) -> Figure:
    """Normalized accuracy with noise in one layer unit at a time (x: the unit, in forward
    order), one panel per target set; colour: with/without BN, line style: eta; bands: 95 %
    intervals over the draws within [0, ceiling] (:func:`layer_bands`)."""
    bands = layer_bands(draws)
    data = with_arm_labels(bands).assign(η=bands["eta"].map(lambda e: f"η = {e:g}"))
    targets = list(dict.fromkeys(draws["target"]))
    fig, axes = figure(rows=len(targets), height_per_row=2.8, sharex=True, sharey=True)
    palette = colours_by("BN", data["BN"])
    for ax, target in zip(axes[:, 0], targets, strict=True):
        part = data[data["target"] == target]
        for (label, _), line in part.groupby(["BN", "η"], sort=False):
            ax.fill_between(line["layer"], line["low"], line["high"], color=palette[label],
                            alpha=0.15, linewidth=0)
        sns.lineplot(data=part, x="layer", y="pct", hue="BN", style="η", palette=palette,
                     marker="o", errorbar=None, ax=ax, legend=ax is axes[0, 0])
        ax.set(title=f"noise on {TARGET_LABEL.get(target, target)} of one layer",
               xlabel="layer unit (block.convolution; sc: shortcut projection)",
               ylabel="normalized acc. (%)")
    if "unit" in draws:
        names = draws.drop_duplicates("layer").set_index("layer")["unit"].sort_index()
        axes[-1, 0].set_xticks(list(names.index), [unit_label(u) for u in names],
                               rotation=90)
    axes[0, 0].set_ylim(*normalized_limits(data["high"] / 100, data["pct"] / 100))
    legend_below(fig, axes[0, 0], ncol=4)
    return fig


@produces
def perturbation_figure(draws: pd.DataFrame) -> Figure:
    """Accuracy lost with noise in one layer against the measured relative perturbation of that
    layer's output (means over draws, log x ticked at 1, 2, 3 and 5 times powers of ten), one
    panel per target set; colour: with/without BN, marker: eta."""
    keys = ["norm", "target", "eta", "layer"]
    means = draws.groupby(keys, as_index=False)[["normalized_accuracy", "perturbation"]].mean()
    data = with_arm_labels(means).assign(lost=100 * (1 - means["normalized_accuracy"]),
                                   η=means["eta"].map(lambda e: f"η = {e:g}"))
    targets = list(dict.fromkeys(data["target"]))
    fig, axes = side_by_side(len(targets))
    palette = colours_by("BN", data["BN"])
    for ax, target in zip(axes.flat, targets, strict=False):
        sns.scatterplot(data=data[data["target"] == target], x="perturbation", y="lost",
                        hue="BN", style="η", palette=palette, s=60, ax=ax,
                        legend=ax is axes[0, 0])
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(label_twos_threes_and_fives))
        ax.set(title=TARGET_LABEL.get(target, target),
               xlabel="relative output perturbation",
               ylabel="accuracy lost (% of clean)" if ax is axes[0, 0] else "")
    legend_below(fig, axes[0, 0], ncol=4)
    return fig


@produces
def normalizer_figure(summary: pd.DataFrame, scoring: str = "wrong") -> Figure:
    """Average normalized accuracy per normalizer (rows, best first) with its 95 % interval
    (over seeds where there are several; never below 0), one colour per target set; filled
    markers for normalizers with batch statistics, open markers for the others."""
    s = summary[summary["scoring"] == scoring]
    order = (s[s["target"] == s["target"].iloc[-1]]
             .sort_values("avg_normalized_accuracy", ascending=False)["norm"].tolist())
    targets = list(dict.fromkeys(s["target"]))
    offsets = {t: (i - (len(targets) - 1) / 2) * 0.22 for i, t in enumerate(targets)}
    low, high = clip_normalized(s["low"], s["high"])
    data = s.assign(pct=100 * s["avg_normalized_accuracy"], low_pct=100 * low,
                    high_pct=100 * high,
                    target_set=s["target"].map(TARGET_LABEL).fillna(s["target"]),
                    row=[order.index(n) + offsets[t] for n, t in zip(s["norm"], s["target"],
                                                                      strict=True)])
    labels = list(dict.fromkeys(data["target_set"]))
    palette = colours_by("target_set", labels)
    fig, axes = figure(rows=1, height_per_row=0.45 * len(order) + 1.6)
    ax = axes[0, 0]
    for label, part in data.groupby("target_set", sort=False):
        ax.errorbar(part["pct"], part["row"], xerr=[part["pct"] - part["low_pct"],
                                                    part["high_pct"] - part["pct"]],
                    fmt="none", ecolor=palette[label], elinewidth=1.5, zorder=2)
    kinds = [b for b in (True, False) if (data["batch_statistics"].astype(bool) == b).any()]
    for batch in kinds:
        chosen = data[data["batch_statistics"].astype(bool) == batch]
        sns.scatterplot(data=chosen, x="pct", y="row", hue="target_set", hue_order=labels,
                        palette=palette, s=50, linewidth=1.2, zorder=3, ax=ax,
                        legend=batch == kinds[0])
        points = ax.collections[-1]  # edges in the hue colour; open markers white inside
        points.set_edgecolor(points.get_facecolor())
        if not batch:
            points.set_facecolor("white")
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)  # best first, at the top
    ax.set(xlabel="avg. normalized acc. (%)", ylabel="normalizer",
           xlim=normalized_limits(s["avg_normalized_accuracy"], high))
    legend_below(fig, ax, ncol=2)
    return fig


TRAJECTORY_LABEL = {"bn": "BN, along training", "none": "no norm., along training"}
"""Legend label of each reference trajectory of :func:`matched_accuracy_figure`."""


@produces
def matched_accuracy_figure(finals: pd.DataFrame, progress: pd.DataFrame,
                            targets: tuple[str, ...] = ("all", "weights")) -> Figure:
    """Average normalized accuracy against clean accuracy (test subset), one panel per target
    set of ``targets`` (those of the training-progress protocol): the trained networks of every
    normalizer (points, one per seed; marker: with or without batch statistics) over the
    training trajectories of the same model with BN and without normalization (lines,
    :func:`bnnoise.analysis.normalizer_comparison.mean_trajectories`)."""
    points = finals[finals["target"].isin(targets)]
    points = points.assign(clean_pct=100 * points["clean_accuracy"],
                           pct=100 * points["avg_normalized_accuracy"],
                           kind=points["norm"].map(lambda n: "batch statistics"
                                                   if uses_batch_statistics(n)
                                                   else "no batch statistics"))
    paths = mean_trajectories(progress)
    paths = paths[paths["norm"].isin(TRAJECTORY_LABEL) & paths["model"].isin(points["model"])]
    paths = paths.assign(clean_pct=100 * paths["clean_accuracy"],
                         pct=100 * paths["avg_normalized_accuracy"],
                         trajectory=paths["norm"].map(TRAJECTORY_LABEL))
    norms = list(dict.fromkeys(points["norm"]))
    fig, axes = figure(rows=len(targets), height_per_row=3.0, sharex=True, sharey=True)
    for ax, target in zip(axes[:, 0], targets, strict=True):
        first = ax is axes[0, 0]
        path = paths[paths["target"] == target]
        if len(path):
            sns.lineplot(data=path, x="clean_pct", y="pct", style="trajectory", color="0.45",
                         marker=".", sort=False, errorbar=None, ax=ax, legend=first)
        sns.scatterplot(data=points[points["target"] == target], x="clean_pct", y="pct",
                        hue="norm", hue_order=norms, palette=colours_by("norm", norms),
                        style="kind",
                        markers={"batch statistics": "o", "no batch statistics": "s"},
                        s=60, zorder=3, ax=ax, legend=first)
        ax.set(title=f"noise on {TARGET_LABEL.get(target, target)}",
               xlabel="clean test accuracy (%)", ylabel="avg. normalized acc. (%)",
               ylim=normalized_limits(pd.concat([points["avg_normalized_accuracy"],
                                                 paths["avg_normalized_accuracy"]])))
    legend_below(fig, axes[0, 0], ncol=3)
    return fig
