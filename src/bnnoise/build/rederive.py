"""Do the published tables follow from the committed results?

``make test`` executes every page of the book again from the committed artifact store (nbval,
no training), writing the tables it derives to a scratch folder (``$BNNOISE_RESULTS``). This
module compares them with the published tables of ``data/results/<profile>/``: the same files,
the same columns and rows, the same numbers (up to :data:`RELATIVE_TOLERANCE`, as the tables
are written with six significant digits). A difference means a published table is stale: the
chapter that writes it must be published again (``make publish NB=...``).

    python -m bnnoise.build.rederive data/results/cpu _build/rederived/cpu
"""

from __future__ import annotations

import sys
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

RELATIVE_TOLERANCE = 1e-5
"""Relative difference allowed between two numbers of a table (written as ``%.6g``)."""

SCRIPT_TABLES = ("pilot_*_lr.csv",)
"""Published tables that a script writes and pages only read (``scripts/pilot_lr.py``, see
:mod:`bnnoise.analysis.pilots`): no page derives them again."""


def table_differences(published: Path, rederived: Path) -> list[str]:
    """One line per difference between the CSV tables of two folders; empty if they agree."""
    ours = {p.name for p in published.glob("*.csv")
            if not any(fnmatch(p.name, pattern) for pattern in SCRIPT_TABLES)}
    again = {p.name for p in rederived.glob("*.csv")}
    problems = [f"{name}: published, but no page derives it" for name in sorted(ours - again)]
    problems += [f"{name}: derived by a page, but not published" for name in sorted(again - ours)]
    for name in sorted(ours & again):
        difference = _difference(pd.read_csv(published / name), pd.read_csv(rederived / name))
        if difference:
            problems.append(f"{name}: {difference}")
    return problems


def _difference(published: pd.DataFrame, page: pd.DataFrame) -> str:
    """The first way ``page`` differs from ``published`` (columns, rows, then values column by
    column), as a short phrase; empty if they agree."""
    if list(published.columns) != list(page.columns):
        return f"columns {list(published.columns)} published, {list(page.columns)} derived"
    if len(published) != len(page):
        return f"{len(published)} rows published, {len(page)} derived"
    for column in published.columns:
        old, new = published[column], page[column]
        if pd.api.types.is_numeric_dtype(old) and pd.api.types.is_numeric_dtype(new):
            same = np.isclose(old, new, rtol=RELATIVE_TOLERANCE, atol=0.0, equal_nan=True)
        else:
            same = ((old.isna() & new.isna())
                    | (old.astype(str) == new.astype(str)).fillna(False)).to_numpy(dtype=bool)
        if not same.all():
            row = int(np.flatnonzero(~same)[0])
            return (f"column {column}: {int((~same).sum())} of {len(same)} rows differ (row "
                    f"{row}: {old.iloc[row]} published, {new.iloc[row]} derived)")
    return ""


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bnnoise.build.rederive PUBLISHED_DIR REDERIVED_DIR",
              file=sys.stderr)
        return 2
    published, rederived = (Path(a) for a in argv)
    for folder in (published, rederived):
        if not folder.is_dir():
            print(f"rederive: no folder {folder}", file=sys.stderr)
            return 2
    problems = table_differences(published, rederived)
    for line in problems:
        print(f"stale: {line}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} published table(s) do not follow from the committed results; "
              "publish the chapters that write them again", file=sys.stderr)
        return 1
    count = len(list(rederived.glob("*.csv")))
    print(f"all {count} tables the pages derive agree with the published ones")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
