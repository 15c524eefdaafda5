"""Signal-propagation measurements of every (model, norm, seed, initialisation), cached."""

from __future__ import annotations

import itertools

import pandas as pd
import torch

from bnnoise.config import Profile
from bnnoise.config.setups import PropagationSetup
from bnnoise.data import DataCache, Dataset, normalize, num_classes_of
from bnnoise.nets.models import build_model
from bnnoise.store import ArtifactStore
from bnnoise.theory.propagation import layer_statistics

PROPAGATION_VERSION = 1
"""Bumped whenever the signal-propagation measurements change; part of their artifact key."""


def propagation_batch(dataset: Dataset, batch_size: int, seed: int = 0
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random batch of normalized training images (the same for every network)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(dataset.y_train), generator=g)[:batch_size]
    return normalize(dataset.x_train[idx], dataset).contiguous(), dataset.y_train[idx]


def propagation_table(profile: Profile, progress: bool = False,
                      setup: PropagationSetup | None = None) -> pd.DataFrame:
    """Layer statistics at initialisation for every model, norm and seed of the profile
    (or of ``setup``, e.g. ``profile.propagation.group_size_setup()``).

    ResNets are measured twice: with the default initialisation (``residual_init="default"``,
    every branch as initialised) and with every residual branch starting at zero
    (``"zero"``, the SkipInit-style remedy). Each (model, norm, seed, init) is cached.
    """
    setup = setup or profile.propagation
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    batch: tuple[torch.Tensor, torch.Tensor] | None = None
    parts = []
    for model_name, norm, seed in itertools.product(setup.models, setup.norms, setup.seeds):
        inits = ("default", "zero") if model_name.startswith("resnet") else ("default",)
        for init in inits:
            config = {"dataset": setup.dataset, "model": model_name, "norm": norm, "seed": seed,
                      "residual_init": init, "batch_size": setup.batch_size,
                      "version": PROPAGATION_VERSION}
            slug = f"{setup.dataset}-{model_name}-{norm}-{init}-seed{seed}"
            path = store.load("propagation", slug, config)
            if path is None:
                if batch is None:
                    batch = propagation_batch(data(setup.dataset), setup.batch_size)
                torch.manual_seed(seed)
                model = build_model(model_name, num_classes_of(setup.dataset), norm,
                                    zero_init_residual=init == "zero")
                table = layer_statistics(model, *batch)
                with store.writer("propagation", slug, config) as out:
                    table.to_csv(out / "layers.csv", index=False)
                path = store.load("propagation", slug, config)
                if progress:
                    print(f"{slug}: last-layer variance "
                          f"{table['activation_variance'].iloc[-1]:.3g}", flush=True)
            parts.append(pd.read_csv(path / "layers.csv").assign(  # type: ignore[operator]
                model=model_name, norm=norm, seed=seed, residual_init=init))
    return pd.concat(parts, ignore_index=True)

