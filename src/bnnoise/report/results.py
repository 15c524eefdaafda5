"""A profile's results, assembled for the chapters: one call per kind of result.

Each function loads (or computes, if missing and allowed) everything of one grid of a profile
through the cached pipeline and returns tidy tables. Chapters call these and show the tables;
the CSV files they publish are written by :func:`publish_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from bnnoise.config import Profile
from bnnoise.noise.collapse import collapse_adjusted_average, collapse_check, pooled_collapse_test
from bnnoise.pipeline.models import TrainedModel, train_profile
from bnnoise.pipeline.sweeps import (
    RUN_COLUMNS,
    collapse_probabilities,
    profile_hits,
    sweep_profile,
)
from bnnoise.report.book import numbered_table, save_table
from bnnoise.report.provenance import provenance_markdown
from bnnoise.report.tables import (
    average_normalized_accuracy,
    history_table,
    summarize_sweep,
    training_table,
)

KEYS = [*RUN_COLUMNS, "target"]
"""The columns that name one curve: a trained model and a target set."""


@dataclass
class NoiseResults:
    """Everything the reproduction chapters show about one grid of trained models.

    Attributes:
        runs: the trained models.
        training: one row per model (clean accuracy, BN layers, time; see
            :func:`bnnoise.report.tables.training_table`).
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


def noise_results(profile: Profile, grids: tuple[str, ...] = ("main",)) -> NoiseResults:
    """Train (or load) and sweep every model of the profile's ``grids``; summarise."""
    runs = [run for grid in grids for run in train_profile(profile, grid=grid)]
    runs = list({run.key: run for run in runs}.values())  # a model may belong to two grids
    draws = sweep_profile(profile, runs)
    population = int(runs[0].summary["test_images"])
    average = average_normalized_accuracy(draws, KEYS, profile_hits(profile, runs), population)
    probabilities = collapse_probabilities(runs, profile.noise)
    collapse = (collapse_check(draws[draws["target"] == "all"], probabilities, RUN_COLUMNS)
                if "all" in profile.noise.targets else probabilities.iloc[:0])
    return NoiseResults(runs, training_table(runs), history_table(runs), draws,
                        summarize_sweep(draws, KEYS), average, collapse)


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


def collapse_agreement(results: NoiseResults) -> dict[str, float]:
    """The pooled test of the exact collapse probability against every sampled draw of the BN
    models: observed and expected collapses, p-value, and the share of (model, eta) cells whose
    Clopper-Pearson interval holds the exact probability."""
    bn = results.collapse[results.collapse["norm"] != "none"]
    observed, expected, p_value = pooled_collapse_test(bn)
    return {"observed": observed, "expected": expected, "p_value": p_value,
            "cells": len(bn), "consistent_cells": int(bn["consistent"].sum())}


def publish_tables(results: NoiseResults, profile: Profile, prefix: str) -> list[Path]:
    """Write the results' tidy tables as ``<prefix>_<table>.csv`` into the profile's results
    directory; return their paths."""
    tables = {"training": results.training, "history": results.history,
              "draws": results.draws, "summary": results.summary, "average": results.average,
              "collapse": results.collapse}
    return [save_table(table, profile, f"{prefix}_{name}.csv") for name, table in tables.items()]


def provenance_for(results: NoiseResults, profile: Profile) -> str:
    """The provenance line (:func:`bnnoise.report.provenance.provenance_markdown`) of every
    figure and table drawn from ``results``: the records of the trained models."""
    return provenance_markdown([run.provenance for run in results.runs], profile.name,
                               sorted({run.spec.seed for run in results.runs}))


BN_LABEL = {"bn": "with BN", "none": "without BN"}


