"""CIFAR-10, CIFAR-100 and a synthetic stand-in, held as uint8 tensors in memory.

Images stay ``uint8`` in NCHW layout until a batch is taken; :func:`normalize` converts a batch to
float and standardises each channel with the official training-set statistics. Training-time
augmentation works on whole batches (see :mod:`bnnoise.training`).

Where the data come from, in order:

1. ``<data_dir>/<name>.npz`` with arrays ``x_train`` (N, 32, 32, 3) uint8, ``y_train``,
   ``x_test``, ``y_test`` (what ``materialize.py`` of the offline copy writes);
2. torchvision's official archive under ``<data_dir>`` (``cifar-10-batches-py``,
   ``cifar-100-python``), downloaded first when ``download=True``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

CHANNEL_STATS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
"""Official training-set channel means and standard deviations (pixel values scaled to [0, 1])."""

DATASETS = ("cifar10", "cifar100", "cifar100coarse", "synthetic10", "synthetic100")
"""Dataset names: CIFAR-100 with fine (100) or coarse (20) labels; synthetic CIFAR-shaped data."""


@dataclass(frozen=True)
class Dataset:
    """A labelled image classification dataset held in memory.

    Attributes:
        name: dataset name (one of :data:`DATASETS`).
        x_train, x_test: uint8 images, shape (N, 3, 32, 32).
        y_train, y_test: int64 labels, shape (N,).
        num_classes: number of classes.
        mean, std: channel statistics used by :func:`normalize`.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def normalize(x: torch.Tensor, data: Dataset) -> torch.Tensor:
    """Turn a uint8 NCHW batch into standardised float32 (channels-last memory layout).

    Raises:
        TypeError: ``x`` is not uint8 (images normalized already would be normalized twice,
            and every accuracy computed from them would be silently wrong).
    """
    if x.dtype != torch.uint8:
        raise TypeError(f"normalize takes uint8 images (0-255), got {x.dtype}: images that are "
                        "floats are normalized already; pass them to "
                        "bnnoise.evaluation.count_correct, not to a function that normalizes")
    mean = torch.tensor(data.mean).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(data.std).view(1, 3, 1, 1) * 255.0
    out = (x.float() - mean) / std
    return out.contiguous(memory_format=torch.channels_last)


def missing_data_message(name: str, data_dir: Path) -> str:
    """Explain, in one line, how to provide a dataset that was not found."""
    return (f"dataset {name!r} not found in data directory {data_dir}: with internet, run "
            f"`make data DATA_DIR={data_dir}`; offline, put {name}.npz (uint8 NHWC arrays "
            f"x_train, y_train, x_test, y_test) there, e.g. with an offline CIFAR copy's "
            f"materialize.py; the directory comes from the data_dir parameter or BNNOISE_DATA")


def _from_arrays(name: str, arrays: dict[str, np.ndarray], num_classes: int) -> Dataset:
    base = "cifar100" if name.startswith("cifar100") else "cifar10"
    mean, std = CHANNEL_STATS[base]

    def images(a: np.ndarray) -> torch.Tensor:
        if a.dtype != np.uint8 or a.ndim != 4 or a.shape[1:] != (32, 32, 3):
            raise ValueError(f"{name}: expected uint8 images of shape (N, 32, 32, 3), got "
                             f"{a.dtype} {a.shape}")
        return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))

    return Dataset(
        name=name,
        x_train=images(arrays["x_train"]),
        y_train=torch.as_tensor(np.asarray(arrays["y_train"]), dtype=torch.int64),
        x_test=images(arrays["x_test"]),
        y_test=torch.as_tensor(np.asarray(arrays["y_test"]), dtype=torch.int64),
        num_classes=num_classes,
        mean=mean,
        std=std,
    )


