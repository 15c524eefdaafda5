"""A PCM-like analog device under the weights: conductance mapping, programming noise, drift and
read noise, after IBM's Analog Hardware Acceleration Kit (aihwkit).

The device statistics are aihwkit's :class:`~aihwkit.inference.noise.pcm.PCMLikeNoiseModel`,
fitted on measured phase-change memory (Nandakumar et al., ICECS 2019; used by Joshi et al.,
Nature Communications 2020, and Le Gallo et al., Nature Electronics 2023), called here on the
book's own weight tensors:

* aihwkit's: the programming noise, Gaussian with a spread that is a polynomial in G/G_max
  (conductances clipped at 0); the drift G(t) = G_prog (t / t0)^(-nu), nu drawn per device with
  a mean and spread that depend on G; the 1/f read noise accumulated up to the inference time;
  the mapping of a weight to a pair of conductances (G+ for its positive part, G- for its
  negative part, the largest weight at G_max); and the readout of its global drift
  compensation (the mean absolute output over one-hot inputs, i.e. the mean absolute weight).
* this module's: the mapping per column (each output channel's largest weight at G_max), the
  optional clipping of the weights at k standard deviations before mapping, the parameters
  validated before any compute and named in artifact keys with aihwkit's version, and one
  seeded, exactly restored draw at a time (aihwkit draws from PyTorch's global generator, so
  each draw forks it).

Every array with two or more dimensions (the convolution and linear weights, the arrays a
crossbar holds) gets the device; biases and BatchNorm stay digital and exact. Optionally the
tiles' periphery acts on every forward pass: converters, output noise and PCM read noise
(:mod:`bnnoise.noise.analog_periphery`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from bnnoise.noise.analog_periphery import Periphery, Tile, on_tiles

MAPPINGS = ("tensor", "column")
"""How the weights of one array are scaled to conductances: by the array's largest weight, or
by each output channel's (a crossbar column each)."""


@dataclass(frozen=True)
class PCMDevice:
    """The device and its deployment, in aihwkit's names and with its published defaults.

    Attributes:
        g_max: the largest conductance (µS), where the largest weight is mapped.
        t_inference: seconds since programming at which the network is read (0: just
            programmed, no drift and no accumulated read noise).
        mapping: one of :data:`MAPPINGS`.
        clip_sigmas: clip each array's weights at this many standard deviations before mapping
            (``None``: no clipping).
        prog_noise_scale, read_noise_scale, drift_scale: aihwkit's scales of the programming
            noise, the read noise and the drift coefficient (1: as measured; 0: off).
        drift_compensation: multiply each array by one scalar that restores its mean absolute
            read-out at programming (aihwkit's global drift compensation).
        inp_bits, out_bits, out_noise, w_noise, out_bound, max_input_size: the tiles'
            periphery, read on every forward pass
            (:class:`~bnnoise.noise.analog_periphery.Periphery`; all off by default: the
            weights are read exactly).
    """

    g_max: float = 25.0
    t_inference: float = 3600.0
    mapping: str = "tensor"
    clip_sigmas: float | None = None
    prog_noise_scale: float = 1.0
    read_noise_scale: float = 1.0
    drift_scale: float = 1.0
    drift_compensation: bool = True
    inp_bits: int | None = None
    out_bits: int | None = None
    out_noise: float = 0.0
    w_noise: float = 0.0
    out_bound: float = 12.0
    max_input_size: int = 512

    def __post_init__(self) -> None:
        problems = []
        if not self.g_max > 0:
            problems.append(f"g_max must be > 0 µS (got {self.g_max})")
        if not self.t_inference >= 0:
            problems.append(f"t_inference must be >= 0 seconds (got {self.t_inference})")
        if self.mapping not in MAPPINGS:
            problems.append(f"unknown mapping {self.mapping!r} (valid: {', '.join(MAPPINGS)})")
        if self.clip_sigmas is not None and not self.clip_sigmas > 0:
            problems.append(f"clip_sigmas must be > 0 or null (got {self.clip_sigmas})")
        for name in ("prog_noise_scale", "read_noise_scale", "drift_scale", "out_noise",
                     "w_noise"):
            if not getattr(self, name) >= 0:
                problems.append(f"{name} must be >= 0 (got {getattr(self, name)})")
        for name in ("inp_bits", "out_bits"):
            bits = getattr(self, name)
            if bits is not None and (not isinstance(bits, int) or not 2 <= bits <= 24):
                problems.append(f"{name} must be an integer from 2 to 24 or null (got {bits})")
        if not self.out_bound > 0:
            problems.append(f"out_bound must be > 0 (got {self.out_bound})")
        if not (isinstance(self.max_input_size, int) and self.max_input_size >= 1):
            problems.append(f"max_input_size must be an integer >= 1 (got "
                            f"{self.max_input_size})")
        if problems:
            raise ValueError("invalid device: " + "; ".join(problems))

    @property
    def periphery(self) -> Periphery | None:
        """The converters and per-forward noise of the tiles, or ``None`` when all are off
        (then the weights are read exactly, as they are after the draw)."""
        periphery = Periphery(**{f.name: getattr(self, f.name) for f in fields(Periphery)})
        on = (self.inp_bits, self.out_bits, self.out_noise or None, self.w_noise or None)
        return periphery if any(v is not None for v in on) else None

    def as_dict(self) -> dict[str, Any]:
        """The fields, with aihwkit's version, as they enter artifact keys."""
        from aihwkit import __version__

        return {**asdict(self), "aihwkit": __version__}

    def noise_model(self):
        """aihwkit's PCM model with this device's conductance range and scales."""
        from aihwkit.inference.noise.pcm import PCMLikeNoiseModel

        return PCMLikeNoiseModel(g_max=self.g_max, prog_noise_scale=self.prog_noise_scale,
                                 read_noise_scale=self.read_noise_scale,
                                 drift_scale=self.drift_scale)


