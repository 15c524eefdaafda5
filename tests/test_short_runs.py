import math
from dataclasses import replace

import pandas as pd
import pytest

import bnnoise.pipeline.short_runs as short_runs
from bnnoise.config.setups import ShortRunSetup
from bnnoise.data import synthetic
from bnnoise.pipeline.short_runs import ShortRunTables, run_grid, summarize_runs
from bnnoise.store import ArtifactStore

SMOKE = ShortRunSetup(dataset="synthetic10", model="resnet8", train_per_class=8,
                      test_per_class=4, probe_per_class=2, epochs=2, batch_size=16, lr=0.05,
                      seeds=(0,), group_norms=("in", "ln"), singularity_norms=("bn",),
                      micro_batch=4, precision="fp32")


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


def test_updated_setup_takes_lists_and_validates() -> None:
    assert SMOKE.updated({"seeds": [3, 4]}).seeds == (3, 4)
    with pytest.raises(ValueError, match="unknown norm"):
        SMOKE.updated({"group_norms": ["gnx"]})


def _history(values: dict[tuple[str, int, float], list[float]], quantity: str,
             diverged: dict[tuple[str, int, float], list[bool]] | None = None) -> pd.DataFrame:
    """One-epoch histories: per (norm, batch, lr) one value of ``quantity`` per seed."""
    rows = []
    for (norm, batch, lr), per_seed in values.items():
        flags = (diverged or {}).get((norm, batch, lr), [False] * len(per_seed))
        for seed, (value, flag) in enumerate(zip(per_seed, flags, strict=True)):
            rows.append({"norm": norm, "batch_size": batch, "lr": lr, "seed": seed, "epoch": 1,
                         quantity: math.nan if flag else value,
                         "diverged_step": 5 if flag else math.nan})
    return pd.DataFrame(rows)


def test_final_values_blank_out_diverged_runs() -> None:
    from bnnoise.theory.short_run_claims import final_values

    history = pd.concat([_history({("ln", 128, 1.0): [2.3, 7e26]}, "max_step_loss",
                                  {("ln", 128, 1.0): [False, True]}).assign(epoch=1),
                         _history({("ln", 128, 1.0): [2.2, 2.0]}, "max_step_loss").assign(
                             epoch=2).iloc[:1]])
    final = final_values(history).set_index("seed")
    assert final.loc[0, "max_step_loss"] == 2.2 and not final.loc[0, "diverged"]
    assert math.isnan(final.loc[1, "max_step_loss"]) and final.loc[1, "diverged"]


def test_speed_check_verdicts() -> None:
    from bnnoise.stats import Verdict
    from bnnoise.theory.short_run_claims import speed_check

    def check(ln: list[float]):
        history = _history({("in", 128, 0.1): [1.5, 1.52, 1.49],
                            ("gn4", 128, 0.1): [1.60, 1.62, 1.61],
                            ("gn16", 128, 0.1): [1.64, 1.66, 1.65],
                            ("ln", 128, 0.1): ln}, "train_loss")
        return speed_check(history, "ln", ["gn4", "gn16"])

    assert check([1.90, 1.92, 1.91]).verdict is Verdict.REPRODUCED
    assert check([1.30, 1.32, 1.31]).verdict is Verdict.CONTRADICTED
    assert check([1.4, 2.0, 1.7]).verdict is Verdict.INCONCLUSIVE
    assert [p.measure for p in check([1.9, 1.9, 1.9]).parts] == [
        "training loss, ln minus gn4", "training loss, ln minus gn16"]


def test_stability_check_counts_diverged_runs() -> None:
    from bnnoise.stats import Verdict
    from bnnoise.theory.short_run_claims import stability_check

    def check(in_div: list[bool], ln_div: list[bool]):
        n = len(in_div)
        history = _history({("in", 128, 1.0): [0.3] * n, ("ln", 128, 1.0): [0.3] * n},
                           "test_acc", {("in", 128, 1.0): in_div, ("ln", 128, 1.0): ln_div})
        return stability_check(history, "in", "ln", num_classes=10)

    assert check([True] * 8, [False] * 8).verdict is Verdict.REPRODUCED
    assert check([False] * 8, [True] * 8).verdict is Verdict.CONTRADICTED
    three = check([False] * 3, [True, False, True])
    assert three.verdict is Verdict.INCONCLUSIVE and "0 of 3 vs 2 of 3" in three.numbers()
    assert "ln 2 of 3 (2 diverged)" in three.numbers()


def test_a_run_that_ends_at_chance_counts_as_unstable() -> None:
    from bnnoise.stats import Verdict
    from bnnoise.theory.short_run_claims import CHANCE_MARGIN, failed_runs, stability_check

    # the cpu profile's high-learning-rate outcome: no run of in fails; one ln run ends at
    # chance (10 classes) with a finite loss, the other two diverge
    history = _history({("in", 128, 1.0): [0.2175, 0.243, 0.239],
                        ("ln", 128, 1.0): [0.0, 0.10, 0.0]}, "test_acc",
                       {("ln", 128, 1.0): [True, False, True]})
    final = failed_runs(history, num_classes=10).set_index(["norm", "seed"])
    assert final.loc[("ln", 1), "near_chance"] and final.loc[("ln", 1), "failed"]
    assert not final.loc[("ln", 1), "diverged"]
    assert final.loc[("ln", 0), "failed"] and not final.loc[("ln", 0), "near_chance"]
    assert not final.loc[("in", 0), "failed"]
    check = stability_check(history, "in", "ln", num_classes=10)
    assert "0 of 3 vs 3 of 3" in check.numbers()
    assert check.verdict is Verdict.CONTRADICTED  # counting diverged runs only: inconclusive
    assert "5 points above the chance level of 10 %" in check.measure
    # the boundary: at most the margin above chance fails, just above it does not
    edge = _history({("in", 128, 1.0): [0.1 + CHANCE_MARGIN, 0.1 + CHANCE_MARGIN + 0.01]},
                    "test_acc")
    assert failed_runs(edge, 10)["failed"].tolist() == [True, False]
    # chance depends on the number of classes: 12 % is near chance for 10, not for 100 classes
    low = _history({("in", 128, 1.0): [0.12, 0.12]}, "test_acc")
    assert failed_runs(low, 10)["failed"].all() and not failed_runs(low, 100)["failed"].any()
    with pytest.raises(ValueError, match="two classes"):
        failed_runs(low, 1)


