"""Noise sweeps: every (model, target set, eta) cell computed once, stored, and read back.

A cell holds the per-draw accuracies (both scorings of non-finite outputs), whether each draw
collapsed a BatchNorm variance, and the per-image hits of every draw. Its key holds the trained
model's key, the canonical target set and the digest of the tensors it selects, eta and every
protocol field, so a new eta grid computes only the new etas.

Noise always lands on the deployed network (:func:`bnnoise.nets.deployment.deployed`): for
convolutions with reparametrized weights (WS, Scaled WS, weight norm) on the effective weight the
convolution uses, as it would on analog hardware. Keys of such models say so
(``"weights": "effective"``); keys of all other models are unchanged by it.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from bnnoise.config import Profile
from bnnoise.config.setups import NoiseProtocol
from bnnoise.data import DataCache, Dataset, fingerprint, normalize, stratified_subset
from bnnoise.evaluation import predictions
from bnnoise.nets.deployment import deployed, has_reparametrized_weights
from bnnoise.nets.folding import FoldedBatchNorm
from bnnoise.noise.collapse import collapse_table
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import PROTOCOL_VERSION, draw_seed, select_tensors, tensor_set_digest
from bnnoise.pipeline.models import TrainedModel
from bnnoise.store import ArtifactStore


def _canonical_targets(model: nn.Module, protocol: NoiseProtocol
                       ) -> dict[str, tuple[str, dict[str, torch.Tensor]]]:
    """Per target set: the name of the smallest target set selecting the same tensors (the cell
    that holds its draws) and those tensors. Target sets that select the same tensors (all three
    for a network without BatchNorm) share one cell: the same draws, computed once."""
    out = {}
    for target in protocol.targets:
        tensors = select_tensors(model, target, protocol.layers)
        for smaller in ("weights", "trainable", "all"):
            if select_tensors(model, smaller, protocol.layers).keys() == tensors.keys():
                out[target] = (smaller, tensors)
                break
    return out


def sweep_config(trained: TrainedModel, protocol: NoiseProtocol, target: str, eta: float
                 ) -> dict[str, Any]:
    """Everything one (model, target set, eta) cell of a sweep depends on: its artifact key.

    ``target`` is the cell's canonical target set (see :func:`_canonical_targets`); the key also
    holds the digest of the tensors it selects. The clean reference (eta = 0) is the same for
    every target set and shares one key. The reference evaluation (``evaluation="fp32"``) has
    no entry.
    """
    fields = protocol.as_dict()
    del fields["etas"], fields["targets"]
    if fields["evaluation"] == "fp32":
        del fields["evaluation"]
    tensor_set = tensor_set_digest(select_tensors(deployed(trained.model), target,
                                                  protocol.layers))
    if has_reparametrized_weights(trained.model):
        fields["weights"] = "effective"
    if eta == 0:
        target, tensor_set = "clean", ""
        del fields["draws"], fields["scale"], fields["kind"], fields["layers"]
    return {"model_key": trained.key, "target": target, "tensor_set": tensor_set,
            "eta": float(eta), **fields, "protocol_version": PROTOCOL_VERSION}


def _collapsed(model: nn.Module) -> bool:
    """Whether some BatchNorm running variance plus epsilon is negative (a collapse: the
    normalization takes the square root of a negative number)."""
    return any(bool((m.running_var + m.eps < 0).any()) for m in model.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_var is not None)


@dataclass
class SweepCell:
    """The draws of one (model, target set, eta) cell: a per-draw table and, per draw and test
    image, whether the image was classified correctly (non-finite logits count as wrong)."""

    draws: pd.DataFrame
    hits: np.ndarray  # bool, shape (draws, images)


def _sweep_cell(trained: TrainedModel, inputs: torch.Tensor, y: torch.Tensor,
                protocol: NoiseProtocol, target: str, eta: float) -> SweepCell:
    model = deployed(trained.model).to(protocol.device)
    tensors = select_tensors(model, target, protocol.layers)
    tensor_set = tensor_set_digest(tensors)
    fast = protocol.evaluation == "fast"
    network = FoldedBatchNorm(model) if fast else model
    rows, hits = [], []
    for draw in range(protocol.draws if eta > 0 else 1):
        start = time.perf_counter()
        with injected_noise(tensors, eta, draw_seed(protocol.seed, eta, draw, tensor_set),
                            protocol.scale, protocol.kind):
            if fast:
                network.refresh()
            collapsed = _collapsed(model)
            predicted, finite = predictions(network, inputs,
                                            precision="bf16" if fast else "fp32")
        right = predicted == y
        hits.append((right & finite).numpy())
        rows.append({"draw": draw, "accuracy": float((right & finite).float().mean()),
                     "accuracy_argmax": float(right.float().mean()),
                     "nonfinite_fraction": float((~finite).float().mean()),
                     "collapsed": collapsed, "seconds": time.perf_counter() - start})
    return SweepCell(pd.DataFrame(rows), np.stack(hits))


def _write_cell(out: Path, cell: SweepCell) -> None:
    cell.draws.to_csv(out / "draws.csv", index=False)
    np.savez_compressed(out / "hits.npz", packed=np.packbits(cell.hits, axis=1),
                        images=cell.hits.shape[1])


def cell_hits(path: Path) -> np.ndarray:
    """The (draws, images) boolean hit matrix stored in a sweep cell's directory."""
    with np.load(path / "hits.npz") as f:
        return np.unpackbits(f["packed"], axis=1, count=int(f["images"])).astype(bool)


