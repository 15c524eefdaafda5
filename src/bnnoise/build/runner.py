"""Run the book's chapter notebooks with Papermill.

Source notebooks live in ``chapters/`` (unexecuted, each with a cell tagged ``parameters``). A
reader's rerun goes to a run folder of its own (``runs/<date>-<time>-<profile>/``, with its
tables in ``results/<profile>/`` beside the notebook); only publishing (``run_chapter(...,
publish=True)``, the command line's ``publish``) writes into ``book/``, what the book renders,
and into ``data/results/<profile>/``, the tables and figures its pages link. Parameter values
are validated before Papermill starts. The executed page shows the parameters it ran with (the
cell Papermill injects), not the defaults; a failed run leaves no partial notebook behind,
reports one line, and a failed publication puts the published tables and figures back as they
were. While it runs, the chapter records the lineage of every figure and table it shows
(:mod:`bnnoise.lineage`), kept in ``<results>/<profile>/lineage/<chapter>.json`` once it ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

from bnnoise import lineage
from bnnoise.build import ChapterError
from bnnoise.build.chapter_parameters import as_list_parameters, check_chapter


def published_book(root: Path) -> Path:
    """The folder of the published chapters, which the book renders: ``<root>/book``."""
    return root / "book"


def published_results(root: Path) -> Path:
    """The folder of the published tables and figures that the book's pages link:
    ``<root>/data/results`` (one sub-folder per profile)."""
    return root / "data" / "results"


def _within(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (both resolved, symbolic links too)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def check_rerun_folder(root: Path, output_dir: Path) -> None:
    """Refuse a rerun's output folder that would write over what the book publishes: the
    published chapters (``book/`` or a folder inside it) or, through the ``results/`` folder
    beside the notebook, the published tables (``data/results/``).

    Raises:
        ValueError: one line that names ``publish`` as the way to replace published pages.
    """
    if _within(output_dir, published_book(root)):
        where = "is (or lies inside) the published book's folder"
    elif _within(output_dir / "results", published_results(root)):
        where = "would put its tables over the published ones in data/results/"
    else:
        return
    raise ValueError(f"output folder {output_dir} {where}; a rerun never writes there (leave "
                     f"out --output-dir for a new runs/<date>-<time>-<profile>/ folder); published "
                     f"chapters are replaced only by: python -m bnnoise publish CHAPTER")


@contextmanager
def _results_of_run(output_dir: Path) -> Iterator[None]:
    """A rerun's result tables and figures go to ``<output_dir>/results/<profile>``, beside its
    notebook, so that it never overwrites the tables the book links."""
    previous = os.environ.get("BNNOISE_RESULTS")
    os.environ["BNNOISE_RESULTS"] = str(output_dir.resolve() / "results")
    try:
        yield
    finally:
        if previous is None:
            del os.environ["BNNOISE_RESULTS"]
        else:
            os.environ["BNNOISE_RESULTS"] = previous


@contextmanager
def _published_results_restored_on_failure(root: Path, profile: str) -> Iterator[None]:
    """Publishing writes a chapter's tables and figures in place, into
    ``data/results/<profile>/`` (the page's links are computed from there while it runs). So
    that a chapter failing midway leaves nothing behind, that folder is copied aside first and
    put back exactly as it was (files rewritten or added by the failed run discarded) when the
    run fails or is interrupted; the copy is removed either way. A ``BNNOISE_RESULTS`` of the
    environment is ignored while publishing: published tables always go to ``data/results/``.
    """
    folder = published_results(root) / profile
    folder.parent.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=f".publishing-{profile}-", dir=folder.parent))
    saved = aside / profile
    if folder.exists():
        shutil.copytree(folder, saved, symlinks=True)
    previous = os.environ.pop("BNNOISE_RESULTS", None)
    try:
        yield
    except BaseException:
        if folder.exists():
            shutil.rmtree(folder)
        if saved.exists():
            os.replace(saved, folder)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)
        if previous is not None:
            os.environ["BNNOISE_RESULTS"] = previous


def run_chapter(root: Path, name: str, parameters: dict[str, Any], output_dir: Path, *,
                publish: bool = False) -> Path:
    """Execute chapter ``name`` with ``parameters``; return the executed notebook's path.

    Without ``publish`` (a rerun), ``output_dir`` must lie outside the published book and its
    tables go beside the notebook (:func:`check_rerun_folder`). With ``publish``, ``output_dir``
    must be the book's folder; the chapter's tables and figures go to
    ``data/results/<profile>/``, which is restored as it was if the chapter fails. Unknown
    parameter names or invalid values stop the run before any compute, naming the valid ones.
    """
    import papermill

    if publish and output_dir.resolve() != published_book(root).resolve():
        raise ValueError(f"publishing writes into {published_book(root)} only, not {output_dir}")
    if not publish:
        check_rerun_folder(root, output_dir)
    parameters = as_list_parameters(parameters)
    check_chapter(root, name, parameters)
    new_folder = not output_dir.exists()
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{name}.ipynb"
    partial = output_dir / f".partial-{name}.ipynb"  # never mistaken for a finished chapter
    profile = str(parameters.get("profile", "cpu"))
    results = (_published_results_restored_on_failure(root, profile)
               if publish else _results_of_run(output_dir))
    record = ((published_results(root) if publish else output_dir / "results") / profile
              / lineage.FOLDER / f"{name}.json")
    records = record.with_name(f".partial-{name}.jsonl")  # lines while the chapter runs
    try:
        with results, _recording_lineage(records):  # a failure restores the published tables
            papermill.execute_notebook(str(root / "chapters" / f"{name}.ipynb"), str(partial),
                                       parameters=parameters, cwd=str(root), progress_bar=False)
            notebook = nbformat.read(partial, as_version=4)
            _show_parameters_run_with(notebook)
            _drop_timings(notebook)
            nbformat.write(notebook, partial)
            lineage.finish(records, record, name)
            partial.replace(output)
    except papermill.PapermillExecutionError as err:
        partial.unlink(missing_ok=True)  # a failed run leaves nothing behind
        records.unlink(missing_ok=True)
        if new_folder:
            _remove_empty(output_dir)
        reason = str(err.evalue).splitlines()[0] if err.evalue else ""
        raise ChapterError(f"chapter {name} stopped in cell {err.exec_count}: {err.ename}: "
                           f"{reason}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        records.unlink(missing_ok=True)
        if new_folder:
            _remove_empty(output_dir)
        raise
    return output


def _remove_empty(folder: Path) -> None:
    """Remove ``folder`` and the folders inside it if no file is left in any of them (a run
    folder whose only chapter failed)."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


@contextmanager
def _recording_lineage(records: Path) -> Iterator[None]:
    """While a chapter runs, its kernel appends what it publishes to ``records``
    (:mod:`bnnoise.lineage`); a record left by an interrupted run is discarded first."""
    records.unlink(missing_ok=True)
    previous = os.environ.get(lineage.ENVIRONMENT)
    os.environ[lineage.ENVIRONMENT] = str(records.resolve())
    try:
        yield
    finally:
        if previous is None:
            del os.environ[lineage.ENVIRONMENT]
        else:
            os.environ[lineage.ENVIRONMENT] = previous


def _drop_timings(notebook: nbformat.NotebookNode) -> None:
    """Remove what only says when and where the chapter ran (start and end times and durations
    of every cell and of the run, the paths it was read from and written to, the random id of
    the parameters cell), so that publishing an unchanged chapter from an unchanged store gives
    the same page, byte for byte; the parameters Papermill records stay."""
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # Papermill gives it a random id on every run
    run = notebook.metadata.get("papermill", {})
    for key in ("start_time", "end_time", "duration", "exception", "input_path", "output_path"):
        run.pop(key, None)


RUN_PARAMETERS_HEADER = "# Parameters of this run (the profile's values apply to the rest)\n"


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
