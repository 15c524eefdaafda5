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

from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from bnnoise.config import Profile
from bnnoise.config.devices import DEFAULT_DEVICE, DeviceProtocol, DeviceStudy
from bnnoise.data import DataCache
from bnnoise.evaluation import predictions
from bnnoise.noise.analog_device import device_noise
from bnnoise.noise.deployments import STANDARD, Deployment, realised
from bnnoise.noise.protocol import draw_seed, select_tensors, tensor_set_digest
from bnnoise.pipeline.specs import profile_specs
from bnnoise.pipeline.sweep_cells import (
    calibration_images,
    evaluation_subset,
    noisy_network,
    tensor_set_of,
)
from bnnoise.pipeline.sweeps import RUN_COLUMNS, run_key
from bnnoise.pipeline.trained import TrainedModel, profile_model, train_profile
from bnnoise.store import ArtifactStore

DEVICE_PROTOCOL_VERSION = 2
"""Bumped when the meaning of a device cell changes (its key changes with it)."""


def device_cell_config(trained: TrainedModel, protocol: DeviceProtocol, target: str, t: float,
                       deployment: Deployment = STANDARD) -> dict[str, Any]:
    """Everything one device cell depends on: its artifact key."""
    device = protocol.at(t).as_dict()
    tensor_set, _ = tensor_set_of(trained.model, deployment, target, None)
    return {"model_key": trained.key, "target": target, "tensor_set": tensor_set,
            **device, "draws": protocol.draws, "eval_per_class": protocol.eval_per_class,
            "seed": protocol.seed, **deployment.key(), "version": DEVICE_PROTOCOL_VERSION}


KIND = "device_sweeps"
"""The store's folder of device sweep cells."""


def _cells(trained: TrainedModel, protocol: DeviceProtocol, deployment: Deployment,
           device: str = DEFAULT_DEVICE) -> list[tuple[str, float, str, dict[str, Any]]]:
    """(target, time, slug, key) of every cell of a device sweep."""
    variant = "" if device == DEFAULT_DEVICE else f"-{device}"
    return [(target, t, f"{trained.spec.slug}-{target}-t{t:g}-{deployment.name}{variant}",
             device_cell_config(trained, protocol, target, t, deployment))
            for target in protocol.targets for t in protocol.times]


def study_runs(study: DeviceStudy, norm: str
               ) -> list[tuple[str, DeviceProtocol, Deployment]]:
    """(device name, protocol, deployment) of every sweep of a network with normalization
    ``norm``: the study's device under each of its deployments (a network without BatchNorm:
    the standard one), then each device variant with the standard deployment."""
    deployments = study.deployments if norm == "bn" else (STANDARD,)
    return ([(DEFAULT_DEVICE, study.protocol, d) for d in deployments]
            + [(name, protocol, STANDARD) for name, protocol in study.variants])


@dataclass(frozen=True)
class _Inputs:
    images: torch.Tensor
    labels: torch.Tensor
    calibration: torch.Tensor | None
    clean: dict[str, float]


def _inputs(trained: TrainedModel, protocol: DeviceProtocol, data: DataCache,
            deployment: Deployment) -> _Inputs:
    """The fixed test subset, the clean network's accuracies on it and the recalibration
    images of the deployment (if it has any)."""
    dataset = data(trained.spec.dataset)
    images, labels = evaluation_subset(dataset, protocol)  # type: ignore[arg-type]
    predicted, finite = predictions(trained.model, images)
    clean = {"clean_accuracy": float(((predicted == labels) & finite).float().mean()),
             "clean_accuracy_argmax": float((predicted == labels).float().mean())}
    calibration = (calibration_images(dataset, deployment.images, protocol.seed)
                   if deployment.images else None)
    return _Inputs(images, labels, calibration, clean)


def _device_cell(trained: TrainedModel, inputs: _Inputs, protocol: DeviceProtocol,
                 target: str, t: float, deployment: Deployment) -> pd.DataFrame:
    network = noisy_network(trained, deployment)
    tensors = select_tensors(network, target)
    digest = tensor_set_digest(tensors)
    rows = []
    for draw in range(protocol.draws):
        seed = draw_seed(protocol.seed, t, draw, digest)
        with (device_noise(tensors, protocol.at(t), seed, network),
              realised(network, deployment, inputs.calibration)):
            predicted, finite = predictions(network, inputs.images)
        right = predicted == inputs.labels
        rows.append({"draw": draw, "accuracy": float((right & finite).float().mean()),
                     "accuracy_argmax": float(right.float().mean()),
                     "nonfinite_fraction": float((~finite).float().mean()), **inputs.clean})
    return pd.DataFrame(rows)


