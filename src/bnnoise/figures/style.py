"""The book's one figure style: a seaborn theme, a colour-blind-safe palette, full-width figures.

Every figure of the book is drawn after :func:`use_book_style` and created with :func:`figure`:

* the text column of the rendered book is 704 px wide and figures are saved at 100 dpi, so a
  figure :data:`FULL_WIDTH` (7 inches) wide is shown at 100 %, never scaled down (the page
  checker fails images shown at less than 70 % of their design size);
* seaborn's ``notebook`` context gives 11 pt tick labels and legends and 12 pt axis labels and
  titles, i.e. 15-17 px on the page: as large as the body text;
* at most two panels per row: stack panels rather than shrink them.

Intervals are clipped to the possible range of their quantity with :func:`clip_band` before they
are drawn: accuracies and shares to [0, 1] (:data:`ACCURACY_RANGE`), normalized accuracies
(noisy over clean accuracy) to [0, inf) (:data:`NORMALIZED_RANGE`, :func:`clip_normalized`),
since a noisy network can beat its clean one on the test images.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

FULL_WIDTH = 7.0
"""Width of every figure in inches: the 704 px text column at :data:`DPI`."""

DPI = 100
"""Resolution figures are created and saved at (pixels per inch)."""

MAX_PANELS_PER_ROW = 2
"""More panels per row would make each too small to read at :data:`FULL_WIDTH`."""

PALETTE: list[tuple[float, float, float]] = list(sns.color_palette("colorblind"))
"""The book's colours (seaborn's ``colorblind`` palette, ten colours), in order of use."""

FONT_SIZES = {"font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12,
              "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": 11,
              "legend.title_fontsize": 11}
"""Point sizes; at 100 dpi, 11 pt is 15 px and 12 pt 17 px on the page (body text: 16 px)."""


def use_book_style() -> None:
    """Set the book's seaborn theme (whitegrid, colour-blind palette, readable font sizes).

    :func:`figure`, which every figure of the book starts from, applies it, so a chapter never
    calls it itself: the style is set in one place."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind",
                  rc={**FONT_SIZES, "figure.dpi": DPI, "savefig.dpi": DPI,
                      "figure.constrained_layout.use": True, "axes.titleweight": "normal",
                      "legend.frameon": True, "legend.framealpha": 0.9,
                      "svg.fonttype": "none", "pdf.fonttype": 42,
                      "svg.hashsalt": "bnnoise"})  # stable ids: a rerun rewrites equal SVGs


def figure(rows: int = 1, cols: int = 1, height_per_row: float = 3.0,
           sharex: bool | str = False, sharey: bool | str = False
           ) -> tuple[Figure, np.ndarray]:
    """A new full-width figure in the book's style, with a (rows, cols) array of axes.

    Prefer stacking panels (``rows``) to placing them side by side: more than
    :data:`MAX_PANELS_PER_ROW` per row raises ``ValueError``. ``sharex``/``sharey`` take what
    :func:`matplotlib.pyplot.subplots` takes (``True``, ``"row"``, ``"col"``).
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"need at least one row and one column (got {rows} x {cols})")
    if cols > MAX_PANELS_PER_ROW:
        raise ValueError(f"{cols} panels per row are too small to read at {FULL_WIDTH:g} "
                         f"inches; stack them (at most {MAX_PANELS_PER_ROW} per row)")
    use_book_style()
    fig, axes = plt.subplots(rows, cols, figsize=(FULL_WIDTH, height_per_row * rows), dpi=DPI,
                             sharex=sharex, sharey=sharey, squeeze=False,
                             layout="constrained")
    return fig, axes


def side_by_side(panels: int) -> tuple[Figure, np.ndarray]:
    """A full-width figure of ``panels`` panels two per row, sharing both axes (half the
    height of a stack, for panels that stay readable at half width); unused axes removed."""
    fig, axes = figure(rows=-(-panels // 2), cols=min(panels, 2), height_per_row=3.0,
                       sharex=True, sharey=True)
    for ax in axes.flat[panels:]:
        ax.remove()
    return fig, axes


ACCURACY_RANGE = (0.0, 1.0)
"""Possible range of an accuracy or any other share (a fraction)."""

NORMALIZED_RANGE = (0.0, math.inf)
"""Possible range of a normalized accuracy (noisy accuracy / clean accuracy, a fraction): never
below 0, and above 1 whenever a noisy network beats its clean one on the test images. Its upper
end, 1 / clean accuracy, differs from network to network, so no upper bound is imposed: a band
clipped at 1 could end below its own point."""


def clip_band(low: np.ndarray | float, high: np.ndarray | float, lower: float = 0.0,
              upper: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """An interval clipped to the range [``lower``, ``upper``] of its quantity ([0, 1] by
    default, for accuracies; normalized accuracies: :func:`clip_normalized`), so that a
    confidence band does not reach values its quantity cannot take."""
    if lower > upper:
        raise ValueError(f"lower bound {lower} above upper bound {upper}")
    return (np.clip(np.asarray(low, dtype=float), lower, upper),
            np.clip(np.asarray(high, dtype=float), lower, upper))


def clip_normalized(low: np.ndarray | float, high: np.ndarray | float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """An interval of a normalized accuracy clipped to :data:`NORMALIZED_RANGE` (below at 0)."""
    return clip_band(low, high, *NORMALIZED_RANGE)


def ci_errorbar(lower: float = -np.inf, upper: float = np.inf):
    """An ``errorbar`` for seaborn's ``lineplot``/``pointplot``: the 95 % Student-t interval of
    the mean of the values at each point, clipped to [``lower``, ``upper``] (:func:`clip_band`);
    a single value gives no band."""
    from bnnoise.stats import mean_ci

    def interval(values) -> tuple[float, float]:
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if len(v) == 0:
            return np.nan, np.nan
        mean, half = mean_ci(v)
        half = 0.0 if not np.isfinite(half) else half
        low, high = clip_band(mean - half, mean + half, lower, upper)
        return float(low), float(high)

    return interval
