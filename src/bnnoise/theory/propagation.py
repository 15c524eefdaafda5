"""Signal propagation at initialisation: per-seed tables and Lubana et al.'s claims.

The measurements of one network (:func:`layer_statistics`: activation variance, cosine
similarity and stable rank of the samples' Gram matrix, gradient norm, at the sites of
:data:`~bnnoise.theory.propagation_measures.SITES`) are defined in
:mod:`bnnoise.theory.propagation_measures` and importable from here too. This module reads the
tables they fill, one row per (network, seed, site, layer):

* versus the GroupNorm group size: :func:`group_size_per_seed` and :func:`group_size_summary`,
  tested by :func:`similarity_check`, :func:`rank_check` and :func:`gradient_check`;
* versus depth in ResNets: the activation variance's growth from the first to the last block
  (:func:`growth_per_seed`, :func:`growth_table`) against the linear bound,
  tested by :func:`growth_checks`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bnnoise.nets.norms import parse_norm
from bnnoise.rules import RULES
from bnnoise.stats import mean_ci
from bnnoise.theory.literature import Check, Checks, all_of, one_sample_check, welch_check
from bnnoise.theory.propagation_measures import (
    activation_variance,
    at_site,
    average_cosine_similarity,
    conv_points,
    layer_statistics,
    stable_rank,
)

__all__ = [
    "activation_variance", "at_site", "average_cosine_similarity", "conv_points",
    "gradient_check", "gradient_ratio", "group_size_per_seed", "group_size_summary",
    "growth_checks", "growth_per_seed", "growth_table", "layer_statistics", "rank_check",
    "similarity_check", "stable_rank",
]


def _last(run: pd.DataFrame, column: str) -> float:
    return float(run.sort_values("layer")[column].iloc[-1])


def gradient_ratio(run: pd.DataFrame, site: str = "conv") -> float:
    """First over last layer's gradient norm of one network at ``site`` (the convolutions'
    outputs by default; a table measured only at block or unit outputs falls back to those)."""
    rows = at_site(run, site)
    if not len(rows):
        rows = at_site(run, "output")
    grads = rows.sort_values("layer")["grad_norm"]
    return float(grads.iloc[0] / grads.iloc[-1])


def group_size_per_seed(layers: pd.DataFrame) -> pd.DataFrame:
    """Per GroupNorm group size and seed: the last layer's cosine similarity and stable rank
    (block or unit outputs) and the first-to-last gradient-norm ratio (:func:`gradient_ratio`)
    at the convolutions' outputs (``grad_ratio``) and, for comparison, at the block or unit
    outputs (``grad_ratio_outputs``).

    ``layers`` is a propagation table of ``gn<k>`` networks (see
    :meth:`PropagationSetup.group_size_setup`).
    """
    rows = []
    for (norm, seed), run in layers.groupby(["norm", "seed"], sort=False):
        outputs = at_site(run, "output")
        rows.append({"group_size": parse_norm(norm).group_size, "norm": norm, "seed": seed,
                     "cosine_similarity": _last(outputs, "cosine_similarity"),
                     "stable_rank": _last(outputs, "stable_rank"),
                     "grad_ratio": gradient_ratio(run),
                     "grad_ratio_outputs": gradient_ratio(run, "output")})
    return pd.DataFrame(rows).sort_values(["group_size", "seed"], kind="stable").reset_index(
        drop=True)


def group_size_summary(layers: pd.DataFrame) -> pd.DataFrame:
    """Per GroupNorm group size: the quantities of :func:`group_size_per_seed`, as the mean
    over seeds with its 95 % CI half-width (``<quantity>_ci95``)."""
    per_seed = group_size_per_seed(layers)
    rows = []
    for size, part in per_seed.groupby("group_size"):
        row: dict[str, float] = {"group_size": int(size), "seeds": len(part)}
        for quantity in ("cosine_similarity", "stable_rank", "grad_ratio", "grad_ratio_outputs"):
            row[quantity], row[f"{quantity}_ci95"] = mean_ci(part[quantity].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


def _extremes(per_seed: pd.DataFrame, column: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    sizes = sorted(per_seed["group_size"].unique())
    small, large = sizes[0], sizes[-1]
    sizes_of = per_seed["group_size"]
    return (int(small), int(large), per_seed.loc[sizes_of == small, column].to_numpy(),
            per_seed.loc[sizes_of == large, column].to_numpy())


def similarity_check(per_seed: pd.DataFrame) -> Check:
    """Lubana et al.: larger groups make different samples' activations more similar. Welch
    interval of the last layer's cosine similarity, largest minus smallest group size."""
    small, large, a, b = _extremes(per_seed, "cosine_similarity")
    return welch_check("larger groups make different samples' last-layer activations more "
                       "similar",
                       f"average cosine similarity between samples, groups of {large} "
                       f"channels minus groups of {small}", b, a)


def rank_check(per_seed: pd.DataFrame) -> Check:
    """The companion measure: the stable rank of the samples' Gram matrix falls with the group
    size. Welch interval of smallest minus largest group size."""
    small, large, a, b = _extremes(per_seed, "stable_rank")
    return welch_check("larger groups lower the stable rank of the samples' Gram matrix",
                       f"stable rank, groups of {small} channels minus groups of {large}", a, b)


