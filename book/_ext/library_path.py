"""Let autodoc import the library from the checkout, without installing it or its compute stack.

The reference page (``book/api.md``) documents ``bnnoise`` from its docstrings. ``make book``
installs only what renders the book, not PyTorch and the rest of the compute stack, so this
extension puts ``src/`` on the import path and ``_config.yml`` lists the compute packages in
``autodoc_mock_imports``: autodoc then reads signatures and docstrings without running any
computation.
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src"


def setup(app: object) -> dict[str, bool]:
    if str(SOURCE) not in sys.path:
        sys.path.insert(0, str(SOURCE))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
