"""Networks by name: ``resnet<6n+2>``, ``vgg11/13/16/19`` and ``plain<depth>``, with any
normalizer (see :mod:`bnnoise.nets.norms`) in all or some of their convolution slots (see
:mod:`bnnoise.nets.architectures`), initialised, and counted.

Conventions (stated in the book's protocol page):

* ResNet v1 for CIFAR (He et al., 2016, section 4.2): a 3x3 stem convolution with 16 channels,
  three stages of ``n`` basic blocks with 16/32/64 channels, global average pooling and one linear
  layer. Where the shape changes, the shortcut is a strided 1x1 convolution with a bias and no
  normalization (the convention of the Keras ``resnet_v1`` CIFAR example), so a fully normalized
  ResNet-(6n+2) has 6n+1 BatchNorm layers.
* A convolution followed by BatchNorm has no bias; any other convolution has one.
* Without BatchNorm, the last convolution of every residual branch starts at zero, so each block
  starts as the identity (as in SkipInit/Fixup); this keeps deep unnormalized ResNets trainable.
* VGG for CIFAR: 3x3 convolution stacks with max-pooling (configurations A, B, D, E of Simonyan &
  Zisserman, 2015), then a classifier 512 -> 512 -> classes. Only convolutions get normalized.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from bnnoise.nets.architectures import VGG_LAYOUTS, CifarPlain, CifarResNet, CifarVGG, NormPlan
from bnnoise.nets.norms import BatchChannelNorm2d, ScaledWSConv2d
from bnnoise.nets.robust_bn import RobustBatchNorm2d

_RESNET_NAME = re.compile(r"^resnet(\d+)$")
_PLAIN_NAME = re.compile(r"^plain(\d+)$")


def _init_weights(model: nn.Module) -> None:
    """He (fan-out) initialisation for convolutions, zero biases; linear layers keep PyTorch's.

    Weight-normalized convolutions get the same initial weights: the direction ``v`` is drawn
    like a kernel and the norm ``g`` set to its norm.
    """
    for module in model.modules():
        if not isinstance(module, nn.Conv2d):
            continue
        if hasattr(module, "parametrizations"):
            weight = module.parametrizations.weight
            nn.init.kaiming_normal_(weight.original1, mode="fan_out", nonlinearity="relu")
            with torch.no_grad():
                weight.original0.copy_(
                    weight.original1.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt())
        else:
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def model_names() -> str:
    """Human-readable list of valid model names, for error messages."""
    return ("resnet<6n+2> (e.g. resnet8, resnet20, resnet32, resnet44, resnet56, resnet110), "
            + ", ".join(VGG_LAYOUTS) + ", plain<depth> (e.g. plain10, plain20)")


def validate_model_name(name: str) -> None:
    """Raise ``ValueError`` naming the valid choices unless ``name`` is a known model."""
    match = _RESNET_NAME.match(name)
    if name in VGG_LAYOUTS or (match and int(match.group(1)) % 6 == 2 and int(match.group(1)) > 2):
        return
    plain = _PLAIN_NAME.match(name)
    if plain and int(plain.group(1)) >= 1:
        return
    raise ValueError(f"unknown model {name!r}; valid: {model_names()}")


def normalization_slots(name: str) -> int:
    """Number of normalization slots (3x3 convolutions) of a network, without building it:
    6n + 1 for ResNet-(6n+2), one per convolution for VGG, ``depth`` for ``plain<depth>``."""
    validate_model_name(name)
    if name in VGG_LAYOUTS:
        return sum(1 for item in VGG_LAYOUTS[name] if item != "M")
    if name.startswith("plain"):
        return int(name.removeprefix("plain"))
    return int(_RESNET_NAME.match(name).group(1)) - 1  # type: ignore[union-attr]


def _zero_branch_output(slot: nn.Sequential) -> None:
    """Make a residual branch's last conv-norm slot output zero at initialisation: zero the
    normalization's scale if it has one, else the convolution's (weight norm, gain or kernel)."""
    conv, norm = slot[0], slot[1]
    if getattr(norm, "weight", None) is not None:
        nn.init.zeros_(norm.weight)
        nn.init.zeros_(norm.bias)
        return
    if isinstance(conv, ScaledWSConv2d):
        nn.init.zeros_(conv.gain)
    elif hasattr(conv, "parametrizations"):  # weight normalization: zero the norm g
        nn.init.zeros_(conv.parametrizations.weight.original0)
    else:
        nn.init.zeros_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def build_model(
    name: str, num_classes: int, norm: str = "bn", bn_layers: int | None = None,
    zero_init_residual: bool | None = None, placement: str = "first",
) -> nn.Module:
    """Build a CIFAR network by name.

    Args:
        name: ``resnet<6n+2>`` (``resnet20``, ``resnet44``, ...), ``vgg11/13/16/19`` or
            ``plain<depth>`` (a uniform width-64 stack without residual connections).
        num_classes: number of output classes.
        norm: normalization name (see :mod:`bnnoise.norms`): ``"bn"`` (BatchNorm after every
            convolution), ``"none"``, ``"gn8"``, ``"ln"``, ``"bcn8+ws"``, ...
        bn_layers: put the activation normalization after ``bn_layers`` convolutions only;
            ``None`` means after all of them.
        placement: with ``bn_layers``: the ``"first"`` or the ``"last"`` convolutions in
            forward order.
        zero_init_residual: ResNets only: start every residual branch at zero, so that each
            block starts as the identity. ``None`` (default): exactly for branches that end
            without an activation normalization.

    Initialisation draws from PyTorch's global generator: seed it first for reproducibility.
    """
    validate_model_name(name)
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    slots = normalization_slots(name)
    if bn_layers is not None and bn_layers > slots:
        raise ValueError(f"bn_layers={bn_layers} exceeds the {slots} "
                         f"normalization slots (3x3 convolutions) of {name}")
    plan = NormPlan(norm, bn_layers, placement, slots)
    if name in VGG_LAYOUTS:
        model: nn.Module = CifarVGG(VGG_LAYOUTS[name], num_classes, plan)
    elif name.startswith("plain"):
        model = CifarPlain(int(name.removeprefix("plain")), num_classes, plan)
    else:
        depth = int(_RESNET_NAME.match(name).group(1))  # type: ignore[union-attr]
        model = CifarResNet((depth - 2) // 6, num_classes, plan)
    _init_weights(model)
    if isinstance(model, CifarResNet):
        for block in model.blocks:
            unnormalized = isinstance(block.branch2[1], nn.Identity)
            if zero_init_residual or (zero_init_residual is None and unnormalized):
                _zero_branch_output(block.branch2)
    return model


@dataclass(frozen=True)
class ModelFacts:
    """Size facts reported for every trained model."""

    bn_layers: int
    norm_layers: int
    conv_layers: int
    parameters: int


def model_facts(model: nn.Module) -> ModelFacts:
    """Count BatchNorm layers, convolutions and trainable parameters of a model."""
    return ModelFacts(
        bn_layers=sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()),
        norm_layers=sum(isinstance(m, nn.modules.batchnorm._BatchNorm | nn.GroupNorm
                                   | BatchChannelNorm2d | RobustBatchNorm2d)
                        for m in model.modules()),
        conv_layers=sum(isinstance(m, nn.Conv2d) for m in model.modules()),
        parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
    )

