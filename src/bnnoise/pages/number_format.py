"""How the book writes numbers in its tables and text: rounded to significant digits, powers of
ten as superscripts, intervals with typographic minus signs, decimals aligned in a column, short
labels that never wrap. One formatter for every page, so that a missing value reads "–"
everywhere."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits as the page prints it, "8.4 × 10⁷" (no-break
    spaces around the times sign, so that a table cell never wraps inside a number)."""
    mantissa, exponent = f"{value:.{max(digits, 1) - 1}e}".split("e")
    power = str(int(exponent)).translate(_SUPERSCRIPT)
    return f"{mantissa.replace('-', '−')}\u00a0×\u00a010{power}"


def format_number(value: Any, digits: int = 3) -> str:
    """A number for a table: integers as they are, floats to ``digits`` significant digits in
    plain notation (scientific, as :func:`scientific`, only below 0.001 or from 10^6 on),
    missing values as "–"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}".replace(",", "\u2009") if abs(value) >= 10_000 else str(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return "∞" if v > 0 else ("−∞" if v < 0 else "–")
        if v == 0:
            return "0"
        if v.is_integer() and abs(v) < 1e6:
            return str(int(v))
        if abs(v) < 1e-3 or abs(v) >= 1e6:
            return scientific(v, digits)
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
        return f"{v:.{decimals}f}"
    return str(value)


def interval_text(value: float, low: float, high: float, digits: int = 1) -> str:
    """``value (low–high)``, or ``value (low to high)`` when a bound is negative; minus signs
    are typographic, and a number that rounds to zero has none."""
    value, low, high = (round(x, digits) + 0.0 for x in (value, low, high))  # -0.0 -> 0.0
    sep = " to " if low < 0 or high < 0 else "–"
    text = f"{value:.{digits}f} ({low:.{digits}f}{sep}{high:.{digits}f})"
    return text.replace("-", "−")


_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


def align_decimals(values: pd.Series, digits: int = 3) -> pd.Series:
    """Formatted numbers of one column with as even a number of decimals as their significant
    digits allow: trailing zeros dropped, then, where the column needs at most two decimals,
    every plain number padded towards the most decimals in it without exceeding ``digits``
    significant digits (26 and 45.3 become 26.0 and 45.3; 0.100 and 0.0500 become 0.10 and
    0.05; 220 next to 9.64 stays 220); other text is left as it is."""
    plain = values.map(lambda v: isinstance(v, str) and bool(_PLAIN.match(v)))
    trimmed = values.where(~plain, values.map(
        lambda v: v.rstrip("0").rstrip(".") if isinstance(v, str) and "." in v else v))
    decimals = trimmed[plain].map(lambda v: len(v.partition(".")[2]))
    if decimals.empty or decimals.max() > 2:
        return trimmed

    def pad(text: str) -> str:
        whole = len(text.lstrip("-").partition(".")[0].lstrip("0"))
        width = max(len(text.partition(".")[2]), min(int(decimals.max()), digits - whole))
        return f"{float(text):.{width}f}"

    return trimmed.where(~plain, trimmed.map(
        lambda v: pad(v) if isinstance(v, str) and _PLAIN.match(v) else v))


SHORT_CELL = 12
"""Text cells up to this many characters never wrap (e.g. "no BN", "CIFAR-100")."""


def unbreakable(text: str) -> str:
    """``text`` with no-break spaces and non-breaking hyphens, so that a browser never wraps
    it inside a narrow column ("CIFAR-100" must not become "CIFAR-" over "100")."""
    return text.replace(" ", "\u00a0").replace("-", "\u2011")


def spoken_list(values: Any) -> str:
    """Numbers as prose lists them: "0.2 and 0.5", "1, 2 and 3" (each as ``{:g}`` writes it;
    "none" for no number)."""
    words = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    if len(words) < 2:
        return words[0] if words else "none"
    return f"{', '.join(words[:-1])} and {words[-1]}"


def gathered(labels: list[str], unit: str) -> str:
    """Labels joined with commas, the counts of one label gathered in the order given: with
    ``unit`` " images", ["BN recalibrated, 128 images", "BN recalibrated, 32 images", "BN
    folded"] reads "BN recalibrated (128 and 32 images), BN folded"."""
    counts: dict[str, list[str]] = {}
    for label in labels:
        head, comma, count = label.rpartition(", ")
        if comma and count.endswith(unit):
            counts.setdefault(head, []).append(count.removesuffix(unit))
        else:
            counts.setdefault(label, [])
    return ", ".join(f"{head} ({spoken_list(n)}{unit})" if n else head
                     for head, n in counts.items())
