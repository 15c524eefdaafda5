"""The device chapter's figures: the PCM-like device's own statistics beside the published
formulas, and the networks' accuracy against the time after programming."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from bnnoise.config.devices import DEFAULT_DEVICE
from bnnoise.figures.axes import legend_below, normalized_limits
from bnnoise.figures.colours import model_colors
from bnnoise.figures.noise_figures import DASHES
from bnnoise.figures.style import clip_normalized, figure
from bnnoise.labels import with_arm_labels
from bnnoise.lineage import produces

_UNITS = ((10 * 365 * 86_400.0, "10 y"), (365 * 86_400.0, "1 y"), (30 * 86_400.0, "1 mo"),
          (86_400.0, "1 d"), (3_600.0, "1 h"), (60.0, "1 min"), (1.0, "1 s"))


def time_label(seconds: float) -> str:
    """A time after programming as the figures write it (1 s, 1 h, 1 d, 1 mo, 1 y, 10 y);
    other times in seconds."""
    for value, label in _UNITS:
        if seconds == value:
            return label
    return f"{seconds:g} s"


def time_axis(ax: Axes, times: list[float]) -> None:
    """A log axis of the time after programming, ticked at the sweep's times."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(times))
    ax.xaxis.set_major_formatter(FixedFormatter([time_label(t) for t in times]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("time after programming (log scale)")


@produces
def device_model_figure(statistics: pd.DataFrame) -> Figure:
    """:func:`bnnoise.analysis.device_model.device_statistics` drawn: measured values as
    markers, the published formulas as lines through the same points; programming noise and
    drift against the target conductance, read noise against time."""
    fig, axes = figure(rows=3, height_per_row=2.4)
    panels = [("programming spread", "programming σ (µS)", ["programming spread"]),
              ("drift", "drift coefficient ν", ["drift mean", "drift spread"]),
              ("read noise growth", "read noise σ(t) / σ(1 s)", ["read noise growth"])]
    for ax, (_, ylabel, quantities) in zip(axes[:, 0], panels, strict=True):
        part = statistics[statistics["quantity"].isin(quantities)]
        for quantity, rows in part.groupby("quantity", sort=False):
            line, = ax.plot(rows["x"], rows["published"], label=f"{quantity}, published")
            ax.plot(rows["x"], rows["measured"], "o", color=line.get_color(),
                    label=f"{quantity}, measured")
        ax.set_ylabel(ylabel)
    for ax in axes[:2, 0]:
        ax.set_xlabel("target conductance G / G_max")
        ax.set_ylim(0, 1.45 * ax.get_ylim()[1])  # room for the legend above the curves
    for ax in axes[:2, 0]:
        ax.legend(loc="upper right", ncol=2, fontsize=10)
    axes[2, 0].legend(loc="upper left", fontsize=10)  # the curve rises to the right
    time_axis(axes[2, 0], sorted(statistics.loc[
        statistics["quantity"] == "read noise growth", "x"]))
    axes[2, 0].set_xlabel("time after programming (log scale); G = G_max / 2")
    return fig


@produces
def device_time_curves(summary: pd.DataFrame, scoring: str = "wrong") -> Figure:
    """Normalized accuracy against the time after programming with 95 % intervals over the
    programmed devices, one panel per deployment of the BN networks (each panel also draws the
    networks without BN, which have one deployment) on the study's own device (the variants are
    in :func:`bnnoise.pages.device_tables.device_variant_view`); colour: model, line style: BN.
    ``summary`` is :func:`bnnoise.analysis.device_claims.device_summary`'s table."""
    data = with_arm_labels(summary[(summary["scoring"] == scoring)
                                   & (summary["device"] == DEFAULT_DEVICE)])
    deployments = sorted(set(data.loc[data["norm"] == "bn", "deployment"]),
                         key=lambda name: (name != "standard", name))  # BN kept digital first
    fig, axes = figure(rows=len(deployments), height_per_row=2.6, sharex=True, sharey=True)
    palette = model_colors(list(data["model"]))
    for ax, deployment in zip(axes[:, 0], deployments, strict=True):
        part = data[(data["deployment"] == deployment) | (data["norm"] != "bn")]
        for (model, _), curve in part.groupby(["model", "BN"], sort=False):
            low, high = clip_normalized(curve["normalized_accuracy"]
                                        - curve["normalized_accuracy_ci95"].fillna(0),
                                        curve["normalized_accuracy"]
                                        + curve["normalized_accuracy_ci95"].fillna(0))
            ax.fill_between(curve["t_inference"], 100 * low, 100 * high,
                            color=palette[model], alpha=0.08, linewidth=0)
        sns.lineplot(data=part.assign(pct=100 * part["normalized_accuracy"]), x="t_inference",
                     y="pct", hue="model", style="BN", dashes=DASHES, palette=palette,
                     marker="o", markersize=4, ax=ax, legend=ax is axes[0, 0], errorbar=None)
        ax.set_title(f"BN networks: {deployment}", loc="left")
        ax.set_ylabel("normalized accuracy (%)")
        ax.set_ylim(*normalized_limits(data["normalized_accuracy"]))
    time_axis(axes[-1, 0], sorted(data["t_inference"].unique()))
    legend_below(fig, axes[0, 0])
    return fig
