"""How the book names things on its pages: datasets, normalization arms, target sets.

Tables and figures take their words from here, so that a name is spelled one way everywhere it
is spelled from a code; figures and tables differ only where the space differs (a table column
says "no BN", a legend "without BN").
"""

from __future__ import annotations

import pandas as pd

DATASET_LABEL = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
"""How the book writes the datasets' names (others as they are)."""

BN_LABEL = {"bn": "BN", "none": "no BN"}
"""The two arms of the study in table cells."""

NORM_LABEL = {"bn": "with BN", "none": "without BN"}
"""The two arms of the study in figure legends."""

TARGET_LABEL = {"all": "every array (all)", "trainable": "learnable parameters (trainable)",
                "weights": "weights and biases (weights)",
                "kernels": "conv/linear weight matrices, no biases (kernels)"}
"""The target sets of the noise, in words with their protocol name (``weights``: the weights and
biases of the convolutions and linear layers, BN exact; the protocol page defines each)."""


def dataset_label(dataset: str) -> str:
    """The name of ``dataset`` as the book writes it (:data:`DATASET_LABEL`; others as given)."""
    return DATASET_LABEL.get(dataset, dataset)


def with_arm_labels(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a column ``BN`` naming each row's normalization as legends do
    (:data:`NORM_LABEL`; other normalizers by their name)."""
    return table.assign(BN=table["norm"].map(NORM_LABEL).fillna(table["norm"]))


def group_size_label(norm: str) -> str:
    """A normalizer of a group-size series named by its channels per group, the ordered
    quantity its colour encodes (``bnnoise.figures.colours.ordered_colors``), not by the
    normalizer's own colour: ``1 per group (in)``, ``4 per group (gn4)``, ``all in one (ln)``."""
    size = {"in": "1 per group", "ln": "all in one"}.get(norm, f"{norm[2:]} per group")
    return f"{size} ({norm})"


def unit_label(unit: str) -> str:
    """A layer unit's short name on an axis: ``stem``, ``3.1`` (block 3, first convolution),
    ``3.sc`` (its shortcut projection), ``fc``."""
    parts = unit.split(".")
    if parts[0] == "blocks" and len(parts) > 2:
        return f"{parts[1]}.{'sc' if parts[2] == 'shortcut' else parts[2].removeprefix('branch')}"
    return parts[0]