def test_singularity_checks_and_missing_normalizers() -> None:
    from bnnoise.stats import Verdict
    from bnnoise.theory.short_run_claims import singularity_checks

    dead = {("bn", 128, 0.1): [0.0, 0.0, 0.0], ("ln", 128, 0.1): [0.2, 0.25, 0.22],
            ("gn4", 128, 0.1): [0.1, 0.12, 0.11], ("gn4+ws", 128, 0.1): [0.0, 0.01, 0.0]}
    acc = {("bn", 8, 0.00625): [0.50, 0.51, 0.52], ("bcn4+ws", 8, 0.00625): [0.40, 0.41, 0.42]}
    history = pd.concat([_history(dead, "dead_fraction"), _history(acc, "test_acc")])
    first, second, third = singularity_checks(history, 128, 8)
    assert first.verdict is Verdict.REPRODUCED and len(first.parts) == 2
    assert second.verdict is Verdict.REPRODUCED
    assert third.verdict is Verdict.CONTRADICTED  # bcn4+ws below bn here
    floor = _history({k: [0.0, 0.0, 0.003] for k in dead}, "dead_fraction")
    assert singularity_checks(floor, 128, 8)[0].verdict is Verdict.INCONCLUSIVE
    only_bn = _history({("bn", 128, 0.1): [0.0, 0.0]}, "dead_fraction")
    checks = singularity_checks(only_bn, 128, 8)
    assert all(c.verdict is Verdict.INCONCLUSIVE for c in checks)
    assert "nothing to compare" in checks[0].text() or not checks[0].parts


def test_the_micro_batch_claim_needs_a_larger_advantage_at_the_micro_batch() -> None:
    from bnnoise.stats import Verdict
    from bnnoise.theory.short_run_claims import singularity_checks

    def third(bn_large: list[float], bcn_large: list[float]):
        acc = {("bn", 128, 0.1): bn_large, ("bcn4+ws", 128, 0.1): bcn_large,
               ("bn", 8, 0.00625): [0.5415, 0.5385, 0.555],
               ("bcn4+ws", 8, 0.00625): [0.579, 0.575, 0.5675]}
        return singularity_checks(_history(acc, "test_acc"), 128, 8)[2]

    # the cpu profile's final accuracies: BCN+WS ends above BN at both batch sizes and BN does
    # not lose accuracy at the micro-batch; the micro-batch part holds, the interaction is
    # inconclusive
    same = third([0.546, 0.558, 0.538], [0.565, 0.573, 0.5735])
    assert [p.verdict for p in same.parts] == [Verdict.REPRODUCED, Verdict.INCONCLUSIVE]
    assert same.verdict is Verdict.INCONCLUSIVE
    assert "minus the difference at batch 128" in same.parts[1].measure
    # BN loses accuracy at the micro-batch only where BCN+WS does not: the advantage is the
    # micro-batch's
    assert third([0.58, 0.585, 0.575], [0.57, 0.575, 0.568]).verdict is Verdict.REPRODUCED
    # BCN+WS ahead at the micro-batch, but far more at the large batch: contradicted
    assert third([0.40, 0.41, 0.405], [0.58, 0.585, 0.575]).verdict is Verdict.CONTRADICTED


def test_grouping_check_pools_normalizers_by_how_they_group_channels() -> None:
    from bnnoise.stats import Verdict
    from bnnoise.theory.short_run_claims import channel_grouping, grouping_check

    assert [channel_grouping(n) for n in ("bn", "in", "gn1", "gn4", "ln", "bcn4+ws", "none")
            ] == ["alone", "alone", "alone", "grouped", "grouped", None, None]
    high = {("in", 128, 1.0): [0.0015, 0.0116, 0.0015], ("gn4", 128, 1.0): [0.45, 0.21, 0.19],
            ("gn16", 128, 1.0): [0.32, 0.35, 0.31], ("ln", 128, 1.0): [0.57, 0.0, 0.0]}
    history = _history(high, "dead_fraction", {("ln", 128, 1.0): [False, True, True]})
    check = grouping_check(history)
    assert check.verdict is Verdict.REPRODUCED and "7 vs 3 runs" in check.numbers()
    assert "runs with gn4, gn16, ln minus runs with in" in check.measure
    alive = _history({("in", 128, 1.0): [0.1, 0.3, 0.2], ("ln", 128, 1.0): [0.1, 0.25, 0.2]},
                     "dead_fraction")
    assert grouping_check(alive).verdict is Verdict.INCONCLUSIVE
