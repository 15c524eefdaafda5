#!/usr/bin/env python3
"""Open every page of the built book in headless Chromium and fail on what a reader would see.

    python book_check/check_pages.py [--html _build/_build/html] [--screenshots _build/screenshots]

Serves the built HTML on 127.0.0.1, opens each page with Playwright driving Debian's Chromium
(``/usr/bin/chromium``; Playwright's own browser is never downloaded) in a fresh profile at a
1300 px wide viewport, with every request to another host blocked (the book must work offline),
and reports, one line per problem:

* image: an ``<img>`` without ``src``, that fails to load, or has zero natural size;
* small-image: a figure image in the text shown at less than ``--min-image-scale`` of its design
  size (its pixel size at the DPI recorded in the PNG, 96 px per inch), so that its lettering
  shrinks accordingly;
* clipped: a table, figure, caption or output block in the main column (``article.bd-article``)
  whose content is wider than the part of it that can be seen, because an element around it (or
  inside it, e.g. the ``pre`` of a text output) cuts it off or makes it scroll sideways, or
  because it sticks out of the column. Scrollable wrappers (every table sits in one) are fine
  as long as nothing in them needs scrolling; code cells are never checked, MathJax's
  containers are skipped;
* error-output: stderr or traceback output, "Traceback (most recent call last)" or a raw
  "<Figure size ...>" text;
* link: a same-site link whose page or ``#anchor`` does not exist;
* raw-math: maths still written as ``$...$``, ``\\(...\\)`` or ``\\[...\\]`` after MathJax ran;
* long-page: one of the pages a reader takes in as a whole (:data:`SHORT_PAGES`) taller than
  ``--max-screens`` viewport heights;
* external, missing-resource: a request to another host, a same-site resource that does not
  load; check-failed: the page could not be loaded or checked.

Uncaught JavaScript errors are listed as warnings without failing the check: Jupyter Book 1's
stack raises one on every page (sphinx-thebe declares THEBE_JS_URL twice), which the book
cannot fix.

Saves a full-page PNG of every page in the screenshot folder and prints a summary. Exit code 0
when no page has a problem, 1 when some have, 2 when the check could not run.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", "_sphinx_design_static"}
IGNORED_RESOURCES = {"/favicon.ico"}

# Runs in the page. Returns every finding of the page except links (checked from Python).
PAGE_CHECKS_JS = r"""
async ({minScale, targets}) => {
  const out = {problems: [], images: [], anchors: [], ids: []};
  const add = (kind, message) => out.problems.push({kind, message});
  const art = document.querySelector('article.bd-article') || document.querySelector('article')
    || document.querySelector('main') || document.body;

  const short = (text, n = 70) => {
    text = (text || '').replace(/\s+/g, ' ').trim();
    return text.length > n ? text.slice(0, n - 1) + '…' : text;
  };
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    const cls = [...el.classList].filter(c => !c.startsWith('highlight')).slice(0, 3);
    if (cls.length) name += '.' + cls.join('.');
    // The numbered caption ("Table 3: ...", "Fig. 2 ...") if the element has or is in one.
    const holder = el.closest('figure, div.figure, table, div.cell, div.cell_output, section');
    let caption = null;
    if (el.matches('figcaption, caption, .caption')) caption = el;
    else if (el.matches('table')) caption = el.querySelector(':scope > caption');
    if (!caption && holder) caption = holder.querySelector('figcaption, caption, .caption-text');
    let where = caption ? short(caption.textContent) : '';
    if (!where) {  // else the last heading before it
      const before = [...art.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(h =>
        h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
      if (before.length) where = 'under "' + short(before.pop().textContent.replace(/#$/, ''), 50)
        + '"';
    }
    return name + (where ? ' (' + where + ')' : '');
  };
  const visible = (el) => el.getClientRects().length > 0 && el.getBoundingClientRect().width > 0;

  // --- images: every <img> of the page loads; figures in the text are not shrunk too far.
  const imgs = [...document.images];
  imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r, {once: true}); i.addEventListener('error', r, {once: true});
    setTimeout(r, 10000);
  })));
  for (const img of imgs) {
    const src = img.getAttribute('src');
    if (!src) { add('image', describe(img) + ': <img> without src'); continue; }
    if (!img.complete || img.naturalWidth === 0 || img.naturalHeight === 0) {
      add('image', describe(img) + ': ' + src + ' did not load or has zero size');
      continue;
    }
    if (art.contains(img) && visible(img))
      out.images.push({src: img.currentSrc || img.src, shown: img.getBoundingClientRect().width,
                       natural: img.naturalWidth, label: describe(img)});
  }

  // --- clipped tables, figures, captions and outputs in the main column.
  // MathJax's containers clip glyph overhangs on purpose; code cells may scroll.
  const skip = (el) => el.closest('mjx-container, .MathJax, .math, .cell_input, nav');
  const inline = (el) => getComputedStyle(el).display.startsWith('inline');
  const clips = (el) => getComputedStyle(el).overflowX !== 'visible';
  const box = (el) => {  // the padding box, i.e. what el shows of its content
    const r = el.getBoundingClientRect();
    const left = r.left + el.clientLeft;
    return {left, right: left + el.clientWidth};
  };
  // Width an element's content needs, and how much of it can be seen.
  const measure = (el) => {
    const r = el.getBoundingClientRect();
    const start = r.left;
    const need = Math.max(r.width, el.clientLeft + el.scrollWidth);
    let lo = start, hi = start + need, cutter = null, how = null;
    const cut = (a, b, mode) => {
      if (hi > b.right + 2 || lo < b.left - 2) {
        if (!cutter) { cutter = a; how = mode; }
      }
      lo = Math.max(lo, b.left); hi = Math.min(hi, b.right);
    };
    if (clips(el)) cut(el, box(el), getComputedStyle(el).overflowX);
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (a === art) { cut(a, box(a), 'column'); break; }
      if (clips(a)) cut(a, box(a), getComputedStyle(a).overflowX);
    }
    return {need, seen: Math.max(0, hi - lo), cutter, how, lo, hi};
  };
  const reported = [];
  for (const el of art.querySelectorAll(targets)) {
    if (skip(el) || !visible(el)) continue;
    let m = measure(el);
    // Content cut inside el by a scrolling or clipping descendant (a table's wrapper, an
    // output's <pre>) counts for el too.
    if (m.need - m.seen <= 2) {
      for (const d of el.querySelectorAll('*')) {
        if (skip(d) || !visible(d) || !clips(d) || inline(d)) continue;
        if (d.scrollWidth > d.clientWidth + 2) {
          m = {need: d.scrollWidth, seen: d.clientWidth, cutter: d,
               how: getComputedStyle(d).overflowX};
          break;
        }
      }
    }
    if (m.need - m.seen > 2) reported.push({el, m});
  }
  // One line per cut element: a table rather than its caption, the innermost element otherwise
  // (a table, not also the output block around it).
  const isCaptionOf = (c, el) => c.matches('caption, figcaption, .caption')
    && c.parentElement && c.parentElement.closest('table, figure, div.figure') === el;
  const kept = reported.filter(({el}) => !reported.some(o => isCaptionOf(el, o.el)));
  for (const {el, m} of kept) {
    if (kept.some(o => o.el !== el && el.contains(o.el) && !isCaptionOf(o.el, el))) continue;
    const how = m.how === 'column' ? 'sticks out of the main column'
      : (m.how === 'auto' || m.how === 'scroll') ? 'needs horizontal scrolling in '
        + describe(m.cutter).split(' (')[0]
      : 'is cut off by ' + describe(m.cutter).split(' (')[0];
    // A table's caption is as wide as the table: say whether its text is cut as well.
    let caption = '';
    const cap = el.matches('table') ? el.querySelector(':scope > caption') : null;
    if (cap && m.lo !== undefined) {
      const range = document.createRange();
      range.selectNodeContents(cap);
      const text = range.getBoundingClientRect();
      if (text.right > m.hi + 2 || text.left < m.lo - 2) caption = '; its caption is cut too';
    }
    add('clipped', describe(el) + ': ' + Math.round(m.need) + ' px wide, '
        + Math.round(m.seen) + ' px visible, ' + how + caption);
  }

  // --- error output and raw figure reprs.
  for (const el of art.querySelectorAll('.output.stderr, .output.traceback, .stderr, .traceback')) {
    if (el.parentElement && el.parentElement.closest('.stderr, .traceback')) continue;
    const kind = el.matches('.traceback') ? 'traceback' : 'stderr';
    add('error-output', describe(el) + ': ' + kind + ' output "' + short(el.textContent, 80) + '"');
  }
  const prose = art.cloneNode(true);
  prose.querySelectorAll('.cell_input, script, style').forEach(e => e.remove());
  const text = prose.textContent;
  const texts = [['Traceback (most recent call last)', 'a Python traceback'],
                 ['<Figure size', 'a raw "<Figure size ...>" instead of a figure']];
  for (const [needle, what] of texts) {
    let i = text.indexOf(needle), n = 0;
    while (i >= 0) { n++; i = text.indexOf(needle, i + 1); }
    if (n) add('error-output', 'the page shows ' + what + (n > 1 ? ' (' + n + ' times)' : '')
               + ': "' + short(text.slice(text.indexOf(needle), text.indexOf(needle) + 80)) + '"');
  }

  // --- maths left as TeX after MathJax ran.
  const rawMath = [/\\\((.+?)\\\)/s, /\\\[(.+?)\\\]/s, /\$\$(.+?)\$\$/s,
                   /\$[^$\n]*[\\^_{}][^$\n]*\$/];
  const walker = document.createTreeWalker(art, NodeFilter.SHOW_TEXT, {acceptNode: (n) => {
    const p = n.parentElement;
    if (!p || p.closest('script, style, pre, code, kbd, samp, textarea, mjx-container, '
                        + 'mjx-assistive-mml, .MathJax, div.highlight, .cell_input'))
      return NodeFilter.FILTER_REJECT;
    return NodeFilter.FILTER_ACCEPT;
  }});
  const seenMath = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (const re of rawMath) {
      const hit = n.data.match(re);
      if (hit && !seenMath.has(hit[0])) {
        seenMath.add(hit[0]);
        add('raw-math', describe(n.parentElement) + ': "' + short(hit[0], 60) + '"');
      }
    }
  }

  // --- links and the anchors of this page (the links are resolved in Python).
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (!href || href.startsWith('javascript:') || href.startsWith('mailto:')) continue;
    out.anchors.push({href: a.href, text: short(a.textContent, 40) || href});
  }
  out.ids = [...document.querySelectorAll('[id], a[name]')]
    .map(e => e.id || e.getAttribute('name'));
  return out;
}
"""


SHORT_PAGES = ("book/00_claims.html", "book/06_remedies.html", "book/data.html")
"""The pages a reader takes in as a whole (the claims, the remedies and the data page): each
at most about ten screens long (``--max-screens``)."""


@dataclass
class PageReport:
    page: str
    problems: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    screenshot: str | None = None
    note: str | None = None

    def add(self, kind: str, message: str) -> None:
        if (kind, message) not in self.problems:
            self.problems.append((kind, message))


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refresh: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url\s*=\s*(\S+)", attrs.get("content") or "", re.I)
            if match:
                self.refresh = match.group(1).strip("'\"")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def list_pages(html: Path) -> list[str]:
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] in SKIP_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages


class Targets:
    """Same-site URLs: whether they exist, and the ids of HTML pages (cached)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, set[str] | None, str | None]] = {}

    def get(self, url: str) -> tuple[int, set[str] | None, str | None]:
        if url not in self._cache:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    body = response.read()
                    status = response.status
                    kind = response.headers.get_content_type()
            except urllib.error.HTTPError as error:
                self._cache[url] = (error.code, None, None)
                return self._cache[url]
            ids, refresh = None, None
            if kind == "text/html":
                parser = _Ids()
                parser.feed(body.decode("utf-8", "replace"))
                ids, refresh = parser.ids, parser.refresh
            self._cache[url] = (status, ids, refresh)
        return self._cache[url]


