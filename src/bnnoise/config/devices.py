"""The profile's ``devices`` entry: which networks are read on the PCM-like analog device
(:mod:`bnnoise.noise.analog_device`), when after programming, and under which deployments::

    devices:
      grid: main                    # the networks swept on the device
      times: [1, 3600, 86400]       # seconds after programming
      draws: 5                      # independently programmed devices per time
      targets: [kernels]            # arrays on the device (two or more dimensions only)
      deployments: [standard, folded, recalibrated]
      recalibration_images: 256     # for ``recalibrated``
      device: {g_max: 25.0, mapping: column}   # PCMDevice fields (aihwkit's defaults otherwise)
      variants:                     # other devices, each read with BN kept digital (and no BN)
        column: {mapping: column}   # PCMDevice fields changed from ``device``
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from bnnoise.config.setups import TARGETS
from bnnoise.noise.analog_device import PCMDevice
from bnnoise.noise.deployments import Deployment

DAY, YEAR = 86_400.0, 365 * 86_400.0
TIMES = (1.0, 3_600.0, DAY, 30 * DAY, YEAR, 10 * YEAR)
"""1 s, 1 h, 1 day, 1 month, 1 year and 10 years after programming."""


@dataclass(frozen=True)
class DeviceProtocol:
    """How a device sweep is run; every field enters its cells' keys.

    Attributes:
        times: seconds after programming at which the network is read (each a cell).
        draws: independently programmed devices per time.
        eval_per_class: test images per class of the fixed stratified subset (None: all).
        targets: target sets whose arrays the device holds (only arrays of two or more
            dimensions go on it; the rest stays digital).
        seed: base seed of the draws and the test subset.
        device: the device; its ``t_inference`` is replaced by each of ``times``.
    """

    times: tuple[float, ...] = TIMES
    draws: int = 5
    eval_per_class: int | None = 100
    targets: tuple[str, ...] = ("kernels",)
    seed: int = 0
    device: PCMDevice = field(default_factory=PCMDevice)

    def __post_init__(self) -> None:
        problems = []
        if not self.times or any(not (t >= 0 and math.isfinite(t)) for t in self.times):
            problems.append(f"times must be a non-empty list of seconds >= 0 (got "
                            f"{list(self.times)})")
        if self.draws < 1:
            problems.append(f"draws must be >= 1 (got {self.draws})")
        problems += [f"unknown target {t!r} (valid: {', '.join(TARGETS)})"
                     for t in self.targets if t not in TARGETS]
        if problems:
            raise ValueError("invalid device protocol: " + "; ".join(problems))

    def at(self, t: float) -> PCMDevice:
        """The device read ``t`` seconds after programming."""
        return replace(self.device, t_inference=float(t))



@dataclass(frozen=True)
class DeviceStudy:
    """The profile's device sweeps: the grid, the protocol and the deployments compared, and
    the device variants (name: the protocol with another device), each read with the standard
    deployment only: the choices of mapping and drift compensation a designer makes."""

    grid: str = "main"
    protocol: DeviceProtocol = field(default_factory=DeviceProtocol)
    deployments: tuple[Deployment, ...] = (Deployment(),)
    variants: tuple[tuple[str, DeviceProtocol], ...] = ()

    def variant_text(self) -> str:
        """Each variant with the device fields it changes, e.g. "column: mapping column";
        "none" without variants."""
        base = self.protocol.device
        return "; ".join(
            f"{name}: " + ", ".join(f"{k} {v}" for k, v in vars(p.device).items()
                                    if v != getattr(base, k))
            for name, p in self.variants) or "none"


DEFAULT_DEVICE = "default"
"""The name of the study's own device (``devices.device``) among its variants."""

ENTRIES = ("grid", "times", "draws", "eval_per_class", "targets", "seed", "deployments",
           "recalibration_images", "device", "variants")
"""The valid entries of a profile's ``devices``."""


def device_study(entry: dict[str, Any] | None, eval_per_class: int | None) -> DeviceStudy | None:
    """The profile's ``devices`` entry, validated (one line naming what is valid), or ``None``
    when the profile has none; ``eval_per_class`` defaults to the noise protocol's."""
    if not entry:
        return None
    unknown = sorted(set(entry) - set(ENTRIES))
    if unknown:
        raise ValueError(f"devices: unknown entry {', '.join(unknown)}; valid: "
                         f"{', '.join(ENTRIES)}")
    device_fields = _device_fields(entry.get("device"), "devices.device")
    images = int(entry.get("recalibration_images", 0))
    deployments = tuple(Deployment(name, images if name == "recalibrated" else 0)
                        for name in entry.get("deployments", ["standard"]))
    protocol = DeviceProtocol(
        times=tuple(float(t) for t in entry.get("times", TIMES)),
        draws=int(entry.get("draws", 5)),
        eval_per_class=entry.get("eval_per_class", eval_per_class),
        targets=tuple(entry.get("targets", ["kernels"])), seed=int(entry.get("seed", 0)),
        device=PCMDevice(**device_fields))
    variants = dict(entry.get("variants") or {})
    if DEFAULT_DEVICE in variants:
        raise ValueError(f"devices.variants: {DEFAULT_DEVICE!r} names devices.device itself")
    return DeviceStudy(str(entry.get("grid", "main")), protocol, deployments, tuple(
        (name, replace(protocol, device=PCMDevice(**{**device_fields, **_device_fields(
            changes, f"devices.variants.{name}")})))
        for name, changes in variants.items()))


def _device_fields(fields: dict[str, Any] | None, where: str) -> dict[str, Any]:
    """The PCMDevice fields of an entry, checked (one line naming the valid fields)."""
    fields = dict(fields or {})
    valid = [f for f in PCMDevice.__dataclass_fields__ if f != "t_inference"]
    bad = sorted(set(fields) - set(valid))
    if bad:
        raise ValueError(f"{where}: unknown field {', '.join(bad)}; valid: "
                         f"{', '.join(valid)} (the times are devices.times)")
    return fields
