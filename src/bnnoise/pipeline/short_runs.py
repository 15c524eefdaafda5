"""Short training runs that show the consequences of the normalization theory.

The theory chapters measure networks at initialisation (:mod:`bnnoise.theory.propagation`);
these runs train the same kind of network briefly, on a fixed class-stratified subset of the
training set, to see what the measurements predict: convergence speed versus GroupNorm group
size, instability of small groups at a high learning rate, and channels switched off for every
input (see :mod:`bnnoise.theory.singularity`) for batch- and channel-based normalizers at a
large and a micro batch.

Every run is cached in the artifact store under a key holding its setup, normalization and
recipe; interrupted runs resume from their per-epoch checkpoint. The tables the runs are
gathered into, their summaries and the studies' results are defined in
:mod:`bnnoise.pipeline.short_run_tables`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import torch

from bnnoise.config import Profile
from bnnoise.config.setups import Recipe, ShortRunSetup
from bnnoise.data import DataCache, Dataset, normalize, num_classes_of
from bnnoise.image_selection import fingerprint, stratified_subset
from bnnoise.lineage import produces
from bnnoise.nets.models import build_model
from bnnoise.nets.norms import parse_norm
from bnnoise.pipeline.short_run_tables import (
    GroupSizeTraining,
    HighLearningRate,
    ShortRunTables,
    Singularities,
    dead_channels_by_lr,
    summarize_runs,
)
from bnnoise.store import ArtifactStore
from bnnoise.theory.short_run_claims import (
    grouping_check,
    singularity_checks,
    speed_check,
    stability_check,
)
from bnnoise.theory.singularity import channel_statistics, dead_channel_fraction
from bnnoise.training import TRAINING_VERSION, TrainingHooks, train

DataSource = Callable[[str], Dataset]
"""Returns a dataset by name, e.g. :class:`bnnoise.data.DataCache`."""

SHORT_RUN_VERSION = 1
"""Bumped whenever the short-run measurements change; part of every short run's key."""


@dataclass
class ShortRun:
    """One short run: its per-epoch history, its per-ReLU channel statistics (stage ``init``
    and, unless it diverged, ``trained``) and a summary (final accuracy, diverged, seconds)."""

    history: pd.DataFrame
    channels: pd.DataFrame
    summary: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)


def _subsets(dataset: Dataset, setup: ShortRunSetup) -> tuple[Dataset, torch.Tensor]:
    """The training/test subset the runs use, and the normalized held-out probe batch.

    The picks are positions within each class (not image content, which the noise sweeps use):
    the same images for every copy of CIFAR that keeps the official order within each class,
    as torchvision's archives and the offline copy described in the data appendix both do (the
    latter groups its test set by class). The manifest records the data fingerprint."""
    train_idx = stratified_subset(dataset.y_train, setup.train_per_class, seed=0)
    test_idx = stratified_subset(dataset.y_test, setup.test_per_class, seed=0)
    probe_idx = stratified_subset(dataset.y_test, setup.probe_per_class, seed=1)
    subset = replace(dataset, x_train=dataset.x_train[train_idx],
                     y_train=dataset.y_train[train_idx], x_test=dataset.x_test[test_idx],
                     y_test=dataset.y_test[test_idx])
    return subset, normalize(dataset.x_test[probe_idx], dataset).contiguous()


def short_run_config(setup: ShortRunSetup, norm: str, recipe: Recipe) -> dict[str, Any]:
    """Everything one short run depends on: its artifact key."""
    data_fields = ("dataset", "model", "train_per_class", "test_per_class", "probe_per_class")
    return {**{k: getattr(setup, k) for k in data_fields}, "norm": norm,
            "recipe": recipe.as_dict(), "training_version": TRAINING_VERSION,
            "version": SHORT_RUN_VERSION}


