"""Claims about short training runs, tested on their tidy tables.

The tables are those of :mod:`bnnoise.pipeline.short_runs`: ``history`` has one row per run and
epoch (columns ``norm``, ``batch_size``, ``lr``, ``seed``, ``epoch``, the measured quantities
and ``diverged_step``, set in the epoch where the loss stopped being finite). A diverged run has
no final value: it is counted, never averaged.

* :func:`speed_check` (Lubana et al.): the largest groups (LayerNorm) train more slowly than
  intermediate group sizes;
* :func:`stability_check` (Lubana et al.): small groups are less stable at a high learning
  rate, counted in failed runs (:func:`failed_runs`: diverged, or ended near chance accuracy);
* :func:`singularity_checks` (Qiao et al.): channel-based normalizers end closer to elimination
  singularities than BatchNorm, Weight Standardization keeps GroupNorm away from them, and
  BCN+WS's advantage over BatchNorm comes from the micro-batch: it trains better than BatchNorm
  at the micro-batch, by more than at the large batch (an interaction, so that an advantage it
  has at every batch size is not credited to the micro-batch);
* :func:`grouping_check`: in the high-learning-rate runs, normalizers that normalize several
  channels together (GroupNorm with groups of several channels, LayerNorm) end with more dead
  channels than InstanceNorm, which, like BatchNorm, normalizes every channel on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from bnnoise.nets.norms import parse_norm
from bnnoise.rules import RULES
from bnnoise.theory.literature import (
    Check,
    Checks,
    all_of,
    interaction_check,
    proportion_check,
    welch_check,
)

RUN_KEYS = ["norm", "batch_size", "lr", "seed"]
"""The columns that name one run."""

CHANCE_MARGIN = RULES["failed_run"].value
"""A run whose final test accuracy is at most this far above chance (1 / number of classes,
accuracy as a fraction) has failed to train (:func:`failed_runs`): 5 points, several times the
sampling error of a chance-level accuracy on the cpu profile's test subset (200 images per
class). Fixed after the high-learning-rate runs had been seen, where runs that ended at chance
had counted as stable because their loss stayed finite."""


def final_values(history: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its last epoch, with ``diverged`` (bool) and, for diverged runs, every
    measured quantity set to NaN (a diverged run has no final value)."""
    history = history.reset_index(drop=True)
    last = history.groupby(RUN_KEYS, sort=False).tail(1).copy()
    diverged = history.groupby(RUN_KEYS, sort=False)["diverged_step"].transform(
        lambda s: s.notna().any())
    last["diverged"] = diverged.loc[last.index].astype(bool)
    quantities = [c for c in last.columns
                  if c not in {*RUN_KEYS, "epoch", "diverged", "diverged_step", "group_size",
                               "lr_epoch", "seconds"}
                  and pd.api.types.is_numeric_dtype(last[c])]
    last.loc[last["diverged"], quantities] = np.nan
    return last.reset_index(drop=True)


def _values(final: pd.DataFrame, norm: str, quantity: str, batch_size: int | None = None
            ) -> np.ndarray:
    if quantity not in final:  # e.g. every run diverged before the quantity was measured
        return np.array([])
    rows = final[final["norm"] == norm]
    if batch_size is not None:
        rows = rows[rows["batch_size"] == batch_size]
    return rows[quantity].to_numpy(dtype=float)


def speed_check(history: pd.DataFrame, largest: str, middle: Sequence[str]) -> Check:
    """Training loss after the last epoch, ``largest`` minus each of ``middle`` (Welch)."""
    final = final_values(history)
    parts = [welch_check(f"{largest} ends with a higher training loss than {m}",
                         f"training loss, {largest} minus {m}", _values(final, largest,
                                                                        "train_loss"),
                         _values(final, m, "train_loss")) for m in middle]
    return all_of("the largest groups (LayerNorm) train more slowly than intermediate group "
                  "sizes", f"training loss after the last epoch, {largest} minus each "
                  "intermediate group size", parts)


def failed_runs(history: pd.DataFrame, num_classes: int, margin: float = CHANCE_MARGIN
                ) -> pd.DataFrame:
    """One row per run (:func:`final_values`) with ``near_chance`` (it did not diverge and its
    final test accuracy is at most ``margin`` above chance, ``1 / num_classes``) and ``failed``
    (it diverged or ended near chance): a run that ends at chance has not trained stably,
    whether or not its loss stayed finite."""
    if num_classes < 2:
        raise ValueError(f"need at least two classes, got {num_classes}")
    final = final_values(history)
    accuracy = (final["test_acc"] if "test_acc" in final
                else pd.Series(np.nan, index=final.index))
    final["near_chance"] = ~final["diverged"] & (accuracy <= 1 / num_classes + margin)
    final["failed"] = final["diverged"] | final["near_chance"]
    return final


def _criterion(num_classes: int, margin: float) -> str:
    return (f"diverged, or final test accuracy at most {100 * margin:g} points above the "
            f"chance level of {100 / num_classes:g} %")


