"""Run the book's chapter notebooks with Papermill.

Source notebooks live in ``chapters/`` (unexecuted, each with a cell tagged ``parameters``). A
reader's rerun goes to a run folder of its own (``runs/<date>-<profile>/``, with its tables in
``results/<profile>/`` beside the notebook); only ``publish`` writes into ``book/``, what the book
renders. Parameter values are validated before Papermill starts. The executed page shows the
parameters it ran with (the cell Papermill injects), not the defaults; a failed run leaves no
partial notebook behind and reports one line.
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

    check_chapter(root, name, parameters)
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{name}.ipynb"
    partial = output_dir / f".partial-{name}.ipynb"  # never mistaken for a finished chapter
    try:
        with _results_beside(output_dir, root):
            papermill.execute_notebook(str(root / "chapters" / f"{name}.ipynb"), str(partial),
                                       parameters=parameters, cwd=str(root), progress_bar=False)
    except papermill.PapermillExecutionError as err:
        partial.unlink(missing_ok=True)  # a failed run leaves nothing behind
        reason = str(err.evalue).splitlines()[0] if err.evalue else ""
        raise ChapterError(f"chapter {name} stopped in cell {err.exec_count}: {err.ename}: "
                           f"{reason}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    notebook = nbformat.read(partial, as_version=4)
    _show_parameters_run_with(notebook)
    nbformat.write(notebook, partial)
    partial.replace(output)
    return output


RUN_PARAMETERS_HEADER = "# Parameters of this run (the profile's values apply to the rest)\n"


def check_chapter(root: Path, name: str, parameters: dict[str, Any]) -> None:
    """Raise ``ValueError`` (one line, naming the valid choices) for an unknown chapter, an
    unknown parameter or an invalid value, before anything runs."""
    names = chapter_names(root)
    if name not in names:
        raise ValueError(f"unknown chapter {name!r}; valid: {', '.join(names)}")
    valid = chapter_parameters(root, name)
    unknown = sorted(set(parameters) - set(valid))
    if unknown:
        raise ValueError(f"chapter {name} has no parameter {', '.join(unknown)}; "
                         f"valid: {', '.join(valid)}")
    validate_parameters(root, parameters)


class ChapterError(RuntimeError):
    """A chapter stopped with an error; the message is one line (cell, exception, reason)."""


def _show_parameters_run_with(notebook: nbformat.NotebookNode) -> None:
    """The page shows the parameters the chapter ran with: the cell Papermill injected (the
    reader's values) stays visible, under a heading comment, and the defaults cell is hidden."""
    injected = any("injected-parameters" in c.metadata.get("tags", []) for c in notebook.cells)
    for cell in notebook.cells:
        tags = [t for t in cell.metadata.get("tags", []) if t != "remove-cell"]
        if "injected-parameters" in tags:
            body = cell.source
            if body.startswith("# Parameters"):
                body = body.split("\n", 1)[1] if "\n" in body else ""
            cell.source = RUN_PARAMETERS_HEADER + body
            cell.metadata["tags"] = tags
        elif "parameters" in tags and injected:
            cell.metadata["tags"] = [*tags, "remove-cell"]


PROFILE_PARAMETERS = ("datasets", "models", "norms", "seeds", "data_dir", "epochs", "etas",
                      "draws", "targets", "scale", "kind", "eval_per_class", "mechanism")
"""Chapter parameters that are profile overrides (validated by loading the profile)."""


def validate_parameters(root: Path, parameters: dict[str, Any]) -> None:
    """Check a chapter's parameter values before anything runs: the profile with its
    overrides must load, and a ``scoring`` must be a known one. Raises ``ValueError`` with one
    line naming the valid choices."""
    from bnnoise.config import load_profile
    from bnnoise.config.setups import NONFINITE_SCORINGS

    overrides = parameters.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ValueError(f"overrides must be a mapping, e.g. {{lr: 0.05}}, got {overrides!r}")
    given = {k: v for k, v in parameters.items() if k in PROFILE_PARAMETERS}
    load_profile(parameters.get("profile", "cpu"), root=root, **given, **overrides)
    scoring = parameters.get("scoring")
    if scoring is not None and scoring not in NONFINITE_SCORINGS:
        raise ValueError(f"unknown scoring {scoring!r}; valid: {', '.join(NONFINITE_SCORINGS)}")
