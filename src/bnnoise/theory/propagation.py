"""Signal propagation in randomly initialised networks, layer by layer.

The quantities follow the definitions of Lubana, Dick & Tanaka (NeurIPS 2021, "Beyond
BatchNorm"), computed on one batch of images in training mode (normalizers use batch statistics):

* activation variance: per-channel variance over the batch and positions, averaged over channels;
* average cosine similarity between samples: each sample's activation flattened and scaled to unit
  length; the mean of the off-diagonal entries of their Gram matrix;
* stable rank of that Gram matrix: its trace over its largest eigenvalue;
* gradient norm: norm of the cross-entropy loss's gradient with respect to the layer's output.

"Layers" are the outputs of the residual blocks (ResNets), of the conv-norm-ReLU units (plain
CNNs) or of the conv-norm pairs (VGG).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from bnnoise.nets.architectures import CifarPlain, CifarResNet, CifarVGG
from bnnoise.nets.norms import parse_norm
from bnnoise.stats import mean_ci


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


def average_cosine_similarity(a: torch.Tensor) -> float:
    """Mean off-diagonal entry of :func:`sample_gram`."""
    gram = sample_gram(a)
    n = gram.shape[0]
    return float((gram.sum() - gram.diagonal().sum()) / (n * (n - 1)))


def stable_rank(a: torch.Tensor) -> float:
    """Trace over largest eigenvalue of :func:`sample_gram` (between 1 and the batch size)."""
    gram = sample_gram(a)
    return float(gram.trace() / torch.linalg.eigvalsh(gram)[-1])


def layer_statistics(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """One forward and backward pass in training mode; the four quantities at every layer.

    Returns a table with columns layer (1-based), name, activation_variance,
    cosine_similarity, stable_rank, grad_norm.
    """
    model.train()
    points = probe_points(model)
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            output.retain_grad()
            outputs[name] = output
        return hook

    handles = [module.register_forward_hook(keep(name)) for name, module in points]
    try:
        model.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
    finally:
        for h in handles:
            h.remove()
    rows = []
    for i, (name, _) in enumerate(points):
        a = outputs[name].detach()
        grad = outputs[name].grad
        rows.append({"layer": i + 1, "name": name, "activation_variance": activation_variance(a),
                     "cosine_similarity": average_cosine_similarity(a),
                     "stable_rank": stable_rank(a),
                     "grad_norm": float(grad.norm()) if grad is not None else float("nan")})
    model.zero_grad(set_to_none=True)
    return pd.DataFrame(rows)


def group_size_summary(layers: pd.DataFrame) -> pd.DataFrame:
    """Per GroupNorm group size: the last layer's cosine similarity and stable rank, and the
    ratio of the first to the last layer's gradient norm; mean and 95 % CI over seeds.

    ``layers`` is a propagation table of ``gn<k>`` networks (see
    :meth:`PropagationSetup.group_size_setup`).
    """
    per_seed = []
    for (norm, seed), run in layers.groupby(["norm", "seed"], sort=False):
        run = run.sort_values("layer")
        per_seed.append({"group_size": parse_norm(norm).group_size, "seed": seed,
                         "cosine_similarity": run["cosine_similarity"].iloc[-1],
                         "stable_rank": run["stable_rank"].iloc[-1],
                         "grad_ratio": run["grad_norm"].iloc[0] / run["grad_norm"].iloc[-1]})
    per_seed_table = pd.DataFrame(per_seed)
    rows = []
    for size, part in per_seed_table.groupby("group_size"):
        row: dict[str, float] = {"group_size": int(size), "seeds": len(part)}
        for quantity in ("cosine_similarity", "stable_rank", "grad_ratio"):
            row[quantity], row[f"{quantity}_ci95"] = mean_ci(part[quantity].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


GROWTH_THRESHOLD = 10.0
"""A last-to-first-layer variance ratio above this counts as exponential growth."""


def growth_table(layers: pd.DataFrame) -> pd.DataFrame:
    """Per (model, residual init, norm): growth of the activation variance from the first to
    the last layer, as a geometric mean over seeds with its 95 % CI, and the verdict
    ("exponential" above :data:`GROWTH_THRESHOLD`, else "bounded")."""
    ends = (layers.sort_values("layer")
            .groupby(["model", "residual_init", "norm", "seed"], sort=False)["activation_variance"]
            .agg(lambda v: v.iloc[-1] / v.iloc[0]).rename("growth").reset_index())
    rows = []
    for (model, init, norm), part in ends.groupby(["model", "residual_init", "norm"], sort=False):
        mean, ci = mean_ci(np.log10(part["growth"].to_numpy()))
        rows.append({"model": model, "init": init, "norm": norm,
                     "activation-based": parse_norm(norm).normalizes_activations,
                     "growth (last/first)": float(10 ** mean),
                     "95 % CI": (f"{10 ** (mean - ci):.3g}-{10 ** (mean + ci):.3g}"
                                 if np.isfinite(ci) else "n/a"),
                     "verdict": "exponential" if 10 ** mean > GROWTH_THRESHOLD else "bounded"})
    order = {k: i for i, k in enumerate(dict.fromkeys(
        zip(layers["model"], layers["residual_init"], layers["norm"], strict=True)))}
    table = pd.DataFrame(rows)
    rank = [order[k] for k in zip(table["model"], table["init"], table["norm"], strict=True)]
    return table.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def propagation_claims(growth: pd.DataFrame) -> dict[str, bool]:
    """Lubana et al.'s two claims about ResNets at initialisation, checked on :func:`growth_table`:

    * ``activation_norms_bound``: with the default initialisation, every activation-based
      normalizer is "bounded" and every other choice (parametric or none) "exponential";
    * ``zero_init_bounds``: with zero-initialised residual branches, every choice is "bounded".
    """
    resnet = growth[growth["model"].str.startswith("resnet")]
    default, zero = resnet[resnet["init"] == "default"], resnet[resnet["init"] == "zero"]
    expected = default["activation-based"].map({True: "bounded", False: "exponential"})
    return {"activation_norms_bound": bool(len(default) and (default["verdict"] == expected).all()),
            "zero_init_bounds": bool(len(zero) and (zero["verdict"] == "bounded").all())}
