"""Which networks a profile trains: their names, recipes, artifact keys and snapshots.

A :class:`ModelSpec` names one network (dataset, architecture, normalization, partial
normalization, training seed, training length); :func:`grid_specs` lists the networks of a grid
of ``params.yaml`` and :func:`recipe_of` the recipe each trains with.
:mod:`bnnoise.pipeline.trained` trains or loads them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from bnnoise.config import Grid, Profile
from bnnoise.config.setups import Recipe
from bnnoise.data import num_classes_of
from bnnoise.nets.models import build_model, normalization_slots
from bnnoise.training import TRAINING_VERSION


@dataclass(frozen=True)
class ModelSpec:
    """Which network to train on which dataset, with which training seed.

    ``bn_layers`` (with ``placement`` ``"first"`` or ``"last"``) keeps the normalization in only
    that many of the network's convolution slots (see :func:`bnnoise.nets.models.build_model`).
    ``epochs`` trains that many epochs instead of the recipe's (the training-length axis), with
    the further ``recipe`` changes (field -> value pairs) of its grid; see
    :meth:`training_recipe`.
    """

    dataset: str
    model: str
    norm: str
    bn_layers: int | None = None
    placement: str = "first"
    seed: int = 0
    epochs: int | None = None
    recipe: tuple[tuple[str, Any], ...] = ()

    @property
    def slug(self) -> str:
        bn = "" if self.bn_layers is None else (
            f"-bn{self.bn_layers}" if self.placement == "first" else f"-bnlast{self.bn_layers}")
        epochs = "" if self.epochs is None else f"-ep{self.epochs}"
        seed = f"-seed{self.seed}" if self.seed else ""
        return f"{self.dataset}-{self.model}-{self.norm}{bn}{epochs}{seed}"

    def training_recipe(self, recipe: Recipe) -> Recipe:
        """``recipe`` as this network trains with it: its seed, its grid's changes and, if set,
        its number of epochs."""
        epochs = {} if self.epochs is None else {"epochs": self.epochs}
        return replace(recipe, **dict(self.recipe), **epochs, seed=self.seed)

    def build(self) -> nn.Module:
        """The untrained network (initialised from PyTorch's global generator)."""
        return build_model(self.model, num_classes_of(self.dataset), self.norm, self.bn_layers,
                           placement=self.placement)


def model_config(spec: ModelSpec, recipe: Recipe) -> dict[str, Any]:
    """Everything a trained model depends on: its artifact key.

    The recipe is :meth:`ModelSpec.training_recipe` (the spec's seed, length and grid changes);
    the placement enters only for a partial normalization, so that keys of fully normalized
    models stay as they were.
    """
    config = {"dataset": spec.dataset, "model": spec.model, "norm": spec.norm,
              "bn_layers": spec.bn_layers, "recipe": spec.training_recipe(recipe).as_dict(),
              "training_version": TRAINING_VERSION}
    if spec.bn_layers is not None:
        config["placement"] = spec.placement
    return config


def grid_specs(grid: Grid) -> list[ModelSpec]:
    """The models of a grid, dataset-major, then model, norm, partial count, placement, seed,
    training length.

    In a partial-normalization series, 0 normalized slots is the unnormalized network and all
    slots the fully normalized one (identical networks and initialisations, see the tests of
    :mod:`bnnoise.nets.models`): those two are the grid's plain ``none`` and ``norm`` models.
    """
    specs = []
    for dataset, model, norm in itertools.product(grid.datasets, grid.models, grid.norms):
        for k, placement, seed, epochs in itertools.product(
                grid.bn_layers or (None,), grid.placements, grid.seeds, grid.epochs or (None,)):
            length = {"epochs": epochs, "recipe": grid.recipe}
            if k is None or 0 < k < normalization_slots(model):
                specs.append(ModelSpec(dataset, model, norm, k, placement, seed, **length))
            else:
                specs.append(ModelSpec(dataset, model, "none" if k == 0 else norm, seed=seed,
                                       **length))
    return list(dict.fromkeys(specs))


def profile_specs(profile: Profile, grid: str = "main") -> list[ModelSpec]:
    """The models of one of the profile's grids (see :meth:`bnnoise.config.Profile.grid`)."""
    return grid_specs(profile.grid(grid))


def snapshots_for(profile: Profile, spec: ModelSpec) -> tuple[int, ...]:
    """The epochs whose weights a training of ``spec`` keeps: every ``snapshot_every`` epochs
    (before the last) if a grid that trains ``spec`` says so, else the profile's
    ``snapshot_epochs`` if one of those grids keeps snapshots, else none."""
    grids = [grid for name in profile.grid_names
             if spec in grid_specs(grid := profile.grid(name)) and grid.snapshots]
    every = [grid.snapshot_every for grid in grids if grid.snapshot_every]
    if every:
        epochs = recipe_of(profile, spec).epochs
        return tuple(range(min(every), epochs, min(every)))
    return profile.snapshot_epochs if grids else ()


def recipe_of(profile: Profile, spec: ModelSpec) -> Recipe:
    """The recipe the profile trains ``spec`` with: its recipe, the stated exceptions that
    apply to the spec's dataset, model and norm, then the spec's seed, grid changes and length
    (:meth:`ModelSpec.training_recipe`)."""
    return spec.training_recipe(profile.recipe_for(spec.dataset, spec.model, spec.norm))
