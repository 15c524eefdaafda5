"""The book's pipeline: train (or load) a model, then sweep noise over it, caching every result.

``data -> model(norm=...) -> train -> noise -> evaluate -> artifact``: each step is keyed by
everything it depends on (see :mod:`bnnoise.artifacts`), so a chapter rerun with the same
parameters loads its results and a changed parameter recomputes only what depends on it. For
example, a new eta grid reuses the trained models and every eta already swept.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from bnnoise.artifacts import ArtifactStore, atomic_write_bytes
from bnnoise.config import Grid, Profile
from bnnoise.data import (
    Dataset,
    fingerprint,
    load_dataset,
    normalize,
    num_classes_of,
    stratified_subset,
)
from bnnoise.evaluation import predict_correct, predictions
from bnnoise.folding import FoldedBatchNorm
from bnnoise.hardware import check_precision, machine_record
from bnnoise.models import build_model, model_facts, normalization_slots
from bnnoise.noise import (
    PROTOCOL_VERSION,
    NoiseProtocol,
    draw_seed,
    injected_noise,
    select_tensors,
    tensor_set_digest,
)
from bnnoise.propagation import PropagationSetup, layer_statistics
from bnnoise.training import TRAINING_VERSION, Recipe, train


@dataclass(frozen=True)
class ModelSpec:
    """Which network to train on which dataset, with which training seed.

    ``bn_layers`` (with ``placement`` ``"first"`` or ``"last"``) keeps the normalization in only
    that many of the network's convolution slots (see :func:`bnnoise.models.build_model`).
    """

    dataset: str
    model: str
    norm: str
    bn_layers: int | None = None
    placement: str = "first"
    seed: int = 0

    @property
    def slug(self) -> str:
        bn = "" if self.bn_layers is None else (
            f"-bn{self.bn_layers}" if self.placement == "first" else f"-bnlast{self.bn_layers}")
        seed = f"-seed{self.seed}" if self.seed else ""
        return f"{self.dataset}-{self.model}-{self.norm}{bn}{seed}"

    def build(self) -> nn.Module:
        """The untrained network (initialised from PyTorch's global generator)."""
        return build_model(self.model, num_classes_of(self.dataset), self.norm, self.bn_layers,
                           placement=self.placement)


def model_config(spec: ModelSpec, recipe: Recipe) -> dict[str, Any]:
    """Everything a trained model depends on: its artifact key.

    The training seed is the recipe's (``spec.seed``); the placement enters only for a partial
    normalization, so that keys of fully normalized models stay as they were.
    """
    config = {"dataset": spec.dataset, "model": spec.model, "norm": spec.norm,
              "bn_layers": spec.bn_layers, "recipe": replace(recipe, seed=spec.seed).as_dict(),
              "training_version": TRAINING_VERSION}
    if spec.bn_layers is not None:
        config["placement"] = spec.placement
    return config


@dataclass
class TrainedModel:
    """A trained network with its training history and summary facts."""

    spec: ModelSpec
    model: nn.Module
    history: pd.DataFrame
    summary: dict[str, Any]
    key: str


@functools.lru_cache(maxsize=4)
def _load_once(name: str, data_dir: Path) -> Dataset:
    return load_dataset(name, data_dir)


class DataCache:
    """Datasets of one data directory, loaded lazily and at most once per process (shared by
    every ``DataCache`` of that directory, so training and sweeps never load twice)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    def __call__(self, name: str) -> Dataset:
        return _load_once(name, self.data_dir)


STORE_FP32_LIMIT = 24_000_000
"""Models whose fp32 weights exceed this many bytes are stored with conv and linear weights in
half precision (a VGG16 has 60 MB in fp32), so every stored file stays well under 32 MB. The
rounding happens before the final evaluation: the stored weights are the model, and every number
is measured on exactly what is stored."""

SNAPSHOT_PARAMETER_LIMIT = 2_000_000
"""Only networks with fewer parameters (the CIFAR ResNets) keep per-epoch snapshots."""


def _weights_in_half(model: nn.Module) -> list[str]:
    """Names of the conv and linear weights, which large models store in half precision."""
    return [f"{prefix}.weight" for prefix, module in model.named_modules()
            if isinstance(module, nn.Conv2d | nn.Linear)]


def _needs_half_storage(model: nn.Module) -> bool:
    return sum(t.numel() * 4 for t in model.state_dict().values()) > STORE_FP32_LIMIT


def _half_state(model: nn.Module, names: list[str] | None = None) -> dict[str, torch.Tensor]:
    """The state dict with ``names`` (default: every floating array) in half precision."""
    state = model.state_dict()
    chosen = set(state if names is None else names)
    return {k: v.half() if k in chosen and v.is_floating_point() else v.clone()
            for k, v in state.items()}


def _load_state(model: nn.Module, file: Path) -> None:
    state = torch.load(file, weights_only=True)
    model.load_state_dict({k: v.float() if v.dtype == torch.float16 else v
                           for k, v in state.items()})


def _load_trained(path: Path, spec: ModelSpec) -> TrainedModel:
    summary = json.loads((path / "summary.json").read_text())
    model = spec.build()
    _load_state(model, path / "model.pt")
    model.eval().to(memory_format=torch.channels_last)  # about 1.3x faster fp32 inference here
    return TrainedModel(spec, model, pd.read_csv(path / "history.csv"), summary, path.name)


def snapshot_epochs(path: Path) -> list[int]:
    """The epochs whose weights a stored model artifact keeps (``epochNNN.pt``)."""
    return sorted(int(p.stem.removeprefix("epoch")) for p in path.glob("epoch*.pt"))


def load_snapshot(trained: TrainedModel, store: ArtifactStore, epoch: int) -> nn.Module:
    """The network as it was after ``epoch`` (stored in half precision; the stored values are
    the snapshot), in evaluation mode."""
    model = trained.spec.build()
    _load_state(model, store.root / "models" / trained.key / f"epoch{epoch:03d}.pt")
    return model.eval().to(memory_format=torch.channels_last)


def trained_model(store: ArtifactStore, spec: ModelSpec, recipe: Recipe, data: DataCache,
                  progress: bool = False, snapshots: tuple[int, ...] = ()) -> TrainedModel:
    """Load the trained model from the store, or train it (resuming from a checkpoint) and store it.

    The stored summary holds the clean test accuracy on the full test set in fp32, the model's BN
    layer count and parameter count, the training time and the machine it was trained on.

    Args:
        spec: the network, dataset and seed (``spec.seed`` replaces ``recipe.seed``).
        snapshots: epochs whose weights are kept beside the final model, in half precision,
            for networks under :data:`SNAPSHOT_PARAMETER_LIMIT` parameters. Not part of the key.
    """
    recipe = replace(recipe, seed=spec.seed)
    config = model_config(spec, recipe)
    path = store.load("models", spec.slug, config)
    if path is not None:
        return _load_trained(path, spec)

    check_precision(recipe.precision)
    dataset = data(spec.dataset)
    torch.manual_seed(recipe.seed)
    model = spec.build()
    name = store.path("models", spec.slug, config).name
    checkpoint = store.root / "checkpoints" / f"{name}.pt"
    snapshot_dir = store.root / "checkpoints" / f"{name}-epochs"
    keep = set(snapshots) - {recipe.epochs}
    if model_facts(model).parameters >= SNAPSHOT_PARAMETER_LIMIT:
        keep = set()

    def save_snapshot(epoch: int, network: nn.Module) -> None:
        if epoch in keep:
            buffer = io.BytesIO()
            torch.save(_half_state(network), buffer)
            atomic_write_bytes(snapshot_dir / f"epoch{epoch:03d}.pt", buffer.getvalue())

    def report(row: dict[str, float]) -> None:
        if progress:
            print(f"{spec.slug} epoch {row['epoch']:.0f}/{recipe.epochs}: "
                  f"loss {row['train_loss']:.3f}, test acc {row['test_acc']:.4f}, "
                  f"{row['seconds']:.0f} s", flush=True)

    history = pd.DataFrame(train(model, dataset, recipe, checkpoint, progress=report,
                                 progress_bar=progress, snapshot=save_snapshot))
    half = _weights_in_half(model) if _needs_half_storage(model) else []
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
        "stored_weights": "conv/linear weights fp16" if half else "fp32",
        "snapshot_epochs": sorted(keep),
        "data_fingerprint": fingerprint(dataset), **machine_record(),
    }
    with store.writer("models", spec.slug, config) as out:
        torch.save(_half_state(model, half) if half else model.state_dict(), out / "model.pt")
        history.to_csv(out / "history.csv", index=False)
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        for epoch in sorted(keep):
            shutil.copy(snapshot_dir / f"epoch{epoch:03d}.pt", out / f"epoch{epoch:03d}.pt")
    checkpoint.unlink(missing_ok=True)
    shutil.rmtree(snapshot_dir, ignore_errors=True)
    return _load_trained(store.load("models", spec.slug, config), spec)  # type: ignore[arg-type]


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
    tensor_set = tensor_set_digest(select_tensors(trained.model, target, protocol.layers))
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
    tensors = select_tensors(trained.model, target, protocol.layers)
    tensor_set = tensor_set_digest(tensors)
    fast = protocol.evaluation == "fast"
    network = FoldedBatchNorm(trained.model) if fast else trained.model
    rows, hits = [], []
    for draw in range(protocol.draws if eta > 0 else 1):
        start = time.perf_counter()
        with injected_noise(tensors, eta, draw_seed(protocol.seed, eta, draw, tensor_set),
                            protocol.scale, protocol.kind):
            if fast:
                network.refresh()
            collapsed = _collapsed(trained.model)
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
    """The stored cell of one canonical target set and eta, computed first if missing
    (``subset`` caches the evaluation subset across calls: an empty list, filled on first use)."""
    config = sweep_config(trained, protocol, target, eta)
    slug = f"{trained.spec.slug}-{config['target']}-eta{eta:g}"
    path = store.load("sweeps", slug, config)
    if path is None:
        if not subset:
            subset.extend(evaluation_subset(data(trained.spec.dataset), protocol))
        cell = _sweep_cell(trained, subset[0], subset[1], protocol, target, eta)
        with store.writer("sweeps", slug, config) as out:
            _write_cell(out, cell)
        path = store.load("sweeps", slug, config)
    return path  # type: ignore[return-value]


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
    for target, (canonical, _) in _canonical_targets(trained.model, protocol).items():
        for eta in (0.0, *protocol.etas):
            path = sweep_cell_path(store, trained, protocol, canonical, eta, data, subset)
            cell = pd.read_csv(path / "draws.csv")
            if progress:
                print(f"{path.name}: mean accuracy {cell['accuracy'].mean():.4f}", flush=True)
            parts.append(cell.assign(target=target, eta=eta))
    table = pd.concat(parts, ignore_index=True)
    spec = trained.spec
    table = table.assign(dataset=spec.dataset, model=spec.model, norm=spec.norm,
                         bn_layers=trained.summary["bn_layers"],
                         placement=spec.placement if spec.bn_layers is not None else "all",
                         seed=spec.seed)
    for scoring in ("accuracy", "accuracy_argmax"):
        clean = table[table["eta"] == 0].set_index("target")[scoring]
        table[f"normalized_{scoring}"] = table[scoring] / table["target"].map(clean)
    return table[SWEEP_COLUMNS]


def grid_specs(grid: Grid) -> list[ModelSpec]:
    """The models of a grid, dataset-major, then model, norm, partial count, placement, seed.

    In a partial-normalization series, 0 normalized slots is the unnormalized network and all
    slots the fully normalized one (identical networks and initialisations, see the tests of
    :mod:`bnnoise.models`): those two are the grid's plain ``none`` and ``norm`` models.
    """
    specs = []
    for dataset, model, norm in itertools.product(grid.datasets, grid.models, grid.norms):
        for k, placement, seed in itertools.product(grid.bn_layers or (None,), grid.placements,
                                                    grid.seeds):
            if k is None or 0 < k < normalization_slots(model):
                specs.append(ModelSpec(dataset, model, norm, k, placement, seed))
            else:
                specs.append(ModelSpec(dataset, model, "none" if k == 0 else norm, seed=seed))
    return list(dict.fromkeys(specs))


def profile_specs(profile: Profile, grid: str = "main") -> list[ModelSpec]:
    """The models of one of the profile's grids (see :meth:`bnnoise.config.Profile.grid`)."""
    return grid_specs(profile.grid(grid))


def profile_model(profile: Profile, spec: ModelSpec, data: DataCache | None = None,
                  progress: bool = False) -> TrainedModel:
    """Train (or load) one model of a profile with its recipe and the profile's snapshots."""
    return trained_model(ArtifactStore(profile.store_dir), spec,
                         profile.recipe_for(spec.model, spec.norm, spec.seed),
                         data or DataCache(profile.data_dir), progress, profile.snapshot_epochs)


def train_profile(profile: Profile, progress: bool = False, grid: str = "main"
                  ) -> list[TrainedModel]:
    """Train (or load) every model of one of the profile's grids."""
    data = DataCache(profile.data_dir)
    return [profile_model(profile, spec, data, progress) for spec in profile_specs(profile, grid)]


def sweep_profile(profile: Profile, runs: list[TrainedModel], progress: bool = False
                  ) -> pd.DataFrame:
    """Tidy per-draw noise-sweep table of every trained model of a profile."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    return pd.concat([noise_sweep(store, run, profile.noise, data, progress) for run in runs],
                     ignore_index=True)


def training_table(runs: list[TrainedModel]) -> pd.DataFrame:
    """One row per trained model: clean accuracy, BN layers, parameters, training time."""
    rows = [{"dataset": r.spec.dataset, "model": r.spec.model, "norm": r.spec.norm,
             **{k: r.summary[k] for k in ("clean_accuracy", "test_images", "bn_layers",
                                          "conv_layers", "parameters", "train_seconds",
                                          "seconds_per_epoch")},
             "epochs": len(r.history), "artifact": r.key} for r in runs]
    return pd.DataFrame(rows)


def history_table(runs: list[TrainedModel]) -> pd.DataFrame:
    """Tidy per-epoch training history of every run."""
    return pd.concat([r.history.assign(dataset=r.spec.dataset, model=r.spec.model,
                                       norm=r.spec.norm) for r in runs], ignore_index=True)


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
