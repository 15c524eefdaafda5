"""Serve MathJax 3 from the built book, so that its maths also renders offline.

Jupyter Book 1 points ``mathjax_path`` at a CDN; without network the reader sees raw LaTeX. The
pinned PyPI package ``django-static-mathjax`` (see requirements.txt; importable as ``mathjax``,
no Django needed) vendors MathJax's official distribution. This extension copies its browser
build (``es5/``, about 24 MB with fonts, accessibility and speech files) and its licence to
``_static/mathjax/`` of every HTML build; ``_config.yml`` sets ``mathjax_path`` to the loader in
it (a relative ``mathjax_path`` is resolved against ``_static/``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset, copy_asset_file

logger = logging.getLogger(__name__)

PACKAGE = "mathjax"  # import name of the PyPI package django-static-mathjax
TARGET = "mathjax"  # folder under _static/


def mathjax_source() -> Path:
    """The vendored MathJax distribution (the folder holding ``es5/`` and ``LICENSE``)."""
    spec = importlib.util.find_spec(PACKAGE)
    root = Path(spec.origin).parent / "static" / "mathjax" if spec and spec.origin else None
    if root is None or not (root / "es5" / "tex-mml-chtml.js").is_file():
        raise ExtensionError(
            "local_mathjax: MathJax 3 not found; install the book's requirements "
            "(pip install -r requirements.txt, package django-static-mathjax)"
        )
    return root


def _check_path(app, config) -> None:
    path = config.mathjax_path or ""
    if "://" in path or not path.startswith(f"{TARGET}/"):
        logger.warning(
            "local_mathjax: mathjax_path %r does not point into _static/%s/; maths will need the "
            "network", path, TARGET, type="local_mathjax")
        return
    if not (mathjax_source() / "es5" / path[len(TARGET) + 1:]).is_file():
        raise ExtensionError(
            f"local_mathjax: mathjax_path {path!r} is not a file of MathJax's es5/ build")


def _copy(app) -> None:
    if app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / TARGET
    copy_asset(source / "es5", target)  # copies only files that are new or changed
    copy_asset_file(source / "LICENSE", target / "LICENSE")


def setup(app):
    app.connect("config-inited", _check_path)
    app.connect("builder-inited", _copy)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