def stability_check(history: pd.DataFrame, smallest: str, largest: str, num_classes: int,
                    margin: float = CHANCE_MARGIN) -> Check:
    """Share of failed runs (:func:`failed_runs`), ``smallest`` minus ``largest`` (Newcombe's
    interval); the note gives the failed runs of every normalizer in ``history``."""
    final = failed_runs(history, num_classes, margin)

    def counts(norm: str) -> tuple[int, int]:
        runs = final[final["norm"] == norm]
        return int(runs["failed"].sum()), len(runs)

    check = proportion_check("small groups are less stable at a high learning rate",
                             f"share of failed runs ({_criterion(num_classes, margin)}), "
                             f"{smallest} minus {largest}",
                             *counts(smallest), *counts(largest))
    per_norm = ", ".join(
        f"{norm} {int(runs['failed'].sum())} of {len(runs)} ({int(runs['diverged'].sum())} "
        "diverged)" for norm, runs in final.groupby("norm", sort=False))
    return replace(check, note="; ".join(n for n in (check.note, f"failed runs: {per_norm}")
                                         if n))


def singularity_checks(history: pd.DataFrame, large_batch: int, micro_batch: int) -> Checks:
    """Qiao et al.'s three claims on the runs of ``history`` (see the module docstring);
    a normalizer the runs do not include makes its part inconclusive ("nothing to compare").

    The third claim has two parts: BCN+WS ends with a higher test accuracy than BatchNorm at
    ``micro_batch`` (Welch), and that difference exceeds the one at ``large_batch`` (the
    difference of differences, :func:`~bnnoise.theory.literature.interaction_check`). The first
    part alone would credit to the micro-batch an advantage BCN+WS may have at every batch
    size."""
    final = final_values(history)
    norms = set(final["norm"])

    def dead(norm: str, batch: int) -> np.ndarray:
        return _values(final, norm, "dead_fraction", batch)

    channel_based = [n for n in ("ln", "gn4") if n in norms]
    first = all_of(
        "channel-based normalizers drift closer to elimination singularities than BatchNorm",
        f"share of dead channels after training at batch {large_batch}, each channel-based "
        "normalizer minus bn",
        [welch_check(f"{n} has more dead channels than bn", f"{n} minus bn",
                     dead(n, large_batch), dead("bn", large_batch))
         for n in channel_based if "bn" in norms])
    second = (welch_check("Weight Standardization keeps GroupNorm away from elimination "
                          "singularities",
                          f"share of dead channels after training at batch {large_batch}, gn4 "
                          "minus gn4+ws", dead("gn4", large_batch), dead("gn4+ws", large_batch))
              if {"gn4", "gn4+ws"} <= norms else
              all_of("Weight Standardization keeps GroupNorm away from elimination "
                     "singularities", "gn4 and gn4+ws are not both among the runs", []))
    third_claim = (f"with micro-batches (batch {micro_batch}), BCN+WS trains better than "
                   f"BatchNorm, and by more than at batch {large_batch}")
    if {"bcn4+ws", "bn"} <= norms:
        def acc(norm: str, batch: int) -> np.ndarray:
            return _values(final, norm, "test_acc", batch)

        third = all_of(third_claim, "test accuracy after training, bcn4+ws minus bn", [
            welch_check(f"bcn4+ws ends above bn at batch {micro_batch}",
                        f"at batch {micro_batch}", acc("bcn4+ws", micro_batch),
                        acc("bn", micro_batch)),
            interaction_check(
                f"the advantage is larger at batch {micro_batch} than at batch {large_batch}",
                f"the difference at batch {micro_batch} minus the difference at batch "
                f"{large_batch}", acc("bcn4+ws", micro_batch), acc("bn", micro_batch),
                acc("bcn4+ws", large_batch), acc("bn", large_batch),
                conditions=(f"at batch {micro_batch}", f"at batch {large_batch}"))])
    else:
        third = all_of(third_claim, "bcn4+ws and bn are not both among the runs", [])
    return Checks([first, second, third])


def channel_grouping(norm: str) -> str | None:
    """``"grouped"`` when ``norm`` normalizes several channels together (GroupNorm with more
    than one channel per group, LayerNorm), ``"alone"`` when it normalizes every channel on its
    own (BatchNorm, InstanceNorm), ``None`` for the others (no activation normalizer, BCN,
    whose batch part is per channel and whose group part is not)."""
    spec = parse_norm(norm)
    if spec.activation == "bn" or (spec.activation == "gn" and spec.group_size == 1):
        return "alone"
    if spec.activation == "gn":
        return "grouped"
    return None


def grouping_check(history: pd.DataFrame) -> Check:
    """Dead channels after training, runs with channel-grouping normalizers minus runs with
    per-channel ones (:func:`channel_grouping`; Welch over the runs that did not diverge,
    pooled over normalizers)."""
    final = final_values(history)
    kind = final["norm"].map(channel_grouping)
    grouped, alone = final[kind == "grouped"], final[kind == "alone"]
    names = {k: ", ".join(dict.fromkeys(part["norm"])) or "none"
             for k, part in (("grouped", grouped), ("alone", alone))}
    def dead(part: pd.DataFrame) -> np.ndarray:
        return part["dead_fraction"].to_numpy(dtype=float) if "dead_fraction" in part else \
            np.array([])

    return welch_check(
        "normalizers that normalize several channels together switch channels off, "
        "normalizers of single channels do not",
        f"share of dead channels after training, runs with {names['grouped']} minus runs with "
        f"{names['alone']}", dead(grouped), dead(alone), RULES["theory_default"].rule)
