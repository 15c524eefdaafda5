"""The parameters of every kind of run, as validated, frozen dataclasses.

A profile of ``params.yaml`` (see :mod:`bnnoise.config`) is made of these: the training recipe,
the noise protocol, the signal-propagation setup and the short theory runs. They only hold and
check values; the code that runs them lives in the modules named in each docstring.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from bnnoise.data import DATASETS, num_classes_of
from bnnoise.nets.models import build_model, validate_model_name
from bnnoise.nets.norms import parse_norm

PRECISIONS = ("bf16", "fp32")
DEVICES = ("cpu", "cuda")
"""Where a run computes. A profile may also say ``auto`` (see
:func:`bnnoise.hardware.resolve_device`). The device enters artifact keys only when it is not the
CPU, so that CPU keys stay as they were and numbers from different devices never share an
artifact."""

@dataclass(frozen=True)
class Recipe:
    """Training hyper-parameters. Every field enters the trained model's artifact key."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: float = 2.0
    label_smoothing: float = 0.0
    grad_clip: float | None = None
    precision: str = "bf16"
    seed: int = 0
    device: str = "cpu"
    train_noise: float = 0.0
    """Noise-aware training: every step's forward and backward pass sees additive Gaussian noise
    of ``train_noise`` times each conv/linear weight tensor's std (0: off)."""

    def __post_init__(self) -> None:
        problems = []
        if not self.train_noise >= 0:
            problems.append(f"train_noise must be >= 0 (got {self.train_noise})")
        if self.device not in DEVICES:
            problems.append(f"device must be one of {DEVICES} (got {self.device!r})")
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1 (got {self.epochs})")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1 (got {self.batch_size})")
        if not self.lr > 0:
            problems.append(f"lr must be > 0 (got {self.lr})")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum must be in [0, 1) (got {self.momentum})")
        if self.weight_decay < 0 or self.warmup_epochs < 0:
            problems.append("weight_decay and warmup_epochs must be >= 0")
        if self.grad_clip is not None and not self.grad_clip > 0:
            problems.append(f"grad_clip must be > 0 or None (got {self.grad_clip})")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be in [0, 1) (got {self.label_smoothing})")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {PRECISIONS} (got {self.precision!r})")
        if problems:
            raise ValueError("invalid training recipe: " + "; ".join(problems))

    def as_dict(self) -> dict[str, Any]:
        """The fields, as they enter artifact keys (``device`` only when not the CPU,
        ``train_noise`` only when on), so that earlier keys stay as they were."""
        d = asdict(self)
        if self.device == "cpu":
            del d["device"]
        if not self.train_noise:
            del d["train_noise"]
        return d


TARGETS = ("all", "trainable", "weights", "kernels")
SCALES = ("std", "max", "absolute")
KINDS = ("additive", "multiplicative")
EVALUATIONS = ("fp32", "fast")
NONFINITE_SCORINGS = ("wrong", "argmax")
"""How an image whose logits are not all finite is scored: ``wrong`` (always an error) or
``argmax`` (what a plain argmax does in PyTorch and NumPy: NaN counts as the largest value, so an
all-NaN row picks class 0, right for about one image in ``num_classes``)."""


@dataclass(frozen=True)
class NoiseProtocol:
    """How a noise sweep is run. Every field enters the sweep's artifact key.

    Attributes:
        etas: noise levels of the grid (eta = 0 is evaluated in addition, as the reference).
        draws: independent noisy copies of the model per eta.
        eval_per_class: test images per class in the fixed stratified subset; None: all.
        targets: target sets to sweep (see :data:`TARGETS`).
        scale: reference scale of each tensor (see :data:`SCALES`).
        kind: ``"additive"`` or ``"multiplicative"``.
        seed: base seed of the draws and of the test subset.
        layers: optional regular expression; only tensors whose name matches get noise.
        evaluation: ``"fp32"`` (the reference: the network as trained, in fp32) or ``"fast"``
            (BatchNorm folded into the convolutions after each draw, bfloat16 autocast; see
            :mod:`bnnoise.nets.folding` and the book's benchmark appendix for its accuracy check).
        device: where the noisy networks are evaluated (see :data:`DEVICES`); the noise itself
            is always drawn on the CPU, so every device sees the same draws.
    """

    etas: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0)
    draws: int = 5
    eval_per_class: int | None = 100
    targets: tuple[str, ...] = TARGETS
    scale: str = "std"
    kind: str = "additive"
    seed: int = 0
    layers: str | None = None
    evaluation: str = "fp32"
    device: str = "cpu"

    def __post_init__(self) -> None:
        problems = []
        if not self.etas or any(not e > 0 for e in self.etas):
            problems.append(f"etas must be a non-empty list of positive numbers (got "
                            f"{list(self.etas)}; eta = 0 is always evaluated as the reference)")
        if self.draws < 1:
            problems.append(f"draws must be >= 1 (got {self.draws})")
        if self.eval_per_class is not None and self.eval_per_class < 1:
            problems.append(f"eval_per_class must be >= 1 or null (got {self.eval_per_class})")
        for t in self.targets:
            if t not in TARGETS:
                problems.append(f"unknown target {t!r} (valid: {', '.join(TARGETS)})")
        if self.scale not in SCALES:
            problems.append(f"unknown scale {self.scale!r} (valid: {', '.join(SCALES)})")
        if self.kind not in KINDS:
            problems.append(f"unknown kind {self.kind!r} (valid: {', '.join(KINDS)})")
        if self.evaluation not in EVALUATIONS:
            problems.append(f"unknown evaluation {self.evaluation!r} "
                            f"(valid: {', '.join(EVALUATIONS)})")
        if self.device not in DEVICES:
            problems.append(f"unknown device {self.device!r} (valid: {', '.join(DEVICES)})")
        if self.layers is not None:
            try:
                re.compile(self.layers)
            except re.error as err:
                problems.append(f"layers is not a valid regular expression ({err})")
        if problems:
            raise ValueError("invalid noise protocol: " + "; ".join(problems))

    def as_dict(self) -> dict[str, Any]:
        """The fields, as they enter artifact keys (``device`` only when not the CPU)."""
        d = asdict(self)
        d["etas"], d["targets"] = list(self.etas), list(self.targets)
        if self.device == "cpu":
            del d["device"]
        return d


