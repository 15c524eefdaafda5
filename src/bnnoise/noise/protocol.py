"""Which arrays of a model get noise (the target sets) and how each draw is seeded.

The target sets:

* ``all``: every floating-point array of the model's state, BatchNorm running mean and variance
  included (like adding noise to every array of a Keras ``model.get_weights()``);
* ``trainable``: every learnable parameter (conv/linear weights and biases, BN gamma and beta);
* ``weights``: conv and linear weights and biases only; BatchNorm stays exact ("digital");
* ``kernels``: conv and linear weight matrices only; every bias and BatchNorm stay exact. Under
  ``weights`` the two arms differ in more than BN: the convolutions of a network without BN
  carry biases that get noise, while a BN network's shift (its bias) stays exact. ``kernels``
  treats the biases of both arms alike.

The noise itself is put on by :mod:`bnnoise.noise.injection`; the protocol's parameters are a
:class:`bnnoise.config.setups.NoiseProtocol`.
"""

from __future__ import annotations

import hashlib
import re

import torch
from torch import nn

from bnnoise.config.setups import TARGETS
from bnnoise.nets.effective_weights import has_reparametrized_weights

PROTOCOL_VERSION = 2
"""Bumped whenever the meaning of a noise draw changes; it enters every sweep's artifact key.

Version 2: draws are seeded by the set of noisy tensors too (independent draws for different
target sets), the test subset is defined by image content, and every draw records both scorings
of non-finite outputs and whether a BatchNorm variance went negative."""


def select_tensors(model: nn.Module, target: str, layers: str | None = None
                   ) -> dict[str, torch.Tensor]:
    """The live tensors of ``model`` that a target set puts noise on, by state-dict name.

    Args:
        target: one of :data:`TARGETS`.
        layers: optional regular expression on the tensor names (``re.search``).

    Raises:
        ValueError: for an unknown target, or a model with reparametrized convolution weights
            (WS, Scaled WS, weight norm): select on :func:`bnnoise.nets.effective_weights.deployed`,
            whose convolutions hold the effective weights that hardware would store.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; valid: {', '.join(TARGETS)}")
    if has_reparametrized_weights(model):
        raise ValueError("model has reparametrized convolution weights; select noise targets "
                         "on bnnoise.nets.effective_weights.deployed(model)")
    if target == "all":
        chosen = {k: v for k, v in model.state_dict(keep_vars=True).items()
                  if v.is_floating_point()}
    elif target == "trainable":
        chosen = {k: p for k, p in model.named_parameters() if p.requires_grad}
    else:
        chosen = {}
        for prefix, module in model.named_modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                for pname, p in module.named_parameters(recurse=False):
                    if target == "weights" or pname == "weight":
                        chosen[f"{prefix}.{pname}" if prefix else pname] = p
    if layers is not None:
        pattern = re.compile(layers)
        chosen = {k: v for k, v in chosen.items() if pattern.search(k)}
    return {k: v.data if isinstance(v, nn.Parameter) else v for k, v in chosen.items()}


def tensor_set_digest(tensors: dict[str, torch.Tensor]) -> str:
    """A short digest of which tensors (by name) a target set selects: equal for target sets
    that select the same tensors (e.g. all three sets of a network without BatchNorm)."""
    return hashlib.sha256("|".join(sorted(tensors)).encode()).hexdigest()[:16]


def draw_seed(seed: int, eta: float, draw: int, tensor_set: str = "") -> int:
    """Seed of one draw, a function of (seed, eta, draw, tensor set) only: the same eta gets the
    same noise whatever grid it belongs to, and different target sets get independent noise."""
    text = f"{seed}|{float(eta)!r}|{draw}" + (f"|{tensor_set}" if tensor_set else "")
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
