"""Run the book's chapter notebooks with Papermill.

Source notebooks live in ``chapters/`` (unexecuted, each with a cell tagged ``parameters``); an
executed copy goes to ``book/`` (what the book renders) or anywhere else. The cell Papermill injects
with the reader's parameters is tagged ``remove-cell`` so the rendered page shows prose, not
plumbing; every chapter prints its effective configuration instead. Executed anywhere else, a
chapter writes its result tables beside the notebook (``<output_dir>/results/<profile>/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat


def chapter_names(root: Path) -> list[str]:
    """Names of the chapter notebooks, in reading order."""
    return sorted(p.stem for p in (root / "chapters").glob("*.ipynb"))


def chapter_parameters(root: Path, name: str) -> list[str]:
    """The parameter names a chapter accepts."""
    import papermill

    return list(papermill.inspect_notebook(str(root / "chapters" / f"{name}.ipynb")))


@contextmanager
def _results_beside(output_dir: Path, root: Path) -> Iterator[None]:
    """Outside ``book/``, a chapter's result tables go to ``<output_dir>/results/<profile>``, so
    that a reader's rerun never overwrites the tables the book links."""
    if output_dir.resolve() == (root / "book").resolve():
        yield
        return
    previous = os.environ.get("BNNOISE_RESULTS")
    os.environ["BNNOISE_RESULTS"] = str(output_dir.resolve() / "results")
    try:
        yield
    finally:
        if previous is None:
            del os.environ["BNNOISE_RESULTS"]
        else:
            os.environ["BNNOISE_RESULTS"] = previous


def run_chapter(root: Path, name: str, parameters: dict[str, Any], output_dir: Path) -> Path:
    """Execute chapter ``name`` with ``parameters``; return the executed notebook's path.

    Unknown parameter names stop the run before any compute, listing the valid ones.
    """
    import papermill

    names = chapter_names(root)
    if name not in names:
        raise ValueError(f"unknown chapter {name!r}; valid: {', '.join(names)}")
    valid = chapter_parameters(root, name)
    unknown = sorted(set(parameters) - set(valid))
    if unknown:
        raise ValueError(f"chapter {name} has no parameter {', '.join(unknown)}; "
                         f"valid: {', '.join(valid)}")
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{name}.ipynb"
    partial = output_dir / f".partial-{name}.ipynb"  # never mistaken for a finished chapter
    with _results_beside(output_dir, root):
        papermill.execute_notebook(str(root / "chapters" / f"{name}.ipynb"), str(partial),
                                   parameters=parameters, cwd=str(root), progress_bar=False)
    notebook = nbformat.read(partial, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(notebook, partial)
    partial.replace(output)
    return output
