"""The check that the published tables follow from the committed results."""

from pathlib import Path

import pytest

from bnnoise.build.rederive import main, table_differences

TABLE = "model,norm,avg,verdict\nresnet20,bn,0.512345,\nresnet20,none,0.8,holds\n"  # a gap: NaN


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    published, rederived = tmp_path / "published", tmp_path / "rederived"
    for folder in (published, rederived):
        folder.mkdir()
        (folder / "a.csv").write_text(TABLE)
    return published, rederived


def test_identical_tables_agree(folders, capsys) -> None:
    assert table_differences(*folders) == []
    assert main([str(f) for f in folders]) == 0
    assert "all 1 tables the pages derive agree" in capsys.readouterr().out


def test_a_changed_number_is_reported_with_its_table(folders, capsys) -> None:
    published, rederived = folders
    (rederived / "a.csv").write_text(TABLE.replace("0.512345", "0.5"))
    problems = table_differences(published, rederived)
    assert problems == ["a.csv: column avg: 1 of 2 rows differ (row 0: 0.512345 published, "
                        "0.5 derived)"]
    assert main([str(published), str(rederived)]) == 1
    assert "stale: a.csv" in capsys.readouterr().err


def test_the_last_written_digit_may_differ(folders) -> None:
    published, rederived = folders
    (rederived / "a.csv").write_text(TABLE.replace("0.512345", "0.512346"))
    assert table_differences(published, rederived) == []


def test_other_columns_or_rows_are_reported(folders) -> None:
    published, rederived = folders
    (rederived / "a.csv").write_text(TABLE.replace("avg", "mean"))
    assert "columns ['model', 'norm', 'avg', 'verdict'] published" in table_differences(*folders)[0]
    (rederived / "a.csv").write_text(TABLE + "resnet44,bn,0.4\n")
    assert table_differences(*folders) == ["a.csv: 2 rows published, 3 derived"]


def test_missing_and_extra_tables_are_reported(folders) -> None:
    published, rederived = folders
    (published / "old.csv").write_text(TABLE)
    (rederived / "new.csv").write_text(TABLE)
    assert table_differences(published, rederived) == [
        "old.csv: published, but no page derives it",
        "new.csv: derived by a page, but not published"]


def test_a_table_a_script_writes_is_not_expected_from_the_pages(folders) -> None:
    published, rederived = folders
    (published / "pilot_vgg16_none_lr.csv").write_text(TABLE)
    assert table_differences(published, rederived) == []


def test_a_missing_folder_stops_with_one_line(tmp_path, capsys) -> None:
    assert main([str(tmp_path / "nowhere"), str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
