"""The training-length chapter's figure: each run followed along its stored epochs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from bnnoise.figures.axes import legend_below
from bnnoise.figures.colours import ordered_colors
from bnnoise.figures.noise_figures import DASHES
from bnnoise.figures.style import figure
from bnnoise.labels import TARGET_LABEL, with_arm_labels
from bnnoise.lineage import produces

LENGTH_ETAS = (0.2, 0.5)
"""The noise levels whose exact collapse probability :func:`length_trajectories` follows."""


@produces
def length_trajectories(progress: pd.DataFrame, variances: pd.DataFrame,
                        etas: tuple[float, ...] = LENGTH_ETAS) -> Figure:
    """What each training-length run looks like along its stored epochs: one column per model
    (named in its top panel), rows: average normalized accuracy under noise on each target set
    of the progress protocol (mean over the draws), the exact collapse probability at each of
    ``etas`` (noise on every array), both in %, and the smallest BN running variance over its
    layer's median (log scale), against the epoch. Colour: the run's length (sequential, the
    longer the lighter); solid: with BN, dashed: without BN (no BN: no collapse, no running
    variance)."""
    runs = with_arm_labels(progress).assign(run=progress["epochs"].map(lambda e: f"{e} epochs"))
    stats = with_arm_labels(variances).assign(
        run=variances["epochs"].map(lambda e: f"{e} epochs"))
    models = list(dict.fromkeys(runs["model"]))
    targets = list(dict.fromkeys(runs["target"]))
    rows = ([("progress", t) for t in targets] + [("collapse", eta) for eta in etas]
            + [("small", None)])
    fig, axes = figure(rows=len(rows), cols=len(models), height_per_row=2.2, sharex="col",
                       sharey="row")
    palette = ordered_colors([*runs["run"], *stats["run"]])
    for col, model in enumerate(models):
        for row, (what, which) in enumerate(rows):
            ax = axes[row, col]
            if what == "progress":
                part = runs[(runs["model"] == model) & (runs["target"] == which)]
                y, label = 100 * part["avg_normalized_accuracy"], "norm. acc. (%)"
                words = TARGET_LABEL.get(which, which)
                title = f"noise on {words.split(' (')[0]}"
            else:
                part = stats[stats["model"] == model]
                if what == "collapse":
                    part = part[np.isclose(part["eta"], which)]
                    y, label = 100 * part["collapse_probability"], "collapse (%)"
                    title = f"collapse, η = {which:g}"
                else:
                    part = part.drop_duplicates(["epochs", "epoch"])
                    y, label = part["smallest_to_median"], "min / median"
                    title = "smallest BN var. / median"
                    ax.set_yscale("log")
            if len(part):
                sns.lineplot(data=part.assign(y=y), x="epoch", y="y", hue="run",
                             style="BN", dashes=DASHES, palette=palette, marker="o",
                             markersize=4, errorbar=None, ax=ax)
            ax.set(title=f"{model}\n{title}" if row == 0 else title, ylabel=label,
                   xlabel="epoch")
    legend_below(fig, axes.flat, ncol=6, order=_legend_order)
    return fig


def _legend_order(label: str) -> tuple[bool, float]:
    """Runs by length first, shortest first; then the BN arms."""
    head = label.split(" ")[0]
    return (not head.isdigit(), float(head) if head.isdigit() else 0.0)