@dataclass(frozen=True)
class PropagationSetup:
    """What the signal-propagation measurements run on. Every field enters the artifact key."""

    dataset: str = "cifar10"
    models: tuple[str, ...] = ("resnet56", "plain20")
    norms: tuple[str, ...] = ("bn", "ln", "gn4", "in", "none", "wn", "sws")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    batch_size: int = 64
    group_model: str = "plain20"
    group_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)

    def __post_init__(self) -> None:
        for m in (*self.models, self.group_model):
            validate_model_name(m)
        for n in self.norms:
            parse_norm(n)
        if not self.group_sizes or min(self.group_sizes) < 1:
            raise ValueError(f"group_sizes must be positive integers (got {self.group_sizes})")
        if not self.seeds or self.batch_size < 2:
            raise ValueError("propagation needs at least one seed and a batch of >= 2 images")

    def group_size_setup(self) -> PropagationSetup:
        """The same measurements on ``group_model`` with GroupNorm of every group size."""
        return replace(self, models=(self.group_model,),
                       norms=tuple(f"gn{k}" for k in self.group_sizes))

    def as_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass(frozen=True)
class ShortRunSetup:
    """What the short training runs of the theory chapters train, and how.

    The learning rate is the peak of a linear warm-up then cosine decay; at the micro batch it
    is scaled linearly with the batch size (Goyal et al., 2017), so that both batch sizes take
    the same number of epochs at a comparable noise scale.
    """

    dataset: str = "cifar10"
    model: str = "resnet20"
    train_per_class: int | None = 1000   # None: the whole training split
    test_per_class: int | None = 200     # test images per class for the per-epoch accuracy
    probe_per_class: int = 50            # held-out images per class for the channel statistics
    epochs: int = 4
    batch_size: int = 128
    lr: float = 0.1
    warmup_epochs: float = 0.5
    weight_decay: float = 5e-4
    precision: str = "bf16"
    seeds: tuple[int, ...] = (0, 1, 2)
    group_norms: tuple[str, ...] = ("in", "gn4", "gn16", "ln")
    high_lr: float = 1.0
    high_lr_epochs: int = 2
    singularity_norms: tuple[str, ...] = ("bn", "ln", "gn4", "gn4+ws", "bcn4+ws")
    micro_batch: int = 8

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; valid: {', '.join(DATASETS)}")
        if not self.seeds:
            raise ValueError("short runs need at least one seed")
        if self.micro_batch < 1 or not self.high_lr > 0 or self.high_lr_epochs < 1:
            raise ValueError("micro_batch and high_lr_epochs must be >= 1, high_lr > 0")
        for norm in (*self.group_norms, *self.singularity_norms):
            build_model(self.model, num_classes_of(self.dataset), norm)  # names and group sizes
        self.recipe(self.seeds[0])  # validates the recipe fields

    def recipe(self, seed: int, lr: float | None = None, epochs: int | None = None,
               batch_size: int | None = None) -> Recipe:
        """The training recipe of one run (no gradient clipping, so instability shows)."""
        return Recipe(epochs=epochs or self.epochs, batch_size=batch_size or self.batch_size,
                      lr=lr or self.lr, warmup_epochs=self.warmup_epochs,
                      weight_decay=self.weight_decay, grad_clip=None,
                      precision=self.precision, seed=seed)

    def updated(self, changes: dict[str, Any]) -> ShortRunSetup:
        """A copy with ``changes`` applied (lists become tuples), validated like the original;
        how a chapter applies its reader's ``short_runs`` parameter."""
        return replace(self, **{k: tuple(v) if isinstance(v, list) else v
                                for k, v in changes.items()})

    def micro_batch_lr(self) -> float:
        return self.lr * self.micro_batch / self.batch_size

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


