"""The book builds from the committed results with warnings as errors."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_without_warnings(tmp_path: Path) -> None:
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(tmp_path), "-W",
                             "-n", "--keep-going"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    for page in ("index", "book/protocol", "book/01_training", "book/02_noise", "book/data"):
        assert (html / f"{page}.html").is_file(), page
    noise = (html / "book" / "02_noise.html").read_text()
    assert "Table 2" in noise or "tbl-average" in noise
