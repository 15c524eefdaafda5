"""The parameters a chapter accepts: their names, how a value typed on the command line is read,
and the checks every value passes before a chapter runs.

A value given as ``-p NAME VALUE`` is read as YAML (``0.1``, ``[0.1, 0.3]``, ``{lr: 0.05}``).
The parameters that take lists (:data:`LIST_PARAMETERS`) accept a list, or one value, which
means a one-item list, on the command line and from Python alike; a value that YAML cannot read,
or a comma-separated string where a list is meant (``0.1,0.2``), stops with one line that shows
the expected form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LIST_PARAMETERS = ("datasets", "models", "norms", "seeds", "etas", "targets")
"""Chapter parameters whose value is a list (``None`` keeps the profile's)."""


def chapter_names(root: Path) -> list[str]:
    """Names of the chapter notebooks, in reading order."""
    return sorted(p.stem for p in (root / "chapters").glob("*.ipynb"))


def chapter_parameters(root: Path, name: str) -> list[str]:
    """The parameter names a chapter accepts."""
    import papermill

    return list(papermill.inspect_notebook(str(root / "chapters" / f"{name}.ipynb")))


def read_value(name: str, text: str) -> Any:
    """The value of ``-p NAME TEXT``: YAML, with list parameters made lists
    (:func:`as_list_parameters`). Raises ``ValueError`` (one line) for unreadable text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError(f"parameter {name}: cannot read {text!r}; write a list as "
                         f"\"[0.1, 0.3]\", a mapping as \"{{lr: 0.05}}\"") from None
    return as_list_parameters({name: value})[name]


def as_list_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` with every list parameter given as one value turned into a one-item list.

    Raises:
        ValueError: a list parameter given as a comma-separated string, or as a mapping.
    """
    out = dict(parameters)
    for name in LIST_PARAMETERS:
        value = out.get(name)
        if value is None or isinstance(value, list):
            continue
        if isinstance(value, tuple):
            out[name] = list(value)
        elif isinstance(value, str) and "," in value:
            items = ", ".join(part.strip() for part in value.split(","))
            raise ValueError(f"parameter {name}: {value!r} is one string; write the list as "
                             f"\"[{items}]\"")
        elif isinstance(value, dict):
            raise ValueError(f"parameter {name} takes a list, e.g. [{next(iter(value))}], "
                             f"not a mapping")
        else:
            out[name] = [value]
    return out


def check_chapter(root: Path, name: str, parameters: dict[str, Any]) -> None:
    """Raise ``ValueError`` (one line, naming the valid choices) for an unknown chapter, an
    unknown parameter or an invalid value, before anything runs."""
    as_list_parameters(parameters)  # one line for a list given in another form
    names = chapter_names(root)
    if name not in names:
        raise ValueError(f"unknown chapter {name!r}; valid: {', '.join(names)}")
    valid = chapter_parameters(root, name)
    unknown = sorted(set(parameters) - set(valid))
    if unknown:
        raise ValueError(f"chapter {name} has no parameter {', '.join(unknown)}; "
                         f"valid: {', '.join(valid)}")
    validate_parameters(root, parameters)


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
    load_profile(parameters.get("profile", "cpu"), root=root, overrides=overrides, **given)
    scoring = parameters.get("scoring")
    if scoring is not None and scoring not in NONFINITE_SCORINGS:
        raise ValueError(f"unknown scoring {scoring!r}; valid: {', '.join(NONFINITE_SCORINGS)}")