def _interval(value: float, low: float, high: float, digits: int = 1) -> str:
    return f"{value:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def training_view(results: NoiseResults) -> pd.DataFrame:
    """The clean-accuracy table of the book: one row per model."""
    t = results.training
    return pd.DataFrame({
        "model": t["model"], "BN": t["norm"].map(BN_LABEL).fillna(t["norm"]),
        "seed": t["seed"], "BN layers": t["bn_layers"],
        "parameters": t["parameters"], "epochs": t["epochs"],
        "clean accuracy (%)": (100 * t["clean_accuracy"]).round(2),
        "training (min)": (t["train_seconds"] / 60).round(1)})


def average_view(results: NoiseResults, scoring: str = "wrong") -> pd.DataFrame:
    """Average normalized accuracy (%) with its 95 % interval per model (rows) and target set
    (columns), for one scoring, with the study's number where it reported one."""
    from bnnoise.report.study import PUBLISHED

    a = results.average[(results.average["scoring"] == scoring)
                        & (results.average["placement"] == "all")]
    cells = a.assign(text=[_interval(100 * v, 100 * lo, 100 * hi) for v, lo, hi in
                           zip(a["avg_normalized_accuracy"], a["low"], a["high"], strict=True)])
    wide = cells.pivot_table(index=["dataset", "model", "norm", "seed"], columns="target",
                             values="text", aggfunc="first").reset_index()
    wide = wide.merge(PUBLISHED, on=["dataset", "model", "norm"], how="left")
    wide["study"] = (100 * wide.pop("avg_normalized_accuracy")).round(2)
    wide.insert(2, "BN", wide.pop("norm").map(BN_LABEL))
    return wide.drop(columns=["dataset"] if wide["dataset"].nunique() == 1 else [])


def collapse_view(results: NoiseResults) -> pd.DataFrame:
    """Per BN model and eta: the exact collapse probability and the sampled rate."""
    c = results.collapse[results.collapse["norm"] != "none"]
    return pd.DataFrame({"model": c["model"], "eta": c["eta"],
                         "exact P(collapse)": c["collapse_probability"].round(4),
                         "collapsed draws": [f"{k} of {n}" for k, n in
                                             zip(c["collapsed_draws"], c["draws"], strict=True)],
                         "95 % CI of the rate": [f"{lo:.2f}–{hi:.2f}" for lo, hi in
                                                 zip(c["rate_low"], c["rate_high"], strict=True)],
                         "consistent": c["consistent"].map({True: "yes", False: "no"})})


def scoring_view(results: NoiseResults) -> pd.DataFrame:
    """Average normalized accuracy (%) of the BN networks under target ``all`` with both
    scorings of non-finite outputs, side by side."""
    a = results.average[(results.average["target"] == "all")
                        & (results.average["norm"] != "none")
                        & (results.average["placement"] == "all")]
    cells = a.assign(text=[_interval(100 * v, 100 * lo, 100 * hi) for v, lo, hi in
                           zip(a["avg_normalized_accuracy"], a["low"], a["high"], strict=True)])
    wide = cells.pivot_table(index=["model", "seed"], columns="scoring", values="text",
                             aggfunc="first").reset_index()
    return wide.rename(columns={"wrong": "scored wrong", "argmax": "plain argmax"})


def claim_table(verdicts: pd.DataFrame, claim: str, name: str, provenance: str | None = None
                ) -> Markdown:
    """The rows of one claim (those whose claim starts with ``claim``) as a numbered table:
    subject, reading, estimate with its interval, verdict; the rule in the caption."""
    rows = verdicts[verdicts["claim"].str.startswith(claim)]
    if rows.empty:
        return Markdown("*No comparison for this claim in this run (its models are not part of "
                        "the run's grids).* \n")
    shown = pd.DataFrame({
        "subject": rows["subject"], "target": rows["target"], "scoring": rows["scoring"],
        "estimate (95 % CI)": [_interval(v, lo, hi) for v, lo, hi in
                               zip(rows["estimate"], rows["low"], rows["high"], strict=True)],
        "verdict": rows["verdict"]})
    if "published" in rows and rows["published"].notna().any():
        shown.insert(3, "study", rows["published"].round(2))
    caption = (f"{rows['claim'].iloc[0][0].upper()}{rows['claim'].iloc[0][1:]}: "
               f"{rows['rule'].iloc[0]}. Interval: {rows['interval'].iloc[0]}.")
    return numbered_table(shown, caption, name, provenance=provenance)


