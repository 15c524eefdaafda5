"""CIFAR ResNet-(6n+2) v1 and VGG networks with an injected normalization choice.

Every convolution of a network is followed by a slot for a normalization layer. Which slots hold
BatchNorm is decided by a :class:`NormPlan`, handed to the builder, so that "with BN", "without
BN" and "BN in the first k convolutions only" are one parameter of one network definition (the
idea of ``norm_layer`` in torchvision's ``resnet.py``).

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

from bnnoise.nets.norms import (
    BatchChannelNorm2d,
    ScaledWSConv2d,
    make_activation_norm,
    make_conv,
    parse_norm,
)

VGG_LAYOUTS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}

PLACEMENTS = ("first", "last")
"""Where a partial normalization (``bn_layers`` slots) sits: the first or the last slots."""

_RESNET_NAME = re.compile(r"^resnet(\d+)$")
_PLAIN_NAME = re.compile(r"^plain(\d+)$")


class NormPlan:
    """Hands out the convolution and normalization of each 3x3 convolution slot, in order.

    Args:
        norm: a normalization name (see :mod:`bnnoise.norms`), e.g. ``"bn"``, ``"none"``,
            ``"gn8+ws"``.
        bn_layers: only ``bn_layers`` slots get the activation normalization; ``None`` means
            all. Needs an activation normalization (e.g. ``"bn"``).
        placement: which slots, in the order the network builds them (the forward order):
            the ``"first"`` ``bn_layers`` ones or the ``"last"`` ones.
        total_slots: the network's number of slots (needed for ``placement="last"``).
    """

    def __init__(self, norm: str, bn_layers: int | None = None, placement: str = "first",
                 total_slots: int | None = None) -> None:
        self.spec = parse_norm(norm)
        if bn_layers is not None and (not self.spec.normalizes_activations or bn_layers < 0):
            raise ValueError("bn_layers must be a non-negative integer and needs an activation "
                             "normalization such as norm='bn'")
        if placement not in PLACEMENTS:
            raise ValueError(f"unknown placement {placement!r}; valid: {', '.join(PLACEMENTS)}")
        if placement == "last" and bn_layers is not None and total_slots is None:
            raise ValueError("placement='last' needs the network's total number of slots")
        self.first_normalized = 0
        if bn_layers is not None and placement == "last":
            self.first_normalized = max(0, (total_slots or 0) - bn_layers)
        self.bn_layers = bn_layers
        self.slots = 0

    def next_slot(self, c_in: int, c_out: int, stride: int) -> nn.Sequential:
        """Claim the next slot: a 3x3 convolution followed by its normalization (or identity)."""
        index = self.slots
        self.slots += 1
        has_norm = self.spec.normalizes_activations and (
            self.bn_layers is None
            or self.first_normalized <= index < self.first_normalized + self.bn_layers)
        conv = make_conv(self.spec, c_in, c_out, 3, stride, 1, bias=not has_norm)
        norm = make_activation_norm(self.spec, c_out) if has_norm else nn.Identity()
        return nn.Sequential(conv, norm)


class BasicBlock(nn.Module):
    """ResNet v1 basic block: conv-norm-ReLU, conv-norm, add the shortcut, ReLU.

    Every ReLU is a module of its own, so that hooks can observe each nonlinearity's input."""

    def __init__(self, plan: NormPlan, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.branch1 = plan.next_slot(c_in, c_out, stride)
        self.branch2 = plan.next_slot(c_out, c_out, 1)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=stride, bias=True)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.branch1(x))
        return self.relu2(self.branch2(out) + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) v1 for 32x32 inputs (He et al., 2016)."""

    def __init__(self, blocks_per_stage: int, num_classes: int, plan: NormPlan) -> None:
        super().__init__()
        self.stem = plan.next_slot(3, 16, 1)
        self.stem_relu = nn.ReLU()
        stages: list[nn.Module] = []
        c_in = 16
        for stage, width in enumerate((16, 32, 64)):
            for block in range(blocks_per_stage):
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(BasicBlock(plan, c_in, width, stride))
                c_in = width
        self.blocks = nn.Sequential(*stages)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem_relu(self.stem(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class CifarVGG(nn.Module):
    """VGG for 32x32 inputs: conv stacks with max-pooling, then a 512-512-classes classifier."""

    def __init__(self, layout: list[int | str], num_classes: int, plan: NormPlan) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for item in layout:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [plan.next_slot(c_in, int(item), 1), nn.ReLU(inplace=True)]
                c_in = int(item)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(512, 512), nn.ReLU(inplace=True), nn.Linear(512, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class CifarPlain(nn.Module):
    """A plain (non-residual) CNN of ``depth`` conv-norm-ReLU units of uniform width at full
    resolution, then global average pooling and a linear layer: the deep uniform-width stacks
    used to study normalization at initialisation (Lubana et al., 2021)."""

    def __init__(self, depth: int, num_classes: int, plan: NormPlan, width: int = 64) -> None:
        super().__init__()
        units: list[nn.Module] = []
        c_in = 3
        for _ in range(depth):
            units.append(nn.Sequential(plan.next_slot(c_in, width, 1), nn.ReLU()))
            c_in = width
        self.units = nn.Sequential(*units)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.units(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


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
                                   | BatchChannelNorm2d) for m in model.modules()),
        conv_layers=sum(isinstance(m, nn.Conv2d) for m in model.modules()),
        parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
    )
