"""The pilots as the training chapter shows them: one numbered table per learning-rate pilot."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from bnnoise.analysis.pilots import LengthPilot, pilot_choice, pilot_path, pilot_summary
from bnnoise.config import Profile
from bnnoise.lineage import produces
from bnnoise.pages.elements import download_link, numbered_table
from bnnoise.pages.provenance import script_table_markdown


@produces
def pilot_table(profile: Profile, model: str, norm: str, name: str = "tbl-pilot") -> Markdown:
    """The pilot of ``model`` with ``norm`` as a numbered table (last epoch of each run, best
    first; the chosen rate and the recipe's rate in the caption) with a link to every epoch of
    every run, or a sentence when the profile has no such pilot."""
    path = pilot_path(profile, model, norm)
    if not path.is_file():
        return Markdown(f"*No learning-rate pilot of {model} ({norm}) for profile "
                        f"{profile.name}.*")
    summary = pilot_summary(pd.read_csv(path))
    shown = pd.DataFrame({
        "peak learning rate": summary["peak_lr"], "gradient clip": summary["grad_clip"],
        "epochs": summary["epoch"], "training loss": summary["train_loss"].round(3),
        "test accuracy (%)": (100 * summary["test_acc"]).round(1),
        "diverged": summary["diverged"].map({True: "yes", False: "no"})})
    caption = (f"Learning-rate pilot of {model} ({norm}), last epoch of each run, best first. "
               f"Chosen: {pilot_choice(summary):g}; the recipe's rate is {profile.recipe.lr:g}.")
    table = numbered_table(shown, caption, name,
                           provenance=script_table_markdown(path, "scripts/pilot_lr.py"))
    return Markdown(f"{table.data}\nEvery epoch of every run: {download_link(path, profile)}")


@produces
def length_pilot_view(pilot: LengthPilot) -> pd.DataFrame:
    """The training-length pilot as the training chapter shows it: one row per run length."""
    runs = pilot.runs
    return pd.DataFrame({
        "network": runs["slug"], "epochs": runs["epochs"],
        "state": runs["trained"].map({True: "trained", False: "in the training queue"}),
        "clean accuracy (%)": (100 * runs["clean_accuracy"]).round(2),
        "CPU-hours (epochs timed)": [
            "–" if pd.isna(h) else f"{h:.1f} ({int(t)} of {int(e)})"
            for h, t, e in zip(runs["cpu_hours"], runs["epochs_timed"], runs["epochs"],
                               strict=True)],
        "machines": runs["machines"]})
