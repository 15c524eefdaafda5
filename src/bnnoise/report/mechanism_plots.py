"""The mechanism chapter's figures: recalibration, per-layer sensitivity, and its predictor."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from bnnoise.report.plots import TARGET_LABEL, _labelled, legend_below
from bnnoise.report.style import ci_errorbar, clip_band, colors_for, figure


def recalibration_figure(summary: pd.DataFrame) -> Figure:
    """Average normalized accuracy of the BN network against the number of recalibration
    images, one panel per target set, with the standard deployment (no recalibration) and the
    network without BN as horizontal references (lines: mean; bands: 95 % interval)."""
    targets = list(dict.fromkeys(summary["target"]))
    fig, axes = figure(rows=len(targets), height_per_row=2.8, sharex=True, sharey=True)
    palette = colors_for(["recalibrated", "standard", "without BN"])
    for ax, target in zip(axes[:, 0], targets, strict=True):
        part = summary[summary["target"] == target]
        recal = part[part["deployment"] == "recalibrated"].sort_values("images")
        ax.plot(recal["images"], 100 * recal["avg_normalized_accuracy"], marker="o",
                color=palette["recalibrated"], label="with BN, recalibrated")
        ax.fill_between(recal["images"], 100 * recal["low"].clip(0, 1.05),
                        100 * recal["high"].clip(0, 1.05), color=palette["recalibrated"],
                        alpha=0.15, linewidth=0)
        for name, rows, dashes in (("standard", part[(part["norm"] == "bn")
                                                     & (part["deployment"] == "standard")], ""),
                                   ("without BN", part[part["norm"] == "none"], (4, 2))):
            if len(rows):
                ax.axhline(100 * rows["avg_normalized_accuracy"].iloc[0],
                           color=palette[name], linestyle="--" if dashes else "-",
                           label="with BN, not recalibrated" if name == "standard" else name)
        ax.set_xscale("log", base=2)
        ax.set(title=f"noise on {TARGET_LABEL.get(target, target)}", ylim=(-3, 105),
               xlabel="recalibration images", ylabel="avg. normalized acc. (%)")
    legend_below(fig, axes[0, 0], ncol=3)
    return fig


def layer_figure(draws: pd.DataFrame) -> Figure:
    """Normalized accuracy with noise in one layer unit at a time (x: the unit, in forward
    order), one panel per target set; colour: with/without BN, marker: eta."""
    data = _labelled(draws).assign(pct=100 * draws["normalized_accuracy"],
                                   η=draws["eta"].map(lambda e: f"η = {e:g}"))
    targets = list(dict.fromkeys(data["target"]))
    fig, axes = figure(rows=len(targets), height_per_row=2.8, sharex=True, sharey=True)
    palette = colors_for(list(data["BN"]))
    for ax, target in zip(axes[:, 0], targets, strict=True):
        sns.lineplot(data=data[data["target"] == target], x="layer", y="pct", hue="BN",
                     style="η", palette=palette, marker="o", ax=ax,
                     errorbar=ci_errorbar(0, 100), legend=ax is axes[0, 0])
        ax.set(title=f"noise on {TARGET_LABEL.get(target, target)} of one layer",
               xlabel="layer (forward order: stem, residual blocks, classifier)",
               ylabel="normalized acc. (%)", ylim=(-3, 105))
    legend_below(fig, axes[0, 0], ncol=4)
    return fig


def perturbation_figure(draws: pd.DataFrame) -> Figure:
    """Accuracy lost with noise in one layer against the measured relative perturbation of that
    layer's output (means over draws, log x), one panel per target set; colour: with/without
    BN, marker: eta."""
    keys = ["norm", "target", "eta", "layer"]
    means = draws.groupby(keys, as_index=False)[["normalized_accuracy", "perturbation"]].mean()
    data = _labelled(means).assign(lost=100 * (1 - means["normalized_accuracy"]),
                                   η=means["eta"].map(lambda e: f"η = {e:g}"))
    targets = list(dict.fromkeys(data["target"]))
    fig, axes = figure(rows=len(targets), height_per_row=2.8, sharex=True, sharey=True)
    palette = colors_for(list(data["BN"]))
    for ax, target in zip(axes[:, 0], targets, strict=True):
        sns.scatterplot(data=data[data["target"] == target], x="perturbation", y="lost",
                        hue="BN", style="η", palette=palette, s=60, ax=ax,
                        legend=ax is axes[0, 0])
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: no overlapping labels
        ax.set(title=f"noise on {TARGET_LABEL.get(target, target)} of one layer",
               xlabel="relative perturbation of the layer's output",
               ylabel="accuracy lost (% of clean)")
    legend_below(fig, axes[0, 0], ncol=4)
    return fig


def normalizer_figure(summary: pd.DataFrame, scoring: str = "wrong") -> Figure:
    """Average normalized accuracy per normalizer (rows, best first) with its 95 % interval
    (over seeds where there are several), one colour per target set; filled markers for
    normalizers with batch statistics."""
    s = summary[summary["scoring"] == scoring]
    order = (s[s["target"] == s["target"].iloc[-1]]
             .sort_values("avg_normalized_accuracy", ascending=False)["norm"].tolist())
    targets = list(dict.fromkeys(s["target"]))
    palette = colors_for(targets)
    fig, axes = figure(rows=1, height_per_row=0.45 * len(order) + 1.2)
    ax = axes[0, 0]
    offsets = {t: (i - (len(targets) - 1) / 2) * 0.22 for i, t in enumerate(targets)}
    for target in targets:
        part = s[s["target"] == target].set_index("norm").loc[order]
        y = [order.index(n) + offsets[target] for n in part.index]
        low, high = clip_band(part["low"], part["high"])
        mean = 100 * part["avg_normalized_accuracy"]
        ax.errorbar(mean, y, xerr=[mean - 100 * low, 100 * high - mean], fmt="none",
                    ecolor=palette[target], elinewidth=1.5)
        for batch, marker_face in ((True, palette[target]), (False, "white")):
            chosen = part["batch_statistics"] == batch
            ax.scatter(mean[chosen], [v for v, c in zip(y, chosen, strict=True) if c],
                       color=marker_face, edgecolors=palette[target], s=50, zorder=3,
                       label=TARGET_LABEL.get(target, target) if batch else None)
    ax.set_yticks(range(len(order)), order)
    ax.invert_yaxis()
    ax.set(xlabel="avg. normalized acc. (%)", xlim=(-3, 105), ylabel="normalizer")
    legend_below(fig, ax, ncol=3)
    return fig
