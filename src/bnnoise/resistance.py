"""Any trained network under the book's noise protocol, in one call: the public API.

:func:`noise_resistance` takes a trained :class:`torch.nn.Module` in evaluation mode and
normalized test images, and measures what the book measures for its own networks: per target
set and noise level, the accuracy of ``draws`` noisy copies of the network (noise drawn and
seeded exactly as the book's sweeps draw it), its normalized accuracy (over the clean network's
accuracy on the same images), the average normalized accuracy over the grid with its 95 %
interval over the draws, and, for a network with BatchNorm under target set ``all``, the exact
probability that a draw collapses a BatchNorm variance. The result's ``curve`` draws with the
book's own figure::

    from bnnoise.figures.noise_figures import noise_curves
    from bnnoise.resistance import noise_resistance

    model.eval()
    result = noise_resistance(model, images, labels, name="resnet18", etas=[0.05, 0.1, 0.2],
                              draws=5, targets=["weights"])
    result.average        # average normalized accuracy (and its interval) per target set
    noise_curves(result.curve)

Several results (a network with and without BN, say) combine with :func:`combined`. Every
check of the input happens before the first noisy evaluation, with one line naming what is
expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from bnnoise.analysis.summaries import average_normalized_accuracy, summarize_sweep
from bnnoise.config.setups import NoiseProtocol
from bnnoise.evaluation import predictions
from bnnoise.noise.collapse import collapse_table, is_collapsed
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import draw_seed, select_tensors, tensor_set_digest

KEYS = ["dataset", "model", "norm", "seed", "placement", "target"]
"""The columns that identify a curve in :class:`Resistance`'s tables, as in the book's own (so
that its claims, e.g. :func:`bnnoise.analysis.claims.bn_lowers_resistance`, and figures take
them as they are)."""


@dataclass(frozen=True)
class Resistance:
    """What :func:`noise_resistance` measured, as tidy tables in the book's columns.

    Attributes:
        draws: one row per target set, eta (0: the clean network) and draw: ``accuracy``
            (non-finite outputs scored wrong), ``accuracy_argmax`` (scored by a plain argmax),
            both also normalized (``normalized_...``), ``nonfinite_fraction`` and ``collapsed``
            (some BatchNorm variance plus epsilon went negative).
        curve: per target set, scoring and eta: mean accuracy and normalized accuracy with their
            95 % interval half-widths over the draws (``..._ci95``).
        average: per target set and scoring: the average normalized accuracy over the grid
            (eta = 0 excluded) with its 95 % interval (``low``, ``high``) over the draws.
        collapse: per eta, the exact collapse probability of a draw under target set ``all``
            (:func:`bnnoise.noise.collapse.collapse_probability`); empty for a network without
            BatchNorm running statistics or a protocol without target set ``all``.
        protocol: the noise protocol measured.
    """

    draws: pd.DataFrame
    curve: pd.DataFrame
    average: pd.DataFrame
    collapse: pd.DataFrame
    protocol: NoiseProtocol


def _has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_var is not None
               for m in model.modules())


def _checked(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
             protocol: NoiseProtocol) -> None:
    """Stop with one line on input the protocol cannot measure."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if model.training:
        raise ValueError("model is in training mode: call model.eval() first (BatchNorm would "
                         "normalize with batch statistics and overwrite its running ones)")
    if not any(isinstance(m, nn.Conv2d | nn.Linear) for m in model.modules()):
        raise ValueError("model has no Conv2d or Linear layer: the noise protocol puts noise "
                         "on their weights")
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError("images must be a float tensor of normalized images (N, C, H, W), got "
                        f"{getattr(images, 'dtype', type(images).__name__)}: normalize uint8 "
                        "images first (e.g. bnnoise.data.normalize)")
    if images.dim() != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        raise ValueError(f"labels must be a tensor of {len(images)} class indices, one per "
                         f"image, got {tuple(getattr(labels, 'shape', ()))}")
    for target in protocol.targets:  # unknown target sets stop in NoiseProtocol already
        if not select_tensors(model, target, protocol.layers):
            raise ValueError(f"target set {target!r} selects no array of this model"
                             + (f" (layers {protocol.layers!r})" if protocol.layers else ""))


FIELDS = ("etas", "draws", "targets", "scale", "kind", "seed", "layers")
"""The fields of :class:`bnnoise.config.setups.NoiseProtocol` that :func:`noise_resistance`
takes as keywords (the images are the caller's, the device the model's)."""


