"""Noise sweeps as tidy tables: every (model, target set, eta) cell of a model or a profile.

The cells themselves (keys, computation, storage) are in :mod:`bnnoise.pipeline.sweep_cells`;
this module assembles them into per-draw tables, hit matrices and collapse probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bnnoise.config import Profile
from bnnoise.config.setups import NoiseProtocol
from bnnoise.data import DataCache
from bnnoise.noise.collapse import collapse_table
from bnnoise.noise.deployments import STANDARD, Deployment
from bnnoise.pipeline.sweep_cells import (
    canonical_targets,
    cell_hits,
    evaluation_subset,
    noisy_network,
    stored_cell,
    sweep_cell_path,
    sweep_config,
)
from bnnoise.pipeline.trained import TrainedModel
from bnnoise.store import ArtifactStore

__all__ = ["RUN_COLUMNS", "SWEEP_COLUMNS", "cell_hits", "collapse_probabilities",
           "evaluation_subset", "noise_sweep", "profile_hits", "run_key", "sweep_config",
           "sweep_hits", "sweep_profile"]


RUN_COLUMNS = ["dataset", "model", "norm", "bn_layers", "placement", "seed", "epochs"]
"""The columns that identify a trained model in the result tables (``epochs``: how long it
trained, since the training-length axis trains the same network for several lengths)."""

SWEEP_COLUMNS = [*RUN_COLUMNS, "target", "eta", "draw", "accuracy", "normalized_accuracy",
                 "accuracy_argmax", "normalized_accuracy_argmax", "nonfinite_fraction",
                 "collapsed", "seconds"]


def noise_sweep(store: ArtifactStore, trained: TrainedModel, protocol: NoiseProtocol,
                data: DataCache, progress: bool = False, deployment: Deployment = STANDARD
                ) -> pd.DataFrame:
    """Tidy per-draw table of a noise sweep over ``protocol.etas`` (plus eta = 0) and targets.

    Columns (:data:`SWEEP_COLUMNS`): the model's identity, target, eta, draw; ``accuracy``
    (non-finite outputs scored wrong) and ``accuracy_argmax`` (scored by a plain argmax), each
    also over the clean accuracy on the same images (``normalized_...``); the share of images
    with non-finite logits; ``collapsed`` (a BatchNorm variance went negative); seconds. Each
    (canonical target set, eta) cell is cached on its own.

    ``deployment`` realises the noisy network otherwise (see
    :mod:`bnnoise.noise.deployments`); the clean reference (eta = 0) is always the trained
    model as it is, shared with the standard sweep.
    """
    parts = []
    subset: list = []  # the evaluation subset, normalized once, when first needed
    network = noisy_network(trained, deployment)
    for target, (canonical, _) in canonical_targets(network, protocol).items():
        for eta in (0.0, *protocol.etas):
            path = sweep_cell_path(store, trained, protocol, canonical, eta, data, subset,
                                   deployment if eta > 0 else STANDARD)
            cell = pd.read_csv(path / "draws.csv")
            if progress:
                print(f"{path.name}: mean accuracy {cell['accuracy'].mean():.4f}", flush=True)
            parts.append(cell.assign(target=target, eta=eta))
    table = pd.concat(parts, ignore_index=True)
    table = table.assign(**dict(zip(RUN_COLUMNS, run_key(trained), strict=True)))
    for scoring in ("accuracy", "accuracy_argmax"):
        clean = table[table["eta"] == 0].set_index("target")[scoring]
        table[f"normalized_{scoring}"] = table[scoring] / table["target"].map(clean)
    return table[SWEEP_COLUMNS]


def is_swept(store: ArtifactStore, trained: TrainedModel, protocol: NoiseProtocol,
             deployment: Deployment = STANDARD) -> bool:
    """Whether every cell of the model's sweep over ``protocol`` is stored (nothing computed):
    pages that show only stored results take a trained model once it is swept."""
    network = noisy_network(trained, deployment)
    return all(stored_cell(store, trained, protocol, canonical, eta,
                           deployment if eta > 0 else STANDARD) is not None
               for canonical, _ in canonical_targets(network, protocol).values()
               for eta in (0.0, *protocol.etas))


def sweep_profile(profile: Profile, runs: list[TrainedModel], progress: bool = False
                  ) -> pd.DataFrame:
    """Tidy per-draw noise-sweep table of every trained model of a profile."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    return pd.concat([noise_sweep(store, run, profile.noise, data, progress) for run in runs],
                     ignore_index=True)


def sweep_hits(store: ArtifactStore, trained: TrainedModel, protocol: NoiseProtocol,
               data: DataCache) -> dict[tuple[str, float], np.ndarray]:
    """Per (target set, eta), the (draws, images) boolean hit matrix of a model's sweep (eta 0:
    the clean model, one row). Computes missing cells like :func:`noise_sweep`."""
    subset: list = []
    hits = {}
    for target, (canonical, _) in canonical_targets(noisy_network(trained), protocol).items():
        for eta in (0.0, *protocol.etas):
            path = sweep_cell_path(store, trained, protocol, canonical, eta, data, subset)
            hits[(target, eta)] = cell_hits(path)
    return hits


def profile_hits(profile: Profile, runs: list[TrainedModel]
                 ) -> dict[tuple[str, ...], dict[tuple[str, float], np.ndarray]]:
    """:func:`sweep_hits` of every run, keyed by (dataset, model, norm, bn_layers, placement,
    seed) as in the sweep table."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    return {run_key(run): sweep_hits(store, run, profile.noise, data) for run in runs}


def run_key(run: TrainedModel) -> tuple:
    """The identity columns of a run in the sweep table (see :data:`SWEEP_COLUMNS`)."""
    spec = run.spec
    return (spec.dataset, spec.model, spec.norm, run.summary["bn_layers"],
            spec.placement if spec.bn_layers is not None else "all", spec.seed,
            len(run.history))


def collapse_probabilities(runs: list[TrainedModel], protocol: NoiseProtocol) -> pd.DataFrame:
    """The exact collapse probability (:func:`bnnoise.noise.collapse.collapse_probability`) of
    every run at every eta of the protocol: columns :data:`RUN_COLUMNS`, ``eta``,
    ``collapse_probability``."""
    parts = [collapse_table(run.model, list(protocol.etas), protocol.scale, protocol.kind)
             .assign(**dict(zip(RUN_COLUMNS, run_key(run), strict=True))) for run in runs]
    return pd.concat(parts, ignore_index=True)[[*RUN_COLUMNS, "eta", "collapse_probability"]]
