"""Every chapter runs end to end through Papermill with the smoke profile, in a scratch project."""

from pathlib import Path

import nbformat
import pytest

from bnnoise.report.chapters import chapter_names, chapter_parameters, run_chapter

ROOT = Path(__file__).resolve().parents[1]


def test_every_chapter_declares_profile_data_dir_and_overrides() -> None:
    for name in chapter_names(ROOT):
        params = chapter_parameters(ROOT, name)
        assert {"profile", "overrides", "data_dir"} <= set(params), name


@pytest.mark.parametrize("name", chapter_names(ROOT))
def test_chapter_runs_with_the_smoke_profile(name: str, project: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BNNOISE_ROOT", str(project))  # fresh artifact store: trains from scratch
    output = run_chapter(ROOT, name, {"profile": "smoke"}, tmp_path / "out")
    notebook = nbformat.read(output, as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "remove-cell" in injected[0].metadata["tags"]
    assert not list(output.parent.glob(".partial-*"))
    # executed outside book/, the tables go beside the notebook, not over the linked ones
    assert list((tmp_path / "out" / "results" / "smoke").glob("*.csv"))
    assert not (project / "data" / "results").exists()


def test_unknown_chapter_parameter_stops_before_running(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="has no parameter colour; valid: profile"):
        run_chapter(ROOT, chapter_names(ROOT)[0], {"colour": "red"}, tmp_path)
    assert not list(tmp_path.iterdir())


def test_unknown_chapter(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown chapter 'intro'; valid: 01_training"):
        run_chapter(ROOT, "intro", {}, tmp_path)
