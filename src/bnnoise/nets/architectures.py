"""The CIFAR architectures, each built from normalization slots handed out by a plan.

Every 3x3 convolution of a network is followed by a slot for a normalization layer. Which slots
hold a normalization is decided by a :class:`NormPlan` handed to the architecture, so that "with
BN", "without BN" and "BN in the first (or last) k convolutions only" are one parameter of one
network definition (the idea of ``norm_layer`` in torchvision's ``resnet.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from bnnoise.nets.norms import make_activation_norm, make_conv, parse_norm

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