def _protocol(given: dict) -> NoiseProtocol:
    """The protocol of the keywords ``given``; one value where a list is expected is a list of
    one (``targets="weights"``, ``etas=0.1``)."""
    unknown = sorted(set(given) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown protocol field {unknown[0]!r}; valid: {', '.join(FIELDS)}")
    return NoiseProtocol(**{k: ((v,) if isinstance(v, str | int | float) else tuple(v))
                            if k in ("etas", "targets") else v for k, v in given.items()})


def _measured_draws(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                    protocol: NoiseProtocol) -> pd.DataFrame:
    """One row per target set, eta (0 first) and draw, seeded as the book's sweep cells."""
    rows = []
    for target in protocol.targets:
        tensors = select_tensors(model, target, protocol.layers)
        digest = tensor_set_digest(tensors)
        for eta in (0.0, *protocol.etas):
            for draw in range(protocol.draws if eta > 0 else 1):
                with injected_noise(tensors, eta, draw_seed(protocol.seed, eta, draw, digest),
                                    protocol.scale, protocol.kind):
                    collapsed = is_collapsed(model)
                    predicted, finite = predictions(model, images)
                right = predicted == labels.cpu()
                rows.append({"target": target, "eta": eta, "draw": draw,
                             "accuracy": float((right & finite).float().mean()),
                             "accuracy_argmax": float(right.float().mean()),
                             "nonfinite_fraction": float((~finite).float().mean()),
                             "collapsed": collapsed})
    return pd.DataFrame(rows)


def noise_resistance(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *,
                     name: str = "model", dataset: str = "own data",
                     norm: str | None = None, training_seed: int = 0,
                     protocol: NoiseProtocol | None = None,
                     **protocol_fields) -> Resistance:
    """Measure ``model``'s resistance to analog noise on its arrays under the book's protocol.

    Args:
        model: a trained network in evaluation mode (``model.eval()``), on any device; its
            arrays get the noise in place and are restored exactly after every draw.
        images: normalized float images, shape (N, C, H, W), as the model expects them.
        labels: the class index of every image.
        name, dataset: how the tables (and a figure legend) name the network and the data;
            give a network with and without BN the same ``name``, so that the book's claims
            pair them.
        norm: its normalization, as the book names it (``"bn"``, ``"none"``, ``"gn4"``...);
            default: ``"bn"`` when the model holds BatchNorm running statistics, else
            ``"none"``.
        training_seed: the seed of the network's training (column ``seed``).
        protocol: the noise protocol (:class:`bnnoise.config.setups.NoiseProtocol`); or its
            fields as keywords instead: ``etas``, ``draws``, ``targets``, ``scale``,
            ``kind``, ``seed``, ``layers``. Unset fields keep the book's defaults.

    Raises:
        ValueError, TypeError: one line naming the problem: an invalid protocol field (e.g. a
            negative noise level or an unknown target set), a model in training mode or
            without conv or linear layers, images that are not normalized floats, labels
            that do not match the images.
    """
    if protocol is not None and protocol_fields:
        raise ValueError("give the protocol or its fields, not both")
    protocol = protocol or _protocol(protocol_fields)
    _checked(model, images, labels, protocol)
    draws = _measured_draws(model, images, labels, protocol)
    identity = {"dataset": dataset, "model": name,
                "norm": norm or ("bn" if _has_batchnorm(model) else "none"),
                "seed": training_seed, "placement": "all"}
    draws = draws.assign(**identity)
    for scoring in ("accuracy", "accuracy_argmax"):
        clean = draws[draws["eta"] == 0].set_index("target")[scoring]
        draws[f"normalized_{scoring}"] = draws[scoring] / draws["target"].map(clean)
    collapse = (collapse_table(model, list(protocol.etas), protocol.scale, protocol.kind)
                .assign(**identity) if _has_batchnorm(model) and "all" in protocol.targets
                else pd.DataFrame(columns=["eta", "collapse_probability", *identity]))
    return from_tables(draws, collapse, protocol)


def from_tables(draws: pd.DataFrame, collapse: pd.DataFrame, protocol: NoiseProtocol
                ) -> Resistance:
    """A result from its two measured tables (``draws`` and ``collapse`` of a
    :class:`Resistance`, e.g. read back from CSV files): its curve and average are computed
    from the draws."""
    return Resistance(draws=draws, curve=summarize_sweep(draws, KEYS),
                      average=average_normalized_accuracy(draws, KEYS), collapse=collapse,
                      protocol=protocol)


def combined(*results: Resistance) -> Resistance:
    """Several results as one (e.g. a network with and without BN, for one figure); they must
    share the noise protocol, so that their curves compare."""
    if len({r.protocol for r in results}) != 1:
        raise ValueError("the results were measured under different noise protocols")
    return Resistance(*(pd.concat([getattr(r, f) for r in results], ignore_index=True)
                        for f in ("draws", "curve", "average", "collapse")),
                      protocol=results[0].protocol)
