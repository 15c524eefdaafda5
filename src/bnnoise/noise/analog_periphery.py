"""The periphery of an analog tile on every forward pass: input converter (DAC), output
converter (ADC), output noise and PCM read noise, after the IO-managed analog product of aihwkit.

aihwkit's: :class:`aihwkit.simulator.tiles.analog_mvm.AnalogMVM` and its ``IOParameters``
(aihwkit 1.1's defaults of an inference tile): each input vector over its largest magnitude
(noise management ``ABS_MAX``), quantized to ``inp_res`` = 1 / (2^bits - 2) of [-1, 1];
Gaussian output noise ``out_noise``; the output quantized to ``out_res`` of [-``out_bound``,
``out_bound``] and clipped, the input halved and read again while an output saturates (bound
management ``ITERATIVE``); layers wider than ``max_input_size`` split over tiles in equal
parts (``TileModuleArray``), each with its own converters, summed digitally.

This module's: the PCM read noise of every forward pass, which aihwkit computes in its C++
simulator only (``forward.w_noise`` of type ``PCM_READ``; 0.0175 in its PCM preset): output i
gets Gaussian noise of spread ``w_noise * sqrt(sum_j |w_ij| x_j^2)`` over the tile's weights and
its scaled input, before the output noise and the ADC, as RPUCuda adds it; without a DAC, the
same output stage computed on convolutions (:func:`read_out`: two convolutions per layer, no
unfolded patches), tested against aihwkit's; the digital factor per output (the mapping's
weight scale times the drift compensation), with one scale for the whole array (or column)
where aihwkit scales each tile of a split layer by its own largest weight.

Draws come from PyTorch's global generator, as aihwkit's do;
:func:`bnnoise.noise.analog_device.device_noise` seeds it for the whole block.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Tile:
    """One array as the device holds it: ``unit`` [outputs, inputs], the conductance
    differences read at the inference time over G_max (the largest weight at 1 when
    programmed), and ``out_scale`` [outputs], the digital factor applied to each output after
    the ADC (the weight scale of the mapping times the drift compensation)."""

    unit: torch.Tensor
    out_scale: torch.Tensor


@dataclass(frozen=True)
class Periphery:
    """The converters and the noise of every forward pass, in aihwkit's names.

    Attributes:
        inp_bits, out_bits: resolution of the DAC and the ADC in bits (``None``: exact),
            aihwkit's ``inp_res`` and ``out_res`` = 1 / (2^bits - 2).
        out_noise: spread of the Gaussian output noise, in units of the normalized output.
        w_noise: spread of the PCM read noise per forward (aihwkit's ``PCM_READ`` type).
        out_bound: the ADC's range, [-out_bound, out_bound].
        max_input_size: the most inputs (crossbar rows) of one tile.
    """

    inp_bits: int | None = None
    out_bits: int | None = None
    out_noise: float = 0.0
    w_noise: float = 0.0
    out_bound: float = 12.0
    max_input_size: int = 512

    def io_parameters(self):
        """aihwkit's IOParameters of this periphery (its defaults otherwise)."""
        from aihwkit.simulator.parameters.io import IOParameters

        def resolution(bits: int | None) -> float:
            return 1.0 / (2 ** bits - 2) if bits else -1.0

        return IOParameters(inp_res=resolution(self.inp_bits), out_res=resolution(self.out_bits),
                            out_noise=self.out_noise, out_bound=self.out_bound)


@functools.cache
def _mvm(w_noise: float) -> type:
    """aihwkit's AnalogMVM with the PCM read noise of spread ``w_noise`` added to its product."""
    from aihwkit.simulator.tiles.analog_mvm import AnalogMVM

    class PCMReadMVM(AnalogMVM):
        @classmethod
        def _matmul(cls, weight: torch.Tensor, input_: torch.Tensor,
                    trans: bool = False) -> torch.Tensor:
            out = super()._matmul(weight, input_, trans)
            if w_noise > 0:
                spread = super()._matmul(weight.abs(), input_ * input_, trans).clamp(min=0)
                out = out + w_noise * spread.sqrt() * torch.randn_like(out)
            return out

    return PCMReadMVM


def split_sizes(size: int, largest: int) -> list[int]:
    """How aihwkit splits ``size`` inputs over tiles of at most ``largest``: equal parts, the
    first ones one larger where they do not divide evenly."""
    parts = -(-size // largest)
    base, extra = divmod(size, parts)
    return [base + (i < extra) for i in range(parts)]


def read_out(signal: torch.Tensor, read_variance: torch.Tensor | None,
             periphery: Periphery) -> torch.Tensor:
    """aihwkit's output stage for an exact input (no DAC): ``signal`` is the product with the
    input over its largest magnitude, ``read_variance`` (or ``None``) the product of the
    absolute weights with the squared scaled input. Adds the PCM read noise and the output
    noise (in one draw of their summed variance), quantizes and clips at the ADC, and, while
    an output saturates, halves the input and reads again (fresh noise), up to aihwkit's
    ``max_bm_factor``; returns the result times that factor, as aihwkit does before its final
    scaling."""
    io = periphery.io_parameters()
    step = 2 * io.out_bound * io.out_res
    factor = 1.0
    while True:
        out = signal / factor
        if read_variance is not None and periphery.w_noise > 0:  # both noises in one draw:
            noise = read_variance * (periphery.w_noise / factor) ** 2  # their sum is Gaussian
            noise.add_(periphery.out_noise ** 2).sqrt_()  # with the summed variances
            out.addcmul_(noise, _normal(out))
        elif periphery.out_noise > 0:
            out.add_(_normal(out), alpha=periphery.out_noise)
        if periphery.out_bits:
            out.div_(step).round_().mul_(step)
        saturated = bool(out.max() > io.out_bound) or bool(out.min() < -io.out_bound)
        out.clamp_(-io.out_bound, io.out_bound)
        if not saturated or factor > io.max_bm_factor:
            return out.mul_(factor)
        factor *= 2


def _normal(like: torch.Tensor) -> torch.Tensor:
    """Standard normal draws of ``like``'s shape, in a contiguous tensor: PyTorch fills those
    several times faster than one in another memory layout (a channels-last activation)."""
    return torch.randn(like.shape, dtype=like.dtype, device=like.device)


def _scale(magnitude: torch.Tensor) -> torch.Tensor:
    """The noise management's scale: the input's largest magnitude, 1 where it is 0."""
    return torch.where(magnitude > 0, magnitude, torch.ones_like(magnitude))


def tile_product(tile: Tile, rows: torch.Tensor, periphery: Periphery) -> torch.Tensor:
    """The analog product of ``rows`` [m, inputs] with ``tile``: [m, outputs], each input part
    of at most ``max_input_size`` on its own tile, the parts summed, times ``out_scale``.
    With a DAC, aihwkit's :class:`AnalogMVM` computes each part; without one, the input is
    exact and :func:`read_out` gives the same statistics at the cost of two products."""
    sizes = split_sizes(rows.shape[1], periphery.max_input_size)
    parts = zip(tile.unit.split(sizes, dim=1), rows.split(sizes, dim=1), strict=True)
    if periphery.inp_bits:
        mvm, io = _mvm(periphery.w_noise), periphery.io_parameters()
        out = sum(mvm.matmul(weight, part, io, is_test=True) for weight, part in parts)
    else:
        out = rows.new_zeros(rows.shape[0], tile.unit.shape[0])
        for weight, part in parts:
            magnitude = part.abs().amax(dim=1, keepdim=True)
            if not bool((magnitude > 0).any()):
                continue  # aihwkit's shortcut: an all-zero input reads as exactly 0
            scale = _scale(magnitude)
            variance = ((part * part) @ weight.abs().T).clamp(min=0) / scale ** 2 \
                if periphery.w_noise > 0 else None
            out = out + read_out(part @ weight.T / scale, variance, periphery) * scale
    return out * tile.out_scale


def _conv_product(module: nn.Conv2d, tile: Tile, x: torch.Tensor, periphery: Periphery
                  ) -> torch.Tensor | None:
    """:func:`tile_product` of every patch of ``x`` without unfolding it, for an exact input
    and tiles that split the layer between input channels: each patch's scale is a max-pool
    of the channels' largest magnitude, the products are convolutions. ``None`` where the
    tiles would split a channel's kernel (then the patches are unfolded)."""
    window = module.kernel_size[0] * module.kernel_size[1]
    sizes = split_sizes(tile.unit.shape[1], periphery.max_input_size)
    if periphery.inp_bits or any(size % window for size in sizes):
        return None
    geometry = dict(stride=module.stride, padding=module.padding, dilation=module.dilation)
    weights = tile.unit.reshape(module.weight.shape).to(x.dtype)
    out = 0
    for part, weight in zip(x.split([n // window for n in sizes], dim=1),
                            weights.split([n // window for n in sizes], dim=1), strict=True):
        magnitude = F.max_pool2d(part.abs().amax(dim=1, keepdim=True), module.kernel_size,
                                 **geometry)
        if not bool((magnitude > 0).any()):
            continue  # aihwkit's shortcut: an all-zero input reads as exactly 0
        scale = _scale(magnitude)
        variance = (F.conv2d(part * part, weight.abs(), **geometry).clamp(min=0) / scale ** 2
                    if periphery.w_noise > 0 else None)
        out = out + read_out(F.conv2d(part, weight, **geometry) / scale, variance,
                             periphery) * scale
    if isinstance(out, int):  # every part read as 0
        return F.conv2d(x, weights, **geometry) * 0
    return out * tile.out_scale.view(1, -1, 1, 1)


def analog_forward(module: nn.Module, tile: Tile, periphery: Periphery
                   ) -> Callable[[torch.Tensor], torch.Tensor]:
    """The forward pass of a convolution or linear layer on ``tile`` (its bias digital)."""
    bias = module.bias

    def linear(x: torch.Tensor) -> torch.Tensor:
        out = tile_product(tile, x.reshape(-1, x.shape[-1]), periphery)
        out = out.reshape(*x.shape[:-1], -1)
        return out if bias is None else out + bias

    def conv(x: torch.Tensor) -> torch.Tensor:
        out = _conv_product(module, tile, x, periphery)
        if out is None:
            out = _unfolded(module, tile, x, periphery)
        return out if bias is None else out + bias.view(1, -1, 1, 1)

    if isinstance(module, nn.Linear):
        return linear
    if isinstance(module, nn.Conv2d) and module.groups == 1 and module.padding_mode == "zeros" \
            and not isinstance(module.padding, str):
        return conv
    raise ValueError(f"the analog periphery maps nn.Linear and nn.Conv2d (groups 1, zero "
                     f"padding given in pixels) only, not {module}")


def _unfolded(module: nn.Conv2d, tile: Tile, x: torch.Tensor, periphery: Periphery
              ) -> torch.Tensor:
    """:func:`tile_product` of every patch of ``x``, one input vector per output position."""
    batch, (height, width) = x.shape[0], x.shape[-2:]
    patches = F.unfold(x, module.kernel_size, module.dilation, module.padding, module.stride)
    out = tile_product(tile, patches.transpose(1, 2).reshape(-1, patches.shape[1]), periphery)
    size = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(
        (height, width), module.padding, module.dilation, module.kernel_size, module.stride,
        strict=True)]
    return out.reshape(batch, -1, out.shape[-1]).transpose(1, 2).reshape(batch, -1, *size)


@contextmanager
def on_tiles(network: nn.Module, tiles: dict[str, Tile], periphery: Periphery
             ) -> Iterator[None]:
    """Run the layers of ``network`` whose weights (by state-dict name) are in ``tiles``
    through the periphery for the block, then restore their own forward passes."""
    modules = {f"{name}.weight": module for name, module in network.named_modules()}
    missing = sorted(set(tiles) - set(modules))
    if missing:
        raise ValueError(f"the analog periphery reads layer weights only, not {missing[0]}")
    patched = [modules[name] for name in tiles]
    try:
        for name, module in zip(tiles, patched, strict=True):
            module.forward = analog_forward(module, tiles[name], periphery)
        yield
    finally:
        for module in patched:
            module.__dict__.pop("forward", None)
