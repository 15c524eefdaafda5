"""Helpers that put results into the book: tidy CSV files and numbered Markdown tables."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure
from myst_nb import glue

from bnnoise.config import Profile
from bnnoise.store import atomic_write_bytes


def save_table(table: pd.DataFrame, profile: Profile, filename: str) -> Path:
    """Write a tidy table to ``data/results/<profile>/<filename>`` (atomically); return the path."""
    path = profile.results_dir / filename
    atomic_write_bytes(path, table.to_csv(index=False, float_format="%.6g").encode())
    return path


def glue_figure(name: str, figure: Figure) -> None:
    """Glue a figure for a ``{glue:figure}`` directive and close it, so that it is shown once,
    where the prose places it, not also as the cell's output."""
    glue(name, figure, display=False)
    plt.close(figure)


def numbered_table(table: pd.DataFrame, caption: str, name: str, floatfmt: str = ".4g"
                   ) -> Markdown:
    """A table the book numbers and can reference as ``{numref}`name```.

    Rendered through MyST (``nb_render_markdown_format: myst``) as a ``table`` directive.
    """
    shown = table.astype(object).where(table.notna(), None)  # tabulate marks None as missing
    body = shown.to_markdown(index=False, floatfmt=floatfmt, missingval="–")
    return Markdown(f":::{{table}} {caption}\n:name: {name}\n:align: left\n\n{body}\n:::\n")


def configuration_table(profile: Profile, sections: tuple[str, ...] = ("recipe", "noise")
                        ) -> Markdown:
    """The effective configuration of a run, as a Markdown table of parameter and value."""
    summary = profile.summary()
    rows = [("profile", summary["profile"]), ("datasets", ", ".join(summary["datasets"])),
            ("models", ", ".join(summary["models"])), ("norms", ", ".join(summary["norms"]))]
    for section in sections:
        rows += [(f"{section}.{k}", "null" if v is None else v)
                 for k, v in summary[section].items()]
    body = pd.DataFrame(rows, columns=["parameter", "value"]).astype(str).to_markdown(index=False)
    return Markdown(f"{body}\n")
