"""Trained models: train (resuming from checkpoints) or load, keyed by everything they depend on.

A network is named by a :class:`~bnnoise.pipeline.specs.ModelSpec`; its artifact key
(:func:`~bnnoise.pipeline.specs.model_config`) holds the spec and the full training recipe, so a
changed parameter retrains and an unchanged one loads. Every stored model keeps its training
history, clean accuracy on the full test set, the machines it was trained on and a fingerprint
of the data.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from bnnoise.checkpoints import trained_on, training_lock
from bnnoise.config import Profile
from bnnoise.config.setups import Recipe
from bnnoise.data import DataCache, Dataset
from bnnoise.evaluation import predict_correct
from bnnoise.hardware import check_precision, machine_record
from bnnoise.image_selection import fingerprint
from bnnoise.nets.models import model_facts
from bnnoise.origin import dated_by_git
from bnnoise.pipeline.specs import ModelSpec, model_config, profile_specs, recipe_of, snapshots_for
from bnnoise.pipeline.stored_weights import (
    half_state,
    load_state,
    needs_half_storage,
    weights_in_half,
)
from bnnoise.store import NO_COMPUTE, ArtifactStore, atomic_write_bytes
from bnnoise.training import TrainingHooks, train


@dataclass
class TrainedModel:
    """A trained network with its training history and summary facts."""

    spec: ModelSpec
    model: nn.Module
    history: pd.DataFrame
    summary: dict[str, Any]
    key: str
    provenance: dict[str, Any] = field(default_factory=dict)


RESUME_LIMIT = 10_000_000
"""Checkpoints up to this many bytes (weights and momentum: every CIFAR ResNet, about 5 MB for
ResNet44) go to the store's ``resume/`` folder, which git tracks: committed when work on a
machine ends, they let the next machine continue the training from the same state. Larger ones
(VGG16: about 120 MB) stay in the machine's own ``checkpoints/`` folder, which git ignores."""


def checkpoint_folder(store: ArtifactStore, model: nn.Module) -> Path:
    """Where a training of ``model`` keeps its epoch checkpoint and snapshots while it runs:
    ``resume/`` (committable, see :data:`RESUME_LIMIT`) or ``checkpoints/`` (this machine's)."""
    state_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    return store.root / ("resume" if 2 * state_bytes <= RESUME_LIMIT else "checkpoints")


SNAPSHOT_PARAMETER_LIMIT = 2_000_000
"""Only networks with fewer parameters (the CIFAR ResNets) keep per-epoch snapshots."""


MACHINE_FIELDS = ("cpu", "amx", "avx512_bf16", "threads", "torch", "python", "device", "gpu")


def _load_trained(path: Path, spec: ModelSpec) -> TrainedModel:
    summary = json.loads((path / "summary.json").read_text())
    model = spec.build()
    load_state(model, path / "model.pt")
    model.eval().to(memory_format=torch.channels_last)  # about 1.3x faster fp32 inference here
    record = dated_by_git(json.loads((path / "manifest.json").read_text()).get("provenance") or {
        k: summary[k] for k in (*MACHINE_FIELDS, "data_fingerprint") if k in summary}, path)
    return TrainedModel(spec, model, pd.read_csv(path / "history.csv"), summary, path.name,
                        record)


def _cpu_time(history: pd.DataFrame) -> dict[str, float | int]:
    """What the training cost in CPU-hours (the process's CPU time, all threads, as the history
    records it per epoch), and how many epochs lack that record (trained by older code)."""
    cpu = history["cpu_seconds"] if "cpu_seconds" in history else pd.Series(
        float("nan"), index=history.index)
    return {"cpu_hours": float(cpu.sum()) / 3600, "epochs_without_cpu_time": int(cpu.isna().sum())}


def snapshot_epochs(path: Path) -> list[int]:
    """The epochs whose weights a stored model artifact keeps (``epochNNN.pt``)."""
    return sorted(int(p.stem.removeprefix("epoch")) for p in path.glob("epoch*.pt"))


def load_snapshot(trained: TrainedModel, store: ArtifactStore, epoch: int) -> nn.Module:
    """The network as it was after ``epoch`` (stored in half precision; the stored values are
    the snapshot), in evaluation mode."""
    model = trained.spec.build()
    load_state(model, store.root / "models" / trained.key / f"epoch{epoch:03d}.pt")
    return model.eval().to(memory_format=torch.channels_last)


def stored_model(store: ArtifactStore, spec: ModelSpec, recipe: Recipe) -> TrainedModel | None:
    """The trained model if the store holds it (trained with ``spec.training_recipe(recipe)``),
    else ``None``; never trains."""
    path = store.load("models", spec.slug, model_config(spec, recipe))
    return None if path is None else _load_trained(path, spec)


