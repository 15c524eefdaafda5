#!/usr/bin/env python3
"""Self-test of check_pages.py: a small site of fine pages and pages with one known problem each.

    python book_check/selftest.py

The fine pages mimic what the book's theme does on purpose and must not be reported: tables in
scrollable wrappers that fit, inline maths whose container clips glyph overhangs, code cells
with long lines, a navigation column that clips its labels, links to anchors and downloads, an
external link that is never requested. Every other page must be reported with exactly the
expected kinds of problem. Needs Chromium and Playwright, like the check itself.
"""

from __future__ import annotations

import struct
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_pages  # noqa: E402

STYLE = """<style>
body { margin: 0; font: 16px sans-serif; }
.bd-main { display: flex; }
nav.side { width: 250px; flex: none; overflow-x: hidden; white-space: nowrap; }
article.bd-article { width: 700px; padding: 16px; }
.pst-scrollable-table-container { overflow-x: auto; }
span.math { display: inline-flex; overflow: hidden; }
.cell_input pre, .output pre { overflow-x: auto; }
img { max-width: 100%; }
</style>"""


def page(body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'>{STYLE}{head}</head><body>"
            "<div class='bd-main'><nav class='side'><a href='good.html'>A navigation label far "
            "too long for the navigation column, clipped by it</a></nav>"
            f"<article class='bd-article'><h1 id='top'>Page</h1>{body}</article></div>"
            "</body></html>")


def png(width: int, height: int, dpi: float) -> bytes:
    """A grey PNG with a pHYs chunk, as matplotlib writes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ppm = round(dpi / 0.0254)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                            0, 0, 0))
            + chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


FINE_TABLE = ("<div class='pst-scrollable-table-container'><table><caption>Table 1: fits"
              "</caption><tr><td>a</td><td>b</td></tr></table></div>")
SITE = {
    "index.html": "<html><head><meta http-equiv='Refresh' content='0; url=good.html' /></head>"
                  "</html>",
    "good.html": page(
        "<p>Maths <span class='math'><span style='display:inline-block;width:30px;"
        "margin-right:-6px'>x</span></span> typeset, a dollar amount of $5 and $10.</p>"
        "<div class='cell'><div class='cell_input'><pre>" + "long_code_line = 1; " * 30
        + "</pre></div><div class='cell_output'><div class='output text_html'>" + FINE_TABLE
        + "</div></div></div>"
        "<figure><img src='ok.png'><figcaption>Fig. 1: a figure at its size</figcaption>"
        "</figure><p><a href='#top'>top</a> <a href='other.html#sec'>section</a> "
        "<a href='data.csv'>CSV</a> <a href='https://example.org/'>elsewhere</a> "
        "<a href='other.html'>other</a> <a href='#'>#</a></p>"),
    "other.html": page("<h2 id='sec'>Section</h2><p><a href='good.html#top'>back</a></p>"),
    "wide_table.html": page("<div class='pst-scrollable-table-container'><table><caption>"
                            "Table 2: too wide</caption><tr><td style='white-space:nowrap'>"
                            + "wide cell " * 150 + "</td></tr></table></div>"),
    "cut_figure.html": page("<figure style='overflow:hidden'><div style='width:1000px'>wide"
                            "</div><figcaption>Fig. 3</figcaption></figure>"),
    "sticking_out.html": page("<figure><div style='width:900px'>wide</div></figure>"),
    "wide_output.html": page("<div class='cell_output'><div class='output stream'><pre>"
                             + "printed " * 200 + "</pre></div></div>"),
    "missing_image.html": page("<figure><img src='missing.png'></figure>"),
    "small_image.html": page("<figure><img src='big.png'><figcaption>Fig. 4</figcaption>"
                             "</figure>"),
    "stderr.html": page("<div class='cell_output'><div class='output stderr'><pre>UserWarning:"
                        " careful</pre></div></div>"),
    "traceback.html": page("<p>Traceback (most recent call last):</p>"),
    "figure_repr.html": page("<div class='cell_output'><div class='output text_plain'><pre>"
                             "&lt;Figure size 640x480 with 1 Axes&gt;</pre></div></div>"),
    "broken_links.html": page("<p><a href='nowhere.html'>a</a> <a href='other.html#nope'>b</a>"
                              " <a href='#nothing'>c</a></p>"),
    "raw_math.html": page("<p>Noise <span class='math'>\\(\\eta \\ge 0\\)</span> and "
                          "$\\sigma_T$.</p>"),
    "external.html": page("<p>Script from elsewhere.</p>",
                          head="<script src='https://cdn.example.invalid/x.js'></script>"),
}
EXPECTED = {
    "index.html": set(), "good.html": set(), "other.html": set(),
    "wide_table.html": {"clipped"}, "cut_figure.html": {"clipped"},
    "sticking_out.html": {"clipped"}, "wide_output.html": {"clipped"},
    "missing_image.html": {"image", "missing-resource"}, "small_image.html": {"small-image"},
    "stderr.html": {"error-output"}, "traceback.html": {"error-output"},
    "figure_repr.html": {"error-output"}, "broken_links.html": {"link"},
    "raw_math.html": {"raw-math"}, "external.html": {"external"},
}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="check-pages-selftest-") as tmp:
        site = Path(tmp) / "html"
        site.mkdir()
        for name, text in SITE.items():
            (site / name).write_text(text, encoding="utf-8")
        (site / "ok.png").write_bytes(png(300, 80, 100))      # shown 300 px of 288: fine
        (site / "big.png").write_bytes(png(1400, 200, 100))   # shown 700 px of 1344: too small
        (site / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
        args = check_pages.parse_args(["--html", str(site), "--screenshots",
                                       str(Path(tmp) / "shots")])
        reports = check_pages.check_site(args, log=lambda line: None)

    passed = failed = 0
    for report in reports:
        kinds = {kind for kind, _ in report.problems}
        expected = EXPECTED[report.page]
        if kinds == expected and (report.page != "broken_links.html" or
                                  len(report.problems) == 3):
            passed += 1
            print(f"ok   {report.page}: {sorted(kinds) or 'no problem'}")
        else:
            failed += 1
            print(f"FAIL {report.page}: expected {sorted(expected)}, got:")
            for kind, message in report.problems:
                print(f"       {kind}: {message}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed != len(EXPECTED) else 0


if __name__ == "__main__":
    sys.exit(main())
