"""Exact probability that weight noise collapses a BatchNorm network (target set ``all``).

Under the target set ``all`` the BatchNorm running variances get noise too. When a noisy
variance plus epsilon is negative, the normalization takes the square root of a negative number,
the channel becomes NaN and the next convolution spreads it to every output: the draw
*collapses*. For independent Gaussian noise this event has a closed form. With additive noise of
standard deviation ``eta * s`` on a variance tensor ``v`` (``s`` its reference scale) a channel
survives with probability ``Phi((v_i + eps) / (eta * s))``; with multiplicative noise
``v_i * (1 + eta * z)`` it survives with ``Phi((1 + eps / v_i) / eta)``. Channels and layers draw
independent noise, so

    P(collapse) = 1 - prod over layers and channels of P(channel survives).

No sampling is needed: the probability follows from the trained running variances alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm as gaussian
from torch import nn

from bnnoise.noise.injection import reference_scale


def _survival_log_probability(variance: np.ndarray, eps: float, eta: float, scale: float,
                              kind: str) -> float:
    if kind == "additive":
        z = (variance + eps) / (eta * scale) if scale > 0 else np.full_like(variance, np.inf)
    else:
        z = (1.0 + eps / variance) / eta
    return float(gaussian.logcdf(z).sum())


def collapse_probability(model: nn.Module, eta: float, scale: str = "std",
                         kind: str = "additive") -> float:
    """Probability that one draw of noise at level ``eta`` on every array of ``model`` (target
    set ``all``) makes some BatchNorm running variance plus epsilon negative.

    Args:
        model: a trained network; every ``BatchNorm`` with running statistics counts.
        eta: the noise level (> 0).
        scale, kind: the noise protocol's reference scale and kind
            (see :class:`bnnoise.noise.NoiseProtocol`).
    """
    if not eta > 0:
        raise ValueError(f"eta must be > 0, got {eta}")
    log_survival = 0.0
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_var is not None:
            var = module.running_var.detach()
            log_survival += _survival_log_probability(
                var.double().numpy(), module.eps, eta, reference_scale(var, scale), kind)
    return float(-np.expm1(log_survival))


def collapse_table(model: nn.Module, etas: list[float], scale: str = "std",
                   kind: str = "additive") -> pd.DataFrame:
    """:func:`collapse_probability` at every eta: columns ``eta``, ``collapse_probability``."""
    return pd.DataFrame({"eta": [float(e) for e in etas],
                         "collapse_probability": [collapse_probability(model, e, scale, kind)
                                                  for e in etas]})