def _provenance(store: ArtifactStore, slug: str, config: dict[str, Any], path) -> dict[str, Any]:
    """The run's provenance record; runs stored before manifests kept one fall back to what
    their summary recorded (torch version, threads), the rest stays "not recorded"."""
    record = store.provenance("short_runs", slug, config)
    if record:
        return record
    summary = json.loads((path / "summary.json").read_text())
    return {k: summary[k] for k in ("torch", "threads") if k in summary}


def short_run(store: ArtifactStore, data: DataSource, setup: ShortRunSetup, norm: str,
              recipe: Recipe, progress: bool = False) -> ShortRun:
    """Load one short run from the store, or train it and store it.

    Args:
        store: the profile's artifact store.
        data: returns a dataset by name.
        setup, norm, recipe: what to train.
    """
    config = short_run_config(setup, norm, recipe)
    slug = f"{setup.dataset}-{setup.model}-{norm}-b{recipe.batch_size}-lr{recipe.lr:g}-" \
           f"e{recipe.epochs}-seed{recipe.seed}"
    path = store.load("short_runs", slug, config)
    if path is None:
        dataset = data(setup.dataset)
        subset, probe = _subsets(dataset, setup)
        torch.manual_seed(recipe.seed)
        model = build_model(setup.model, subset.num_classes, norm)
        at_init = channel_statistics(model, probe).assign(stage="init")
        checkpoint = (store.root / "checkpoints"
                      / f"{store.path('short_runs', slug, config).name}.pt")
        hooks = TrainingHooks(epoch_metrics=lambda m: {
            "dead_fraction": dead_channel_fraction(channel_statistics(m, probe))})
        history = pd.DataFrame(train(model, subset, recipe, checkpoint, hooks,
                                     stop_on_divergence=True))
        diverged = bool(history["diverged_step"].notna().any())
        channels = at_init if diverged else pd.concat(
            [at_init, channel_statistics(model, probe).assign(stage="trained")],
            ignore_index=True)
        summary = {"diverged": diverged, "epochs_run": len(history),
                   "train_seconds": float(history["seconds"].sum()),
                   "final_test_acc": float(history["test_acc"].iloc[-1]),
                   "final_train_loss": float(history["train_loss"].iloc[-1]),
                   "train_images": len(subset.y_train), "test_images": len(subset.y_test),
                   "probe_images": len(probe), "torch": torch.__version__,
                   "threads": torch.get_num_threads()}
        with store.writer("short_runs", slug, config,
                          {"data_fingerprint": fingerprint(dataset)}) as out:
            history.to_csv(out / "history.csv", index=False)
            channels.to_csv(out / "channels.csv", index=False)
            (out / "summary.json").write_text(json.dumps(summary, indent=1))
        checkpoint.unlink(missing_ok=True)
        path = store.load("short_runs", slug, config)
        if progress:
            print(f"{slug}: final test acc {summary['final_test_acc']:.4f}, diverged "
                  f"{diverged}, {summary['train_seconds']:.0f} s", flush=True)
    return ShortRun(pd.read_csv(path / "history.csv"),  # type: ignore[operator]
                    pd.read_csv(path / "channels.csv"),  # type: ignore[operator]
                    json.loads((path / "summary.json").read_text()),  # type: ignore[operator]
                    _provenance(store, slug, config, path))  # type: ignore[arg-type]


def run_grid(store: ArtifactStore, data: DataSource, setup: ShortRunSetup, norms: tuple[str, ...],
             lr: float | None = None, epochs: int | None = None, batch_size: int | None = None,
             progress: bool = False) -> ShortRunTables:
    """Every ``norm`` x ``setup.seeds`` short run with one recipe, as tidy tables."""
    runs, histories, channels, records = [], [], [], []
    for norm, seed in itertools.product(norms, setup.seeds):
        recipe = setup.recipe(seed, lr=lr, epochs=epochs, batch_size=batch_size)
        result = short_run(store, data, setup, norm, recipe, progress)
        spec = parse_norm(norm)
        labels = {"norm": norm, "group_size": spec.group_size, "batch_size": recipe.batch_size,
                  "lr": recipe.lr, "seed": seed}
        runs.append({**labels, **result.summary})
        histories.append(result.history.assign(**labels))
        channels.append(result.channels.assign(**labels))
        records.append(result.provenance)
    return ShortRunTables(pd.DataFrame(runs), pd.concat(histories, ignore_index=True),
                          pd.concat(channels, ignore_index=True), records)


