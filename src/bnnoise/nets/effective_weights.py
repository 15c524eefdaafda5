"""The network as analog hardware would hold it: every convolution with its effective weight.

Weight Standardization, Scaled WS and weight normalization compute the weight a convolution uses
from stored parameters at every forward pass (``W_eff = (W - mean) / std``, times a gain, or
``g * V / ||V||``). An analog array stores ``W_eff`` itself: noise on the hardware lands on the
effective weight, not on ``W``, ``g`` or ``V``, and no re-standardization happens after
programming. :func:`deployed` returns that network: each reparametrized convolution replaced by a
plain :class:`torch.nn.Conv2d` holding its clean effective weight and bias. For the clean weights
it computes the same function as the original (up to floating-point rounding), and the noise
target sets of :mod:`bnnoise.noise.protocol` then select the effective weights like any other
convolution weight.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import parametrize

from bnnoise.nets.norms import WSConv2d


def _effective_weight(conv: nn.Conv2d) -> torch.Tensor:
    """The weight ``conv`` convolves with, for its current parameters."""
    if isinstance(conv, WSConv2d):
        return conv.standardized_weight()
    return conv.weight  # a parametrized weight (weight norm) is computed on attribute access


def is_reparametrized(module: nn.Module) -> bool:
    """Whether ``module`` is a convolution whose weight is computed from other parameters."""
    return isinstance(module, nn.Conv2d) and (
        isinstance(module, WSConv2d) or parametrize.is_parametrized(module, "weight"))


def has_reparametrized_weights(model: nn.Module) -> bool:
    """Whether some convolution of ``model`` computes its weight (WS, Scaled WS, weight norm)."""
    return any(is_reparametrized(m) for m in model.modules())


def plain_conv(conv: nn.Conv2d) -> nn.Conv2d:
    """A plain convolution with the same geometry as ``conv`` holding its effective weight."""
    with torch.no_grad():
        weight = _effective_weight(conv).detach()
        plain = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                          stride=conv.stride, padding=conv.padding, dilation=conv.dilation,
                          groups=conv.groups, bias=conv.bias is not None,
                          padding_mode=conv.padding_mode, device=weight.device,
                          dtype=weight.dtype)
        plain.weight.copy_(weight)
        if conv.bias is not None:
            plain.bias.copy_(conv.bias)
    return plain


def deployed(model: nn.Module) -> nn.Module:
    """``model`` with every reparametrized convolution replaced by a plain one holding its
    effective weight (a copy; ``model`` is unchanged). A model without reparametrized
    convolutions is returned as it is, so its noise sweeps select the same tensors as always."""
    if not has_reparametrized_weights(model):
        return model
    copied = copy.deepcopy(model)
    targets = [name for name, m in copied.named_modules() if is_reparametrized(m)]
    for name in targets:
        parent_name, _, child = name.rpartition(".")
        parent = copied.get_submodule(parent_name) if parent_name else copied
        setattr(parent, child, plain_conv(parent.get_submodule(child)))
    return copied.train(model.training)
