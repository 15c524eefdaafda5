"""How a noisy BatchNorm network is realised on hardware: the remedies of the mechanism chapter.

The reproduction evaluates the network as trained: noise lands on the arrays of the trained
model and BatchNorm divides by its stored running statistics (:data:`STANDARD`). The other
deployments change one thing each:

``clamped``       after the noise, every running variance is clamped at zero: no square root of
                  a negative number, so no collapse (the variance noise itself stays).
``gain``          each BatchNorm is stored as the per-channel affine map it computes at inference,
                  ``scale = gamma / sqrt(var + eps)`` and ``shift = beta - mean * scale``; noise
                  lands on ``scale`` and ``shift`` instead of on gamma, beta, mean and variance.
``folded``        BatchNorm folded into the preceding convolution (Jacob et al., 2018): noise
                  lands on the folded weights and biases, as when BN is merged before the weights
                  are programmed into an analog array.
``recalibrated``  after the noise, the running statistics are estimated again from ``images``
                  unlabelled training images passed through the noisy network (BN recalibration);
                  the stored statistics are restored after the draw.

:func:`prepare` turns a trained model into the network the noise is put on; :func:`realised`
applies what happens after the noise, for the duration of one draw.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from bnnoise.nets.folding import FoldedBatchNorm

DEPLOYMENTS = ("standard", "clamped", "gain", "folded", "recalibrated")


@dataclass(frozen=True)
class Deployment:
    """One way of realising the noisy network (see the module docstring).

    Attributes:
        name: one of :data:`DEPLOYMENTS`.
        images: number of training images that recalibrate BatchNorm (``recalibrated`` only).
    """

    name: str = "standard"
    images: int = 0

    def __post_init__(self) -> None:
        if self.name not in DEPLOYMENTS:
            raise ValueError(f"unknown deployment {self.name!r}; valid: {', '.join(DEPLOYMENTS)}")
        if (self.name == "recalibrated") != (self.images > 0):
            raise ValueError("recalibrated takes images > 0; the other deployments take none")

    def key(self) -> dict[str, Any]:
        """Its entries in a sweep cell's key: none for the standard deployment, so that the
        reproduction's keys stay as they were."""
        if self.name == "standard":
            return {}
        return {"deployment": self.name, **({"recalibration_images": self.images}
                                            if self.images else {})}

    @property
    def label(self) -> str:
        return f"{self.name} ({self.images} images)" if self.images else self.name


STANDARD = Deployment()


class ChannelAffine(nn.Module):
    """A BatchNorm in evaluation mode, stored as the affine map it computes per channel."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        with torch.no_grad():
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            self.weight = nn.Parameter(scale.detach().clone())
            self.bias = nn.Parameter((bn.bias - bn.running_mean * scale).detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


def _replace_batchnorms(model: nn.Module) -> nn.Module:
    copied = copy.deepcopy(model)
    names = [n for n, m in copied.named_modules() if type(m) is nn.BatchNorm2d]
    for name in names:
        parent, _, child = name.rpartition(".")
        owner = copied.get_submodule(parent) if parent else copied
        setattr(owner, child, ChannelAffine(owner.get_submodule(child)))
    return copied.eval()


def prepare(model: nn.Module, deployment: Deployment) -> nn.Module:
    """The network whose arrays get the noise under ``deployment`` (``model`` itself for the
    deployments that act after the noise; a transformed copy for ``gain`` and ``folded``)."""
    if deployment.name == "gain":
        return _replace_batchnorms(model)
    if deployment.name == "folded":
        return FoldedBatchNorm(model).folded
    return model


def _batchnorms(network: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in network.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
            and m.running_var is not None]


@torch.no_grad()
def recalibrate(network: nn.Module, images: torch.Tensor, batch_size: int = 256) -> None:
    """Estimate every BatchNorm's running statistics again from ``images`` (normalized), as the
    cumulative average over batches of ``batch_size`` (the exact mean over the images when
    their number is a multiple of it or smaller); the network is left in evaluation mode."""
    norms = _batchnorms(network)
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    network.train()
    device = next(network.parameters()).device
    for i in range(0, len(images), batch_size):
        network(images[i:i + batch_size].to(device))
    network.eval()
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum


@contextmanager
def realised(network: nn.Module, deployment: Deployment,
             calibration: torch.Tensor | None = None) -> Iterator[None]:
    """Apply what ``deployment`` does after the noise (clamp or recalibrate the BatchNorm
    statistics) for the duration of the block; the statistics are restored afterwards.

    Args:
        calibration: normalized training images, at least ``deployment.images`` of them.
    """
    if deployment.name not in ("clamped", "recalibrated"):
        yield
        return
    norms = _batchnorms(network)
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
             for m in norms]
    try:
        if deployment.name == "clamped":
            for m in norms:
                m.running_var.clamp_(min=0.0)
        else:
            if calibration is None or len(calibration) < deployment.images:
                raise ValueError(f"recalibration needs {deployment.images} images")
            recalibrate(network, calibration[:deployment.images])
        yield
    finally:
        with torch.no_grad():
            for m, (mean, var, count) in zip(norms, saved, strict=True):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)
