"""Signal-propagation measurements of every (model, norm, seed, initialisation), cached, and
the studies the theory chapters show (one call each).

* :func:`propagation_setup` / :func:`group_size_setup`: the profile's setup with a chapter's
  parameters applied (the chapters' only plumbing);
* :func:`propagation_table`: the per-layer measurements, each network cached in the store;
* :func:`signal_propagation` (chapter 03) and :func:`group_size_study` (chapters 04 and 05):
  measurements, summary tables, the claims' checks and the provenance records they rest on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import torch

from bnnoise.config import Profile
from bnnoise.config.setups import PropagationSetup
from bnnoise.data import DataCache, Dataset, normalize, num_classes_of
from bnnoise.image_selection import fingerprint
from bnnoise.lineage import produces
from bnnoise.nets.models import build_model
from bnnoise.store import ArtifactStore
from bnnoise.theory.literature import Check, Checks
from bnnoise.theory.propagation import (
    at_site,
    gradient_check,
    group_size_per_seed,
    group_size_summary,
    growth_checks,
    growth_table,
    layer_statistics,
    rank_check,
    similarity_check,
)

PROPAGATION_VERSION = 2
"""Bumped whenever the signal-propagation measurements change; part of their artifact key.
Version 2 measures every quantity also at the convolutions' outputs (the gradient norm of
Lubana et al.), not only at the block or unit outputs."""


def propagation_setup(profile: Profile, **changes: Any) -> PropagationSetup:
    """The profile's propagation setup with a chapter's parameters applied: ``None`` keeps the
    profile's value, lists become tuples, and the result is validated like the original."""
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()
             if v is not None}
    return replace(profile.propagation, **given)


def group_size_setup(profile: Profile, **changes: Any) -> PropagationSetup:
    """:func:`propagation_setup`, then the GroupNorm group-size series of its ``group_model``
    (:meth:`PropagationSetup.group_size_setup`)."""
    return propagation_setup(profile, **changes).group_size_setup()


