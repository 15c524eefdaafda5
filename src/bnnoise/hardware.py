"""What machine a result was computed on, and whether a precision is fast on it.

CPUs differ in their bfloat16 support: with AMX or AVX-512-BF16, bfloat16 autocast trains CIFAR
networks about twice as fast as fp32; without them, bfloat16 is emulated and about 2.2 times
*slower* (measured for ResNet20 and VGG16 on two AVX-512 cores: 191 vs 420 and 33 vs 58 images/s).
"""

from __future__ import annotations

import platform
import warnings
from pathlib import Path

import torch

BF16_SLOWDOWN_WITHOUT_NATIVE = 2.2
"""Measured fp32-to-bf16 training-time ratio on CPUs without native bfloat16 (see above)."""


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


def machine_record() -> dict[str, object]:
    """The facts stored with every result: CPU model, bfloat16 capability, threads, torch."""
    cpu = getattr(torch, "cpu", None)
    return {
        "cpu": cpu_model(),
        "amx": bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)()),
        "avx512_bf16": bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def check_precision(precision: str, device: str = "cpu") -> None:
    """Warn when ``precision`` is known to be slow on this machine, with the expected slowdown."""
    if precision == "bf16" and device == "cpu" and not native_bf16():
        warnings.warn(
            f"bfloat16 is emulated on this CPU ({cpu_model()}: no AMX / AVX-512-BF16); expect "
            f"training about {BF16_SLOWDOWN_WITHOUT_NATIVE}x slower than fp32. The profile keeps "
            "one precision for all its models, so results stay comparable.", stacklevel=2)
