"""Putting noise on a model's arrays for one draw, and taking it off again exactly.

For every selected array ``T`` each element independently gets additive noise
``T + Normal(0, (eta * s_T)^2)``, with ``s_T`` the reference scale of :func:`reference_scale`,
or multiplicative noise ``T * (1 + eta * Normal(0, 1))``. Noise is applied in place and always
undone by copying the clean values back, so the clean model is restored bit for bit, also when
evaluation raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from bnnoise.config.setups import KINDS, SCALES


def reference_scale(t: torch.Tensor, scale: str) -> float:
    """The reference scale ``s_T`` of a tensor: its std, its largest absolute value, or 1."""
    if scale == "std":
        return float(t.float().std(unbiased=False)) if t.numel() > 1 else float(t.abs().max())
    if scale == "max":
        return float(t.abs().max())
    if scale == "absolute":
        return 1.0
    raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")


@contextmanager
def injected_noise(
    tensors: dict[str, torch.Tensor], eta: float, seed: int, scale: str = "std",
    kind: str = "additive",
) -> Iterator[None]:
    """Perturb ``tensors`` in place for the duration of the block, then restore them exactly.

    Noise is drawn tensor by tensor in sorted name order from a CPU generator seeded with
    ``seed`` (then moved to each tensor's device): every device sees the same draws.
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
                z = torch.randn(t.shape, generator=generator, dtype=torch.float32).to(t)
                if kind == "additive":
                    t.add_(z, alpha=eta * reference_scale(clean[name], scale))
                else:
                    t.mul_(1.0 + eta * z)
        yield
    finally:
        with torch.no_grad():
            for name, t in tensors.items():
                t.copy_(clean[name])
