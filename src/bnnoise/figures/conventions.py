"""The conventions every figure of the book keeps, checked when a chapter publishes it
(:func:`bnnoise.pages.elements.publish_figure`):

* one colour per entity: a legend entry that names a network, a normalizer, a target set or a
  verdict shows that entity's fixed colour (:func:`bnnoise.figures.colours.colour_problems`);
* accuracies and shares in per cent: an axis whose label speaks of an accuracy, a share or a
  fraction says ``%`` (:func:`unit_problems`);
* every log axis named in the caption: the axes on a log scale are recorded with the figure
  (:func:`log_axes`), and a test reads the captions of the published chapters against them.
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


def figure_problems(fig: Figure) -> list[str]:
    """Every convention ``fig`` breaks, one line each (none: an empty list)."""
    return colour_problems(fig) + unit_problems(fig)