def gradient_check(per_seed: pd.DataFrame) -> Check:
    """Lubana et al.: small groups give larger early-layer gradients. Welch interval of the
    first-to-last gradient-norm ratio, smallest minus largest group size."""
    small, large, a, b = _extremes(per_seed, "grad_ratio")
    return welch_check("small groups give larger gradients in early layers relative to late "
                       "ones",
                       f"gradient-norm ratio first / last convolution, groups of {small} "
                       f"channels minus groups of {large}", a, b)


def growth_per_seed(layers: pd.DataFrame) -> pd.DataFrame:
    """Per (model, residual init, norm, seed): the activation variance's growth from the first
    to the last block or unit output (``growth``) and the number of those layers
    (``depth``)."""
    outputs = at_site(layers, "output").sort_values("layer", kind="stable")
    keys = ["model", "residual_init", "norm", "seed"]
    grouped = outputs.groupby(keys, sort=False)["activation_variance"]
    return grouped.agg(growth=lambda v: v.iloc[-1] / v.iloc[0], depth="size").reset_index()


def _network(model: str, init: str) -> str:
    return f"{model}, {init} init" if model.startswith("resnet") else model


def growth_table(layers: pd.DataFrame) -> pd.DataFrame:
    """Per (model, residual init, norm): the growth of the activation variance from the first
    to the last layer as a geometric mean over seeds with its 95 % CI, against the linear
    bound (the number of layers, see :func:`growth_checks`): ``below`` or ``above`` it when the
    whole interval is, else ``undecided``."""
    rows = []
    for (model, init, norm), part in growth_per_seed(layers).groupby(
            ["model", "residual_init", "norm"], sort=False):
        logs = np.log10(part["growth"].to_numpy())
        mean, ci = mean_ci(logs)
        ci = ci if np.isfinite(ci) else np.nan
        bound = int(part["depth"].iloc[0])
        low, high = 10 ** (mean - ci), 10 ** (mean + ci)
        side = ("below" if high < bound else "above" if low > bound else "undecided")
        spec = parse_norm(norm)
        kind = ("activation" if spec.normalizes_activations else
                "parametric" if spec.weight else "none")
        rows.append({"network": _network(model, init), "norm": norm, "kind": kind,
                     "growth": float(10 ** mean), "ci_low": float(low), "ci_high": float(high),
                     "bound": bound, "versus_bound": side})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {n: i for i, n in enumerate(dict.fromkeys(table["network"]))}
    return table.sort_values("network", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)


def growth_checks(layers: pd.DataFrame) -> Checks:
    """Lubana et al.'s two claims about ResNets at initialisation, each part tested on the
    seeds' log10 growth against the linear bound.

    The bound: a residual block whose branch ends in an activation normalizer adds a fixed
    amount of variance to the identity path, so the variance grows at most linearly with depth
    and the last-to-first ratio stays below the number of blocks (unless the first block's
    output carries less variance than one branch adds); exponential growth exceeds it.

    * (i) with the default initialisation, activation-based normalizers keep the growth below
      the bound, every other choice (parametric or none) exceeds it;
    * (ii) with zero-initialised residual branches, every choice keeps it below the bound.

    Claim (ii) is tested for every choice measured, no normalizer (``none``) included, and its
    wording says so where ``none`` is among them: a bound that holds without a normalizer too is
    a property of the zero-initialised residual branch, not of any normalizer.
    """
    per_seed = growth_per_seed(layers)
    resnets = per_seed[per_seed["model"].str.startswith("resnet")]
    decades = RULES["propagation_growth"].rule

    def part(model: str, init: str, norm: str, runs: pd.DataFrame, below: bool) -> Check:
        margin = np.log10(runs["depth"].to_numpy()) - np.log10(runs["growth"].to_numpy())
        bound = int(runs["depth"].iloc[0])
        side = "below" if below else "above"
        compared = (f"log10 {bound} − log10 growth" if below else
                    f"log10 growth − log10 {bound}")
        return one_sample_check(f"{norm} keeps the growth {side} {bound}x",
                                f"{model} {init} init, {norm}: {compared}",
                                margin if below else -margin, rule=decades)

    first, second, zero_norms = [], [], set()
    for (model, init, norm), runs in resnets.groupby(["model", "residual_init", "norm"],
                                                     sort=False):
        if init == "default":
            first.append(part(model, init, norm, runs, parse_norm(norm).normalizes_activations))
        elif init == "zero":
            second.append(part(model, init, norm, runs, True))
            zero_norms.add(norm)
    second_claim = ("zero-initialised residual branches keep the variance bounded for every "
                    "normalizer" + (" and without one (none)" if "none" in zero_norms else ""))
    return Checks([
        all_of("with the default initialisation, activation-based normalizers keep a ResNet's "
               "activation variance from growing faster than linearly with depth; parametric "
               "normalizers and no normalization let it grow faster (Lubana et al.: exponentially;"
               " tested here: faster than the linear bound)",
               "growth of the activation variance, first to last block, against the linear "
               "bound (the number of blocks), per normalizer", first, decades),
        all_of(second_claim, "the same with every residual branch starting at zero", second,
               decades)])
