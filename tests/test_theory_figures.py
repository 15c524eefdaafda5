"""The theory chapters' figures: diverged short runs are kept out of the curves and their scales."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest

from bnnoise.figures.theory_figures import _finite_runs, short_run_curves

matplotlib.use("Agg")


def _history(diverged_loss: float = 1e6) -> pd.DataFrame:
    """Two normalizers, two seeds, three epochs; the second seed of ``ln`` diverges in epoch 2
    (its loss explodes, ``diverged_step`` is set from then on)."""
    rows = []
    for norm, seed, epoch in itertools.product(("gn8", "ln"), (0, 1), (1, 2, 3)):
        diverges = norm == "ln" and seed == 1 and epoch >= 2
        rows.append({"norm": norm, "batch_size": 128, "lr": 1.0, "seed": seed, "epoch": epoch,
                     "train_loss": np.nan if diverges else 2.0 / epoch,
                     "max_step_loss": diverged_loss if diverges else 3.0 / epoch,
                     "test_acc": np.nan if diverges else 0.2 * epoch,
                     "diverged_step": 40.0 if diverges else np.nan})
    return pd.DataFrame(rows)



def test_finite_runs_drop_every_epoch_of_a_run_that_diverged() -> None:
    finite = _finite_runs(_history())
    kept = set(zip(finite["norm"], finite["seed"], strict=True))
    assert kept == {("gn8", 0), ("gn8", 1), ("ln", 0)}
    assert len(finite) == 9  # the diverged run's epoch 1, before it diverged, goes too
    assert len(_finite_runs(_history().drop(columns="diverged_step"))) == 12


def test_the_largest_step_loss_panel_is_not_scaled_by_diverged_runs() -> None:
    quantities = {"train_loss": "training loss", "max_step_loss": "largest step loss",
                  "test_acc": "test accuracy"}
    fig = short_run_curves(_history(diverged_loss=1e26), quantities)
    middle = fig.axes[1]
    assert middle.get_ylabel() == "largest step loss"
    assert middle.get_ylim()[1] < 10  # finite runs peak at 3; a diverged one would be 1e26
    reference = short_run_curves(_history().query("not (norm == 'ln' and seed == 1)"),
                                 quantities)
    assert middle.get_ylim() == pytest.approx(reference.axes[1].get_ylim())



def test_accuracies_and_shares_are_drawn_in_percent() -> None:
    fig = short_run_curves(_history(), {"test_acc": "test accuracy", "train_loss": "loss"})
    accuracy, loss = fig.axes[0], fig.axes[1]
    assert accuracy.get_ylabel() == "test accuracy (%)" and loss.get_ylabel() == "loss"
    drawn = np.concatenate([line.get_ydata() for line in accuracy.get_lines()
                            if len(line.get_ydata())])
    assert np.nanmax(drawn) == pytest.approx(60.0)  # 0.2 * epoch 3, in %
