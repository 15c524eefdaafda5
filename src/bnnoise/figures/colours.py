"""One colour per entity, the same in every figure of the book.

Each family of things a figure tells apart by colour has its own fixed map, from seaborn's
``colorblind`` palette (:data:`bnnoise.figures.style.PALETTE`): networks (:func:`model_colors`),
verdicts (:data:`VERDICT_COLOURS`), normalizers (:func:`norm_colors`; the two arms of the
study are the normalizers ``bn`` and ``none``, :func:`arm_colors`), target sets of the noise
(:func:`target_colors`) and the deployments of the recalibration figure
(:data:`RECALIBRATION_COLOURS`). Ordered quantities (the group size of GroupNorm, a learning
rate) take a sequential palette in their order (:func:`ordered_colors`). A figure asks
:func:`colours_by` for the family of the column it colours by, so no figure picks colours of
its own.

The palette has ten colours, fewer than the book's normalizers: two normalizers that never
appear in one figure may share a colour (:data:`SHARED_NORM_COLOURS` names the pairs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import seaborn as sns

from bnnoise.figures.style import PALETTE
from bnnoise.labels import NORM_LABEL, TARGET_LABEL

Colour = tuple[float, float, float]

MODEL_ORDER = ("resnet20", "resnet32", "resnet44", "resnet56", "vgg16", "vgg11", "resnet8")
"""The networks of the book in the order of their colours."""
MODEL_PALETTE_ORDER = (0, 1, 2, 4, 7, 9, 5, 3, 6, 8)
"""Palette colours of :data:`MODEL_ORDER`: the main grid's five networks get blue, orange,
green, purple and grey (the palette's vermillion, next to its orange, comes late)."""

NORM_COLOURS: dict[str, Colour] = {
    "bn": PALETTE[0], "ln": PALETTE[2], "gn4": PALETTE[1], "in": PALETTE[4],
    "none": PALETTE[7], "wn": PALETTE[9], "sws": PALETTE[3], "gn4+ws": PALETTE[5],
    "bcn4+ws": PALETTE[6], "l1bn": PALETTE[9], "topkbn": PALETTE[3],
}
"""The colour of every normalizer the book shows: BatchNorm blue, no normalization grey."""
SHARED_NORM_COLOURS = (("wn", "l1bn"), ("sws", "topkbn"))
"""Normalizers that share a colour: the first of each pair only in the signal-propagation
figures, the second only in the normalizer grid's."""

TARGET_COLOURS: dict[str, Colour] = {"all": PALETTE[3], "trainable": PALETTE[2],
                                     "weights": PALETTE[0], "kernels": PALETTE[4]}
"""The colour of every target set of the noise."""

VERDICT_COLOURS: dict[str, Colour] = {"reproduced": PALETTE[2], "contradicted": PALETTE[3],
                                      "inconclusive at this power": PALETTE[7]}
"""The three verdicts of the book's rules."""

RECALIBRATION_COLOURS: dict[str, Colour] = {"recalibrated": PALETTE[2],
                                            "standard": NORM_COLOURS["bn"],
                                            "none": NORM_COLOURS["none"]}
"""The BN network recalibrated, as trained, and the network without BN."""


def _extra(known: dict[str, Colour], names: Iterable[str]) -> dict[str, Colour]:
    """Colours for names outside a family's map: the palette's colours that the names shown
    with them do not use, in order."""
    names = list(dict.fromkeys(names))
    used = {known[n] for n in names if n in known}
    free = [c for c in PALETTE if c not in used]
    unknown = [n for n in names if n not in known]
    return {n: free[i % len(free)] for i, n in enumerate(unknown)}


def model_colors(models: Iterable[str]) -> dict[str, Colour]:
    """The colour of each network (by :data:`MODEL_ORDER`; others after it), the same in
    every figure."""
    models = list(dict.fromkeys(models))
    names = [*MODEL_ORDER, *sorted(set(models) - set(MODEL_ORDER))]
    colours = {name: PALETTE[MODEL_PALETTE_ORDER[i % len(MODEL_PALETTE_ORDER)]]
               for i, name in enumerate(names)}
    return {m: colours[m] for m in models}


def norm_colors(norms: Iterable[str]) -> dict[str, Colour]:
    """The colour of each normalizer (:data:`NORM_COLOURS`; others take free colours)."""
    norms = list(dict.fromkeys(norms))
    extra = _extra(NORM_COLOURS, norms)
    return {n: NORM_COLOURS.get(n, extra.get(n)) for n in norms}


def arm_colors(labels: Iterable[str]) -> dict[str, Colour]:
    """The colours of the study's two arms by their legend labels (``with BN``, ``without
    BN``): those of the normalizers ``bn`` and ``none``."""
    by_label = {label: NORM_COLOURS[norm] for norm, label in NORM_LABEL.items()}
    labels = list(dict.fromkeys(labels))
    extra = _extra(by_label, labels)
    return {label: by_label.get(label, extra.get(label)) for label in labels}


def target_colors(targets: Iterable[str]) -> dict[str, Colour]:
    """The colour of each target set, by its name or its legend label
    (:data:`bnnoise.labels.TARGET_LABEL`)."""
    by_name = {**TARGET_COLOURS, **{TARGET_LABEL[t]: c for t, c in TARGET_COLOURS.items()
                                    if t in TARGET_LABEL}}
    targets = list(dict.fromkeys(targets))
    extra = _extra(by_name, targets)
    return {t: by_name.get(t, extra.get(t)) for t in targets}


def _order(value: str) -> tuple[float, str]:
    """Sort key of an ordered value: its first number (``gn16`` -> 16; ``in``: 1 channel per
    group first; ``ln``: all channels last)."""
    if value == "in":
        return 1.0, value
    if value == "ln":
        return float("inf"), value
    number = re.search(r"\d+(\.\d+)?", value)
    return (float(number.group()) if number else float("inf")), value


SEQUENTIAL_SPAN = (0.0, 0.85)
"""The part of viridis that :func:`ordered_colors` spreads its values over: from dark purple to
light green, without the yellow end, which is hard to see on white."""


def ordered_colors(values: Iterable[str]) -> dict[str, Colour]:
    """A sequential palette (viridis, dark to light, :data:`SEQUENTIAL_SPAN`) over ``values``
    in their numeric order, for ordered quantities: channels per group (``in``, ``gn2``, ...,
    ``ln``), learning rates."""
    values = sorted(dict.fromkeys(values), key=_order)
    cmap = sns.color_palette("viridis", as_cmap=True)
    low, high = SEQUENTIAL_SPAN
    steps = [low + (high - low) * i / max(len(values) - 1, 1) for i in range(len(values))]
    return {v: tuple(float(x) for x in cmap(step)[:3]) for v, step in zip(values, steps,
                                                                        strict=True)}


FAMILIES = {"model": model_colors, "norm": norm_colors, "BN": arm_colors,
            "target": target_colors, "target_set": target_colors}
"""The colour map of each column a figure colours by."""


def colours_by(column: str, values: Iterable[str]) -> dict[str, Colour]:
    """The colours of ``values`` of ``column``, from the column's family (:data:`FAMILIES`).

    Raises:
        ValueError: the column is of no family: give it one here rather than colour it ad hoc.
    """
    if column not in FAMILIES:
        raise ValueError(f"no colour family for column {column!r}; families: "
                         f"{', '.join(FAMILIES)}")
    return FAMILIES[column](values)


def entity_colours() -> dict[str, Colour]:
    """Every legend label that names an entity of a fixed map, with the entity's colour: the
    networks, the normalizers (by name and, for the two arms, by legend label), the target
    sets (by name and label) and the verdicts. Ordered quantities and ad-hoc series (a band, a
    reference line, a line style) name no entity."""
    return {**model_colors(MODEL_ORDER), **NORM_COLOURS,
            **{label: NORM_COLOURS[norm] for norm, label in NORM_LABEL.items()},
            **TARGET_COLOURS, **{TARGET_LABEL[t]: c for t, c in TARGET_COLOURS.items()},
            **VERDICT_COLOURS}


def _handle_colour(handle) -> Colour | None:
    """The colour a legend handle shows: a line's colour, a marker's face (its edge when the
    face is empty: open markers), a patch's face; ``None`` for a handle with none."""
    from matplotlib.collections import Collection
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(handle, Line2D):
        if handle.get_linestyle() in ("None", "none", "", " ") and handle.get_marker():
            face = to_rgba(handle.get_markerfacecolor())
            rgba = face if face[3] > 0 else to_rgba(handle.get_markeredgecolor())
        else:
            rgba = to_rgba(handle.get_color())
    elif isinstance(handle, Collection):
        faces = handle.get_facecolor()
        rgba = (tuple(faces[0]) if len(faces) and faces[0][3] > 0
                else tuple(handle.get_edgecolor()[0]) if len(handle.get_edgecolor()) else None)
    elif isinstance(handle, Patch):
        rgba = handle.get_facecolor()
    else:
        return None
    return None if rgba is None else tuple(round(float(v), 4) for v in rgba[:3])


def colour_problems(fig) -> list[str]:
    """Legend entries of ``fig`` that name an entity (:func:`entity_colours`) but show another
    colour than the entity's, one line each; an empty list when every entity keeps its colour.

    An entry drawn in a neutral grey or black encodes its entity by line style or marker, not
    by colour (seaborn's ``style`` legend), and is not checked."""
    expected = {label: tuple(round(float(v), 4) for v in colour)
                for label, colour in entity_colours().items()}
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    problems = []
    for legend in filter(None, legends):
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
            label, shown = text.get_text(), _handle_colour(handle)
            neutral = shown is not None and max(shown) - min(shown) < 0.02
            if label in expected and shown is not None and not neutral and (
                    shown != expected[label]):
                problems.append(f"{label!r} is drawn in {shown}, its entry is "
                                f"{expected[label]}")
    return problems
