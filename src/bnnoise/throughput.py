"""Images per second of bare training steps: the trainer's ceiling on a device.

One fixed CIFAR-shaped batch, channels-last, no data pipeline and no evaluation, so that what is
timed is the network's forward and backward passes and the optimizer step alone. The benchmark
compares it with the library's trainer (what the data pipeline costs) and with ``torch.compile``;
the GPU check uses it to size the converged tier's trainings on a lent machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from bnnoise.config.setups import PRECISIONS
from bnnoise.hardware import autocast
from bnnoise.nets.models import build_model


@dataclass(frozen=True)
class StepRate:
    """What :func:`training_step_rate` measured."""

    images_per_second: float
    finite: bool
    """Whether every loss, warm-up steps included, was finite."""


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def training_step_rate(device: str = "cpu", precision: str = "bf16", *, model: str = "resnet20",
                       compiled: bool = False, steps: int = 15, warmup: int = 3,
                       batch: int = 128, seed: int = 0) -> StepRate:
    """Time ``steps`` SGD steps of ``model`` with BN (10 classes) after ``warmup`` untimed ones.

    Args:
        device: ``cpu`` or ``cuda`` (already resolved, :func:`bnnoise.hardware.resolve_device`).
        precision: ``bf16`` (bfloat16 autocast) or ``fp32``.
        model: an architecture of :func:`bnnoise.nets.models.build_model`.
        compiled: step through ``torch.compile`` (its compilation falls in the warm-up).
        steps, warmup, batch: timed steps, untimed steps before them, images per step.
        seed: seeds the weights and the batch.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if steps < 1 or warmup < 1:
        raise ValueError(f"steps and warmup must be at least 1, got {steps} and {warmup}")
    torch.manual_seed(seed)
    network = build_model(model, 10, "bn").to(device=device, memory_format=torch.channels_last)
    stepped: nn.Module = torch.compile(network) if compiled else network
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    losses = []
    for i in range(warmup + steps):
        if i == warmup:
            _synchronize(device)
            start = time.perf_counter()
        with autocast(device, precision):
            loss = nn.functional.cross_entropy(stepped(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    _synchronize(device)
    rate = batch * steps / (time.perf_counter() - start)
    return StepRate(rate, bool(torch.isfinite(torch.stack(losses)).all()))
