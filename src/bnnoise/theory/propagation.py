"""Signal propagation in randomly initialised networks, layer by layer.

The quantities follow the definitions of Lubana, Dick & Tanaka (NeurIPS 2021, "Beyond
BatchNorm"), computed on one batch of images in training mode (normalizers use batch statistics):

* activation variance: per-channel variance over the batch and positions, averaged over channels;
* average cosine similarity between samples: each sample's activation flattened and scaled to unit
  length; the mean of the off-diagonal entries of their Gram matrix;
* stable rank of that Gram matrix: its trace over its largest eigenvalue;
* gradient norm: norm of the cross-entropy loss's gradient with respect to the layer's output.

Every quantity is measured at two kinds of site (:data:`SITES`): the outputs of the residual
blocks (ResNets), of the conv-norm-ReLU units (plain CNNs) or of the conv-norm pairs (VGG), where
the book reads the activations; and the outputs of the convolutions, before their normalizer,
where Lubana et al. take the gradient norm: the gradient there includes the normalizer's own
backward pass, which is what makes small groups' early-layer gradients large.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from bnnoise.nets.architectures import CifarPlain, CifarResNet, CifarVGG
from bnnoise.nets.norms import parse_norm
from bnnoise.stats import Rule, mean_ci
from bnnoise.theory.claims import Check, Checks, all_of, one_sample_check, welch_check


def probe_points(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules whose outputs count as the network's successive layers."""
    if isinstance(model, CifarResNet):
        return [(f"block{i + 1}", b) for i, b in enumerate(model.blocks)]
    if isinstance(model, CifarPlain):
        return [(f"unit{i + 1}", u) for i, u in enumerate(model.units)]
    if isinstance(model, CifarVGG):
        slots = [m for m in model.features if isinstance(m, nn.Sequential)]
        return [(f"conv{i + 1}", s) for i, s in enumerate(slots)]
    raise TypeError(f"no probe points defined for {type(model).__name__}")


def activation_variance(a: torch.Tensor) -> float:
    """Per-channel variance over batch and positions, averaged over channels."""
    return float(a.transpose(0, 1).flatten(1).var(dim=1, unbiased=False).mean())


def sample_gram(a: torch.Tensor) -> torch.Tensor:
    """Gram matrix of the samples' flattened activations, each scaled to unit length."""
    flat = a.flatten(1).double()
    unit = flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-30)
    return unit @ unit.T


def gram_statistics(gram: torch.Tensor) -> dict[str, float]:
    """Average cosine similarity (mean off-diagonal entry) and stable rank (trace over largest
    eigenvalue) of a Gram matrix of unit vectors."""
    n = gram.shape[0]
    return {"cosine_similarity": float((gram.sum() - gram.diagonal().sum()) / (n * (n - 1))),
            "stable_rank": float(gram.trace() / torch.linalg.eigvalsh(gram)[-1])}


def average_cosine_similarity(a: torch.Tensor) -> float:
    """Mean off-diagonal entry of :func:`sample_gram`."""
    return gram_statistics(sample_gram(a))["cosine_similarity"]


def stable_rank(a: torch.Tensor) -> float:
    """Trace over largest eigenvalue of :func:`sample_gram` (between 1 and the batch size)."""
    return gram_statistics(sample_gram(a))["stable_rank"]


def conv_points(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The convolution of every normalization slot (a conv followed by its normalizer), in
    forward order: where Lubana et al. take the gradient norm. The 1x1 projection shortcuts of
    ResNets are not slots and are left out."""
    convs = [m[0] for m in model.modules()
             if isinstance(m, nn.Sequential) and len(m) == 2 and isinstance(m[0], nn.Conv2d)]
    return [(f"conv{i + 1}", c) for i, c in enumerate(convs)]


SITES = ("output", "conv")
"""Where the quantities are measured: ``output`` of every block or unit (:func:`probe_points`)
and ``conv``, the output of every slot's convolution before its normalizer
(:func:`conv_points`)."""


def layer_statistics(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """One forward and backward pass in training mode; the four quantities at every site.

    Returns a table with columns site (``output`` or ``conv``, see :data:`SITES`), layer
    (1-based within its site), name, activation_variance, cosine_similarity, stable_rank,
    grad_norm (the norm of the loss gradient with respect to that tensor). The similarity
    measures need a Gram matrix per site and are read at the outputs only (NaN at ``conv``).
    """
    model.train()
    points = {"output": probe_points(model), "conv": conv_points(model)}
    outputs: dict[tuple[str, str], torch.Tensor] = {}

    def keep(key: tuple[str, str]):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            if output.requires_grad:
                output.retain_grad()
            outputs[key] = output
        return hook

    handles = [module.register_forward_hook(keep((site, name)))
               for site, named in points.items() for name, module in named]
    try:
        model.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
    finally:
        for h in handles:
            h.remove()
    rows = []
    for site, named in points.items():
        for i, (name, _) in enumerate(named):
            out = outputs[(site, name)]
            a, grad = out.detach(), out.grad
            row = {"site": site, "layer": i + 1, "name": name,
                   "activation_variance": activation_variance(a),
                   "cosine_similarity": float("nan"), "stable_rank": float("nan"),
                   "grad_norm": float(grad.norm()) if grad is not None else float("nan")}
            if site == "output":  # the similarity measures are read at the outputs only
                row.update(gram_statistics(sample_gram(a)))
            rows.append(row)
    model.zero_grad(set_to_none=True)
    return pd.DataFrame(rows)


def at_site(layers: pd.DataFrame, site: str) -> pd.DataFrame:
    """The rows of a propagation table measured at ``site`` (tables without a ``site`` column
    hold block or unit outputs only)."""
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}; valid: {', '.join(SITES)}")
    if "site" not in layers:
        return layers if site == "output" else layers.iloc[0:0]
    return layers[layers["site"] == site].reset_index(drop=True)


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
    """
    per_seed = growth_per_seed(layers)
    resnets = per_seed[per_seed["model"].str.startswith("resnet")]
    decades = Rule(unit=" decades")

    def part(model: str, init: str, norm: str, runs: pd.DataFrame, below: bool) -> Check:
        margin = np.log10(runs["depth"].to_numpy()) - np.log10(runs["growth"].to_numpy())
        bound = int(runs["depth"].iloc[0])
        side = "below" if below else "above"
        compared = (f"log10 {bound} − log10 growth" if below else
                    f"log10 growth − log10 {bound}")
        return one_sample_check(f"{norm} keeps the growth {side} {bound}x",
                                f"{model} {init} init, {norm}: {compared}",
                                margin if below else -margin, rule=decades)

    first, second = [], []
    for (model, init, norm), runs in resnets.groupby(["model", "residual_init", "norm"],
                                                     sort=False):
        if init == "default":
            first.append(part(model, init, norm, runs, parse_norm(norm).normalizes_activations))
        elif init == "zero":
            second.append(part(model, init, norm, runs, True))
    return Checks([
        all_of("with the default initialisation, activation-based normalizers keep a ResNet's "
               "activation variance from growing faster than linearly with depth; parametric "
               "normalizers and no normalization let it grow exponentially",
               "growth of the activation variance, first to last block, against the linear "
               "bound (the number of blocks), per normalizer", first, decades),
        all_of("zero-initialised residual branches keep the variance bounded for every "
               "normalizer", "the same with every residual branch starting at zero", second,
               decades)])
