"""Helpers that put results into the book: tidy CSV files, figures and numbered tables.

* :func:`save_table` writes a tidy table to the profile's results folder;
* :func:`publish_figure` saves a figure as SVG and PDF beside the tables, glues its PNG for a
  ``{glue:figure}`` directive and returns download links (figure files and its CSV);
* :func:`publish_table` glues a table the book numbers for the ``{table}`` directive that
  captions it in the chapter's Markdown, as :func:`publish_figure` does for figures;
  :func:`numbered_table` gives a table a caption the library composes (a claim's rule), and
  :func:`configuration_table` is the one style of configuration table (parameter | value); all
  three are defined, with their formatting rules, in :mod:`bnnoise.pages.markdown_tables` and
  importable from here.

Links are computed relative to the directory of the executed notebook (``book/``, or the output
directory of a rerun elsewhere), so they follow the profile and the results folder; Jupyter Book
copies every file referenced with the ``{download}`` role into the built site.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure
from myst_nb import glue

from bnnoise.config import Profile
from bnnoise.figures.conventions import figure_problems, log_axes
from bnnoise.lineage import record
from bnnoise.pages.markdown_tables import (
    configuration_rows,
    configuration_table,
    numbered_table,
    publish_table,
)
from bnnoise.pages.number_format import format_number
from bnnoise.pages.provenance import cite
from bnnoise.store import atomic_write_bytes

__all__ = [
    "FIGURES", "configuration_rows", "configuration_table", "download_link", "format_number",
    "glue_figure", "link_path", "notebook_dir", "numbered_table", "publish_figure",
    "publish_table", "save_table",
]

FIGURES = "figures"
"""Sub-folder of a profile's results folder that holds the book's figures (SVG and PDF)."""


def save_table(table: pd.DataFrame, profile: Profile, filename: str) -> Path:
    """Write a tidy table to ``data/results/<profile>/<filename>`` (atomically); return the path."""
    path = profile.results_dir / filename
    record("file", filename)
    atomic_write_bytes(path, table.to_csv(index=False, float_format="%.6g").encode())
    return path


def notebook_dir(profile: Profile) -> Path:
    """The directory of the executed notebook that shows the profile's results: ``book/``, or
    the output directory of a rerun elsewhere (whose tables go to ``<dir>/results/``)."""
    base = os.environ.get("BNNOISE_RESULTS")
    return Path(base).resolve().parent if base else profile.root / "book"


def link_path(path: Path, profile: Profile) -> str:
    """``path`` relative to the executed notebook's directory, with forward slashes, for a
    ``{download}`` role (e.g. ``../data/results/cpu/x.csv`` from ``book/``)."""
    return Path(os.path.relpath(Path(path).resolve(), notebook_dir(profile).resolve())).as_posix()


def download_link(path: Path, profile: Profile, label: str | None = None) -> str:
    """A MyST ``{download}`` role for ``path`` (label: its file name)."""
    return f"{{download}}`{label or Path(path).name} <{link_path(path, profile)}>`"


def glue_figure(name: str, figure: Figure) -> None:
    """Glue a figure for a ``{glue:figure}`` directive and close it, so that it is shown once,
    where the prose places it, not also as the cell's output."""
    glue(name, figure, display=False)
    plt.close(figure)


def publish_figure(name: str, fig: Figure, profile: Profile, data_file: Path | None = None,
                   *, provenance: str | None = None) -> None:
    """Save ``fig`` as ``<results_dir>/figures/<name>.svg`` and ``.pdf`` and glue, for the
    chapter's ``{glue:figure}`` directive, its PNG as ``name`` and one Markdown line of
    download links (SVG, PDF and, if given, the CSV ``data_file`` the figure is drawn from) as
    ``<name>-links``, which the directive pastes under its caption (:data:`FIGURE_LINKS`), so
    that the links stand under their own figure.

    ``provenance`` (e.g. :func:`bnnoise.pages.provenance.provenance_markdown`) is cited after
    the links. The figure stays on the inline backend, so that the glued output carries its PNG
    (under a forced Agg backend it would be text only).

    Raises:
        ValueError: the figure breaks a convention of the book's figures
            (:mod:`bnnoise.figures.conventions`: an entity in another colour than its own, an
            accuracy or share not in %, a title wider than its panel, overlapping axis labels,
            a legend outside the figure); nothing is saved.
    """
    problems = figure_problems(fig)
    if problems:
        raise ValueError(f"figure {name}: " + "; ".join(problems))
    folder = profile.results_dir / FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ("svg", "pdf"):
        tmp = folder / f".tmp-{name}.{fmt}"
        fig.savefig(tmp, format=fmt, metadata={"Date": None} if fmt == "svg" else
                    {"CreationDate": None})
        os.replace(tmp, folder / f"{name}.{fmt}")
    record("figure", name, fig, Path(data_file).name if data_file is not None else "",
           log_axes=log_axes(fig))
    glue_figure(name, fig)
    glue(f"{name}-links", Markdown(figure_links(name, profile, data_file, provenance)),
         display=False)


def figure_links(name: str, profile: Profile, data_file: Path | None = None,
                 provenance: str | None = None) -> str:
    """The Markdown under a published figure: download links to its SVG, its PDF and the CSV
    it is drawn from, then the citation of its provenance note."""
    folder = profile.results_dir / FIGURES
    files = [download_link(folder / f"{name}.{fmt}", profile, fmt.upper())
             for fmt in ("svg", "pdf")]
    if data_file is not None:
        files.append(download_link(Path(data_file), profile,
                                   f"data ({Path(data_file).name})"))
    text = "Download this figure: " + " · ".join(files) + "\n"
    return text + ("\n" + cite(provenance) if provenance else "")


FIGURE_LINKS = "```{{glue:md}} {name}-links\n:format: myst\n```"
"""What a chapter's ``{glue:figure}`` directive holds after its caption: the figure's download
links and provenance (:func:`publish_figure`); the directive is then fenced with colons."""
