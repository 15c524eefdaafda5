"""BatchNorm with robust scales: L1 BatchNorm and TopK ("mean of top-k") BatchNorm.

Both centre each channel by its batch mean, like BatchNorm, but divide by another measure of the
spread than the standard deviation (Hoffer, Banner, Golan & Soudry, NeurIPS 2018; L1 also Wu et
al., IEEE TNNLS 2019). The study's authors report both more noise resistant than the usual (L2)
BatchNorm (Fagbohungbe & Qian, arXiv:2205.04886).

* L1: ``s = C * mean |x - mean|`` with ``C = sqrt(pi / 2)``, so that ``s`` equals the standard
  deviation for Gaussian inputs (the mean absolute deviation of a Gaussian is
  ``sigma * sqrt(2 / pi)``).
* TopK: ``s = mean of the k largest |x - mean| / c(n, k)``, over the ``n`` values of a channel in
  the batch, with ``k = max(1, round(n * TOPK_FRACTION))`` (the top 1 %), and ``c(n, k)`` the
  expected mean of the top ``k`` of ``n`` absolute standard normal values, approximated by the
  mean of ``|Z|`` beyond its ``1 - k / n`` quantile, ``phi(q) / (1 - Phi(q))`` with
  ``q = Phi^-1(1 - k / (2 n))``. So again ``s`` matches the standard deviation for Gaussian
  inputs.

At inference both use running averages of the batch mean and of ``s`` (buffers
``running_mean`` and ``running_scale``), updated with momentum 0.1 as in BatchNorm. A negative
noisy ``running_scale`` flips the sign of its channel rather than producing NaN: there is no
square root to collapse.
"""

from __future__ import annotations

import math

import torch
from torch import nn

L1_CONSTANT = math.sqrt(math.pi / 2)
TOPK_FRACTION = 0.01
SCALES = ("l1", "topk")


def topk_constant(n: int, k: int) -> float:
    """Approximate expected mean of the ``k`` largest of ``n`` absolute standard normal values."""
    normal = torch.distributions.Normal(0.0, 1.0)
    q = normal.icdf(torch.tensor(1.0 - k / (2.0 * n), dtype=torch.float64))
    density = torch.exp(-q * q / 2) / math.sqrt(2 * math.pi)
    return float(density / (1.0 - normal.cdf(q)))


class RobustBatchNorm2d(nn.Module):
    """BatchNorm over (batch, height, width) per channel with an L1 or TopK scale.

    Args:
        channels: number of channels.
        scale: ``"l1"`` or ``"topk"``.
        eps: added to the scale before dividing.
        momentum: weight of the current batch in the running averages.
    """

    def __init__(self, channels: int, scale: str, eps: float = 1e-5, momentum: float = 0.1
                 ) -> None:
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"unknown robust scale {scale!r}; valid: {', '.join(SCALES)}")
        self.scale, self.eps, self.momentum = scale, eps, momentum
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_scale", torch.ones(channels))

    def batch_scale(self, centred: torch.Tensor) -> torch.Tensor:
        """The per-channel scale of centred values of shape (channels, n)."""
        deviation = centred.abs()
        if self.scale == "l1":
            return L1_CONSTANT * deviation.mean(dim=1)
        n = deviation.shape[1]
        k = max(1, round(n * TOPK_FRACTION))
        return deviation.topk(k, dim=1).values.mean(dim=1) / topk_constant(n, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1, 1, 1)
        if self.training:
            flat = x.transpose(0, 1).reshape(x.shape[1], -1).float()
            mean = flat.mean(dim=1)
            scale = self.batch_scale(flat - mean[:, None])
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_scale.lerp_(scale.detach(), self.momentum)
        else:
            mean, scale = self.running_mean, self.running_scale
        out = (x - mean.view(shape).to(x.dtype)) / (scale.view(shape).to(x.dtype) + self.eps)
        return out * self.weight.view(shape) + self.bias.view(shape)