def trained_model(store: ArtifactStore, spec: ModelSpec, recipe: Recipe, data: DataCache,
                  progress: bool = False, snapshots: tuple[int, ...] = ()) -> TrainedModel:
    """Load the trained model from the store, or train it (resuming from a checkpoint) and store it.

    The stored summary holds the clean test accuracy on the full test set in fp32, the model's BN
    layer count and parameter count, the training time and the machine it was trained on.

    Args:
        spec: the network, dataset and seed (``spec.seed`` replaces ``recipe.seed``).
        snapshots: epochs whose weights are kept beside the final model, in half precision,
            for networks under :data:`SNAPSHOT_PARAMETER_LIMIT` parameters. Not part of the key.
            Snapshots saved by an earlier, interrupted call are kept too, asked for or not.

    Raises:
        FileNotFoundError: the model is not stored and the environment variable
            ``BNNOISE_NO_TRAINING`` or ``BNNOISE_NO_COMPUTE`` is set (analyses and tests that
            must never train).
    """
    recipe = spec.training_recipe(recipe)
    config = model_config(spec, recipe)
    stored = stored_model(store, spec, recipe)
    if stored is not None:
        return stored

    if os.environ.get("BNNOISE_NO_TRAINING") or os.environ.get(NO_COMPUTE):
        raise FileNotFoundError(f"{spec.slug} is not trained yet (BNNOISE_NO_TRAINING or "
                                f"{NO_COMPUTE} is set); "
                                "train it with `make campaign` or `make train`")
    store.check_code_committed()  # before hours of training, not after
    check_precision(recipe.precision, recipe.device)
    dataset = data(spec.dataset)
    torch.manual_seed(recipe.seed)
    model = spec.build()
    name = store.path("models", spec.slug, config).name
    folder = checkpoint_folder(store, model)
    checkpoint = folder / f"{name}.pt"
    snapshot_dir = folder / f"{name}-epochs"
    keep = set(snapshots) - {recipe.epochs}
    if model_facts(model).parameters >= SNAPSHOT_PARAMETER_LIMIT:
        keep = set()

    with training_lock(checkpoint):  # another process training it: wait, then load its result
        if (stored := stored_model(store, spec, recipe)) is not None:
            return stored
        hooks = _hooks(spec, recipe, keep, snapshot_dir, progress)
        history = pd.DataFrame(train(model, dataset, recipe, checkpoint, hooks))
        _store(store, spec, config, model, history, dataset, recipe.device, checkpoint,
               snapshot_dir)
    return _load_trained(store.load("models", spec.slug, config), spec)  # type: ignore[arg-type]


def _hooks(spec: ModelSpec, recipe: Recipe, keep: set[int], snapshot_dir: Path,
           progress: bool) -> TrainingHooks:
    """What a training of ``spec`` reports and keeps: a progress line per epoch, and the
    half-precision weights of the epochs in ``keep`` (written to ``snapshot_dir``)."""
    def save_snapshot(epoch: int, network: nn.Module) -> None:
        if epoch in keep:
            buffer = io.BytesIO()
            torch.save(half_state(network), buffer)
            atomic_write_bytes(snapshot_dir / f"epoch{epoch:03d}.pt", buffer.getvalue())

    def report(row: dict[str, float]) -> None:
        if progress:
            print(f"{spec.slug} epoch {row['epoch']:.0f}/{recipe.epochs}: "
                  f"loss {row['train_loss']:.3f}, test acc {row['test_acc']:.4f}, "
                  f"{row['seconds']:.0f} s", flush=True)

    return TrainingHooks(progress=report, progress_bar=progress, snapshot=save_snapshot)


def _store(store: ArtifactStore, spec: ModelSpec, config: dict[str, Any], model: nn.Module,
           history: pd.DataFrame, dataset: Dataset, device: str, checkpoint: Path,
           snapshot_dir: Path) -> None:
    """Store a finished training: the weights as they will be evaluated (large models rounded
    to half precision first), history, summary and snapshots; then drop its checkpoint."""
    keep = set(snapshot_epochs(snapshot_dir))  # also those of an earlier, interrupted call
    half = weights_in_half(model) if needs_half_storage(model) else []
    with torch.no_grad():  # the stored (rounded) weights are the model
        state = model.state_dict()
        for name_ in half:
            state[name_].copy_(state[name_].half().float())
    correct, nonfinite = predict_correct(model, dataset.x_test, dataset.y_test, dataset)
    facts = model_facts(model)
    summary = {
        "clean_accuracy": correct / len(dataset.y_test), "test_images": len(dataset.y_test),
        "nonfinite_outputs": nonfinite, "bn_layers": facts.bn_layers,
        "conv_layers": facts.conv_layers, "parameters": facts.parameters,
        "train_seconds": float(history["seconds"].sum()),
        "seconds_per_epoch": float(history["seconds"].median()),
        **_cpu_time(history),
        "stored_weights": "conv/linear weights fp16" if half else "fp32",
        "snapshot_epochs": sorted(keep),
        "data_fingerprint": fingerprint(dataset), **machine_record(device),
        "trained_on": trained_on(checkpoint),
    }
    with store.writer("models", spec.slug, config,
                      {"data_fingerprint": summary["data_fingerprint"]}) as out:
        torch.save(half_state(model, half if half else []), out / "model.pt")
        history.to_csv(out / "history.csv", index=False)
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        for epoch in sorted(keep):
            shutil.copy(snapshot_dir / f"epoch{epoch:03d}.pt", out / f"epoch{epoch:03d}.pt")
    checkpoint.unlink(missing_ok=True)
    shutil.rmtree(snapshot_dir, ignore_errors=True)


def profile_model(profile: Profile, spec: ModelSpec, data: DataCache | None = None,
                  progress: bool = False) -> TrainedModel:
    """Train (or load) one model of a profile with its recipe and snapshots."""
    return trained_model(ArtifactStore(profile.store_dir), spec, recipe_of(profile, spec),
                         data or DataCache(profile.data_dir), progress,
                         snapshots_for(profile, spec))


def train_profile(profile: Profile, progress: bool = False, grid: str = "main",
                  stored_only: bool = False) -> list[TrainedModel]:
    """Train (or load) every model of one of the profile's grids; with ``stored_only``, load
    those already trained and leave the others out."""
    if stored_only:
        store = ArtifactStore(profile.store_dir)
        stored = (stored_model(store, spec, recipe_of(profile, spec))
                  for spec in profile_specs(profile, grid))
        return [run for run in stored if run is not None]
    data = DataCache(profile.data_dir)
    return [profile_model(profile, spec, data, progress) for spec in profile_specs(profile, grid)]


