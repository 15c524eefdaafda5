"""Pilots: which peak learning rate a network's recipe uses, how long the converged tier
trains, and why.

``scripts/pilot_lr.py`` trains one network briefly at several peak learning rates (the profile's
recipe otherwise) and writes one row per run and epoch to :func:`pilot_path`; the training
chapter shows the last epoch of each run (:func:`pilot_summary`) and the choice it supports
(:func:`pilot_choice`) as one table (:func:`bnnoise.pages.pilot_tables.pilot_table`).

The training-length pilot is the profile's ``length_pilot`` grid (ResNet20 with BN trained for
30, 40 and 60 epochs, stored like every model); :func:`length_choice` is the rule that turns its
clean accuracies into the converged tier's number of epochs. The rule was written down and
committed before the first pilot run finished.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bnnoise.config import Profile
from bnnoise.rules import RULES


def pilot_path(profile: Profile, model: str, norm: str) -> Path:
    """The published pilot table of ``model`` with ``norm`` (beside the profile's published
    results, whatever folder a chapter runs in)."""
    return profile.root / "data" / "results" / profile.name / f"pilot_{model}_{norm}_lr.csv"


def pilot_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per peak learning rate: its last epoch's training loss and test accuracy, and
    whether the run diverged (``diverged_step`` set), best test accuracy first."""
    last = runs.sort_values("epoch").groupby("peak_lr", as_index=False).last()
    diverged = runs.groupby("peak_lr")["diverged_step"].apply(lambda s: s.notna().any())
    last["diverged"] = last["peak_lr"].map(diverged)
    return last.sort_values("test_acc", ascending=False).reset_index(drop=True)


def pilot_choice(summary: pd.DataFrame) -> float:
    """The peak learning rate of the pilot's best final test accuracy among runs that did not
    diverge (the rule by which the recipe's rate is chosen)."""
    stable = summary[~summary["diverged"]]
    if stable.empty:
        raise ValueError("every pilot run diverged: no learning rate to choose")
    return float(stable.sort_values("test_acc", ascending=False)["peak_lr"].iloc[0])


LENGTH_TOLERANCE = RULES["training_length"].value
"""How close (as a fraction of the test set: 0.5 points) a shorter training must come to the
longest pilot run's clean accuracy to be chosen instead (:data:`bnnoise.rules.RULES`)."""


def length_choice(clean_accuracy: dict[int, float], tolerance: float = LENGTH_TOLERANCE) -> int:
    """The converged tier's number of epochs: the smallest pilot length whose clean accuracy
    (full test set, fp32, the stored model's) lies within ``tolerance`` of the longest run's.

    Args:
        clean_accuracy: clean test accuracy (a fraction) of each pilot length, every length of
            the pilot present.

    Raises:
        ValueError: no pilot run was given.
    """
    if not clean_accuracy:
        raise ValueError("no pilot run: the training length cannot be chosen")
    longest = clean_accuracy[max(clean_accuracy)]
    return min(epochs for epochs, acc in clean_accuracy.items() if acc >= longest - tolerance)
