"""Axes and legends the figures share: the noise-level axis and its labels, the limits of a
normalized-accuracy axis, and one legend below the panels."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator


def _is_heading(handle: object) -> bool:
    """Whether a legend handle is one of seaborn's sub-legend headings (the name of a column,
    e.g. "model"): a line without marker and without width or line style (the headings of line
    and of scatter plots), which draws nothing. A value that happens to equal a column's name
    (e.g. "BN" in a column "BN") keeps its entry."""
    return (isinstance(handle, Line2D) and handle.get_marker() in ("", " ", "None", None)
            and (handle.get_linewidth() == 0
                 or handle.get_linestyle() in ("None", "none", "", " ")))


def legend_below(fig: Figure, ax: Axes | Iterable[Axes], ncol: int = 4,
                 order: Callable[[str], object] | None = None) -> None:
    """One legend below the figure, without seaborn's empty heading entries; the axes' own
    legends are removed. Several axes: every label any of them draws, once (for figures whose
    panels show different subsets), sorted by ``order`` if given. At most ``ncol`` columns, and
    fewer where that many would make the legend wider than the figure (a saved figure would cut
    it off)."""
    axes = [ax] if isinstance(ax, Axes) else list(ax)
    entries: dict[str, object] = {}
    for one in axes:
        for handle, label in zip(*one.get_legend_handles_labels(), strict=True):
            if not _is_heading(handle):
                entries.setdefault(label, handle)
        if one.get_legend() is not None:
            one.get_legend().remove()
    labels = sorted(entries, key=order) if order else list(entries)
    legend_under(fig, [(entries[label], label) for label in labels], ncol)


def legend_under(fig: Figure, entries: list[tuple[object, str]], ncol: int) -> None:
    """A frameless legend of ``entries`` (handle, label) below the figure's panels, in at most
    ``ncol`` columns, fewer where that many would make it wider than the figure (a saved figure
    would cut it off). Nothing for no entries."""
    ncol = max(1, min(ncol, len(entries)))
    while entries:
        legend = fig.legend(*zip(*entries, strict=True), loc="outside lower center", ncol=ncol,
                            frameon=False)
        fig.draw_without_rendering()
        if ncol == 1 or legend.get_window_extent().width <= fig.bbox.width:
            return
        legend.remove()
        ncol -= 1


def normalized_limits(*values: object) -> tuple[float, float]:
    """Axis limits (in %) for normalized accuracies given as fractions: from just below 0 to
    just above 100 %, or above the highest value (e.g. a band's upper end) when that is higher,
    so that no band is cut off by the axis."""
    flat = np.concatenate([np.empty(0), *(np.asarray(v, dtype=float).ravel() for v in values)])
    flat = flat[np.isfinite(flat)]
    return -3.0, (max(105.0, 100 * float(flat.max()) + 3) if flat.size else 105.0)


def normalized_ceiling(curve: pd.DataFrame) -> float:
    """The largest normalized accuracy a curve can reach, 1 / clean accuracy (every test image
    right under noise), read from its rows as normalized accuracy over accuracy; infinite when
    no row has a non-zero accuracy."""
    rows = curve[curve["accuracy"] > 0]
    return float((rows["normalized_accuracy"] / rows["accuracy"]).max()) if len(rows) else np.inf


def eta_axis(ax: Axes, etas: list[float]) -> None:
    """A log axis for the noise level, ticked at the grid's values (eta = 0, the clean model,
    is 100 % by definition and not drawn), labelled as :func:`eta_tick_labels` says."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(etas))
    ax.xaxis.set_major_formatter(FixedFormatter(eta_tick_labels(etas)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(min(etas) / 1.25, max(etas) * 1.25)
    ax.set_xlabel("noise level η")


def eta_tick_labels(etas: list[float]) -> list[str]:
    """Tick labels of the noise levels ``etas`` (all positive) on a log axis: the levels at 1, 2
    and 5 times a power of ten, so that close levels such as 0.5 and 0.7 do not print over each
    other; the others stay ticked but unlabelled. All levels are labelled when fewer than two
    of them are at 1, 2 or 5 times a power of ten."""
    labels = [f"{e:g}" if _mantissa(e) in (1.0, 2.0, 5.0) else "" for e in etas]
    return labels if sum(map(bool, labels)) >= 2 else [f"{e:g}" for e in etas]


def _mantissa(value: float) -> float:
    """``value`` (positive) divided by the power of ten below it, rounded to 6 decimals: 5.0
    for 0.5, 7.0 for 0.7."""
    return round(value / 10 ** math.floor(math.log10(value)), 6)


def label_twos_threes_and_fives(value: float, _position: int) -> str:
    """Minor tick labels of a log axis at 2, 3 and 5 times a power of ten only, so that the
    labels of a short axis do not overlap."""
    if value <= 0:
        return ""
    return f"{value:g}" if _mantissa(value) in (2.0, 3.0, 5.0) else ""
