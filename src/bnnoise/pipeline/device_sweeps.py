"""Sweeps of a trained network on the PCM-like device (:mod:`bnnoise.noise.analog_device`):
per target set and time after programming, the accuracy of ``draws`` independently programmed
devices on the fixed test subset, each (network, deployment, target set, time) cell computed
once and kept in the store, as the Gaussian sweep cells are (:mod:`bnnoise.pipeline.sweep_cells`).

The device replaces the Gaussian noise; everything else follows the Gaussian sweeps: the network
is the deployed one as its deployment realises it (BN kept digital by default; folded, removed
or recalibrated with :class:`bnnoise.noise.deployments.Deployment`), a draw's seed depends on the
seed, the time, the draw and the arrays only, and the arrays are restored exactly after it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from bnnoise.config import Profile
from bnnoise.config.devices import DeviceProtocol
from bnnoise.data import DataCache
from bnnoise.evaluation import predictions
from bnnoise.noise.analog_device import device_noise
from bnnoise.noise.deployments import STANDARD, Deployment, realised
from bnnoise.noise.protocol import draw_seed, select_tensors, tensor_set_digest
from bnnoise.pipeline.specs import profile_specs
from bnnoise.pipeline.sweep_cells import calibration_images, evaluation_subset, noisy_network
from bnnoise.pipeline.sweeps import RUN_COLUMNS, run_key
from bnnoise.pipeline.trained import TrainedModel, profile_model
from bnnoise.store import ArtifactStore

DEVICE_PROTOCOL_VERSION = 1
"""Bumped when the meaning of a device cell changes (its key changes with it)."""


def device_cell_config(trained: TrainedModel, protocol: DeviceProtocol, target: str, t: float,
                       deployment: Deployment = STANDARD) -> dict[str, Any]:
    """Everything one device cell depends on: its artifact key."""
    device = protocol.at(t).as_dict()
    tensors = select_tensors(noisy_network(trained, deployment), target)
    return {"model_key": trained.key, "target": target, "tensor_set": tensor_set_digest(tensors),
            **device, "draws": protocol.draws, "eval_per_class": protocol.eval_per_class,
            "seed": protocol.seed, **deployment.key(), "version": DEVICE_PROTOCOL_VERSION}


def _device_cell(trained: TrainedModel, images: torch.Tensor, labels: torch.Tensor,
                 protocol: DeviceProtocol, target: str, t: float, deployment: Deployment,
                 calibration: torch.Tensor | None) -> pd.DataFrame:
    network = noisy_network(trained, deployment)
    tensors = select_tensors(network, target)
    digest = tensor_set_digest(tensors)
    rows = []
    for draw in range(protocol.draws):
        seed = draw_seed(protocol.seed, t, draw, digest)
        with (device_noise(tensors, protocol.at(t), seed),
              realised(network, deployment, calibration)):
            predicted, finite = predictions(network, images)
        right = predicted == labels
        rows.append({"draw": draw, "accuracy": float((right & finite).float().mean()),
                     "accuracy_argmax": float(right.float().mean()),
                     "nonfinite_fraction": float((~finite).float().mean())})
    return pd.DataFrame(rows)


def device_sweep(store: ArtifactStore, trained: TrainedModel, protocol: DeviceProtocol,
                 data: DataCache, deployment: Deployment = STANDARD) -> pd.DataFrame:
    """Tidy per-draw table of ``trained`` on the device: the run columns, ``deployment``,
    ``target``, ``t_inference``, ``draw``, ``accuracy`` (non-finite outputs scored wrong),
    ``accuracy_argmax``, both also over the clean network's accuracy on the same images
    (``normalized_...``), and ``nonfinite_fraction``. Each cell is computed once and stored."""
    dataset = data(trained.spec.dataset)
    images, labels = evaluation_subset(dataset, protocol)  # type: ignore[arg-type]
    predicted, finite = predictions(trained.model, images)
    clean = {"accuracy": float(((predicted == labels) & finite).float().mean()),
             "accuracy_argmax": float((predicted == labels).float().mean())}
    calibration = (calibration_images(dataset, deployment.images, protocol.seed)
                   if deployment.images else None)
    parts = []
    for target in protocol.targets:
        for t in protocol.times:
            config = device_cell_config(trained, protocol, target, t, deployment)
            slug = f"{trained.spec.slug}-{target}-t{t:g}-{deployment.name}"
            path = store.load("device_sweeps", slug, config)
            if path is None:
                cell = _device_cell(trained, images, labels, protocol, target, t, deployment,
                                    calibration)
                with store.writer("device_sweeps", slug, config) as out:
                    cell.to_csv(out / "draws.csv", index=False)
                path = store.load("device_sweeps", slug, config)
            parts.append(pd.read_csv(path / "draws.csv").assign(target=target, t_inference=t))
    table = pd.concat(parts, ignore_index=True).assign(
        **dict(zip(RUN_COLUMNS, run_key(trained), strict=True)), deployment=deployment.name)
    for scoring, reference in clean.items():
        table[f"normalized_{scoring}"] = table[scoring] / reference
    return table


def profile_device_sweeps(profile: Profile, only: list[str] | None, store: ArtifactStore,
                  data: DataCache, threads: str) -> None:
    """Sweep the devices grid's networks (all, or ``only``) on the device, under every
    deployment of the profile for a network with BatchNorm and the standard one otherwise."""
    study = profile.devices
    if study is None:
        raise ValueError(f"profile {profile.name} has no devices entry in params.yaml")
    specs = list(dict.fromkeys(profile_specs(profile, study.grid)))
    unknown = sorted(set(only or ()) - {spec.slug for spec in specs})
    if unknown:
        raise ValueError(f"unknown model {unknown[0]!r} in the devices grid {study.grid}; see: "
                         f"python -m bnnoise list --profile {profile.name} --grid {study.grid}")
    print(f"profile {profile.name}, devices of grid {study.grid}: "
          f"{[d.label for d in study.deployments]} {threads}", flush=True)
    for spec in specs:
        if only is not None and spec.slug not in only:
            continue
        trained = profile_model(profile, spec, data, progress=True)
        for deployment in study.deployments if spec.norm == "bn" else (STANDARD,):
            table = device_sweep(store, trained, study.protocol, data, deployment)
            print(f"{trained.key} ({deployment.label}): mean accuracy per time "
                  f"{table.groupby('t_inference')['accuracy'].mean().round(4).to_dict()}",
                  flush=True)
