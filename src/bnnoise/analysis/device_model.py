"""The PCM-like device's own statistics, measured on large samples of its draws beside the
published formulas (:func:`bnnoise.noise.analog_device.programming_spread`,
:func:`~bnnoise.noise.analog_device.drift_moments`), so that a reader can check the model the
device chapter runs before reading what it does to a network.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import torch

from bnnoise.noise.analog_device import (
    PCMDevice,
    conductance_draw,
    drift_moments,
    programming_spread,
)

FRACTIONS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""Target conductances measured, as fractions of G_max."""

T_READ, T0 = 250e-9, 20.0
"""aihwkit's read time and reference time of the PCM model (seconds)."""


def read_noise_growth(t: float, reference: float) -> float:
    """The published growth of the accumulated 1/f read noise from time ``reference`` to
    ``t`` after programming: the ratio of the square roots of log((t + t0 + t_read) /
    (2 t_read))."""
    def level(time: float) -> float:
        return math.log((time + T0 + T_READ) / (2 * T_READ))
    return math.sqrt(level(t) / level(reference))


def device_statistics(device: PCMDevice, times: tuple[float, ...],
                      fractions: tuple[float, ...] = FRACTIONS, samples: int = 100_000,
                      seed: int = 0) -> pd.DataFrame:
    """Tidy table of the device's statistics: per ``quantity`` (``programming spread``,
    ``drift mean``, ``drift spread`` at each fraction of G_max; ``read noise growth`` at each
    time, relative to the first time, at G_max / 2), the value ``measured`` on ``samples``
    draws and the ``published`` one."""
    rows = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for fraction in fractions:
            g = fraction * device.g_max
            draw = conductance_draw(torch.full((samples,), g), device)
            mean, spread = drift_moments(g, device)
            rows += [
                {"quantity": "programming spread", "x": fraction, "unit": "µS",
                 "measured": float(draw.programmed.std()),
                 "published": programming_spread(g, device)},
                {"quantity": "drift mean", "x": fraction, "unit": "",
                 "measured": float(draw.nu.mean()), "published": mean},
                {"quantity": "drift spread", "x": fraction, "unit": "",
                 "measured": float(draw.nu.std()), "published": spread}]
        g = 0.5 * device.g_max
        spreads = {}
        for t in times:  # the read noise alone: no programming noise, no drift
            at = replace(device, prog_noise_scale=0.0, drift_scale=0.0, t_inference=t)
            spreads[t] = float(conductance_draw(torch.full((samples,), g), at).read.std())
        for t in times:
            rows.append({"quantity": "read noise growth", "x": t, "unit": "",
                         "measured": spreads[t] / spreads[times[0]],
                         "published": read_noise_growth(t, times[0])})
    return pd.DataFrame(rows)
