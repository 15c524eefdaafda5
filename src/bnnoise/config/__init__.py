"""Profiles from ``params.yaml``, reader overrides, and validation before any compute."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from bnnoise.config.devices import DeviceStudy, device_study
from bnnoise.config.entries import (
    apply_overrides,
    checked_names,
    mechanism_setup,
    noise_readings,
    progress_noise,
    recipe_overrides,
    series_grids,
    setup_section,
)
from bnnoise.config.grids import Grid, RecipeOverride, as_tuple
from bnnoise.config.mechanism import MechanismSetup
from bnnoise.config.setups import NoiseProtocol, PropagationSetup, Recipe, ShortRunSetup
from bnnoise.hardware import resolve_device

PARAMS_FILE = "params.yaml"


def project_root(start: Path | None = None) -> Path:
    """The project directory: ``$BNNOISE_ROOT``, else the nearest parent holding ``params.yaml``."""
    if "BNNOISE_ROOT" in os.environ:
        return Path(os.environ["BNNOISE_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / PARAMS_FILE).is_file():
            return candidate
    raise FileNotFoundError(f"no {PARAMS_FILE} in {here} or its parents; set BNNOISE_ROOT")


def default_data_dir(root: Path) -> Path:
    """Where datasets are read from: ``$BNNOISE_DATA``, else ``<root>/data/datasets``."""
    return Path(os.environ.get("BNNOISE_DATA", root / "data" / "datasets"))


@dataclass(frozen=True)
class Profile:
    """A validated set of parameters for one run of the book."""

    name: str
    description: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    norms: tuple[str, ...]
    recipe: Recipe
    noise: NoiseProtocol
    propagation: PropagationSetup
    short_runs: ShortRunSetup
    root: Path
    data_dir: Path
    seeds: tuple[int, ...] = (0,)
    recipe_overrides: tuple[RecipeOverride, ...] = ()
    snapshot_epochs: tuple[int, ...] = ()
    series: tuple[tuple[str, Grid], ...] = ()
    mechanism: MechanismSetup = MechanismSetup()
    """What the mechanism-and-remedies chapter measures (the profile's ``mechanism`` entry)."""
    device: str = "cpu"
    """The resolved device (``cpu`` or ``cuda``) of the profile's training and sweeps."""
    progress_noise: NoiseProtocol | None = None
    """The lighter noise protocol that sweeps the epoch snapshots (training progress): the
    profile's ``noise`` with the changes listed under ``progress_protocol``."""
    readings_grid: str = "main"
    """The grid whose networks are swept again under each of :attr:`readings`."""
    readings: tuple[tuple[str, NoiseProtocol], ...] = ()
    """Other readings of the noise protocol (scale, kind, target sets), by name: the profile's
    ``noise`` with the changes listed under ``readings.variants``
    (:mod:`bnnoise.analysis.multiverse`)."""
    devices: DeviceStudy | None = None
    """The networks read on the PCM-like device, when and how (:mod:`bnnoise.config.devices`)."""

    def reading(self, name: str) -> NoiseProtocol:
        """A reading's noise protocol by name (:attr:`readings`)."""
        readings = dict(self.readings)
        if name not in readings:
            raise ValueError(f"unknown reading {name!r} in profile {self.name}; valid: "
                             f"{', '.join(readings) or 'none'}")
        return readings[name]

    @property
    def main_grid(self) -> Grid:
        """The reproduction's models: ``datasets`` x ``models`` x ``norms`` x ``seeds``."""
        return Grid(self.datasets, self.models, self.norms, self.seeds)

    def grid(self, name: str) -> Grid:
        """A grid by name: ``main`` or one of the profile's ``series``."""
        grids = dict((("main", self.main_grid), *self.series))
        if name not in grids:
            raise ValueError(f"unknown grid {name!r} in profile {self.name}; valid: "
                             f"{', '.join(grids)}")
        return grids[name]

    @property
    def grid_names(self) -> tuple[str, ...]:
        return ("main", *(name for name, _ in self.series))

    def recipe_for(self, dataset: str, model: str, norm: str, seed: int = 0) -> Recipe:
        """The recipe of one model: the profile's, with the overrides that apply, and ``seed``."""
        changes: dict[str, Any] = {}
        for override in self.recipe_overrides:
            if override.applies(dataset, model, norm):
                changes.update(override.changes)
        return replace(self.recipe, **changes, seed=seed)

    @property
    def store_dir(self) -> Path:
        """Root of this profile's artifact store (trained models, sweep results).

        Each profile has its own store, so that smoke runs never mix with published results.
        """
        return self.root / "data" / "artifacts" / self.name

    @property
    def results_dir(self) -> Path:
        """Where the chapters write this profile's tidy result tables (CSV):
        ``$BNNOISE_RESULTS/<profile>`` if set (chapters executed outside ``book/``), else
        ``data/results/<profile>``, the tables the book links."""
        base = os.environ.get("BNNOISE_RESULTS")
        return (Path(base) if base else self.root / "data" / "results") / self.name

    def summary(self) -> dict[str, Any]:
        """The effective configuration, for display next to results."""
        return {"profile": self.name, "datasets": list(self.datasets),
                "models": list(self.models), "norms": list(self.norms),
                "recipe": self.recipe.as_dict(), "noise": self.noise.as_dict(),
                "recipe_overrides": [o.describe() for o in self.recipe_overrides]}


def merged_overrides(named: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A chapter's named parameters and its ``overrides`` mapping as one set of overrides;
    ``None`` means "not given"."""
    merged = {k: v for k, v in named.items() if v is not None}
    for key, value in overrides.items():
        if key in merged and value is not None and merged[key] != value:
            raise ValueError(f"{key} is given twice, as {merged[key]!r} and in overrides as "
                             f"{value!r}; give it once")
        if value is not None:
            merged[key] = value
    return merged


def load_profile(name: str, root: Path | None = None,
                 overrides: dict[str, Any] | None = None, **named: Any) -> Profile:
    """Read profile ``name`` from ``params.yaml`` and apply overrides; validate everything.

    Overrides whose value is ``None`` are ignored, so a chapter can pass all of its parameters.
    A chapter passes its named parameters as keywords and its free-form ``overrides`` mapping
    as ``overrides``: a key may come from either (``-p draws 10`` or ``-p overrides "{draws:
    10}"``), and one given both ways with two different values stops with a one-line error.
    Accepted keys: ``datasets``, ``models``, ``norms``, ``seeds``, ``data_dir``, ``device``
    (``auto``, ``cpu`` or ``cuda``; the profile's ``device`` entry, default ``cpu``),
    ``mechanism`` (a mapping of :class:`~bnnoise.config.mechanism.MechanismSetup` fields), any
    field of :class:`~bnnoise.config.setups.Recipe` (e.g. ``epochs``) and any field of
    :class:`~bnnoise.config.setups.NoiseProtocol` (e.g. ``etas``, ``draws``, ``targets``).

    Raises:
        ValueError: unknown profile, unknown key, or an invalid value, with the valid choices.
    """
    overrides = merged_overrides(named, overrides or {})
    root = root or project_root()
    profiles = yaml.safe_load((root / PARAMS_FILE).read_text())["profiles"]
    if name not in profiles:
        raise ValueError(f"unknown profile {name!r}; valid: {', '.join(profiles)}")
    raw = copy.deepcopy(profiles[name])
    data_dir = apply_overrides(raw, overrides, default_data_dir(root))
    datasets, models, norms = checked_names(raw)
    device = resolve_device(str(raw.get("device", "cpu")))
    noise = {**raw["noise"], "device": device}
    noise["etas"] = tuple(float(e) for e in noise["etas"])
    noise["targets"] = as_tuple(noise["targets"], "targets")
    noise_protocol = NoiseProtocol(**noise)
    recipe = Recipe(**raw["recipe"], device=device)
    snapshots = tuple(int(e) for e in raw.get("snapshot_epochs") or ())
    if any(e < 1 for e in snapshots):
        raise ValueError(f"snapshot_epochs must be >= 1, got {list(snapshots)}")
    # a shorter training (e.g. an ``epochs`` override) keeps the snapshots within its budget
    snapshots = tuple(e for e in snapshots if e <= recipe.epochs)
    readings_grid, readings = noise_readings(raw, noise_protocol)
    profile = Profile(
        name=name, description=" ".join(str(raw.get("description", "")).split()),
        datasets=datasets, models=models, norms=norms,
        recipe=recipe, noise=noise_protocol,
        propagation=PropagationSetup(**setup_section(raw, "propagation")),
        short_runs=ShortRunSetup(**setup_section(raw, "short_runs")),
        root=root, data_dir=data_dir,
        seeds=tuple(int(s) for s in as_tuple(raw.get("seeds", [0]), "seeds")),
        recipe_overrides=recipe_overrides(raw, recipe), snapshot_epochs=snapshots,
        series=series_grids(raw, recipe),
        device=device, progress_noise=progress_noise(raw, noise_protocol),
        mechanism=mechanism_setup(raw.get("mechanism") or {}),
        readings_grid=readings_grid, readings=readings,
        devices=device_study(raw.get("devices"), noise_protocol.eval_per_class),
    )
    for grid in ([readings_grid] if readings else []) + ([profile.devices.grid]
                                                          if profile.devices else []):
        profile.grid(grid)  # an unknown grid stops here, with the valid ones
    return profile