def _load_cifar(name: str, data_dir: Path, download: bool) -> Dataset:
    base = "cifar100" if name.startswith("cifar100") else "cifar10"
    coarse = name == "cifar100coarse"
    num_classes = {"cifar10": 10, "cifar100": 100, "cifar100coarse": 20}[name]
    npz = data_dir / f"{base}.npz"
    if npz.exists():
        with np.load(npz) as f:
            arrays = {k: f[k] for k in f.files}
        if coarse:
            arrays["y_train"], arrays["y_test"] = arrays["y_train_coarse"], arrays["y_test_coarse"]
        return _from_arrays(name, arrays, num_classes)

    from torchvision import datasets  # imported lazily: only this path needs torchvision

    cls = datasets.CIFAR100 if base == "cifar100" else datasets.CIFAR10
    try:
        train = cls(str(data_dir), train=True, download=download)
        test = cls(str(data_dir), train=False, download=download)
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted"
        raise FileNotFoundError(missing_data_message(base, data_dir)) from err
    arrays = {"x_train": train.data, "y_train": np.asarray(train.targets),
              "x_test": test.data, "y_test": np.asarray(test.targets)}
    if coarse:
        raise FileNotFoundError(
            "coarse CIFAR-100 labels are read from cifar100.npz (y_train_coarse, y_test_coarse); "
            + missing_data_message(base, data_dir)
        )
    return _from_arrays(name, arrays, num_classes)


def synthetic(num_classes: int = 10, n_train: int = 512, n_test: int | None = None,
              seed: int = 0) -> Dataset:
    """Random images of CIFAR's shape with a learnable class signal, for smoke runs.

    Each class has a fixed smooth random template; an image is its class template plus pixel
    noise, so a small network learns it within an epoch. Nothing about CIFAR is implied. The
    test set has ``n_test`` images, by default 256 or 20 per class if that is more (so that a
    smoke profile's stratified subset finds its images per class).
    """
    n_test = n_test if n_test is not None else max(256, 20 * num_classes)
    g = torch.Generator().manual_seed(seed)
    templates = torch.nn.functional.interpolate(
        torch.rand(num_classes, 3, 4, 4, generator=g), size=32, mode="bilinear"
    )

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.arange(n) % num_classes
        y = y[torch.randperm(n, generator=g)]
        x = 0.6 * templates[y] + 0.4 * torch.rand(n, 3, 32, 32, generator=g)
        return (x * 255).round().clamp(0, 255).to(torch.uint8), y

    x_train, y_train = sample(n_train)
    x_test, y_test = sample(n_test)
    mean, std = CHANNEL_STATS["cifar10"]
    return Dataset(f"synthetic{num_classes}", x_train, y_train, x_test, y_test, num_classes,
                   mean, std)


def load_dataset(name: str, data_dir: Path | str, download: bool = False) -> Dataset:
    """Load a dataset by name.

    Args:
        name: one of :data:`DATASETS`.
        data_dir: directory holding ``<name>.npz`` or torchvision's archives.
        download: let torchvision download the official archive if it is missing.

    Raises:
        ValueError: for an unknown name.
        FileNotFoundError: when the data are missing, with instructions to provide them.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    if name.startswith("synthetic"):
        return synthetic(int(name.removeprefix("synthetic")))
    return _load_cifar(name, Path(data_dir), download)


def num_classes_of(name: str) -> int:
    """Number of classes of a dataset name, without loading it."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    if name.startswith("synthetic"):
        return int(name.removeprefix("synthetic"))
    return {"cifar10": 10, "cifar100": 100, "cifar100coarse": 20}[name]


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


@dataclass(frozen=True)
class DataSource:
    """A dataset named but not loaded: what a key needs (its name, class count and content
    fingerprint) without reading its images where the copy is a standard one, and
    :meth:`load` (once per process) where something must be computed."""

    name: str
    data_dir: Path

    @property
    def num_classes(self) -> int:
        return num_classes_of(self.name)

    def load(self) -> Dataset:
        return _load_once(self.name, Path(self.data_dir))
