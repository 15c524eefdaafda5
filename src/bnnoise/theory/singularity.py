"""Channels that a ReLU switches off for every input: a proxy for elimination singularities.

Qiao et al. (2019, "Rethinking Normalization and Elimination Singularity in Neural Networks")
call a point of the training trajectory an elimination singularity when neurons become
consistently deactivated. Their distance to such points is not reproduced here; instead, on a
fixed held-out batch and with the network in evaluation mode, every ReLU's input is summarised
per channel:

* a channel is *dead* when its pre-activation is never positive, for any image and position;
* its *active share* is the fraction of its entries that are positive;
* its *standardized mean* is the mean of its pre-activation over the standard deviation; a
  channel far below zero in these units is close to being eliminated.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn


@torch.no_grad()
def relu_inputs(model: nn.Module, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """The input of every ``nn.ReLU`` module of ``model`` on ``x`` (evaluation mode, fp32),
    in the order the ReLUs run."""
    model.eval()
    seen: list[tuple[str, torch.Tensor]] = []

    def keep(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            seen.append((name, inputs[0].detach().clone()))
        return hook

    handles = [m.register_forward_pre_hook(keep(name)) for name, m in model.named_modules()
               if isinstance(m, nn.ReLU)]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def channel_statistics(model: nn.Module, x: torch.Tensor) -> pd.DataFrame:
    """Per ReLU of ``model``: how many of its channels are dead on ``x``, and how active they are.

    Returns one row per ReLU with columns layer (1-based, forward order), name, channels,
    dead_fraction, active_share (mean over channels), standardized_mean (median over channels).
    """
    rows = []
    for i, (name, a) in enumerate(relu_inputs(model, x)):
        per_channel = a.transpose(0, 1).flatten(1).float()  # (channels, images x positions)
        mean, std = per_channel.mean(1), per_channel.std(1, unbiased=False)
        rows.append({
            "layer": i + 1, "name": name, "channels": per_channel.shape[0],
            "dead_fraction": float((per_channel.amax(1) <= 0).float().mean()),
            "active_share": float((per_channel > 0).float().mean()),
            "standardized_mean": float((mean / std.clamp_min(1e-12)).median()),
        })
    return pd.DataFrame(rows)


def dead_channel_fraction(table: pd.DataFrame) -> float:
    """Share of all channels of all ReLUs that are dead, from :func:`channel_statistics`."""
    return float((table["dead_fraction"] * table["channels"]).sum() / table["channels"].sum())