@dataclass(frozen=True)
class Conductances:
    """One draw of a device at its target conductances: as programmed, the drift coefficients
    and as read at the inference time (µS)."""

    programmed: torch.Tensor
    nu: torch.Tensor
    read: torch.Tensor


def conductance_draw(target: torch.Tensor, device: PCMDevice) -> Conductances:
    """Programme ``target`` conductances (µS) and read them ``device.t_inference`` later, with
    aihwkit's model (drawing from PyTorch's global generator)."""
    model = device.noise_model()
    programmed = model.apply_programming_noise_to_conductance(target)
    nu = model.generate_drift_coefficients(target)
    read = (model.apply_drift_noise_to_conductance(programmed, nu, device.t_inference)
            if device.t_inference > 0 else programmed)
    return Conductances(programmed, nu, read)


def programme(weights: torch.Tensor, device: PCMDevice) -> Tile:
    """One draw of ``weights`` as the device holds them at ``device.t_inference``: mapped to a
    pair of conductances per weight (every column's, or the array's, largest weight at G_max),
    programmed, drifted and read; the tile's output factor carries the mapping's scale and the
    global drift compensation. Draws from PyTorch's global generator; :func:`device_noise`
    seeds it."""
    matrix = weights.detach().reshape(weights.shape[0], -1).float().cpu()
    if device.clip_sigmas is not None:
        bound = device.clip_sigmas * float(matrix.std())
        matrix = matrix.clamp(-bound, bound)
    scale = (matrix.abs().amax(dim=1, keepdim=True) if device.mapping == "column"
             else matrix.abs().max()).clamp(min=1e-12)
    unit = matrix / scale  # every column's (or the array's) largest weight at +-1: G_max
    g_plus = unit.clamp(min=0.0) * device.g_max
    g_minus = (-unit).clamp(min=0.0) * device.g_max
    plus, minus = conductance_draw(g_plus, device), conductance_draw(g_minus, device)
    read = (plus.read - minus.read) / device.g_max
    compensation = torch.ones(())
    if device.drift_compensation and device.t_inference > 0:
        programmed = (plus.programmed - minus.programmed) / device.g_max
        compensation = programmed.abs().mean() / read.abs().mean().clamp(min=1e-12)
    return Tile(read, (scale * compensation).reshape(-1).expand(read.shape[0]))


def device_weights(weights: torch.Tensor, device: PCMDevice) -> torch.Tensor:
    """The weights one draw of the device computes with when read exactly (no periphery):
    :func:`programme`'s tile times its output factor, in ``weights``' shape, dtype and place."""
    tile = programme(weights, device)
    return ((tile.unit * tile.out_scale[:, None]).reshape(weights.shape).to(weights.dtype)
            .to(weights.device))


@contextmanager
def device_noise(tensors: dict[str, torch.Tensor], device: PCMDevice, seed: int,
                 network: nn.Module | None = None) -> Iterator[None]:
    """Put every array of ``tensors`` with two or more dimensions on the device for the block
    (one draw, seeded with ``seed``; arrays in sorted name order), then restore them exactly;
    PyTorch's global generator is left as it was.

    With a periphery (:attr:`PCMDevice.periphery`) the layers of ``network`` that hold those
    arrays also compute through it on every forward pass of the block
    (:func:`bnnoise.noise.analog_periphery.on_tiles`), their fresh noise drawn from the
    generator seeded with ``seed``, so that a block is repeated exactly.

    Raises:
        ValueError: a device with a periphery but no ``network`` whose layers to run on it.
    """
    periphery = device.periphery
    if periphery is not None and network is None:
        raise ValueError("a device with converters or per-forward noise needs the network "
                         "whose layers it runs (device_noise(..., network=...))")
    clean = {k: t.detach().clone() for k, t in tensors.items()}
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            tiles = {}
            with torch.no_grad():
                for name in sorted(tensors):
                    if tensors[name].dim() >= 2:
                        tiles[name] = programme(tensors[name], device)
                        tensors[name].copy_((tiles[name].unit * tiles[name].out_scale[:, None])
                                            .reshape(tensors[name].shape))
            if periphery is None:
                yield
            else:
                with on_tiles(network, tiles, periphery):
                    yield
    finally:
        with torch.no_grad():
            for name, t in tensors.items():
                t.copy_(clean[name])


def programming_spread(g: float, device: PCMDevice) -> float:
    """The published spread (µS) of the programming noise at target conductance ``g`` (before
    clipping at 0): aihwkit's default polynomial, fitted at G_max = 25 µS and scaled to
    ``device.g_max``."""
    coefficients, reference = (0.26348, 1.9650, -1.1731), 25.0
    x = g / device.g_max
    return (device.prog_noise_scale * sum(c * x ** i for i, c in enumerate(coefficients))
            * device.g_max / reference)


def drift_moments(g: float, device: PCMDevice) -> tuple[float, float]:
    """The published mean and spread of the drift coefficient nu at conductance ``g`` (before
    aihwkit takes its absolute value)."""
    x = max(abs(g / device.g_max), 1e-7)
    mean = min(max(-0.0155 * math.log(x) + 0.0244, 0.049), 0.1)
    spread = min(max(-0.0125 * math.log(x) - 0.0059, 0.008), 0.045)
    return device.drift_scale * mean, device.drift_scale * spread
