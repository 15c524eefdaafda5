"""What the short training runs produce: tidy tables, per-configuration summaries and the
results of the theory chapters' studies.

:mod:`bnnoise.pipeline.short_runs` trains (or loads) the runs and gathers them into
:class:`ShortRunTables`; this module holds those tables and everything computed from them
without training: :func:`summarize_runs` (means over seeds with 95 % CIs, diverged runs counted
and left out), :func:`dead_channels_by_lr`, and the result of each chapter's study
(:class:`GroupSizeTraining`, :class:`HighLearningRate`, :class:`Singularities`), so that the
tables can be summarized and tested apart from the store and the training loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bnnoise.config.setups import ShortRunSetup
from bnnoise.stats import mean_ci
from bnnoise.theory.literature import Check, Checks
from bnnoise.theory.short_run_claims import channel_grouping, final_values


@dataclass
class ShortRunTables:
    """Tidy results of a set of short runs.

    ``runs``: one row per run (norm, batch_size, lr, seed, final test accuracy, diverged, ...);
    ``history``: one row per run and epoch; ``channels``: per-ReLU channel statistics of every
    run at initialisation and after training (column ``stage``); ``records``: the provenance
    of every run's stored artifact.
    """

    runs: pd.DataFrame
    history: pd.DataFrame
    channels: pd.DataFrame
    records: list[dict[str, Any]] = field(default_factory=list)


RUN_KEYS = ["norm", "batch_size", "lr"]
"""The columns that name a configuration of short runs (``seed`` names a run within it)."""


def summarize_runs(tables: ShortRunTables,
                   quantities: tuple[str, ...] = ("train_loss", "test_acc", "dead_fraction")
                   ) -> pd.DataFrame:
    """Per configuration (norm, batch size, learning rate): how many seeds ran and diverged,
    and each quantity's value at the last epoch, as the mean over the runs that did not
    diverge with its 95 % CI half-width (column ``<quantity>_ci95``)."""
    last = tables.history.groupby([*RUN_KEYS, "seed"], sort=False).tail(1)
    rows = []
    for key, part in last.groupby(RUN_KEYS, sort=False):
        finite = part[part["diverged_step"].isna()]
        row: dict[str, Any] = dict(zip(RUN_KEYS, key, strict=True))
        row.update(seeds=len(part), diverged=len(part) - len(finite))
        for q in quantities:
            values = finite[q].dropna().to_numpy()
            row[q], row[f"{q}_ci95"] = mean_ci(values) if len(values) else (math.nan, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class GroupSizeTraining:
    """Chapter 04: the group-size series trained at the standard learning rate. ``summary``:
    :func:`summarize_runs` (training loss, test accuracy); ``speed``: the claim that the
    largest groups train more slowly than intermediate ones."""

    setup: ShortRunSetup
    tables: ShortRunTables
    summary: pd.DataFrame
    speed: Check


@dataclass
class HighLearningRate:
    """Chapter 05: the group-size series at the high learning rate. ``summary``:
    :func:`summarize_runs`; ``stability``: the claim that small groups are less stable."""

    setup: ShortRunSetup
    tables: ShortRunTables
    summary: pd.DataFrame
    stability: Check


@dataclass
class Singularities:
    """Chapter 06: dead channels, a proxy for elimination singularities.

    ``tables``, ``summary``, ``checks``: the singularity runs at the large and the micro batch
    and Qiao et al.'s three claims; ``dead_by_lr``: dead channels of the group-size series at
    the standard and at the high learning rate (:func:`dead_channels_by_lr`); ``grouping``:
    the check that channel-grouping normalizers switch channels off at the high learning rate;
    ``lr_records`` and ``lr_tables``: provenance and tables of the group-size runs at the
    standard and at the high learning rate."""

    setup: ShortRunSetup
    tables: ShortRunTables
    summary: pd.DataFrame
    checks: Checks
    dead_by_lr: pd.DataFrame
    grouping: Check
    lr_records: list[dict[str, Any]]
    lr_tables: tuple[ShortRunTables, ShortRunTables]


def dead_channels_by_lr(standard: ShortRunTables, high: ShortRunTables) -> pd.DataFrame:
    """Per normalizer: runs, and dead channels after training at the standard and at the high
    learning rate (mean and 95 % CI over the runs that did not diverge) with the diverged runs
    at each."""
    rows = []
    finals = {"standard": final_values(standard.history), "high": final_values(high.history)}
    for norm in dict.fromkeys([*standard.history["norm"], *high.history["norm"]]):
        row: dict[str, Any] = {"norm": norm, "grouping": channel_grouping(norm) or "other",
                               "runs": len(finals["standard"].query("norm == @norm"))}
        for name, final in finals.items():
            runs = final[final["norm"] == norm]
            values = (runs["dead_fraction"].dropna().to_numpy() if "dead_fraction" in runs
                      else np.array([]))
            row[f"dead_{name}"], row[f"dead_{name}_ci95"] = (
                mean_ci(values) if len(values) else (math.nan, math.nan))
            row[f"diverged_{name}"] = int(runs["diverged"].sum())
        rows.append(row)
    return pd.DataFrame(rows)