def group_size_runs(store: ArtifactStore, data: DataSource, setup: ShortRunSetup,
                    progress: bool = False) -> ShortRunTables:
    """GroupNorm of every group size of ``setup.group_norms`` at the standard learning rate."""
    return run_grid(store, data, setup, setup.group_norms, progress=progress)


def high_lr_runs(store: ArtifactStore, data: DataSource, setup: ShortRunSetup,
                 progress: bool = False) -> ShortRunTables:
    """The group-size series at ``setup.high_lr`` for ``setup.high_lr_epochs`` epochs."""
    return run_grid(store, data, setup, setup.group_norms, lr=setup.high_lr,
                    epochs=setup.high_lr_epochs, progress=progress)


def singularity_runs(store: ArtifactStore, data: DataSource, setup: ShortRunSetup,
                     progress: bool = False) -> ShortRunTables:
    """``setup.singularity_norms`` at the large batch and at the micro batch."""
    large = run_grid(store, data, setup, setup.singularity_norms, progress=progress)
    micro = run_grid(store, data, setup, setup.singularity_norms, lr=setup.micro_batch_lr(),
                     batch_size=setup.micro_batch, progress=progress)
    return ShortRunTables(*(pd.concat([getattr(large, f), getattr(micro, f)], ignore_index=True)
                            for f in ("runs", "history", "channels")),
                          large.records + micro.records)


# --- the theory chapters' studies: runs (cached), summaries and the claims' checks -------------


def _sources(profile: Profile) -> tuple[ArtifactStore, DataSource]:
    return ArtifactStore(profile.store_dir), DataCache(profile.data_dir)


@produces
def group_size_training(profile: Profile, setup: ShortRunSetup | None = None,
                        progress: bool = False) -> GroupSizeTraining:
    """Train (or load) :func:`group_size_runs` and test the speed claim."""
    setup = setup or profile.short_runs
    tables = group_size_runs(*_sources(profile), setup, progress=progress)
    norms = setup.group_norms
    return GroupSizeTraining(setup, tables, summarize_runs(tables, ("train_loss", "test_acc")),
                             speed_check(tables.history, norms[-1], norms[1:-1]))


@produces
def high_learning_rate(profile: Profile, setup: ShortRunSetup | None = None,
                       progress: bool = False) -> HighLearningRate:
    """Train (or load) :func:`high_lr_runs` and test the stability claim (a run that diverged
    or ended near chance accuracy counts as failed, see
    :func:`bnnoise.theory.short_run_claims.failed_runs`)."""
    setup = setup or profile.short_runs
    tables = high_lr_runs(*_sources(profile), setup, progress=progress)
    summary = summarize_runs(tables, ("train_loss", "max_step_loss", "test_acc"))
    return HighLearningRate(setup, tables, summary, stability_check(
        tables.history, setup.group_norms[0], setup.group_norms[-1],
        num_classes_of(setup.dataset)))


@produces
def singularities(profile: Profile, setup: ShortRunSetup | None = None,
                  progress: bool = False) -> Singularities:
    """Train (or load) the singularity runs and the group-size series at both learning rates;
    test Qiao et al.'s claims and the channel-grouping claim."""
    setup = setup or profile.short_runs
    store, data = _sources(profile)
    tables = singularity_runs(store, data, setup, progress=progress)
    standard = group_size_runs(store, data, setup, progress=progress)
    high = high_lr_runs(store, data, setup, progress=progress)
    return Singularities(
        setup, tables, summarize_runs(tables, ("dead_fraction", "train_loss", "test_acc")),
        singularity_checks(tables.history, setup.batch_size, setup.micro_batch),
        dead_channels_by_lr(standard, high), grouping_check(high.history),
        standard.records + high.records, (standard, high))
