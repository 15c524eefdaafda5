"""Analog noise on a trained model's arrays, following the book's reconstructed protocol.

For every selected array ("tensor") ``T`` and every draw, each element independently gets

* additive noise (default): ``T + N``, ``N ~ Normal(0, (eta * s_T)^2)``, where the reference scale
  ``s_T`` is the standard deviation of ``T``'s elements (``scale="std"``), ``max|T|``
  (``scale="max"``, the convention of IBM's aihwkit) or 1 (``scale="absolute"``: sigma = eta);
* or multiplicative noise: ``T * (1 + eta * Normal(0, 1))``.

Which arrays are noisy (the *target set*):

* ``all``: every floating-point array of the model's state, BatchNorm running mean and variance
  included (like adding noise to every array of a Keras ``model.get_weights()``);
* ``trainable``: every learnable parameter (conv/linear weights and biases, BN gamma and beta);
* ``weights``: conv and linear weights and biases only; BatchNorm stays exact ("digital").

Noise is applied in place and always undone by copying the clean values back, so the clean model
is restored bit for bit, also when evaluation raises.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

TARGETS = ("all", "trainable", "weights")
SCALES = ("std", "max", "absolute")
KINDS = ("additive", "multiplicative")
EVALUATIONS = ("fp32", "fast")
PROTOCOL_VERSION = 2
"""Bumped whenever the meaning of a noise draw changes; it enters every sweep's artifact key.

Version 2: draws are seeded by the set of noisy tensors too (independent draws for different
target sets), the test subset is defined by image content, and every draw records both scorings
of non-finite outputs and whether a BatchNorm variance went negative."""

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
            :mod:`bnnoise.folding` and the book's benchmark appendix for its accuracy check).
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
        if self.layers is not None:
            try:
                re.compile(self.layers)
            except re.error as err:
                problems.append(f"layers is not a valid regular expression ({err})")
        if problems:
            raise ValueError("invalid noise protocol: " + "; ".join(problems))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["etas"], d["targets"] = list(self.etas), list(self.targets)
        return d


def select_tensors(model: nn.Module, target: str, layers: str | None = None
                   ) -> dict[str, torch.Tensor]:
    """The live tensors of ``model`` that a target set puts noise on, by state-dict name.

    Args:
        target: one of :data:`TARGETS`.
        layers: optional regular expression on the tensor names (``re.search``).
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; valid: {', '.join(TARGETS)}")
    if target == "all":
        chosen = {k: v for k, v in model.state_dict(keep_vars=True).items()
                  if v.is_floating_point()}
    elif target == "trainable":
        chosen = {k: p for k, p in model.named_parameters() if p.requires_grad}
    else:
        chosen = {}
        for prefix, module in model.named_modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                for pname, p in module.named_parameters(recurse=False):
                    chosen[f"{prefix}.{pname}" if prefix else pname] = p
    if layers is not None:
        pattern = re.compile(layers)
        chosen = {k: v for k, v in chosen.items() if pattern.search(k)}
    return {k: v.data if isinstance(v, nn.Parameter) else v for k, v in chosen.items()}


def reference_scale(t: torch.Tensor, scale: str) -> float:
    """The reference scale ``s_T`` of a tensor: its std, its max |value|, or 1."""
    if scale == "std":
        return float(t.float().std(unbiased=False)) if t.numel() > 1 else float(t.abs().max())
    if scale == "max":
        return float(t.abs().max())
    if scale == "absolute":
        return 1.0
    raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")


def tensor_set_digest(tensors: dict[str, torch.Tensor]) -> str:
    """A short digest of which tensors (by name) a target set selects: equal for target sets
    that select the same tensors (e.g. all three sets of a network without BatchNorm)."""
    return hashlib.sha256("|".join(sorted(tensors)).encode()).hexdigest()[:16]


def draw_seed(seed: int, eta: float, draw: int, tensor_set: str = "") -> int:
    """Seed of one draw, a function of (seed, eta, draw, tensor set) only: the same eta gets the
    same noise whatever grid it belongs to, and different target sets get independent noise."""
    text = f"{seed}|{float(eta)!r}|{draw}" + (f"|{tensor_set}" if tensor_set else "")
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@contextmanager
def injected_noise(
    tensors: dict[str, torch.Tensor], eta: float, seed: int, scale: str = "std",
    kind: str = "additive",
) -> Iterator[None]:
    """Perturb ``tensors`` in place for the duration of the block, then restore them exactly.

    Noise is drawn tensor by tensor in sorted name order from a generator seeded with ``seed``.
    """
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    clean = {k: t.detach().clone() for k, t in tensors.items()}
    generator = torch.Generator().manual_seed(seed)
    try:
        with torch.no_grad():
            for name in sorted(tensors):
                t = tensors[name]
                z = torch.randn(t.shape, generator=generator, dtype=torch.float32).to(t.dtype)
                if kind == "additive":
                    t.add_(z, alpha=eta * reference_scale(clean[name], scale))
                else:
                    t.mul_(1.0 + eta * z)
        yield
    finally:
        with torch.no_grad():
            for name, t in tensors.items():
                t.copy_(clean[name])
