"""A profile's results, assembled for the chapters: one call per kind of result.

Each function loads (or computes, if missing and allowed) everything of one grid of a profile
through the cached pipeline and returns tidy tables. Chapters call these and show the tables;
each chapter writes the CSV files of the tables it shows with :func:`publish_tables`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bnnoise.analysis.study import joint_fit
from bnnoise.analysis.summaries import (
    average_normalized_accuracy,
    history_table,
    summarize_sweep,
    training_table,
)
from bnnoise.config import Profile
from bnnoise.lineage import produces
from bnnoise.noise.collapse import collapse_adjusted_average, collapse_check, pooled_collapse_test
from bnnoise.pages.elements import save_table
from bnnoise.pages.provenance import provenance_markdown
from bnnoise.pipeline.layers import layer_draws, sensitivity_prediction
from bnnoise.pipeline.progress import progress_draws, progress_summary, swept_runs
from bnnoise.pipeline.remedies import (
    noise_aware_runs,
    remedy_draws,
    remedy_ranking,
    remedy_summary,
)
from bnnoise.pipeline.specs import profile_specs
from bnnoise.pipeline.sweeps import (
    RUN_COLUMNS,
    collapse_probabilities,
    profile_hits,
    sweep_profile,
)
from bnnoise.pipeline.trained import TrainedModel, profile_model, train_profile

KEYS = [*RUN_COLUMNS, "target"]
"""The columns that name one curve: a trained model and a target set."""


@dataclass
class NoiseResults:
    """Everything the reproduction chapters show about one grid of trained models.

    Attributes:
        runs: the trained models.
        training: one row per model (clean accuracy, BN layers, time; see
            :func:`bnnoise.analysis.summaries.training_table`).
        history: per-epoch training history.
        draws: every noisy draw (:func:`bnnoise.pipeline.sweeps.noise_sweep`).
        summary: per (curve, scoring, eta) means with 95 % intervals over the draws.
        average: per (curve, scoring) average normalized accuracy over the grid, with intervals
            covering the draws and the sampling of the test images.
        collapse: sampled collapse rates beside the exact probabilities (target ``all``).
    """

    runs: list[TrainedModel]
    training: pd.DataFrame
    history: pd.DataFrame
    draws: pd.DataFrame
    summary: pd.DataFrame
    average: pd.DataFrame
    collapse: pd.DataFrame


@produces
def noise_results(profile: Profile, grids: tuple[str, ...] = ("main",),
                  stored_only: bool = False, also_stored: tuple[str, ...] = ()
                  ) -> NoiseResults:
    """Train (or load) and sweep every model of the profile's ``grids``; summarise. With
    ``stored_only``, only the models already trained (in a read-only store: and swept) take
    part (a grid still in training); those of the grids ``also_stored`` join them (grids the
    profile does not have are skipped; :func:`bnnoise.analysis.coverage.untrained_by_grid`
    lists what is left out)."""
    extra = [g for g in also_stored if g in profile.grid_names and g not in grids]
    runs = [run for grid in grids
            for run in train_profile(profile, grid=grid, stored_only=stored_only)]
    if stored_only:
        runs = swept_runs(profile, runs)
    runs += swept_runs(profile, [run for grid in extra
                                 for run in train_profile(profile, grid=grid, stored_only=True)])
    if not runs:
        raise ValueError(f"no model of the grids {', '.join(grids)} of profile {profile.name} "
                         "is trained yet")
    return results_of(profile, runs)


def results_of(profile: Profile, runs: list[TrainedModel]) -> NoiseResults:
    """Sweep ``runs`` with the profile's noise protocol (computing missing cells where the
    store allows it) and summarise them (a model listed twice counts once)."""
    runs = list({run.key: run for run in runs}.values())  # a model may belong to two grids
    draws = sweep_profile(profile, runs)
    population = int(runs[0].summary["test_images"])
    average = average_normalized_accuracy(draws, KEYS, profile_hits(profile, runs), population)
    probabilities = collapse_probabilities(runs, profile.noise)
    collapse = (collapse_check(draws[draws["target"] == "all"], probabilities, RUN_COLUMNS)
                if "all" in profile.noise.targets else probabilities.iloc[:0])
    return NoiseResults(runs, training_table(runs), history_table(runs), draws,
                        summarize_sweep(draws, KEYS), average, collapse)


@dataclass
class ProgressResults:
    """Noise resistance along training (the runs' epoch snapshots and final models, swept with
    the profile's ``progress_protocol``).

    Attributes:
        draws: one row per run, epoch, target set and draw
            (:func:`bnnoise.pipeline.progress.sweep_snapshots`).
        summary: per run, epoch and target set, with 95 % intervals over the draws.
    """

    draws: pd.DataFrame
    summary: pd.DataFrame


@produces
def progress_results(profile: Profile, results: NoiseResults) -> ProgressResults:
    """The training-progress tables of the runs of ``results`` that keep epoch snapshots."""
    draws = progress_draws(profile, results.runs)
    return ProgressResults(draws, progress_summary(draws))


@dataclass
class MechanismResults:
    """Remedies and per-layer sensitivity of the mechanism chapter's models.

    Attributes:
        runs: the trained models (with and without BN) of the profile's ``mechanism.models``.
        remedies: per run, remedy, target set and draw
            (:func:`bnnoise.pipeline.remedies.remedy_draws`).
        ranking: the remedies ranked (:func:`bnnoise.pipeline.remedies.remedy_ranking`).
        summary: per run, remedy and target set, with 95 % intervals over the draws.
        layers: per run, layer unit, target set, eta and draw
            (:func:`bnnoise.pipeline.layers.layer_draws`).
        prediction: how well the measured perturbation ranks the layers.
    """

    runs: list[TrainedModel]
    remedies: pd.DataFrame
    ranking: pd.DataFrame
    summary: pd.DataFrame
    layers: pd.DataFrame
    prediction: pd.DataFrame


@produces
def mechanism_results(profile: Profile) -> MechanismResults:
    """Load (or compute) the remedies' sweeps and the per-layer sensitivity maps of the models
    named by the profile's ``mechanism`` entry; noise-aware training enters with the levels
    whose models are trained (``python -m bnnoise mechanism`` trains them)."""
    runs = [profile_model(profile, spec) for spec in profile_specs(profile)
            if spec.model in profile.mechanism.models]
    noise_aware = noise_aware_runs(profile, stored_only=True)
    remedies = remedy_draws(profile, runs, noise_aware)
    layers = layer_draws(profile, runs)
    return MechanismResults(runs, remedies, remedy_ranking(remedies), remedy_summary(remedies),
                            layers, sensitivity_prediction(layers))


@produces
def collapse_adjusted(results: NoiseResults) -> pd.DataFrame:
    """Per BN model and scoring, under target ``all``: the average normalized accuracy from the
    sampled draws beside the one computed with the exact collapse probability
    (:func:`bnnoise.noise.collapse.collapse_adjusted_average`), in percent."""
    rows = []
    all_draws = results.draws[results.draws["target"] == "all"]
    for key, draws in all_draws.groupby(RUN_COLUMNS):
        labels = dict(zip(RUN_COLUMNS, key, strict=True))
        if labels["norm"] == "none":
            continue
        probs = results.collapse.merge(pd.DataFrame([labels]), on=RUN_COLUMNS)
        for scoring, column in (("wrong", "accuracy"), ("argmax", "accuracy_argmax")):
            sampled = results.average.merge(
                pd.DataFrame([{**labels, "target": "all", "scoring": scoring}]))
            adjusted = collapse_adjusted_average(draws, probs, column)
            rows.append({**labels, "scoring": scoring,
                         "sampled": 100 * float(sampled["avg_normalized_accuracy"].iloc[0]),
                         "sampled_low": 100 * float(sampled["low"].iloc[0]),
                         "sampled_high": 100 * float(sampled["high"].iloc[0]),
                         "exact_collapse": 100 * adjusted.estimate,
                         "exact_low": 100 * adjusted.low, "exact_high": 100 * adjusted.high})
    return pd.DataFrame(rows)


@produces
def collapse_agreement(results: NoiseResults) -> dict[str, float]:
    """The pooled test of the exact collapse probability against every sampled draw of the BN
    models: observed and expected collapses, p-value, the share of (model, eta) cells whose
    Clopper-Pearson interval holds the exact probability, and the eta whose pooled count lies
    furthest from its expectation."""
    bn = results.collapse[results.collapse["norm"] != "none"]
    observed, expected, p_value = pooled_collapse_test(bn)
    by_eta = (bn.assign(expected=bn["draws"] * bn["collapse_probability"])
              .groupby("eta")[["collapsed_draws", "expected"]].sum())
    gap = (by_eta["collapsed_draws"] - by_eta["expected"]).abs()
    worst = gap.idxmax() if len(gap) else float("nan")
    return {"observed": observed, "expected": expected, "p_value": p_value,
            "cells": len(bn), "consistent_cells": int(bn["consistent"].sum()),
            "largest_gap_eta": float(worst),
            "largest_gap_observed": float(by_eta["collapsed_draws"].get(worst, 0.0)),
            "largest_gap_expected": float(by_eta["expected"].get(worst, 0.0))}


TABLES = ("training", "history", "draws", "summary", "average", "collapse")
"""The tidy tables of :class:`NoiseResults` that :func:`publish_tables` can write."""


def publish_tables(results: NoiseResults, profile: Profile, prefix: str,
                   names: tuple[str, ...]) -> dict[str, Path]:
    """Write the results' tables ``names`` (of :data:`TABLES`) as ``<prefix>_<name>.csv`` into
    the profile's results directory; return their paths by name. Each table has one producer:
    the chapter that shows it writes it, and only that chapter."""
    unknown = [name for name in names if name not in TABLES]
    if unknown:
        raise ValueError(f"unknown tables {unknown}; choose from {', '.join(TABLES)}")
    return {name: save_table(getattr(results, name), profile, f"{prefix}_{name}.csv")
            for name in names}


@produces
def protocol_fit(results: NoiseResults, seed: int = 0) -> pd.DataFrame:
    """:func:`bnnoise.analysis.study.joint_fit` of the curves of training seed ``seed`` (the
    study's numbers are from one training per network)."""
    return joint_fit(results.summary[results.summary["seed"] == seed])


def provenance_for(results: NoiseResults | MechanismResults
                   | Sequence[NoiseResults | MechanismResults], profile: Profile) -> str:
    """The provenance line (:func:`bnnoise.pages.provenance.provenance_markdown`) of every
    figure and table drawn from ``results`` (one set of results, or several for a table that
    combines them): the records of the trained models, each counted once."""
    parts = results if isinstance(results, Sequence) else (results,)
    runs = list({repr(run.spec): run for part in parts for run in part.runs}.values())
    return provenance_markdown([run.provenance for run in runs], profile.name,
                               sorted({run.spec.seed for run in runs}))