def device_sweep(store: ArtifactStore, trained: TrainedModel, protocol: DeviceProtocol,
                 data: DataCache, deployment: Deployment = STANDARD,
                 device: str = DEFAULT_DEVICE) -> pd.DataFrame:
    """Tidy per-draw table of ``trained`` on the device: the run columns, ``deployment``,
    ``device`` (the name of the device variant), ``target``, ``t_inference``, ``draw``,
    ``accuracy`` (non-finite outputs scored wrong),
    ``accuracy_argmax``, both also over the clean network's accuracy on the same images
    (``normalized_...``; the clean accuracies are ``clean_...``), and ``nonfinite_fraction``.
    Each cell is computed once and stored with the clean accuracies, so that a stored sweep is
    read without the data."""
    inputs = None  # the test subset and the calibration images, read only for a missing cell
    parts = []
    for target, t, slug, config in _cells(trained, protocol, deployment, device):
        path = store.load(KIND, slug, config)
        if path is None:
            inputs = inputs or _inputs(trained, protocol, data, deployment)
            cell = _device_cell(trained, inputs, protocol, target, t, deployment)
            with store.writer(KIND, slug, config) as out:
                cell.to_csv(out / "draws.csv", index=False)
            path = store.load(KIND, slug, config)
        parts.append(pd.read_csv(path / "draws.csv").assign(target=target, t_inference=t))
    table = pd.concat(parts, ignore_index=True).assign(
        **dict(zip(RUN_COLUMNS, run_key(trained), strict=True)), deployment=deployment.name,
        device=device)
    for scoring in ("accuracy", "accuracy_argmax"):
        table[f"normalized_{scoring}"] = table[scoring] / table[f"clean_{scoring}"]
    return table


@dataclass(frozen=True)
class DeviceResults:
    """The device sweeps of a profile: the per-draw table (:func:`device_sweep`'s columns) and
    the provenance records of every network and cell behind it."""

    draws: pd.DataFrame
    records: list[dict[str, Any]]


def device_results(profile: Profile, data: DataCache) -> DeviceResults:
    """Every device sweep of the profile's devices grid: each network under every deployment
    of the profile if it has BatchNorm, the standard one otherwise (from the store; computed
    where missing, unless ``BNNOISE_NO_COMPUTE`` is set)."""
    study = _study(profile)
    store = ArtifactStore(profile.store_dir)
    parts, records = [], []
    for spec in dict.fromkeys(profile_specs(profile, study.grid)):
        trained = profile_model(profile, spec, data)
        records.append(trained.provenance)
        for device, protocol, deployment in study_runs(study, spec.norm):
            parts.append(device_sweep(store, trained, protocol, data, deployment, device))
            records += [store.provenance(KIND, slug, config)
                        for *_, slug, config in _cells(trained, protocol, deployment, device)]
    return DeviceResults(pd.concat(parts, ignore_index=True), records)


def stored_device_results(profile: Profile) -> DeviceResults | None:
    """The device sweeps of the profile that the store holds whole (every cell of a network's
    run), read without data or compute; ``None`` when it holds none (or the profile has no
    ``devices`` entry)."""
    if profile.devices is None:
        return None
    store, study = ArtifactStore(profile.store_dir), profile.devices
    parts, records = [], []
    for trained in train_profile(profile, grid=study.grid, stored_only=True):
        for device, protocol, deployment in study_runs(study, trained.spec.norm):
            cells = _cells(trained, protocol, deployment, device)
            if all(store.load(KIND, slug, config) is not None for *_, slug, config in cells):
                parts.append(device_sweep(store, trained, protocol, None, deployment, device))
                records += [trained.provenance, *(store.provenance(KIND, slug, config)
                                                  for *_, slug, config in cells)]
    return DeviceResults(pd.concat(parts, ignore_index=True), records) if parts else None


def _study(profile: Profile) -> DeviceStudy:
    if profile.devices is None:
        raise ValueError(f"profile {profile.name} has no devices entry in params.yaml")
    return profile.devices


def profile_device_sweeps(profile: Profile, only: list[str] | None, store: ArtifactStore,
                  data: DataCache, threads: str) -> None:
    """Sweep the devices grid's networks (all, or ``only``) on the device, under every
    deployment of the profile for a network with BatchNorm and the standard one otherwise."""
    study = _study(profile)
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
        for device, protocol, deployment in study_runs(study, spec.norm):
            table = device_sweep(store, trained, protocol, data, deployment, device)
            print(f"{trained.key} ({device} device, {deployment.label}): mean accuracy per time "
                  f"{table.groupby('t_inference')['accuracy'].mean().round(4).to_dict()}",
                  flush=True)