def depth_view(results: NoiseResults, scoring: str = "wrong") -> pd.DataFrame:
    """Averages of the fully normalized and unnormalized ResNets for :func:`average_versus`:
    x = the BN layer count of the network with BN of the same depth."""
    a = results.average[(results.average["scoring"] == scoring)
                        & (results.average["placement"] == "all")
                        & results.average["model"].str.startswith("resnet")]
    layers = a[a["norm"] == "bn"].groupby("model")["bn_layers"].max()
    return a.assign(**{"BN layers": a["model"].map(layers),
                       "BN": a["norm"].map(BN_LABEL)}).dropna(subset=["BN layers"])


def count_view(results: NoiseResults, scoring: str = "wrong") -> pd.DataFrame:
    """Averages of the controlled series for :func:`average_versus`: x = ``k``, the number of
    normalized slots; the end points (k = 0 and all slots) belong to both placements."""
    a = results.average[results.average["scoring"] == scoring]
    ends = a[a["placement"] == "all"]
    parts = [pd.concat([ends, a[a["placement"] == p]]).assign(placement=p)
             for p in ("first", "last")]
    out = pd.concat(parts, ignore_index=True)
    return out.assign(k=out["bn_layers"])


def adjusted_view(results: NoiseResults) -> pd.DataFrame:
    """:func:`collapse_adjusted` for the page: model, seed, scoring, and both averages with
    their intervals as text."""
    a = collapse_adjusted(results)
    if a.empty:
        return a
    return pd.DataFrame({
        "model": a["model"], "seed": a["seed"], "scoring": a["scoring"],
        "from the draws (%)": [_interval(v, lo, hi) for v, lo, hi in
                               zip(a["sampled"], a["sampled_low"], a["sampled_high"],
                                   strict=True)],
        "exact collapse (%)": [_interval(v, lo, hi) for v, lo, hi in
                               zip(a["exact_collapse"], a["exact_low"], a["exact_high"],
                                   strict=True)]})


def fit_view(fit: pd.DataFrame) -> pd.DataFrame:
    """:func:`bnnoise.report.study.joint_fit` for the page: one reading per row, its eta_max,
    the rms residual and each published number's residual (points)."""
    residuals = [c for c in fit if c.startswith("residual ")]
    shown = pd.DataFrame({
        "reading (grid, target, scoring)": [f"{f}, {t}, {s}" for f, t, s in
                                            zip(fit["family"], fit["target"], fit["scoring"],
                                                strict=True)],
        "eta_max": fit["eta_max"].round(3), "rms": fit["rmse"].round(1)})
    for c in residuals:
        model, norm = c.removeprefix("residual ").split()
        shown[f"{model} {'BN' if norm == 'bn' else 'no BN'}"] = fit[c].round(1)
    return shown


def collapse_agreement_text(results: NoiseResults) -> Markdown:
    """:func:`collapse_agreement` in one sentence for the page."""
    a = collapse_agreement(results)
    if not a["cells"]:
        return Markdown("*No network with BN in this run: nothing can collapse.*\n")
    return Markdown(
        f"Over all {a['cells']} (model, eta) cells of the networks with BN, the exact "
        f"probability lies inside the sampled rate's 95 % interval in {a['consistent_cells']}; "
        f"pooled over every draw, {a['observed']:.0f} draws collapsed where "
        f"{a['expected']:.1f} were expected (two-sided p = {a['p_value']:.2f}, independent "
        f"draws, normal approximation of the Poisson-binomial count).\n")
