"""How trained weights are stored: half precision for large models and for snapshots.

A stored file must stay well under 32 MB, so models above :data:`STORE_FP32_LIMIT` bytes in
fp32 keep their conv and linear weights in half precision; epoch snapshots keep every array in half
precision. Loading turns half-precision arrays back into fp32: the stored values are the model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

STORE_FP32_LIMIT = 24_000_000
"""Models whose fp32 weights exceed this many bytes are stored with conv and linear weights in
half precision (a VGG16 has 60 MB in fp32), so every stored file stays well under 32 MB. The
rounding happens before the final evaluation: the stored weights are the model, and every number
is measured on exactly what is stored."""


def weights_in_half(model: nn.Module) -> list[str]:
    """Names of the conv and linear weights, which large models store in half precision."""
    return [f"{prefix}.weight" for prefix, module in model.named_modules()
            if isinstance(module, nn.Conv2d | nn.Linear)]


def needs_half_storage(model: nn.Module) -> bool:
    """Whether ``model``'s fp32 state exceeds :data:`STORE_FP32_LIMIT` bytes."""
    return sum(t.numel() * 4 for t in model.state_dict().values()) > STORE_FP32_LIMIT


def half_state(model: nn.Module, names: list[str] | None = None) -> dict[str, torch.Tensor]:
    """The state dict with ``names`` (default: every floating array) in half precision."""
    state = model.state_dict()
    chosen = set(state if names is None else names)
    return {k: v.half().cpu() if k in chosen and v.is_floating_point() else v.cpu().clone()
            for k, v in state.items()}


def load_state(model: nn.Module, file: Path) -> None:
    """Load a stored state into ``model``, half-precision arrays widened to fp32."""
    state = torch.load(file, weights_only=True)
    model.load_state_dict({k: v.float() if v.dtype == torch.float16 else v
                           for k, v in state.items()})
