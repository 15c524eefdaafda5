"""Pilots: which peak learning rate a network's recipe uses, how long the converged tier
trains, and why.

``scripts/pilot_lr.py`` trains one network briefly at several peak learning rates (the profile's
recipe otherwise) and writes one row per run and epoch to :func:`pilot_path`; the training
chapter shows the last epoch of each run (:func:`pilot_summary`) and the choice it supports
(:func:`pilot_choice`) as one table (:func:`bnnoise.pages.pilot_tables.pilot_table`).

The training-length pilot is the profile's ``length_pilot`` grid (ResNet20 with BN trained for
30, 40 and 60 epochs, stored like every model); :func:`length_choice` is the rule that turns its
clean accuracies into the converged tier's number of epochs. The rule was written down and
committed before the first pilot run finished. :func:`length_pilot` gathers the pilot's stored
runs (clean accuracy, CPU time, the machines they trained on, the history of every epoch) and,
once every length is trained, the rule's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bnnoise.config import Profile
from bnnoise.lineage import produces
from bnnoise.pipeline.specs import profile_specs, recipe_of
from bnnoise.pipeline.trained import stored_model
from bnnoise.rules import RULES
from bnnoise.store import ArtifactStore


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


LENGTH_GRID = "length_pilot"
"""The grid of ``params.yaml`` that holds the training-length pilot."""


@dataclass
class LengthPilot:
    """The training-length pilot as far as it is trained.

    Attributes:
        runs: one row per pilot length (``epochs``): the network, whether it is trained, its
            clean accuracy on the full test set, CPU-hours over the epochs whose CPU time was
            recorded (``epochs_timed``) and the machines it trained on.
        history: per trained run and epoch: test accuracy and training loss.
        choice: the rule's number of epochs (:func:`length_choice`) once every length is
            trained, else ``None``.
    """

    runs: pd.DataFrame
    history: pd.DataFrame
    choice: int | None


@produces
def length_pilot(profile: Profile) -> LengthPilot:
    """The profile's training-length pilot from the store (nothing is trained here)."""
    specs = profile_specs(profile, LENGTH_GRID) if LENGTH_GRID in profile.grid_names else []
    store = ArtifactStore(profile.store_dir)
    rows, histories = [], []
    for spec in specs:
        trained = stored_model(store, spec, recipe_of(profile, spec))
        summary = trained.summary if trained is not None else {}
        machines = summary.get("trained_on") or []
        rows.append({"epochs": spec.epochs, "slug": spec.slug, "trained": trained is not None,
                     "clean_accuracy": summary.get("clean_accuracy", float("nan")),
                     "cpu_hours": summary.get("cpu_hours", float("nan")),
                     "epochs_timed": spec.epochs - summary.get("epochs_without_cpu_time", 0)
                     if trained is not None else float("nan"),
                     "machines": len(machines) if trained is not None else float("nan")})
        if trained is not None:
            histories.append(trained.history[["epoch", "test_acc", "train_loss"]]
                             .assign(epochs=spec.epochs))
    runs = pd.DataFrame(rows, columns=["epochs", "slug", "trained", "clean_accuracy",
                                       "cpu_hours", "epochs_timed", "machines"])
    history = (pd.concat(histories, ignore_index=True) if histories else
               pd.DataFrame(columns=["epoch", "test_acc", "train_loss", "epochs"]))
    done = runs[runs["trained"]]
    choice = (length_choice(dict(zip(done["epochs"], done["clean_accuracy"], strict=True)))
              if len(runs) and len(done) == len(runs) else None)
    return LengthPilot(runs, history, choice)


def length_status(pilot: LengthPilot) -> str:
    """One sentence: how much of the pilot is trained and, when all of it is, the choice."""
    runs = pilot.runs
    if runs.empty:
        return "This profile has no training-length pilot."
    waiting = ", ".join(str(e) for e in runs.loc[~runs["trained"], "epochs"])
    trained = int(runs["trained"].sum())
    if pilot.choice is None:
        return (f"{trained} of {len(runs)} pilot runs are trained; the runs of {waiting} epochs "
                "are still in the training queue, so the rule has not been applied yet.")
    return (f"All {len(runs)} pilot runs are trained; the rule chooses {pilot.choice} epochs "
            "for the converged networks.")
