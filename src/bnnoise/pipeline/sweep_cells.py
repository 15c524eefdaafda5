"""One cell of a noise sweep: a (model, target set, eta) evaluation, keyed, computed and stored.

A cell holds the per-draw accuracies (both scorings of non-finite outputs), whether each draw
collapsed a BatchNorm variance, and the per-image hits of every draw. Its key holds the trained
model's key, the canonical target set and the digest of the tensors it selects, eta and every
protocol field, so a new eta grid computes only the new etas.

Noise always lands on the deployed network (:func:`bnnoise.nets.effective_weights.deployed`): for
convolutions with reparametrized weights (WS, Scaled WS, weight norm) on the effective weight the
convolution uses, as it would on analog hardware. Keys of such models say so
(``"weights": "effective"``); keys of all other models are unchanged by it. A non-standard
:class:`bnnoise.noise.deployments.Deployment` (a remedy) enters the key as well.
"""

from __future__ import annotations

import time
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from bnnoise.compilation import evaluation_forward
from bnnoise.config.setups import NoiseProtocol
from bnnoise.data import DataCache, Dataset, normalize
from bnnoise.evaluation import predictions
from bnnoise.image_selection import content_order, fingerprint, stratified_subset
from bnnoise.nets.effective_weights import deployed, has_reparametrized_weights
from bnnoise.nets.folding import FoldedBatchNorm
from bnnoise.noise.collapse import is_collapsed
from bnnoise.noise.deployments import STANDARD, Deployment, prepare, realised
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import PROTOCOL_VERSION, draw_seed, select_tensors, tensor_set_digest
from bnnoise.pipeline.trained import TrainedModel
from bnnoise.store import ArtifactStore


def canonical_targets(model: nn.Module, protocol: NoiseProtocol
                       ) -> dict[str, tuple[str, dict[str, torch.Tensor]]]:
    """Per target set: the name of the smallest target set selecting the same tensors (the cell
    that holds its draws) and those tensors. Target sets that select the same tensors (all three
    for a network without BatchNorm) share one cell: the same draws, computed once."""
    out = {}
    for target in protocol.targets:
        tensors = select_tensors(model, target, protocol.layers)
        for smaller in ("weights", "trainable", "all", "kernels"):  # kernels last: the
            # cells of the first three keep the names they had before it existed
            if select_tensors(model, smaller, protocol.layers).keys() == tensors.keys():
                out[target] = (smaller, tensors)
                break
    return out


def noisy_network(trained: TrainedModel, deployment: Deployment = STANDARD) -> nn.Module:
    """The network whose arrays get the noise: the deployed model
    (:func:`bnnoise.nets.effective_weights.deployed`) as ``deployment`` realises it
    (:func:`bnnoise.noise.deployments.prepare`)."""
    return prepare(deployed(trained.model), deployment)


_TENSOR_SETS: weakref.WeakKeyDictionary[nn.Module, dict[tuple, tuple[str, bool]]] = (
    weakref.WeakKeyDictionary())


def tensor_set_of(model: nn.Module, deployment: Deployment, target: str, layers: str | None
                ) -> tuple[str, bool]:
    """The digest of the tensors a target set selects in ``model`` as ``deployment`` realises
    it, and whether its convolutions are reparametrized: both depend on the architecture only,
    so they are computed once per model object (the key of every cell of a sweep needs them)."""
    known = _TENSOR_SETS.setdefault(model, {})
    key = (deployment, target, layers)
    if key not in known:
        network = prepare(deployed(model), deployment)
        known[key] = (tensor_set_digest(select_tensors(network, target, layers)),
                      has_reparametrized_weights(model))
    return known[key]


def sweep_config(trained: TrainedModel, protocol: NoiseProtocol, target: str, eta: float,
                 deployment: Deployment = STANDARD) -> dict[str, Any]:
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
    tensor_set, effective = tensor_set_of(trained.model, deployment, target, protocol.layers)
    if effective:
        fields["weights"] = "effective"
    fields.update(deployment.key())
    if eta == 0:
        target, tensor_set = "clean", ""
        del fields["draws"], fields["scale"], fields["kind"], fields["layers"]
    return {"model_key": trained.key, "target": target, "tensor_set": tensor_set,
            "eta": float(eta), **fields, "protocol_version": PROTOCOL_VERSION}


@dataclass
class SweepCell:
    """The draws of one (model, target set, eta) cell: a per-draw table and, per draw and test
    image, whether the image was classified correctly (non-finite logits count as wrong)."""

    draws: pd.DataFrame
    hits: np.ndarray  # bool, shape (draws, images)
    forward: str = "eager"  # the forward pass that computed it (bnnoise.compilation)


