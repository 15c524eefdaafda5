"""Reading a profile's raw entries from ``params.yaml``: the reader's overrides applied and every
entry checked, with the valid choices named, before anything is computed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bnnoise.config.grids import Grid, RecipeOverride, as_tuple
from bnnoise.config.mechanism import MechanismSetup
from bnnoise.config.setups import NoiseProtocol, Recipe
from bnnoise.data import DATASETS
from bnnoise.nets.models import validate_model_name
from bnnoise.nets.norms import parse_norm


def mechanism_setup(raw: dict[str, Any]) -> MechanismSetup:
    unknown = sorted(set(raw) - set(MechanismSetup.__dataclass_fields__))
    if unknown:
        raise ValueError(f"mechanism: unknown entry {', '.join(unknown)}; valid: "
                         f"{', '.join(MechanismSetup.__dataclass_fields__)}")
    return MechanismSetup(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


PROFILE_KEYS = ("datasets", "models", "norms", "seeds", "device")
"""Overrides that replace a top-level entry of the profile."""


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any], data_dir: Path) -> Path:
    """Apply reader overrides to the raw profile ``raw`` in place; return the data directory.

    ``None`` values are ignored. An unknown key stops with the list of valid keys.
    """
    recipe_fields = set(Recipe.__dataclass_fields__)
    noise_fields = set(NoiseProtocol.__dataclass_fields__)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in PROFILE_KEYS:
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
            valid = sorted({*PROFILE_KEYS, "data_dir", "mechanism"} | recipe_fields | noise_fields)
            raise ValueError(f"unknown parameter {key!r}; valid: {', '.join(valid)}")
    return data_dir


def checked_names(raw: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
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


def recipe_overrides(raw: dict[str, Any], recipe: Recipe) -> tuple[RecipeOverride, ...]:
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


def protocol_changes(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Changes to the noise protocol (``field: value``), checked against its fields; lists of
    levels and target sets as tuples."""
    changes = dict(raw or {})
    noise_fields = set(NoiseProtocol.__dataclass_fields__)
    unknown = sorted(set(changes) - noise_fields)
    if unknown:
        raise ValueError(f"{where}: unknown entry {', '.join(unknown)}; valid: "
                         f"{', '.join(sorted(noise_fields))}")
    for key, value in changes.items():
        if key in ("etas", "targets"):
            changes[key] = tuple(float(e) if key == "etas" else str(e)
                                 for e in as_tuple(value, f"{where}.{key}"))
    return changes


def progress_noise(raw: dict[str, Any], noise: NoiseProtocol) -> NoiseProtocol | None:
    """The snapshots' noise protocol: ``noise`` with the changes of ``progress_protocol``."""
    changes = protocol_changes(raw.get("progress_protocol") or {}, "progress_protocol")
    return replace(noise, **changes) if changes else None


def noise_readings(raw: dict[str, Any], noise: NoiseProtocol
                   ) -> tuple[str, tuple[tuple[str, NoiseProtocol], ...]]:
    """The profile's ``readings``: the grid whose networks are swept again, and each named
    reading's noise protocol (``noise`` with the reading's changes, validated here)."""
    entry = dict(raw.get("readings") or {})
    unknown = sorted(set(entry) - {"grid", "variants"})
    if unknown:
        raise ValueError(f"readings: unknown entry {', '.join(unknown)}; valid: grid, variants")
    readings = []
    for name, changes in (entry.get("variants") or {}).items():
        changes = protocol_changes(changes, f"readings.variants.{name}")
        if not changes:
            raise ValueError(f"readings.variants.{name}: a reading must change the protocol")
        readings.append((str(name), replace(noise, **changes)))
    return str(entry.get("grid", "main")), tuple(readings)


def series_grids(raw: dict[str, Any], recipe: Recipe) -> tuple[tuple[str, Grid], ...]:
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


def setup_section(raw: dict[str, Any], section: str) -> dict[str, Any]:
    """A setup section of the profile (``propagation``, ``short_runs``), lists as tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.get(section, {}).items()}
