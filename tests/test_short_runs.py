import math
from dataclasses import replace

import pandas as pd
import pytest

import bnnoise.pipeline.short_runs as short_runs
from bnnoise.config.setups import ShortRunSetup
from bnnoise.data import synthetic
from bnnoise.pipeline.short_runs import ShortRunTables, exceeds, run_grid, summarize_runs
from bnnoise.store import ArtifactStore

SMOKE = ShortRunSetup(dataset="synthetic10", model="resnet8", train_per_class=8,
                      test_per_class=4, probe_per_class=2, epochs=2, batch_size=16, lr=0.05,
                      seeds=(0,), group_norms=("in", "ln"), singularity_norms=("bn",),
                      micro_batch=4)


def _data(name: str):
    assert name == "synthetic10"
    return synthetic(10, n_train=128, n_test=64, seed=1)


@pytest.mark.parametrize("changes, message", [
    ({"group_norms": ("gn3",)}, "does not divide"),
    ({"singularity_norms": ("batchnorm",)}, "unknown norm"),
    ({"model": "resnet9"}, "unknown model"),
    ({"dataset": "mnist"}, "unknown dataset"),
    ({"lr": -1.0}, "lr must be > 0"),
    ({"seeds": ()}, "at least one seed"),
])
def test_invalid_setups_stop_before_any_training(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        replace(SMOKE, **changes)


def test_micro_batch_learning_rate_scales_linearly() -> None:
    assert SMOKE.micro_batch_lr() == pytest.approx(0.05 * 4 / 16)
    recipe = SMOKE.recipe(seed=2, lr=0.5, batch_size=4)
    assert (recipe.seed, recipe.lr, recipe.batch_size, recipe.grad_clip) == (2, 0.5, 4, None)


def test_runs_are_stored_once_and_reloaded_without_training(tmp_path, monkeypatch) -> None:
    store = ArtifactStore(tmp_path)
    first = run_grid(store, _data, SMOKE, ("in", "bn"))
    assert list(first.runs["norm"]) == ["in", "bn"] and not first.runs["diverged"].any()
    assert set(first.channels["stage"]) == {"init", "trained"}
    assert first.history.groupby("norm").size().tolist() == [2, 2]
    assert first.history["dead_fraction"].between(0, 1).all()
    assert first.runs["train_images"].tolist() == [80, 80]  # 8 per class

    def no_training(*args, **kwargs):
        raise AssertionError("a stored run was trained again")

    monkeypatch.setattr(short_runs, "train", no_training)
    again = run_grid(store, _data, SMOKE, ("in", "bn"))
    pd.testing.assert_frame_equal(first.history, again.history)


def test_summaries_leave_diverged_runs_out_and_count_them() -> None:
    history = pd.DataFrame({
        "norm": ["in"] * 3 + ["ln"] * 3, "batch_size": 128, "lr": 1.0,
        "seed": [0, 1, 2] * 2, "epoch": 1,
        "train_loss": [math.nan, 1.0, 1.02, 2.0, 2.1, 2.2],
        "test_acc": [math.nan, 0.5, 0.6, 0.3, 0.3, 0.3],
        "dead_fraction": [math.nan, 0.0, 0.0, 0.1, 0.1, 0.1],
        "diverged_step": [7, math.nan, math.nan, math.nan, math.nan, math.nan]})
    summary = summarize_runs(ShortRunTables(pd.DataFrame(), history, pd.DataFrame()))
    ins = summary.set_index("norm").loc["in"]
    assert (ins["seeds"], ins["diverged"], ins["train_loss"]) == (3, 1, pytest.approx(1.01))
    assert exceeds(summary, "train_loss", "ln", "in")  # 2.1 +- 0.25 vs 1.01 +- 0.13
    assert not exceeds(summary, "train_loss", "in", "ln")


def test_updated_setup_takes_lists_and_validates() -> None:
    assert SMOKE.updated({"seeds": [3, 4]}).seeds == (3, 4)
    with pytest.raises(ValueError, match="unknown norm"):
        SMOKE.updated({"group_norms": ["gnx"]})
