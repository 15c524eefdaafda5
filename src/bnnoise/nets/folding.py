"""BatchNorm folded into the preceding convolution, for fast evaluation of noisy networks.

In evaluation mode a BatchNorm layer is an affine map per channel, so a convolution followed by it
equals one convolution with rescaled filters and a new bias (Jacob et al., 2018, section 3.2):

    scale = gamma / sqrt(running_var + eps)
    W'    = W * scale            (per output channel)
    b'    = (b - running_mean) * scale + beta

:class:`FoldedBatchNorm` keeps a folded copy of a network and recomputes the folded filters from
the source network's current values on :meth:`~FoldedBatchNorm.refresh`. The fold costs a few
element-wise operations per layer, so it can be redone after every noise draw: noise injected
into any tensor of the source (weights, BatchNorm affine or running statistics) reaches the
folded copy exactly as the unfolded computation would see it, up to floating-point rounding.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def conv_bn_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """Names of (plain ``nn.Conv2d``, ``nn.BatchNorm2d``) pairs that follow each other directly
    inside an ``nn.Sequential``. Convolutions with a reparametrised weight (WS, WN) are skipped."""
    pairs = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (conv_name, conv), (bn_name, bn) in zip(children, children[1:], strict=False):
            if type(conv) is nn.Conv2d and type(bn) is nn.BatchNorm2d:
                prefix = f"{name}." if name else ""
                pairs.append((prefix + conv_name, prefix + bn_name))
    return pairs


class FoldedBatchNorm:
    """An evaluation-only copy of ``model`` with every foldable BatchNorm folded into its
    convolution; call it like the model. ``refresh()`` after changing the source's tensors."""

    def __init__(self, model: nn.Module) -> None:
        self.source = model
        self.folded = copy.deepcopy(model).eval()
        self.pairs = conv_bn_pairs(model)
        for conv_name, bn_name in self.pairs:
            conv = self.folded.get_submodule(conv_name)
            if conv.bias is None:
                conv.bias = nn.Parameter(torch.zeros(conv.out_channels,
                                                    device=conv.weight.device))
            parent, _, child = bn_name.rpartition(".")
            setattr(self.folded.get_submodule(parent) if parent else self.folded, child,
                    nn.Identity())
        self.folded.requires_grad_(False)
        self.refresh()

    @torch.no_grad()
    def refresh(self) -> None:
        """Recompute the folded filters and biases from the source's current tensors; copy every
        other parameter and buffer over."""
        target = dict(self.folded.named_parameters()) | dict(self.folded.named_buffers())
        folded_names = set()
        for conv_name, bn_name in self.pairs:
            conv = self.source.get_submodule(conv_name)
            bn = self.source.get_submodule(bn_name)
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
            target[f"{conv_name}.weight"].copy_(conv.weight * scale.view(-1, 1, 1, 1))
            target[f"{conv_name}.bias"].copy_((bias - bn.running_mean) * scale + bn.bias)
            folded_names |= {f"{conv_name}.weight", f"{conv_name}.bias"}
        for name, tensor in (*self.source.named_parameters(), *self.source.named_buffers()):
            if name in target and name not in folded_names:
                target[name].copy_(tensor)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.folded(x)
