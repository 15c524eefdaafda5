"""The conventions every figure of the book keeps, checked when a chapter publishes it
(:func:`bnnoise.pages.elements.publish_figure`):

* one colour per entity: a legend entry that names a network, a normalizer, a target set or a
  verdict shows that entity's fixed colour (:func:`bnnoise.figures.colours.colour_problems`);
* accuracies and shares in per cent: an axis whose label speaks of an accuracy, a share or a
  fraction says ``%`` (:func:`unit_problems`);
* every log axis named in the caption: the axes on a log scale are recorded with the figure
  (:func:`log_axes`), and a test reads the captions of the published chapters against them;
* text that fits (:func:`layout_problems`): every panel title fits its panel (a wider title
  runs into the neighbouring panel's), no two axis labels overlap (as the y labels of short
  stacked panels do), and every legend lies within the figure (a saved figure cuts off what
  lies outside it).
"""

from __future__ import annotations

import re

from matplotlib.figure import Figure

from bnnoise.figures.colours import colour_problems

SHARE_WORDS = re.compile(r"\bacc(uracy|\.)|\bshare\b|\bfraction\b", re.IGNORECASE)
"""Axis labels that speak of an accuracy or a share of something."""


def _labelled_axes(fig: Figure):
    """(axis name, its label, its scale) of every visible axis of ``fig``."""
    for ax in fig.axes:
        if ax.get_visible():
            yield "x", ax.get_xlabel(), ax.get_xscale()
            yield "y", ax.get_ylabel(), ax.get_yscale()


def unit_problems(fig: Figure) -> list[str]:
    """Axis labels of ``fig`` that speak of an accuracy, a share or a fraction without ``%``,
    one line each (the book gives these in per cent everywhere, as its tables do)."""
    return [f"{axis} axis {label!r} speaks of an accuracy or a share but not in %"
            for axis, label, _ in dict.fromkeys(_labelled_axes(fig))
            if SHARE_WORDS.search(label) and "%" not in label]


def log_axes(fig: Figure) -> list[str]:
    """The axes of ``fig`` on a log scale, each once: ``"x: recalibration images"``."""
    return list(dict.fromkeys(f"{axis}: {label}" for axis, label, scale in _labelled_axes(fig)
                              if scale != "linear"))


LAYOUT_SLACK_PX = 4.0
"""How many pixels a title may be wider than its panel, or a legend reach past the figure's
edge, before it counts."""


def layout_problems(fig: Figure) -> list[str]:
    """Panel titles of ``fig`` (centre, left or right) wider than their panel once the figure
    is laid out, pairs of axis labels that overlap, and legends that reach outside the figure,
    one line each (shorten them, name a column once in its top panel, give the panels more
    height, or the legend fewer columns). Hidden axes and legends are left out."""
    fig.draw_without_rendering()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    titles = [(ax, title) for ax in axes for title in (ax.title, ax._left_title, ax._right_title)
              if title.get_visible() and title.get_text()]
    wide = [f"title {title.get_text()!r} is {width:.0f} px wide, its panel {panel:.0f} px"
            for ax, title in titles
            for width, panel in [(title.get_window_extent().width, ax.get_window_extent().width)]
            if width > panel + LAYOUT_SLACK_PX]
    labels = [label for ax in axes for label in (ax.xaxis.label, ax.yaxis.label)
              if label.get_visible() and label.get_text()]
    boxes = [label.get_window_extent() for label in labels]
    overlapping = [f"axis labels {labels[i].get_text()!r} and {labels[j].get_text()!r} overlap"
                   for i in range(len(labels)) for j in range(i + 1, len(labels))
                   if boxes[i].overlaps(boxes[j])]
    legends = [legend for legend in [*fig.legends, *(ax.get_legend() for ax in axes)]
               if legend is not None and legend.get_visible()]
    width, height, slack = fig.bbox.width, fig.bbox.height, LAYOUT_SLACK_PX
    outside = [f"a legend reaches outside the figure (x {box.x0:.0f} to {box.x1:.0f} of "
               f"{width:.0f} px, y {box.y0:.0f} to {box.y1:.0f} of {height:.0f} px)"
               for legend in legends for box in [legend.get_window_extent()]
               if min(box.x0, box.y0) < -slack or box.x1 > width + slack
               or box.y1 > height + slack]
    return wide + overlapping + outside


def figure_problems(fig: Figure) -> list[str]:
    """Every convention ``fig`` breaks, one line each (none: an empty list)."""
    return colour_problems(fig) + unit_problems(fig) + layout_problems(fig)
