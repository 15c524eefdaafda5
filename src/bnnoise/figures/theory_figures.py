"""The theory chapters' figures (signal propagation, group size, short runs, channels).

Every figure is drawn with seaborn in the book's style (:mod:`bnnoise.figures.style`): full
width, at most two panels per row, one colour per normalizer from the colour-blind palette,
intervals computed from the data (Student-t over seeds, or the seeds' range) and clipped to the
quantity's possible range, one legend below the panels. Runs that diverged are left out of
every curve (they are counted in the tables), so that their last finite losses cannot set an
axis's scale.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

from bnnoise.figures.axes import legend_under
from bnnoise.figures.colours import norm_colors, ordered_colors
from bnnoise.figures.style import ci_errorbar, figure
from bnnoise.labels import group_size_label
from bnnoise.lineage import produces

PERCENT = ("test_acc", "dead_fraction")
"""Shares that every figure draws in % (as the tables show them)."""

BOUNDS: dict[str, tuple[float, float]] = {
    "test_acc": (0.0, 100.0), "dead_fraction": (0.0, 100.0), "cosine_similarity": (0.0, 1.0),
    "train_loss": (0.0, math.inf), "max_step_loss": (0.0, math.inf),
    "stable_rank": (1.0, math.inf), "grad_ratio": (0.0, math.inf),
    "standardized_mean": (-math.inf, math.inf),
}
"""The possible range of each plotted quantity (shares of :data:`PERCENT` in %); confidence
bands are clipped to it."""

FLOOR_AXES = ("dead_fraction",)
"""Quantities that often sit at their lower bound: their axis starts there."""


def in_percent(table: pd.DataFrame, quantities: dict[str, str]
               ) -> tuple[pd.DataFrame, dict[str, str]]:
    """``table`` with the shares of :data:`PERCENT` among ``quantities`` multiplied by 100, and
    the axis labels of ``quantities`` saying "(%)" for them."""
    shares = [c for c in quantities if c in PERCENT and c in table]
    labels = {c: f"{label} (%)" if c in shares else label
              for c, label in quantities.items()}
    return table.assign(**{c: 100 * table[c] for c in shares}), labels


def _kind(norm: str) -> str:
    from bnnoise.nets.norms import parse_norm

    return ("activation normalizer" if parse_norm(norm).normalizes_activations
            else "no activation normalizer")


@produces
def propagation_curves(layers: pd.DataFrame, quantity: str = "activation_variance",
                       label: str = "activation variance", log: bool = True,
                       xlabel: str = "layer (block or unit output)") -> Figure:
    """A per-layer quantity versus depth, one line per normalizer (mean over seeds, the seeds'
    range shaded; dashed: no activation normalizer; each normalizer its own distinct colour,
    :func:`bnnoise.figures.colours.norm_colors`); one stacked panel per (model, residual
    initialisation), spaced so that a title clears the x-label of the panel above."""
    panels = list(dict.fromkeys(zip(layers["model"], layers["residual_init"], strict=True)))
    fig, axes = figure(rows=len(panels), cols=1, height_per_row=3.0 if len(panels) > 1 else 3.6)
    norms = list(dict.fromkeys(layers["norm"]))
    data = layers.assign(kind=layers["norm"].map(_kind))
    kinds = [k for k in ("activation normalizer", "no activation normalizer")
             if k in set(data["kind"])]
    for ax, (model, init) in zip(axes[:, 0], panels, strict=True):
        part = data[(data["model"] == model) & (data["residual_init"] == init)]
        styles = {"style": "kind", "style_order": kinds} if len(kinds) > 1 else {}
        sns.lineplot(part, x="layer", y=quantity, hue="norm", hue_order=norms,
                     palette=norm_colors(norms), estimator="mean", errorbar=("pi", 100),
                     ax=ax, legend=ax is axes[0, 0], **styles)
        title = model if not model.startswith("resnet") else f"{model}, {init} initialisation"
        ax.set(title=title, xlabel=xlabel, ylabel=label, yscale="log" if log else "linear")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.get_layout_engine().set(h_pad=0.1, hspace=0.06)  # titles clear the x-label above
    _move_legend(fig, axes[0, 0], ncol=4)
    return fig


def _move_legend(fig: Figure, ax, ncol: int = 4) -> None:
    """Replace the legend of ``ax`` by one below the figure (without seaborn's section
    titles, e.g. "norm", "kind")."""
    legend = ax.get_legend()
    if legend is None:
        return
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, lab) for h, lab in zip(handles, labels, strict=True)
            if lab not in ("norm", "kind", "normalizer")]
    if keep and all(GROUP_SERIES.match(lab) for _, lab in keep):
        keep = [(h, group_size_label(lab)) for h, lab in keep]
    legend.remove()
    legend_under(fig, keep, ncol)


def _log2_axis(ax, values: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(v) for v in values])


@produces
def versus_group_size(per_seed: pd.DataFrame, quantities: dict[str, str],
                      log_y: tuple[str, ...] = ()) -> Figure:
    """Quantities of :func:`bnnoise.theory.propagation.group_size_per_seed` versus the group
    size: mean over seeds with its 95 % CI (clipped to the quantity's range); one panel per
    quantity (``{column: axis label}``), at most two per row."""
    per_seed, quantities = in_percent(per_seed, quantities)
    n = len(quantities)
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig, axes = figure(rows=rows, cols=cols, height_per_row=3.3)
    sizes = sorted(int(s) for s in per_seed["group_size"].unique())
    for ax, (column, label) in zip(axes.flat, quantities.items(), strict=False):
        low, high = BOUNDS.get(column, (-math.inf, math.inf))
        sns.lineplot(per_seed, x="group_size", y=column, estimator="mean",
                     errorbar=ci_errorbar(low, high), err_style="bars", marker="o",
                     err_kws={"capsize": 3}, ax=ax)
        _log2_axis(ax, sizes)
        ax.set(xlabel="channels per group", ylabel=label)
        if column in log_y:
            ax.set_yscale("log")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig


GROUP_SERIES = re.compile(r"^(in|ln|gn\d+)$")
"""Normalizers of a group-size series: InstanceNorm, GroupNorm with k channels, LayerNorm."""


def _run_colours(norms: list[str]) -> dict:
    """A group-size series is coloured by its channels per group (an ordered quantity), any
    other set of normalizers by the normalizers' own colours."""
    if all(GROUP_SERIES.match(n) for n in norms):
        return ordered_colors(norms)
    return norm_colors(norms)


def _finite_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the runs that never diverged (``diverged_step`` empty in every epoch)."""
    if "diverged_step" not in table:
        return table
    keys = [k for k in ("norm", "batch_size", "lr", "seed") if k in table]
    diverged = table.groupby(keys, sort=False)["diverged_step"].transform(
        lambda s: s.notna().any())
    return table[~diverged.astype(bool)]


def _configurations(table: pd.DataFrame) -> list[tuple[int, float]]:
    return list(dict.fromkeys(zip(table["batch_size"], table["lr"], strict=True)))


@produces
def short_run_curves(history: pd.DataFrame, quantities: dict[str, str],
                     log_y: tuple[str, ...] = ()) -> Figure:
    """Per-epoch quantities of short training runs: one line per normalizer, the mean over
    the runs that did not diverge with its 95 % CI (clipped to the quantity's range); one row
    per quantity (``{column: axis label}``), one column per (batch size, learning rate)."""
    configurations = _configurations(history)
    if len(configurations) > 2:
        raise ValueError("at most two (batch size, learning rate) configurations per figure")
    finite, quantities = in_percent(_finite_runs(history), quantities)
    norms = list(dict.fromkeys(history["norm"]))
    fig, axes = figure(rows=len(quantities), cols=len(configurations),
                       height_per_row=2.6 if len(configurations) > 1 else 2.4, sharex=True,
                       sharey="row")
    for j, (batch, lr) in enumerate(configurations):
        part = finite[(finite["batch_size"] == batch) & (finite["lr"] == lr)]
        for i, (column, label) in enumerate(quantities.items()):
            ax = axes[i, j]
            low, high = BOUNDS.get(column, (-math.inf, math.inf))
            sns.lineplot(part, x="epoch", y=column, hue="norm", hue_order=norms,
                         palette=_run_colours(norms), estimator="mean",
                         errorbar=ci_errorbar(low, high), marker="o", ax=ax,
                         legend=i == 0 and j == 0)
            ax.set(ylabel=label if j == 0 else "",
                   xlabel="epoch" if i == len(quantities) - 1 else "")
            if column in log_y:
                ax.set_yscale("log")
            if i == 0:
                ax.set_title(f"batch {batch}, peak lr {lr:g}")
            if column in FLOOR_AXES:
                ax.set_ylim(bottom=low)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _move_legend(fig, axes[0, 0], ncol=len(norms))
    return fig


@produces
def channel_profile(channels: pd.DataFrame, quantities: dict[str, str]) -> Figure:
    """Per-ReLU channel statistics after training (:mod:`bnnoise.theory.singularity`), mean
    over the runs per layer; one line per normalizer, one row per quantity, one column per
    (batch size, learning rate)."""
    trained, quantities = in_percent(channels[channels["stage"] == "trained"], quantities)
    configurations = _configurations(trained)
    norms = list(dict.fromkeys(channels["norm"]))
    fig, axes = figure(rows=len(quantities), cols=len(configurations), height_per_row=2.8,
                       sharex=True, sharey="row")
    for j, (batch, lr) in enumerate(configurations):
        part = trained[(trained["batch_size"] == batch) & (trained["lr"] == lr)]
        for i, (column, label) in enumerate(quantities.items()):
            ax = axes[i, j]
            sns.lineplot(part, x="layer", y=column, hue="norm", hue_order=norms,
                         palette=_run_colours(norms), estimator="mean", errorbar=None, ax=ax,
                         legend=i == 0 and j == 0)
            ax.set(ylabel=label if j == 0 else "",
                   xlabel="ReLU (forward order)" if i == len(quantities) - 1 else "")
            if i == 0:
                ax.set_title(f"batch {batch}, peak lr {lr:g}")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _move_legend(fig, axes[0, 0], ncol=len(norms))
    return fig


@produces
def dead_channels_by_lr(standard: pd.DataFrame, high: pd.DataFrame) -> Figure:
    """Dead channels after training, one point per run, per normalizer, at the standard and at
    the high learning rate (runs that diverged have no point)."""
    from bnnoise.theory.short_run_claims import final_values

    parts = []
    for table in (standard, high):
        final = final_values(table).dropna(subset=["dead_fraction"])
        parts.append(final.assign(setting=[f"peak lr {lr:g}, {e} epochs" for lr, e in
                                           zip(final["lr"], final["epoch"], strict=True)]))
    data = pd.concat(parts, ignore_index=True)
    data["dead_percent"] = 100 * data["dead_fraction"]
    settings = list(dict.fromkeys(data["setting"]))
    fig, axes = figure(rows=1, cols=1, height_per_row=3.4)
    ax = axes[0, 0]
    sns.swarmplot(data, x="norm", y="dead_percent", hue="setting", hue_order=settings,
                  palette=ordered_colors(settings), dodge=True, size=8, ax=ax)  # no jitter
    ax.set(xlabel="normalizer", ylabel="dead channels (%)", ylim=(-2, 100))
    ax.yaxis.set_major_locator(FixedLocator(list(np.arange(0, 101, 20))))
    _move_legend(fig, ax, ncol=2)
    return fig