def _sweep_cell(trained: TrainedModel, inputs: torch.Tensor, y: torch.Tensor,
                protocol: NoiseProtocol, target: str, eta: float,
                deployment: Deployment = STANDARD, calibration: torch.Tensor | None = None
                ) -> SweepCell:
    model = noisy_network(trained, deployment).to(protocol.device)
    tensors = select_tensors(model, target, protocol.layers)
    tensor_set = tensor_set_digest(tensors)
    fast = protocol.evaluation == "fast"
    if fast and deployment != STANDARD:
        raise ValueError("the fast evaluation folds BatchNorm itself; use evaluation fp32 with "
                         f"the {deployment.name} deployment")
    network, decision = ((FoldedBatchNorm(model), None) if fast
                         else evaluation_forward(model, inputs) if deployment == STANDARD
                         else (model, None))
    rows, hits = [], []
    for draw in range(protocol.draws if eta > 0 else 1):
        start = time.perf_counter()
        with injected_noise(tensors, eta, draw_seed(protocol.seed, eta, draw, tensor_set),
                            protocol.scale, protocol.kind):
            if fast:
                network.refresh()
            collapsed = is_collapsed(model)
            with realised(model, deployment, calibration):
                predicted, finite = predictions(network, inputs,
                                                precision="bf16" if fast else "fp32")
        right = predicted == y
        hits.append((right & finite).numpy())
        rows.append({"draw": draw, "accuracy": float((right & finite).float().mean()),
                     "accuracy_argmax": float(right.float().mean()),
                     "nonfinite_fraction": float((~finite).float().mean()),
                     "collapsed": collapsed, "seconds": time.perf_counter() - start})
    return SweepCell(pd.DataFrame(rows), np.stack(hits),
                     decision.forward if decision is not None else "eager")


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


def calibration_images(dataset: Dataset, count: int, seed: int = 0) -> torch.Tensor:
    """The first ``count`` normalized training images in the content-defined order of
    :func:`bnnoise.image_selection.content_order`: the unlabelled images that recalibrate
    BatchNorm (the sets for different counts are nested)."""
    return normalize(dataset.x_train[content_order(dataset.x_train, seed)[:count]], dataset)


def _cell_key(trained: TrainedModel, protocol: NoiseProtocol, target: str, eta: float,
              deployment: Deployment) -> tuple[str, dict]:
    config = sweep_config(trained, protocol, target, eta, deployment)
    slug = f"{trained.spec.slug}-{config['target']}-eta{eta:g}"
    if deployment != STANDARD:
        slug += f"-{deployment.name}{deployment.images or ''}"
    return slug, config


def stored_cell(store: ArtifactStore, trained: TrainedModel, protocol: NoiseProtocol,
                target: str, eta: float, deployment: Deployment = STANDARD) -> Path | None:
    """The stored cell of one canonical target set and eta, or ``None``; never computes."""
    return store.load("sweeps", *_cell_key(trained, protocol, target, eta, deployment))


def sweep_cell_path(store: ArtifactStore, trained: TrainedModel, protocol: NoiseProtocol,
                    target: str, eta: float, data: DataCache, subset: list,
                    deployment: Deployment = STANDARD) -> Path:
    """The stored cell of one canonical target set and eta, computed first if missing.

    ``subset`` caches the evaluation subset, the data fingerprint and the calibration images
    across calls (an empty list, filled on first use). A cell computed on data whose
    fingerprint differs from the one the model was trained on (another copy of CIFAR) is
    computed with a warning and records both fingerprints.
    """
    slug, config = _cell_key(trained, protocol, target, eta, deployment)
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
        calibration = None
        if deployment.images and eta > 0:
            if len(subset) < 4 or len(subset[3]) < deployment.images:
                subset[3:] = [calibration_images(data(trained.spec.dataset), deployment.images,
                                                 protocol.seed)]
            calibration = subset[3]
        cell = _sweep_cell(trained, subset[0], subset[1], protocol, target, eta, deployment,
                           calibration)
        record = {"data_fingerprint": subset[2],
                  "model_data_fingerprint": trained.summary.get("data_fingerprint"),
                  "forward": cell.forward}
        with store.writer("sweeps", slug, config, record) as out:
            _write_cell(out, cell)
        path = store.load("sweeps", slug, config)
    return path  # type: ignore[return-value]