def png_dpi(url: str) -> float | None:
    """DPI from a PNG's pHYs chunk (matplotlib writes it), else None."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read()
    except (urllib.error.URLError, OSError):
        return None
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"pHYs" and length == 9:
            x, _, unit = struct.unpack(">IIB", data[pos + 8:pos + 17])
            return x * 0.0254 if unit == 1 and x else None
        if kind == b"IDAT":
            return None
        pos += 12 + length
    return None


def check_links(report: PageReport, page_url: str, base: str, found: dict, targets: Targets):
    own_ids = set(found["ids"])
    checked: set[str] = set()
    for anchor in found["anchors"]:
        href = anchor["href"]
        if not href.startswith(base) or href in checked:
            continue
        checked.add(href)
        parts = urlsplit(href)
        target = href.split("#", 1)[0]
        fragment = unquote(parts.fragment)
        where = href[len(base):]
        if target == page_url.split("#", 1)[0]:
            if fragment and fragment not in own_ids:
                report.add("link", f'"{anchor["text"]}" -> {where}: no element with id '
                                   f'"{fragment}" on this page')
            continue
        status, ids, _ = targets.get(target)
        if status >= 400:
            report.add("link", f'"{anchor["text"]}" -> {where}: HTTP {status}')
        elif fragment and ids is not None and fragment not in ids:
            report.add("link", f'"{anchor["text"]}" -> {where}: no element with id '
                               f'"{fragment}" on the target page')


def wait_for_maths(page, timeout_ms: int) -> None:
    """Wait until MathJax (if the page loads it) has typeset the page."""
    uses_mathjax = page.evaluate(
        "() => !![...document.scripts].find(s => /mathjax/i.test(s.src || ''))")
    if not uses_mathjax:
        return
    try:
        page.wait_for_function(
            "() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
            timeout=timeout_ms)
        page.evaluate("() => window.MathJax.startup.promise")
    except Exception:  # noqa: BLE001 - a MathJax that never starts shows up as raw maths
        pass


def check_page(ctx, base: str, rel: str, args, targets: Targets, shots: Path) -> PageReport:
    report = PageReport(rel)
    url = urljoin(base, rel)
    status, _, refresh = targets.get(url)
    if refresh:
        dest = urljoin(url, refresh)
        dest_status, _, _ = targets.get(dest.split("#", 1)[0])
        report.note = f"redirects to {dest[len(base):]}"
        if dest_status >= 400:
            report.add("link", f"redirect target {dest[len(base):]}: HTTP {dest_status}")
        return report

    page = ctx.new_page()
    external: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def route(r):
        request_url = r.request.url
        if request_url.startswith(base) or request_url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            external.append(request_url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc).splitlines()[0]))
    page.on("response", lambda resp: failed.append(f"{resp.url[len(base):]} (HTTP {resp.status})")
            if resp.status >= 400 and resp.url.startswith(base)
            and urlsplit(resp.url).path not in IGNORED_RESOURCES else None)
    try:
        page.goto(url, wait_until="load", timeout=args.timeout * 1000)
        wait_for_maths(page, args.timeout * 1000)
        page.evaluate("() => document.fonts ? document.fonts.ready.then(() => true) : true")
        found = page.evaluate(PAGE_CHECKS_JS, {"minScale": args.min_image_scale,
                                               "targets": args.targets})
        for problem in found["problems"]:
            report.add(problem["kind"], problem["message"])
        for image in found["images"]:
            dpi = png_dpi(image["src"]) or 96.0
            design = image["natural"] * 96.0 / dpi
            scale = image["shown"] / design
            if scale < args.min_image_scale:
                report.add("small-image", f'{image["label"]}: shown {round(image["shown"])} px '
                           f'wide, designed for {round(design)} px ({image["natural"]} px at '
                           f'{dpi:.0f} dpi): lettering at {scale:.0%} of its size '
                           f'(minimum {args.min_image_scale:.0%})')
        check_links(report, url, base, found, targets)
        if rel in args.short_pages:
            height = page.evaluate("() => document.documentElement.scrollHeight")
            if height > args.max_screens * args.height:
                report.add("long-page", f"{height} px tall: {height / args.height:.1f} screens "
                           f"of {args.height} px, more than {args.max_screens:g}")
        page.evaluate("() => window.scrollTo(0, 0)")
        shot = shots / (rel.replace("/", "__").removesuffix(".html") + ".png")
        page.screenshot(path=str(shot), full_page=True)
        report.screenshot = str(shot)
    except Exception as exc:  # noqa: BLE001 - one broken page must not stop the others
        report.add("check-failed", f"could not check the page: {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0]}")
    finally:
        page.close()
    for request_url in dict.fromkeys(external):
        report.add("external", f"requests {request_url} from another host (blocked: the book "
                               "must work offline)")
    for item in dict.fromkeys(failed):
        report.add("missing-resource", item)
    for message in dict.fromkeys(errors):
        report.warnings.append(f"JavaScript error: {message}")
    return report


class SetupError(Exception):
    """The check cannot run (no built book, no Chromium, no Playwright)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=Path("_build/_build/html"),
                        help="the built book (default: %(default)s)")
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"),
                        help="where the full-page PNGs go (default: %(default)s)")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                        help="Chromium executable (default: $CHROMIUM or %(default)s)")
    parser.add_argument("--width", type=int, default=1300, help="viewport width in px")
    parser.add_argument("--height", type=int, default=900, help="viewport height in px")
    parser.add_argument("--min-image-scale", type=float, default=0.7,
                        help="smallest allowed shown/design width of a figure image "
                             "(default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=30, help="seconds per page load")
    parser.add_argument("--short-pages", nargs="*", default=list(SHORT_PAGES),
                        help="pages that must fit in --max-screens (default: %(default)s)")
    parser.add_argument("--max-screens", type=float, default=10.5,
                        help="most viewport heights a --short-pages page may take: about ten "
                             "(default: %(default)s)")
    parser.add_argument("--targets", default="table, figure, div.figure, figcaption, caption, "
                        ".caption, div.cell_output, div.output",
                        help="CSS selector of the elements checked for clipping")
    parser.add_argument("pages", nargs="*", help="pages to check, relative to --html "
                        "(default: every page)")
    return parser.parse_args(argv)


def check_site(args: argparse.Namespace, log=print) -> list[PageReport]:
    """Check the pages of args.html; one report per page, in order."""
    html = args.html.resolve()
    if not args.pages and not (html / "index.html").is_file():
        raise SetupError(f"no built book at {args.html} (run `make book` first)")
    if not (shutil.which(args.chromium) or Path(args.chromium).is_file()):
        raise SetupError(f"Chromium not found at {args.chromium}; install it "
                         "(Debian: apt-get install -y chromium) or pass --chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise SetupError("the Python package playwright is missing "
                         "(pip install -r requirements.txt)") from exc

    pages = args.pages or list_pages(html)
    shots = args.screenshots
    shots.mkdir(parents=True, exist_ok=True)
    marker = shots / ".check_pages"  # the folder is ours: stale screenshots may go
    if not args.pages and (marker.exists() or not any(shots.iterdir())):
        for old in shots.glob("*.png"):
            old.unlink()
    marker.write_text("screenshots written by book_check/check_pages.py\n", encoding="utf-8")
    server, base = serve(html)
    targets = Targets()
    reports: list[PageReport] = []
    profile = tempfile.mkdtemp(prefix="check-pages-chromium-")
    log(f"check_pages: {len(pages)} pages of {args.html} in Chromium at {args.width} px")
    try:
        with sync_playwright() as playwright:
            ctx = playwright.chromium.launch_persistent_context(
                profile, executable_path=args.chromium, headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": args.width, "height": args.height}, device_scale_factor=1,
                service_workers="block")
            try:
                for rel in pages:
                    report = check_page(ctx, base, rel, args, targets, shots)
                    reports.append(report)
                    state = "ok  " if not report.problems else "FAIL"
                    extra = f" ({report.note})" if report.note else ""
                    log(f"{state} {rel}{extra}")
            finally:
                ctx.close()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)
    return reports


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        reports = check_site(args, log=lambda line: print(line, flush=True))
    except SetupError as exc:
        print(f"check_pages: {exc}", file=sys.stderr)
        return 2

    problems = [(r.page, kind, msg) for r in reports for kind, msg in r.problems]
    if problems:
        print("\nProblems (page: kind: what):")
        for page, kind, msg in problems:
            print(f"{page}: {kind}: {msg}")
    warnings = Counter(w for r in reports for w in r.warnings)
    if warnings:
        print("\nWarnings (do not fail the check):")
        for warning, pages_with_it in warnings.items():
            print(f"{warning} (on {pages_with_it} of {len(reports)} pages)")
    kinds = Counter(kind for _, kind, _ in problems)
    bad = sum(1 for r in reports if r.problems)
    print(f"\nSummary: {len(reports)} pages checked in {time.monotonic() - started:.0f} s, "
          f"{len(reports) - bad} fine, {bad} with problems; {len(problems)} problems"
          + (" (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")"
             if problems else "")
          + f". Screenshots: {args.screenshots}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
