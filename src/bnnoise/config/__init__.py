"""Profiles from ``params.yaml``, reader overrides, and validation before any compute."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from bnnoise.config.grids import Grid, RecipeOverride, as_tuple
from bnnoise.config.mechanism import MechanismSetup
from bnnoise.config.setups import NoiseProtocol, PropagationSetup, Recipe, ShortRunSetup
from bnnoise.data import DATASETS
from bnnoise.hardware import resolve_device
from bnnoise.nets.models import validate_model_name
from bnnoise.nets.norms import parse_norm

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


def _mechanism(raw: dict[str, Any]) -> MechanismSetup:
    unknown = sorted(set(raw) - set(MechanismSetup.__dataclass_fields__))
    if unknown:
        raise ValueError(f"mechanism: unknown entry {', '.join(unknown)}; valid: "
                         f"{', '.join(MechanismSetup.__dataclass_fields__)}")
    return MechanismSetup(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


_PROFILE_KEYS = ("datasets", "models", "norms", "seeds", "device")
"""Overrides that replace a top-level entry of the profile."""


def _apply_overrides(raw: dict[str, Any], overrides: dict[str, Any], data_dir: Path) -> Path:
    """Apply reader overrides to the raw profile ``raw`` in place; return the data directory.

    ``None`` values are ignored. An unknown key stops with the list of valid keys.
    """
    recipe_fields = set(Recipe.__dataclass_fields__)
    noise_fields = set(NoiseProtocol.__dataclass_fields__)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in _PROFILE_KEYS:
            raw[key] = value
        elif key == "data_dir":
            data_dir = Path(value)
        elif key == "mechanism":
            if not isinstance(value, dict):
                raise ValueError(f"mechanism must be a mapping, e.g. {{draws: 5}}, got {value!r}")
            raw["mechanism"] = {**(raw.get("mechanism") or {}), **value}
        elif key in recipe_fields:
            raw["recipe"][key] = value
        elif key in noise_fields:
            raw["noise"][key] = value
        else:
            valid = sorted({*_PROFILE_KEYS, "data_dir", "mechanism"} | recipe_fields | noise_fields)
            raise ValueError(f"unknown parameter {key!r}; valid: {', '.join(valid)}")
    return data_dir


def _names(raw: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The profile's datasets, models and normalizers, each checked against the valid names."""
    datasets = as_tuple(raw["datasets"], "datasets")
    for d in datasets:
        if d not in DATASETS:
            raise ValueError(f"unknown dataset {d!r}; valid: {', '.join(DATASETS)}")
    models = as_tuple(raw["models"], "models")
    for m in models:
        validate_model_name(m)
    norms = as_tuple(raw["norms"], "norms")
    for n in norms:
        parse_norm(n)
    return datasets, models, norms


def _recipe_overrides(raw: dict[str, Any], recipe: Recipe) -> tuple[RecipeOverride, ...]:
    """The profile's ``recipe_overrides``, each checked by applying it to ``recipe``."""
    overrides = []
    for entry in raw.get("recipe_overrides") or []:
        entry = dict(entry)
        datasets = entry.pop("datasets", None)
        override = RecipeOverride(as_tuple(entry.pop("models"), "recipe_overrides.models"),
                                  as_tuple(entry.pop("norms"), "recipe_overrides.norms"),
                                  {}, str(entry.pop("reason", "")),
                                  None if datasets is None
                                  else as_tuple(datasets, "recipe_overrides.datasets"))
        replace(recipe, **entry)  # unknown fields or invalid values stop here
        overrides.append(replace(override, changes=entry))
    return tuple(overrides)


def _progress_noise(raw: dict[str, Any], noise: NoiseProtocol) -> NoiseProtocol | None:
    """The snapshots' noise protocol: ``noise`` with the changes of ``progress_protocol``."""
    changes = dict(raw.get("progress_protocol") or {})
    noise_fields = set(NoiseProtocol.__dataclass_fields__)
    unknown = sorted(set(changes) - noise_fields)
    if unknown:
        raise ValueError(f"progress_protocol: unknown entry {', '.join(unknown)}; valid: "
                         f"{', '.join(sorted(noise_fields))}")
    for key, value in changes.items():
        if key in ("etas", "targets"):
            changes[key] = tuple(float(e) if key == "etas" else str(e)
                                 for e in as_tuple(value, f"progress_protocol.{key}"))
    return replace(noise, **changes) if changes else None


def _series(raw: dict[str, Any], recipe: Recipe) -> tuple[tuple[str, Grid], ...]:
    """The profile's named grids, each grid's ``recipe`` changes checked on ``recipe``."""
    series = []
    for name, entry in (raw.get("series") or {}).items():
        grid = Grid.from_dict(entry, f"series {name}")
        unknown = sorted(set(dict(grid.recipe)) - set(Recipe.__dataclass_fields__))
        if unknown:
            raise ValueError(f"series {name}.recipe: unknown field {', '.join(unknown)}; valid: "
                             f"{', '.join(sorted(Recipe.__dataclass_fields__))}")
        replace(recipe, **dict(grid.recipe))  # invalid values stop here
        series.append((str(name), grid))
    return tuple(series)


def _setup_section(raw: dict[str, Any], section: str) -> dict[str, Any]:
    """A setup section of the profile (``propagation``, ``short_runs``), lists as tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.get(section, {}).items()}


def load_profile(name: str, root: Path | None = None, **overrides: Any) -> Profile:
    """Read profile ``name`` from ``params.yaml`` and apply overrides; validate everything.

    Overrides whose value is ``None`` are ignored, so a chapter can pass all of its parameters.
    Accepted keys: ``datasets``, ``models``, ``norms``, ``seeds``, ``data_dir``, ``device``
    (``auto``, ``cpu`` or ``cuda``; the profile's ``device`` entry, default ``cpu``),
    ``mechanism`` (a mapping of :class:`~bnnoise.config.mechanism.MechanismSetup` fields), any
    field of :class:`~bnnoise.config.setups.Recipe` (e.g. ``epochs``) and any field of
    :class:`~bnnoise.config.setups.NoiseProtocol` (e.g. ``etas``, ``draws``, ``targets``).

    Raises:
        ValueError: unknown profile, unknown key, or an invalid value, with the valid choices.
    """
    root = root or project_root()
    profiles = yaml.safe_load((root / PARAMS_FILE).read_text())["profiles"]
    if name not in profiles:
        raise ValueError(f"unknown profile {name!r}; valid: {', '.join(profiles)}")
    raw = copy.deepcopy(profiles[name])
    data_dir = _apply_overrides(raw, overrides, default_data_dir(root))
    datasets, models, norms = _names(raw)
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
    return Profile(
        name=name, description=" ".join(str(raw.get("description", "")).split()),
        datasets=datasets, models=models, norms=norms,
        recipe=recipe, noise=noise_protocol,
        propagation=PropagationSetup(**_setup_section(raw, "propagation")),
        short_runs=ShortRunSetup(**_setup_section(raw, "short_runs")),
        root=root, data_dir=data_dir,
        seeds=tuple(int(s) for s in as_tuple(raw.get("seeds", [0]), "seeds")),
        recipe_overrides=_recipe_overrides(raw, recipe), snapshot_epochs=snapshots,
        series=_series(raw, recipe),
        device=device, progress_noise=_progress_noise(raw, noise_protocol),
        mechanism=_mechanism(raw.get("mechanism") or {}),
    )