def evaluation_subset(dataset: Dataset, protocol: NoiseProtocol
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """The normalized test images and labels every sweep cell is evaluated on: a class-stratified
    subset of ``protocol.eval_per_class`` images per class, defined by image content."""
    idx = stratified_subset(dataset.y_test, protocol.eval_per_class, protocol.seed,
                            images=dataset.x_test)
    return normalize(dataset.x_test[idx], dataset), dataset.y_test[idx]


def sweep_cell_path(store: ArtifactStore, trained: TrainedModel, protocol: NoiseProtocol,
                    target: str, eta: float, data: DataCache, subset: list) -> Path:
    """The stored cell of one canonical target set and eta, computed first if missing.

    ``subset`` caches the evaluation subset and the data fingerprint across calls (an empty
    list, filled on first use). A cell computed on data whose fingerprint differs from the one
    the model was trained on (another copy of CIFAR) is computed with a warning and records
    both fingerprints.
    """
    config = sweep_config(trained, protocol, target, eta)
    slug = f"{trained.spec.slug}-{config['target']}-eta{eta:g}"
    path = store.load("sweeps", slug, config)
    if path is None:
        if not subset:
            dataset = data(trained.spec.dataset)
            subset.extend([*evaluation_subset(dataset, protocol), fingerprint(dataset)])
            trained_on = trained.summary.get("data_fingerprint", subset[2])
            if trained_on != subset[2]:
                warnings.warn(f"{trained.key} was trained on data with fingerprint {trained_on}; "
                              f"evaluating on {subset[2]} (another copy of "
                              f"{trained.spec.dataset}, see the data appendix)", stacklevel=2)
        cell = _sweep_cell(trained, subset[0], subset[1], protocol, target, eta)
        record = {"data_fingerprint": subset[2],
                  "model_data_fingerprint": trained.summary.get("data_fingerprint")}
        with store.writer("sweeps", slug, config, record) as out:
            _write_cell(out, cell)
        path = store.load("sweeps", slug, config)
    return path  # type: ignore[return-value]


RUN_COLUMNS = ["dataset", "model", "norm", "bn_layers", "placement", "seed"]
"""The columns that identify a trained model in the result tables."""

SWEEP_COLUMNS = ["dataset", "model", "norm", "bn_layers", "placement", "seed", "target", "eta",
                 "draw", "accuracy", "normalized_accuracy", "accuracy_argmax",
                 "normalized_accuracy_argmax", "nonfinite_fraction", "collapsed", "seconds"]


def noise_sweep(store: ArtifactStore, trained: TrainedModel, protocol: NoiseProtocol,
                data: DataCache, progress: bool = False) -> pd.DataFrame:
    """Tidy per-draw table of a noise sweep over ``protocol.etas`` (plus eta = 0) and targets.

    Columns (:data:`SWEEP_COLUMNS`): the model's identity, target, eta, draw; ``accuracy``
    (non-finite outputs scored wrong) and ``accuracy_argmax`` (scored by a plain argmax), each
    also over the clean accuracy on the same images (``normalized_...``); the share of images
    with non-finite logits; ``collapsed`` (a BatchNorm variance went negative); seconds. Each
    (canonical target set, eta) cell is cached on its own.
    """
    parts = []
    subset: list = []  # the evaluation subset, normalized once, when first needed
    for target, (canonical, _) in _canonical_targets(deployed(trained.model), protocol).items():
        for eta in (0.0, *protocol.etas):
            path = sweep_cell_path(store, trained, protocol, canonical, eta, data, subset)
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
    for target, (canonical, _) in _canonical_targets(deployed(trained.model), protocol).items():
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
            spec.placement if spec.bn_layers is not None else "all", spec.seed)


def collapse_probabilities(runs: list[TrainedModel], protocol: NoiseProtocol) -> pd.DataFrame:
    """The exact collapse probability (:func:`bnnoise.noise.collapse.collapse_probability`) of
    every run at every eta of the protocol: columns :data:`RUN_COLUMNS`, ``eta``,
    ``collapse_probability``."""
    parts = [collapse_table(run.model, list(protocol.etas), protocol.scale, protocol.kind)
             .assign(**dict(zip(RUN_COLUMNS, run_key(run), strict=True))) for run in runs]
    return pd.concat(parts, ignore_index=True)[[*RUN_COLUMNS, "eta", "collapse_probability"]]
