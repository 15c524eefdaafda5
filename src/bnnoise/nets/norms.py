"""Normalization layers, selectable by name.

A normalization name has an *activation* part and an optional *weight* part, joined by ``+``:

=============  ==============================================================================
``bn``         BatchNorm: per channel, statistics over batch and positions (Ioffe & Szegedy)
``gn<k>``      GroupNorm with groups of ``k`` channels (``gn1`` = InstanceNorm-like)
``in``         InstanceNorm: GroupNorm with one channel per group
``ln``         LayerNorm over channels and positions: GroupNorm with one group
``bcn<k>``     Batch-Channel Normalization: BatchNorm, then group normalization (groups of ``k``
               channels) with a per-group affine (Qiao et al., 2019)
``l1bn``       L1 BatchNorm: BatchNorm with a mean-absolute-deviation scale (Hoffer et al., 2018)
``topkbn``     TopK BatchNorm: BatchNorm with a mean-of-top-k scale (Hoffer et al., 2018)
``none``       no activation normalization
``ws``         Weight Standardization: each filter standardised to zero mean, unit std
``sws``        Scaled Weight Standardization (Brock et al., 2021): standardised filters times
               ``gain / sqrt(fan_in)``, with a learnable gain per filter
``wn``         Weight Normalization (Salimans & Kingma, 2016): direction times learnable norm
=============  ==============================================================================

Examples: ``"bn"``, ``"none"``, ``"gn8"``, ``"ln"``, ``"gn8+ws"``, ``"bcn8+ws"``, ``"sws"``
(= ``"none+sws"``), ``"wn"``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
from torch import nn

from bnnoise.nets.robust_bn import RobustBatchNorm2d

ACTIVATION_NORMS = ("bn", "l1bn", "topkbn", "gn<k>", "in", "ln", "bcn<k>", "none")
WEIGHT_NORMS = ("ws", "sws", "wn")
_GROUPED = re.compile(r"^(gn|bcn)(\d+)$")


def norm_help() -> str:
    """The grammar of normalization names, for error messages."""
    return (f"activation part one of {', '.join(ACTIVATION_NORMS)} (k = channels per group), "
            f"optionally '+' a weight part from {', '.join(WEIGHT_NORMS)}; "
            "or a weight part alone (e.g. 'ws')")


@dataclass(frozen=True)
class NormSpec:
    """A parsed normalization name."""

    activation: str  # "bn", "l1bn", "topkbn", "gn", "bcn", "none"
    group_size: int | None  # channels per group for gn/bcn; None: one group (ln) for gn
    weight: str | None  # "ws", "sws", "wn" or None

    @property
    def normalizes_activations(self) -> bool:
        return self.activation != "none"

    @property
    def batch_statistics(self) -> bool:
        """Whether the activation part normalizes with statistics over the batch (and so keeps
        running statistics for inference): BN, L1 BN, TopK BN and the batch part of BCN."""
        return self.activation in ("bn", "l1bn", "topkbn", "bcn")


def parse_norm(name: str) -> NormSpec:
    """Parse a normalization name; raise ``ValueError`` with the grammar if it is invalid."""
    parts = name.split("+")
    if len(parts) == 1 and parts[0] in WEIGHT_NORMS:
        parts = ["none", parts[0]]
    if len(parts) > 2 or (len(parts) == 2 and parts[1] not in WEIGHT_NORMS):
        raise ValueError(f"unknown norm {name!r}; valid: {norm_help()}")
    head, weight = parts[0], (parts[1] if len(parts) == 2 else None)
    if head in ("bn", "l1bn", "topkbn", "none"):
        return NormSpec(head, None, weight)
    if head == "in":
        return NormSpec("gn", 1, weight)
    if head == "ln":
        return NormSpec("gn", None, weight)
    match = _GROUPED.match(head)
    if match and int(match.group(2)) >= 1:
        return NormSpec(match.group(1), int(match.group(2)), weight)
    raise ValueError(f"unknown norm {name!r}; valid: {norm_help()}")


def _num_groups(channels: int, group_size: int | None) -> int:
    if group_size is None:
        return 1
    if channels % group_size:
        raise ValueError(f"group size {group_size} does not divide {channels} channels")
    return channels // group_size


class BatchChannelNorm2d(nn.Module):
    """Batch-Channel Normalization: BatchNorm per channel, then normalization over each group of
    channels (and positions) of every sample, then a learnable affine per group."""

    def __init__(self, channels: int, group_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.groups = _num_groups(channels, group_size)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.groups))
        self.bias = nn.Parameter(torch.zeros(self.groups))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = nn.functional.group_norm(self.bn(x), self.groups, eps=self.eps)
        n, c, h, w = out.shape
        out = out.reshape(n, self.groups, c // self.groups, h, w)
        out = out * self.weight.view(1, -1, 1, 1, 1) + self.bias.view(1, -1, 1, 1, 1)
        return out.reshape(n, c, h, w)


class WSConv2d(nn.Conv2d):
    """Convolution whose filters are standardised (zero mean, unit std per output filter) before
    use; ``eps`` sits inside the square root."""

    eps = 1e-5

    def standardized_weight(self) -> torch.Tensor:
        w = self.weight
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        var = w.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
        return (w - mean) / torch.sqrt(var + self.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.standardized_weight(), self.bias)


class ScaledWSConv2d(WSConv2d):
    """Scaled Weight Standardization: standardised filters times ``gain * gamma / sqrt(fan_in)``,
    where ``gamma = sqrt(2 / (1 - 1/pi))`` preserves the variance through a ReLU at
    initialisation and ``gain`` is learnable per filter."""

    relu_gamma = math.sqrt(2.0 / (1.0 - 1.0 / math.pi))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gain = nn.Parameter(torch.ones(self.out_channels, 1, 1, 1))

    def standardized_weight(self) -> torch.Tensor:
        fan_in = self.weight[0].numel()
        return super().standardized_weight() * self.gain * self.relu_gamma / math.sqrt(fan_in)


def make_conv(spec: NormSpec, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
              bias: bool) -> nn.Module:
    """A convolution with the weight part of ``spec`` applied."""
    cls = {"ws": WSConv2d, "sws": ScaledWSConv2d}.get(spec.weight or "", nn.Conv2d)
    conv = cls(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias)
    if spec.weight == "wn":
        conv = nn.utils.parametrizations.weight_norm(conv)
    return conv


def make_activation_norm(spec: NormSpec, channels: int) -> nn.Module:
    """The activation normalization of ``spec`` for ``channels`` channels (or an identity)."""
    if spec.activation == "bn":
        return nn.BatchNorm2d(channels)
    if spec.activation in ("l1bn", "topkbn"):
        return RobustBatchNorm2d(channels, spec.activation.removesuffix("bn"))
    if spec.activation == "gn":
        return nn.GroupNorm(_num_groups(channels, spec.group_size), channels)
    if spec.activation == "bcn":
        return BatchChannelNorm2d(channels, spec.group_size or channels)
    return nn.Identity()
