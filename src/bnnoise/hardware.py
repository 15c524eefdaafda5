"""What machine a result was computed on, which device runs it, and whether a precision is fast.

CPUs differ in their bfloat16 support: with AMX or AVX-512-BF16, bfloat16 autocast trains CIFAR
networks about twice as fast as fp32; without them, bfloat16 is emulated: about 2.2 times *slower*
on AVX-512 (measured for ResNet20 and VGG16 on two cores: 191 vs 420 and 33 vs 58 images/s), and
more than ten times slower on AVX2 (ResNet44 training steps on two cores: 17 vs 197 images/s).
"""

from __future__ import annotations

import platform
import warnings
from pathlib import Path

import torch

BF16_SLOWDOWN_WITHOUT_NATIVE = {"AVX512": 2.2, "AVX2": 11.6}
"""Measured fp32-to-bf16 training-time ratio on CPUs without native bfloat16, by the vector
unit PyTorch uses (:func:`vector_unit`; see above)."""


def cpu_model() -> str:
    """The CPU's model name (from ``/proc/cpuinfo`` on Linux, else :func:`platform.processor`)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX tiles or AVX-512-BF16)."""
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


DEVICE_CHOICES = ("auto", "cpu", "cuda")
"""What a profile may ask for: ``auto`` picks a CUDA GPU when one is available, else the CPU."""


def resolve_device(requested: str) -> str:
    """The device a run uses for ``requested`` (one of :data:`DEVICE_CHOICES`).

    Raises:
        ValueError: an unknown choice, or ``cuda`` on a machine without a CUDA GPU.
    """
    if requested not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {requested!r}; valid: {', '.join(DEVICE_CHOICES)}")
    available = torch.cuda.is_available()
    if requested == "cuda" and not available:
        raise ValueError("device 'cuda' requested but no CUDA GPU is available here; valid "
                         "here: auto, cpu")
    if requested == "auto":
        return "cuda" if available else "cpu"
    return requested


def autocast(device: str, precision: str) -> torch.autocast:
    """The mixed-precision context of ``precision`` on ``device``: bfloat16 autocast for
    ``bf16`` (CPU autocast on the CPU, CUDA autocast on a GPU), disabled for ``fp32``."""
    return torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16")


def device_of(model: object, default: torch.device | None = None) -> torch.device:
    """The device of a module's first parameter (``default``, else the CPU, if it has none)."""
    parameters = getattr(model, "parameters", None)
    first = next(iter(parameters()), None) if callable(parameters) else None
    return first.device if first is not None else (default or torch.device("cpu"))


def machine_record(device: str = "cpu") -> dict[str, object]:
    """The facts stored with every result: CPU model, bfloat16 capability, threads, torch, the
    device the run used (``cpu`` or ``cuda``) and, on a GPU, the GPU's name."""
    cpu = getattr(torch, "cpu", None)
    gpu = {"gpu": torch.cuda.get_device_name()} if device == "cuda" else {}
    return {
        "cpu": cpu_model(),
        "amx": bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)()),
        "avx512_bf16": bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()),
        "vector_unit": vector_unit(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device,
        **gpu,
    }


def vector_unit() -> str:
    """The widest vector instruction set PyTorch's CPU kernels use here (``AVX512``, ``AVX2``,
    ...), as :func:`torch.backends.cpu.get_cpu_capability` reports it."""
    return torch.backends.cpu.get_cpu_capability().upper()


def check_precision(precision: str, device: str = "cpu") -> None:
    """Warn when ``precision`` is known to be slow on this machine, with the expected slowdown."""
    if precision == "bf16" and device == "cpu" and not native_bf16():
        unit = vector_unit()
        slowdown = BF16_SLOWDOWN_WITHOUT_NATIVE.get(unit)
        expect = (f"expect training about {slowdown}x slower than fp32" if slowdown
                  else "expect training slower than fp32 (not measured on this vector unit)")
        warnings.warn(
            f"bfloat16 is emulated on this CPU ({cpu_model()}, {unit}: no AMX / AVX-512-BF16); "
            f"{expect}. The model's recipe fixes its precision (its artifact key holds it), so "
            "it is trained as the recipe says.", stacklevel=2)
