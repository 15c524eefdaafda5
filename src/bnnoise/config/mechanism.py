"""The parameters of the mechanism-and-remedies chapter (the ``mechanism`` entry of a profile)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from bnnoise.config.setups import NoiseProtocol
from bnnoise.nets.models import validate_model_name
from bnnoise.noise.deployments import DEPLOYMENTS, Deployment


@dataclass(frozen=True)
class MechanismSetup:
    """Which trained models the remedies are measured on, and with what noise.

    Attributes:
        models: networks of the profile's main grid; each is taken with and without BN.
        deployments: remedies that act on the noisy network (see
            :mod:`bnnoise.noise.deployments`), besides the standard deployment.
        recalibration_images: numbers of training images that recalibrate BatchNorm.
        draws: noise draws per eta (the etas are the profile's noise grid).
        targets: target sets of the remedies' sweeps.
        layer_etas: noise levels of the per-layer sensitivity map (noise in one layer at a time).
        probe_images: test images that measure each layer's output perturbation.
        train_noise: noise levels of noise-aware training (relative to each weight tensor's
            std; see :class:`bnnoise.config.setups.Recipe`), each a retraining of the models.
    """

    models: tuple[str, ...] = ("resnet20",)
    deployments: tuple[str, ...] = ("clamped", "gain", "folded")
    recalibration_images: tuple[int, ...] = (32, 128, 512, 2048)
    draws: int = 3
    targets: tuple[str, ...] = ("all", "weights")
    layer_etas: tuple[float, ...] = (0.2, 0.5)
    probe_images: int = 256
    train_noise: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if any(not t > 0 for t in self.train_noise):
            raise ValueError(f"mechanism.train_noise must be positive (got {self.train_noise})")
        for m in self.models:
            validate_model_name(m)
        for d in self.deployments:
            if d in ("standard", "recalibrated") or d not in DEPLOYMENTS:
                raise ValueError(f"unknown remedy {d!r} in mechanism.deployments; valid: "
                                 "clamped, gain, folded (recalibration: recalibration_images)")
        if any(n < 1 for n in self.recalibration_images):
            raise ValueError("recalibration_images must be positive integers")
        if self.draws < 2 or self.probe_images < 2 or not self.layer_etas:
            raise ValueError("mechanism needs draws >= 2, probe_images >= 2 and layer_etas")

    def remedies(self) -> list[Deployment]:
        """The standard deployment, then every remedy, recalibration by increasing images."""
        return [Deployment(), *(Deployment(d) for d in self.deployments),
                *(Deployment("recalibrated", n) for n in sorted(self.recalibration_images))]

    def protocol(self, noise: NoiseProtocol) -> NoiseProtocol:
        """The profile's noise protocol with this setup's draws and target sets."""
        return replace(noise, draws=self.draws, targets=self.targets)

    def layer_protocol(self, noise: NoiseProtocol, layers: str) -> NoiseProtocol:
        """The protocol of one layer's sensitivity: noise only on tensors matching ``layers``."""
        return replace(self.protocol(noise), etas=self.layer_etas, layers=layers)

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
