"""Which layers matter: noise in one layer at a time, and what predicts a layer's sensitivity.

A layer unit is a convolution with the BatchNorm that follows it (if any), or the final linear
layer. Its sensitivity is the network's average normalized accuracy over the mechanism's
``layer_etas`` with noise on that unit only (the same target sets, restricted by the protocol's
``layers`` pattern). The predictor is measured, not assumed: the relative perturbation of the
unit's output, ``||o' - o|| / ||o - mean(o)||`` over a batch of test images (``o`` the clean
output of the unit, after its BatchNorm; ``o'`` the output with the same noise draw on the unit;
the mean is per channel). With BatchNorm, noise on the running mean and variance is multiplied by
the channel's gain ``gamma / sqrt(var + eps)``; the ratio shows how much of it reaches the signal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import torch
from scipy import stats as scipy_stats
from torch import nn

from bnnoise.config import Profile
from bnnoise.config.setups import NoiseProtocol
from bnnoise.data import DataCache
from bnnoise.nets.folding import conv_bn_pairs
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import (
    PROTOCOL_VERSION,
    draw_seed,
    select_tensors,
    tensor_set_digest,
)
from bnnoise.pipeline.remedies import mechanism_runs
from bnnoise.pipeline.sweep_cells import evaluation_subset
from bnnoise.pipeline.sweeps import RUN_COLUMNS, noise_sweep, run_key
from bnnoise.pipeline.trained import TrainedModel
from bnnoise.store import ArtifactStore

LAYER_COLUMNS = [*RUN_COLUMNS, "layer", "unit", "target", "eta", "draw", "normalized_accuracy",
                 "perturbation"]


def layer_units(model: nn.Module) -> list[tuple[str, str, str]]:
    """Per unit, in forward order: its name (the convolution's), the module whose output is the
    unit's output (the BatchNorm, else the layer itself) and the pattern of its tensors."""
    paired = dict(conv_bn_pairs(model))
    units = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            members = [name, *([paired[name]] if name in paired else [])]
            pattern = "^(" + "|".join(re.escape(m) for m in members) + r")\."
            units.append((name, members[-1], pattern))
    return units


@torch.no_grad()
def _unit_output(model: nn.Module, module_name: str, images: torch.Tensor) -> torch.Tensor:
    captured = []
    handle = model.get_submodule(module_name).register_forward_hook(
        lambda _m, _i, out: captured.append(out.detach().float()))
    try:
        model.eval()(images)
    finally:
        handle.remove()
    return captured[0]


def relative_perturbation(clean: torch.Tensor, noisy: torch.Tensor) -> float:
    """``||noisy - clean|| / ||clean - mean||``, the mean taken per channel (dimension 1)."""
    dims = [d for d in range(clean.dim()) if d != 1]
    centred = clean - clean.mean(dim=dims, keepdim=True)
    return float((noisy - clean).norm() / centred.norm().clamp_min(1e-12))


def _perturbations(store: ArtifactStore, run: TrainedModel, unit: tuple[str, str, str],
                   cells: pd.DataFrame, protocol: NoiseProtocol, probe_images: int,
                   probe: Callable[[], torch.Tensor]) -> pd.DataFrame:
    """The measured output perturbation of one unit under every draw of its sweep (``target``,
    ``eta``, ``draw``, ``perturbation``), stored as an artifact so that chapters never need
    the data again; ``probe`` gives the probe images when it must be computed."""
    layer, output_module, pattern = unit
    config = {"model_key": run.key, "layers": pattern, "output": output_module,
              "protocol": protocol.as_dict(), "probe_images": probe_images,
              "protocol_version": PROTOCOL_VERSION}
    slug = f"{run.spec.slug}-{layer}"
    path = store.load("perturbations", slug, config)
    if path is None:
        images = probe()
        clean = _unit_output(run.model, output_module, images)
        rows = []
        for row in cells.itertuples():
            tensors = select_tensors(run.model, row.target, pattern)
            seed = draw_seed(protocol.seed, row.eta, row.draw, tensor_set_digest(tensors))
            with injected_noise(tensors, row.eta, seed, protocol.scale, protocol.kind):
                noisy = _unit_output(run.model, output_module, images)
            rows.append({"target": row.target, "eta": row.eta, "draw": row.draw,
                         "perturbation": relative_perturbation(clean, noisy)})
        with store.writer("perturbations", slug, config) as out:
            pd.DataFrame(rows).to_csv(out / "perturbations.csv", index=False)
        path = store.load("perturbations", slug, config)
    return pd.read_csv(path / "perturbations.csv")  # type: ignore[operator]


def layer_draws(profile: Profile, runs: list[TrainedModel]) -> pd.DataFrame:
    """Per run of the mechanism's models, layer unit, target set, eta and draw: the normalized
    accuracy with noise on that unit only, and the measured relative perturbation of the unit's
    output under the same draw (columns :data:`LAYER_COLUMNS`). Missing sweep cells and
    perturbations are computed and stored."""
    setup = profile.mechanism
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    rows = []
    for run in mechanism_runs(runs, setup.models):
        def probe(run: TrainedModel = run) -> torch.Tensor:
            images, _ = evaluation_subset(data(run.spec.dataset), setup.protocol(profile.noise))
            order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
            return images[order[:setup.probe_images]]

        identity = dict(zip(RUN_COLUMNS, run_key(run), strict=True))
        for index, unit in enumerate(layer_units(run.model)):
            protocol = setup.layer_protocol(profile.noise, unit[2])
            table = noise_sweep(store, run, protocol, data)
            cells = table[table["eta"] > 0][["target", "eta", "draw", "normalized_accuracy"]]
            measured = _perturbations(store, run, unit, cells, protocol, setup.probe_images,
                                      probe)
            merged = cells.merge(measured, on=["target", "eta", "draw"], validate="one_to_one")
            rows += [{**identity, "layer": index, "unit": unit[0], **r}
                     for r in merged.to_dict("records")]
    return pd.DataFrame(rows, columns=LAYER_COLUMNS)


def sensitivity_prediction(draws: pd.DataFrame) -> pd.DataFrame:
    """Per model, normalization, target set and eta: how well the measured output perturbation
    ranks the layers by their sensitivity (accuracy lost with noise on that layer alone):
    Spearman's rank correlation over the layers, with its p-value."""
    means = (draws.groupby([*RUN_COLUMNS, "target", "eta", "layer"], as_index=False)
             [["normalized_accuracy", "perturbation"]].mean())
    rows = []
    for key, part in means.groupby([*RUN_COLUMNS, "target", "eta"]):
        rho, p_value = scipy_stats.spearmanr(part["perturbation"],
                                             1 - part["normalized_accuracy"])
        rows.append({**dict(zip([*RUN_COLUMNS, "target", "eta"], key, strict=True)),
                     "layers": len(part), "spearman_rho": float(rho), "p_value": float(p_value)})
    return pd.DataFrame(rows)
