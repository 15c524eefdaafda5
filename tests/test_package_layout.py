"""The library's layout: every module name says one thing, once."""

from collections import Counter
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "bnnoise"


def test_no_two_modules_share_a_name() -> None:
    names = Counter(p.stem for p in SRC.rglob("*.py") if p.stem not in ("__init__", "__main__"))
    assert [name for name, count in names.items() if count > 1] == []


def test_every_package_says_in_its_docstring_what_it_holds() -> None:
    import ast

    for init in SRC.rglob("__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring and len(docstring.split()) >= 5, init.parent.name


MODULE_LINES, FUNCTION_LINES = 250, 60
"""The library's size limits: a module a reader takes in at once, a function that fits a screen."""


def test_no_module_or_function_exceeds_the_size_limits() -> None:
    import ast

    too_long = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        if len(text.splitlines()) > MODULE_LINES:
            too_long.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    too_long.append(f"{path.name}: {node.name}, {length} lines")
    assert too_long == []
