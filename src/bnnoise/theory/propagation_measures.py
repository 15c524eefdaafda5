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

These are the measurements of one network on one batch; the tables built from them per seed,
group size and network, and Lubana et al.'s claims tested on those tables, are in
:mod:`bnnoise.theory.propagation`.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from bnnoise.nets.architectures import CifarPlain, CifarResNet, CifarVGG


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
