"""The grids of models a profile trains, and the stated exceptions to its recipe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bnnoise.data import DATASETS
from bnnoise.nets.architectures import PLACEMENTS
from bnnoise.nets.models import normalization_slots, validate_model_name
from bnnoise.nets.norms import parse_norm


def as_tuple(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{what} must be a non-empty list, got {value!r}")
    return tuple(str(v) for v in value)


@dataclass(frozen=True)
class Grid:
    """A set of models a profile trains: every (dataset, model, norm, seed) combination, and,
    for a partial-normalization series, every (``bn_layers``, ``placement``) combination.
    ``snapshots`` false: its networks keep no epoch snapshots (no training-progress sweeps).

    Training length is an axis too: ``epochs`` (e.g. ``[30, 40, 60]``) trains every network
    for each of these numbers of epochs instead of the recipe's, with the grid's ``recipe``
    changes (field -> value pairs, e.g. the precision) on top of the profile's recipe; such a
    grid keeps a snapshot every ``snapshot_every`` epochs (if set) instead of the profile's
    ``snapshot_epochs``. Networks of the recipe's own length keep their artifact keys."""

    datasets: tuple[str, ...]
    models: tuple[str, ...]
    norms: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    bn_layers: tuple[int, ...] | None = None
    placements: tuple[str, ...] = ("first",)
    snapshots: bool = True
    epochs: tuple[int, ...] | None = None
    recipe: tuple[tuple[str, Any], ...] = ()
    snapshot_every: int | None = None

    def __post_init__(self) -> None:
        if self.epochs is not None and (not self.epochs or min(self.epochs) < 1):
            raise ValueError(f"epochs must be a non-empty list of integers >= 1, got "
                             f"{list(self.epochs)}")
        if self.snapshot_every is not None and self.snapshot_every < 1:
            raise ValueError(f"snapshot_every must be an integer >= 1, got "
                             f"{self.snapshot_every}")
        if "epochs" in dict(self.recipe) or "seed" in dict(self.recipe):
            raise ValueError("a grid's recipe may not change epochs or seed (use the grid's "
                             "epochs and seeds entries)")
        if self.recipe and self.epochs is None:
            raise ValueError("a grid's recipe changes need its epochs entry, which names its "
                             "networks apart from the recipe's own (e.g. epochs: [30])")
        for d in self.datasets:
            if d not in DATASETS:
                raise ValueError(f"unknown dataset {d!r}; valid: {', '.join(DATASETS)}")
        for m in self.models:
            validate_model_name(m)
        for n in self.norms:
            parse_norm(n)
        if not self.seeds or any(int(s) < 0 for s in self.seeds):
            raise ValueError(f"seeds must be a non-empty list of integers >= 0, got "
                             f"{list(self.seeds)}")
        for p in self.placements:
            if p not in PLACEMENTS:
                raise ValueError(f"unknown placement {p!r}; valid: {', '.join(PLACEMENTS)}")
        for m in self.models:
            for k in self.bn_layers or ():
                if not 0 <= k <= normalization_slots(m):
                    raise ValueError(f"bn_layers {k} outside 0..{normalization_slots(m)} "
                                     f"(the normalization slots of {m})")

    @classmethod
    def from_dict(cls, raw: dict[str, Any], what: str) -> Grid:
        fields = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - fields)
        if unknown:
            raise ValueError(f"{what}: unknown entry {', '.join(unknown)}; valid: "
                             f"{', '.join(sorted(fields))}")
        snapshots = raw.get("snapshots", True)
        if not isinstance(snapshots, bool):
            raise ValueError(f"{what}.snapshots must be true or false, got {snapshots!r}")
        recipe = raw.get("recipe") or {}
        if not isinstance(recipe, dict):
            raise ValueError(f"{what}.recipe must be a mapping of recipe fields, e.g. "
                             f"{{precision: fp32}}, got {recipe!r}")
        every = raw.get("snapshot_every")
        if every is not None and (isinstance(every, bool) or not isinstance(every, int)):
            raise ValueError(f"{what}.snapshot_every must be an integer, got {every!r}")
        values: dict[str, Any] = {k: as_tuple(v, f"{what}.{k}") for k, v in raw.items()
                                  if v is not None
                                  and k not in ("snapshots", "recipe", "snapshot_every")}
        for k in ("seeds", "bn_layers", "epochs"):
            if k in values:
                if not all(str(v).lstrip("-").isdigit() for v in values[k]):
                    raise ValueError(f"{what}.{k} must be a list of integers, got "
                                     f"{list(values[k])}")
                values[k] = tuple(int(v) for v in values[k])
        return cls(**values, snapshots=snapshots, recipe=tuple(sorted(recipe.items())),
                   snapshot_every=every)


@dataclass(frozen=True)
class RecipeOverride:
    """A stated exception to the profile's recipe for some models and norms (e.g. a precision
    that only some networks can afford), named in the book where their numbers appear.

    ``datasets`` None: the exception holds on every dataset."""

    models: tuple[str, ...]
    norms: tuple[str, ...]
    changes: dict[str, Any]
    reason: str = ""
    datasets: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for d in self.datasets or ():
            if d not in DATASETS:
                raise ValueError(f"recipe_overrides: unknown dataset {d!r}; valid: "
                                 f"{', '.join(DATASETS)}")
        for m in self.models:
            validate_model_name(m)
        for n in self.norms:
            parse_norm(n)

    def applies(self, dataset: str, model: str, norm: str) -> bool:
        return (model in self.models and norm in self.norms
                and (self.datasets is None or dataset in self.datasets))

    def describe(self) -> str:
        """One sentence: which networks the exception changes, to what, and why."""
        changes = ", ".join(f"{k} {v}" for k, v in self.changes.items())
        where = f" on {', '.join(self.datasets)}" if self.datasets else ""
        return (f"{', '.join(self.models)} ({', '.join(self.norms)}){where}: {changes}"
                + (f", because {self.reason.strip()}" if self.reason.strip() else "") + ".")