def propagation_batch(dataset: Dataset, batch_size: int, seed: int = 0
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random batch of normalized training images (the same for every network),
    picked by position in the training set, whose order is the official one in torchvision's
    archives and in the offline copy alike; the manifests record the data fingerprint."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(dataset.y_train), generator=g)[:batch_size]
    return normalize(dataset.x_train[idx], dataset).contiguous(), dataset.y_train[idx]


def _keys(setup: PropagationSetup) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(labels, slug, artifact key) of every network the setup measures. ResNets are measured
    twice: with the default initialisation and with every residual branch starting at zero."""
    for model_name, norm, seed in itertools.product(setup.models, setup.norms, setup.seeds):
        inits = ("default", "zero") if model_name.startswith("resnet") else ("default",)
        for init in inits:
            config = {"dataset": setup.dataset, "model": model_name, "norm": norm, "seed": seed,
                      "residual_init": init, "batch_size": setup.batch_size,
                      "version": PROPAGATION_VERSION}
            slug = f"{setup.dataset}-{model_name}-{norm}-{init}-seed{seed}"
            yield ({"model": model_name, "norm": norm, "seed": seed, "residual_init": init},
                   slug, config)


def propagation_table(profile: Profile, progress: bool = False,
                      setup: PropagationSetup | None = None) -> pd.DataFrame:
    """Layer statistics at initialisation for every model, norm and seed of the profile
    (or of ``setup``, e.g. ``profile.propagation.group_size_setup()``), at every site of
    :func:`bnnoise.theory.propagation.layer_statistics`; each network is cached."""
    return _measure(profile, setup or profile.propagation, progress)[0]


def _measure(profile: Profile, setup: PropagationSetup, progress: bool
             ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    batch: tuple[torch.Tensor, torch.Tensor] | None = None
    parts, records = [], []
    for labels, slug, config in _keys(setup):
        path = store.load("propagation", slug, config)
        if path is None:
            if batch is None:
                dataset = data(setup.dataset)
                batch = propagation_batch(dataset, setup.batch_size)
                record = {"data_fingerprint": fingerprint(dataset)}
            torch.manual_seed(labels["seed"])
            model = build_model(labels["model"], num_classes_of(setup.dataset), labels["norm"],
                                zero_init_residual=labels["residual_init"] == "zero")
            table = layer_statistics(model, *batch)
            with store.writer("propagation", slug, config, record) as out:
                table.to_csv(out / "layers.csv", index=False)
            path = store.load("propagation", slug, config)
            if progress:
                last = at_site(table, "output")["activation_variance"].iloc[-1]
                print(f"{slug}: last-layer variance {last:.3g}", flush=True)
        parts.append(pd.read_csv(path / "layers.csv").assign(**labels))  # type: ignore[operator]
        records.append(store.provenance("propagation", slug, config))
    return pd.concat(parts, ignore_index=True), records


@dataclass
class SignalPropagation:
    """Chapter 03: activation variance versus depth for every normalizer.

    ``layers``: the per-layer table at the block or unit outputs; ``growth``:
    :func:`~bnnoise.theory.propagation.growth_table`; ``checks``: the two claims
    (:func:`~bnnoise.theory.propagation.growth_checks`); ``records``: the provenance of every
    stored measurement."""

    setup: PropagationSetup
    layers: pd.DataFrame
    growth: pd.DataFrame
    checks: Checks
    records: list[dict[str, Any]]


@produces
def signal_propagation(profile: Profile, setup: PropagationSetup | None = None,
                       progress: bool = False) -> SignalPropagation:
    """Measure (or load) every network of ``setup`` and test Lubana et al.'s claims."""
    setup = setup or profile.propagation
    layers, records = _measure(profile, setup, progress)
    outputs = at_site(layers, "output")
    return SignalPropagation(setup, outputs, growth_table(layers), growth_checks(layers),
                             records)


@dataclass
class GroupSizeStudy:
    """Chapters 04 and 05: GroupNorm of every group size in one network at initialisation.

    ``layers``: per-layer table at the unit outputs (similarity, stable rank);
    ``gradients``: gradient norms at every convolution's output; ``per_seed`` and ``summary``:
    :func:`~bnnoise.theory.propagation.group_size_per_seed` and its mean with 95 % CIs;
    ``similarity``, ``rank``, ``gradient``: the claims' checks; ``records``: provenance."""

    setup: PropagationSetup
    layers: pd.DataFrame
    gradients: pd.DataFrame
    per_seed: pd.DataFrame
    summary: pd.DataFrame
    similarity: Check
    rank: Check
    gradient: Check
    records: list[dict[str, Any]]

    @property
    def similarity_summary(self) -> pd.DataFrame:
        """Per group size: last-layer cosine similarity and stable rank (mean, 95 % CI)."""
        return self.summary[["group_size", "seeds", "cosine_similarity",
                             "cosine_similarity_ci95", "stable_rank", "stable_rank_ci95"]]

    @property
    def gradient_summary(self) -> pd.DataFrame:
        """Per group size: first-to-last gradient-norm ratio at the convolutions' outputs and
        at the unit outputs (mean, 95 % CI)."""
        return self.summary[["group_size", "seeds", "grad_ratio", "grad_ratio_ci95",
                             "grad_ratio_outputs", "grad_ratio_outputs_ci95"]]


GRADIENT_COLUMNS = ["model", "norm", "seed", "layer", "name", "grad_norm",
                    "activation_variance"]


@produces
def group_size_study(profile: Profile, setup: PropagationSetup | None = None,
                     progress: bool = False) -> GroupSizeStudy:
    """Measure (or load) the group-size series of ``setup`` (default: the profile's) and test
    the claims about similarity, stable rank and gradient norms."""
    setup = setup or profile.propagation.group_size_setup()
    layers, records = _measure(profile, setup, progress)
    per_seed = group_size_per_seed(layers)
    return GroupSizeStudy(
        setup, at_site(layers, "output"), at_site(layers, "conv")[GRADIENT_COLUMNS], per_seed,
        group_size_summary(layers), similarity_check(per_seed), rank_check(per_seed),
        gradient_check(per_seed), records)
