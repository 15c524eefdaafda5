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
from scipy.special import log_ndtr, ndtr  # the Gaussian log-cdf and cdf (lighter than scipy.stats)
from torch import nn

from bnnoise.noise.injection import reference_scale
from bnnoise.stats import Estimate, binomial_interval


def _survival_log_probability(variance: np.ndarray, eps: float, eta: float, scale: float,
                              kind: str) -> float:
    if kind == "additive":
        z = (variance + eps) / (eta * scale) if scale > 0 else np.full_like(variance, np.inf)
    else:
        z = (1.0 + eps / variance) / eta
    return float(log_ndtr(z).sum())


def is_collapsed(model: nn.Module) -> bool:
    """Whether some BatchNorm running variance plus epsilon is negative (a collapse: the
    normalization takes the square root of a negative number)."""
    return any(bool((m.running_var + m.eps < 0).any()) for m in model.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_var is not None)


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
    return max(0.0, float(-np.expm1(log_survival)))


def collapse_table(model: nn.Module, etas: list[float], scale: str = "std",
                   kind: str = "additive") -> pd.DataFrame:
    """:func:`collapse_probability` at every eta: columns ``eta``, ``collapse_probability``."""
    return pd.DataFrame({"eta": [float(e) for e in etas],
                         "collapse_probability": [collapse_probability(model, e, scale, kind)
                                                  for e in etas]})


SMALL_VARIANCE_RATIO = 1e-3
"""A BatchNorm channel's running variance counts as small below this fraction of its layer's
median: such channels are the first to go negative under noise scaled by the layer's spread."""


def running_variance_table(model: nn.Module, ratio: float = SMALL_VARIANCE_RATIO
                           ) -> pd.DataFrame:
    """Per BatchNorm layer of ``model`` (in order): ``layer``, ``channels``, ``median`` running
    variance, ``smallest_to_median`` (the smallest variance over the median) and
    ``small_share``, the share of channels whose running variance lies below ``ratio`` times
    the layer's median. Empty for a network without BatchNorm."""
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_var is not None:
            var = module.running_var.detach().double().cpu().numpy()
            median = float(np.median(var))
            rows.append({"layer": name, "channels": len(var), "median": median,
                         "smallest_to_median": float(var.min()) / median if median > 0
                         else np.nan,
                         "small_share": float((var < ratio * median).mean())})
    return pd.DataFrame(rows, columns=["layer", "channels", "median", "smallest_to_median",
                                       "small_share"])


def collapse_check(draws: pd.DataFrame, probabilities: pd.DataFrame, keys: list[str]
                   ) -> pd.DataFrame:
    """Sampled collapse rates beside the exact probabilities, per (keys, eta).

    Args:
        draws: the sweep's per-draw table restricted to target ``all`` (column ``collapsed``).
        probabilities: columns ``keys``, ``eta``, ``collapse_probability``.
        keys: the columns that name a model.

    Returns one row per (keys, eta > 0): draws, collapsed draws, the sampled rate with its
    Clopper-Pearson 95 % interval, the exact probability, and whether it lies in the interval.
    """
    noisy = draws[draws["eta"] > 0]
    counts = (noisy.groupby([*keys, "eta"])["collapsed"].agg(["size", "sum"]).reset_index()
              .rename(columns={"size": "draws", "sum": "collapsed_draws"}))
    merged = counts.merge(probabilities, on=[*keys, "eta"], how="left")
    bounds = [binomial_interval(int(k), int(n))
              for k, n in zip(merged["collapsed_draws"], merged["draws"], strict=True)]
    merged["sampled_rate"] = merged["collapsed_draws"] / merged["draws"]
    merged["rate_low"] = [b[0] for b in bounds]
    merged["rate_high"] = [b[1] for b in bounds]
    merged["consistent"] = ((merged["collapse_probability"] >= merged["rate_low"] - 1e-12)
                            & (merged["collapse_probability"] <= merged["rate_high"] + 1e-12))
    return merged


def pooled_collapse_test(check: pd.DataFrame) -> tuple[float, float, float]:
    """All draws of a :func:`collapse_check` table at once: observed collapses, expected
    collapses (the sum of the exact probabilities) and the two-sided p-value of the observed
    count under the Poisson-binomial distribution of independent draws (normal approximation
    with continuity correction)."""
    p = np.repeat(check["collapse_probability"].to_numpy(), check["draws"].to_numpy())
    observed = float(check["collapsed_draws"].sum())
    expected = float(p.sum())
    sd = float(np.sqrt((p * (1 - p)).sum()))
    if sd == 0:
        return observed, expected, 1.0 if observed == expected else 0.0
    z = (abs(observed - expected) - 0.5) / sd
    return observed, expected, float(min(1.0, 2 * ndtr(-max(z, 0.0))))


def collapse_adjusted_average(draws: pd.DataFrame, probabilities: pd.DataFrame,
                              scoring_column: str = "accuracy") -> Estimate:
    """Average normalized accuracy of one model under target ``all``, from the exact collapse
    probability instead of the sampled collapse rate.

    Per eta, the expected accuracy is ``p * a_c + (1 - p) * m``, with ``p`` the exact collapse
    probability, ``a_c`` the accuracy of a collapsed draw (0 when non-finite outputs are scored
    wrong; the share of class-0 images under a plain argmax: taken from the collapsed draws, or
    from the clean draw's image set when none collapsed) and ``m`` the mean accuracy of the draws
    that did not collapse. Its variance is ``(1 - p)^2`` times the variance of ``m``; where fewer
    than two draws survived, ``m`` is only known to lie between 0 and the clean accuracy and
    enters as a uniform distribution over that range. The average is taken over the grid and
    divided by the clean accuracy; the interval is normal.

    Args:
        draws: one model's per-draw sweep table for target ``all`` (eta 0 included).
        probabilities: columns ``eta``, ``collapse_probability`` for that model.
        scoring_column: ``accuracy`` (non-finite scored wrong) or ``accuracy_argmax``.
    """
    clean = float(draws.loc[draws["eta"] == 0, scoring_column].iloc[0])
    p_of = dict(zip(probabilities["eta"], probabilities["collapse_probability"], strict=True))
    collapsed_acc = 0.0
    if scoring_column != "accuracy":
        collapsed = draws[draws["collapsed"].astype(bool) & (draws["eta"] > 0)]
        collapsed_acc = float(collapsed[scoring_column].mean()) if len(collapsed) else 0.0
    means, variances = [], []
    for eta, part in draws[draws["eta"] > 0].groupby("eta"):
        p = float(p_of[eta])
        survived = part.loc[~part["collapsed"].astype(bool), scoring_column].to_numpy()
        if len(survived) >= 2:
            m, var_m = float(survived.mean()), float(survived.var(ddof=1)) / len(survived)
        else:
            m, var_m = clean / 2, clean**2 / 12
        means.append(p * collapsed_acc + (1 - p) * m)
        variances.append((1 - p) ** 2 * var_m)
    k = len(means)
    estimate = float(np.mean(means)) / clean
    se = float(np.sqrt(np.sum(variances))) / k / clean
    return Estimate(estimate, se, estimate - 1.96 * se, estimate + 1.96 * se)
