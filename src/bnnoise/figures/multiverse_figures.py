"""Specification curves: one claim's estimate under every reading of the protocol, sorted, with
the choices of each reading marked underneath (Simonsohn, Simmons and Nelson, Nature Human
Behaviour 2020), from the multiverse table of :mod:`bnnoise.analysis.multiverse`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bnnoise.analysis.multiverse import READING_COLUMNS
from bnnoise.figures.colours import VERDICT_COLOURS
from bnnoise.figures.style import PALETTE, figure
from bnnoise.labels import dataset_label
from bnnoise.lineage import produces

VERDICT_COLORS = VERDICT_COLOURS
"""One colour per verdict, in every specification curve: green, red, grey."""

CLAIM_AXES = {
    "BN lowers noise resistance": ("no BN minus BN (points)", (2.0,)),
    "the harm grows with the number of BN layers (depth series)":
        ("growth of the harm (points)", (2.0,)),
    "the harm grows with the number of BN layers (controlled)":
        ("growth of the harm (points)", (2.0,)),
    "the headline numbers": ("ours minus the study's (points)", (-5.0, 5.0)),
    "networks without BN stay robust": ("average minus 90 % (points)", (0.0,)),
}
"""Per claim: what its estimate is, and the thresholds of its rule (dashed lines)."""

AXIS_LABEL = {"grid": "grid", "reading": "noise", "dataset": "data", "target": "target",
              "scoring": "scoring", "subject": "network"}


def _claim_key(claim: str) -> str:
    return next((key for key in CLAIM_AXES if claim.startswith(key)), claim)


def curve_table(multiverse: pd.DataFrame, claim: str) -> pd.DataFrame:
    """The rows of ``claim`` (its name or the start of it), in the order of the curve: by
    estimate; the headline numbers as ours minus the published value."""
    part = multiverse[multiverse["claim"].str.startswith(claim)].copy()
    if part.empty:
        return part
    if _claim_key(claim) == "the headline numbers":
        for column in ("estimate", "low", "high"):
            part[column] = part[column] - part["published"]
    part["dataset"] = part["dataset"].map(dataset_label)
    part["subject"] = (part["subject"].str.replace(r" \(.*\)$", "", regex=True)
                       .str.replace(r"^.*BN in the (first|last) k of its slots$", r"\1 k",
                                    regex=True))
    return part.sort_values("estimate", kind="stable", ignore_index=True)


@produces
def specification_curve(multiverse: pd.DataFrame, claim: str) -> Figure:
    """One claim under every reading: the estimate and its 95 % interval per reading, sorted,
    coloured by verdict, with the rule's thresholds dashed (top); which choice each reading
    makes on every axis (bottom: grid, noise scale and kind, dataset, target set, scoring,
    network)."""
    part = curve_table(multiverse, claim)
    if part.empty:  # e.g. the headline numbers in a run without the study's networks
        fig, axes = figure(height_per_row=1.0)
        axes[0, 0].text(0.5, 0.5, f"No reading of “{claim}” in this run", ha="center",
                        va="center", transform=axes[0, 0].transAxes)
        axes[0, 0].set_axis_off()
        return fig
    axes_rows = [(column, value) for column in [*READING_COLUMNS, "subject"]
                 for value in dict.fromkeys(sorted(part[column].astype(str)))
                 if part[column].nunique() > 1]
    label, thresholds = CLAIM_AXES.get(_claim_key(claim), ("estimate", (0.0,)))
    height = 0.21 * len(axes_rows) + 0.6
    fig, axes = figure(rows=2, height_per_row=1.0, sharex=True)
    fig.set_figheight(3.0 + height)
    top, bottom = axes[0, 0], axes[1, 0]
    grid_spec = top.get_gridspec()
    grid_spec.set_height_ratios([3.0, height])
    x = np.arange(len(part))
    colors = [VERDICT_COLORS.get(v, PALETTE[7]) for v in part["verdict"]]
    top.vlines(x, part["low"], part["high"], colors=colors, linewidth=1.0, alpha=0.6)
    top.scatter(x, part["estimate"], c=colors, s=9, zorder=3)
    for threshold in thresholds:
        top.axhline(threshold, color="0.3", linestyle="--", linewidth=1)
    top.set_ylabel(label)
    top.legend(handles=[Line2D([], [], marker="o", linestyle="", color=c, label=v)
                        for v, c in VERDICT_COLORS.items() if v in set(part["verdict"])],
               loc="upper left", fontsize=10)
    for row, (column, value) in enumerate(axes_rows):
        chosen = np.flatnonzero(part[column].astype(str).to_numpy() == value)
        bottom.scatter(chosen, np.full(len(chosen), row), marker="|", s=30, color="0.2",
                       linewidths=1)
    bottom.set_yticks(range(len(axes_rows)),
                      [f"{AXIS_LABEL[c]}: {v}" for c, v in axes_rows], fontsize=10)
    bottom.set_ylim(len(axes_rows) - 0.5, -0.5)
    bottom.set_xlabel(f"readings, sorted by estimate ({len(part)})")
    bottom.grid(False, axis="x")
    return fig
