"""The order of the compute campaign: which networks train first when one machine runs it.

The workflow (``workflow/Snakefile``) runs every training and sweep as its own job; where fewer
cores are free than jobs are ready, it starts them by these priorities (higher first).
"""

from __future__ import annotations

from pathlib import Path

from bnnoise.config import Profile
from bnnoise.pipeline.specs import profile_specs

#: Grids that go before every other, in this order: the training-length pilot decides the
#: converged tier's length; the main and BN-count grids make the reproduction.
LEADING: tuple[tuple[str, ...], ...] = (("length_pilot",), ("main", "bn_count"))
#: Priorities of the jobs outside the grids: the compute device is resolved before anything
#: else (every other job but the short runs reads it); the readings sweeps, the analog-device
#: sweeps and the short runs come last.
DEVICE_PRIORITY, READINGS_PRIORITY, ANALOG_PRIORITY, SHORT_RUNS_PRIORITY = 10_000, 20, 15, 10
_TOP, _STEP = 1000, 10
#: What a network whose training left a checkpoint gains within its tier: a half-trained
#: network resumes before its tier's untouched ones (less than a tier's step, so that the tiers
#: keep their order; its sweep still follows it at once).
RESUMING_BONUS = 5


def grid_tiers(grids: tuple[str, ...] | list[str]) -> list[tuple[str, ...]]:
    """``grids`` in campaign order, as tiers: the :data:`LEADING` ones, then every other grid
    alone, in the order given (``params.yaml``'s)."""
    leading = {grid for tier in LEADING for grid in tier}
    tiers = [tuple(grid for grid in tier if grid in grids) for tier in LEADING]
    tiers += [(grid,) for grid in grids if grid not in leading]
    return [tier for tier in tiers if tier]


def resuming(store_root: Path) -> set[str]:
    """The slugs of the networks whose training left an epoch checkpoint in the store
    (``resume/`` or ``checkpoints/``, named ``<slug>-<key>.pt``): trainings to continue."""
    return {path.stem.rsplit("-", 1)[0] for folder in ("resume", "checkpoints")
            for path in (store_root / folder).glob("*.pt")}


def training_priorities(profile: Profile, grids: tuple[str, ...] | list[str]) -> dict[str, int]:
    """The priority of each network's training job, by slug: that of the first tier holding it
    (:func:`grid_tiers`), from 1000 down in steps of 10, plus :data:`RESUMING_BONUS` where a
    checkpoint waits in the profile's store (:func:`resuming`). Its sweep job takes one more, so
    that it follows the training at once."""
    priorities: dict[str, int] = {}
    for number, tier in enumerate(grid_tiers(grids)):
        for grid in tier:
            for spec in profile_specs(profile, grid):
                priorities.setdefault(spec.slug, _TOP - _STEP * number)
    started = resuming(Path(profile.store_dir))
    return {slug: value + RESUMING_BONUS * (slug in started) for slug, value in priorities.items()}


def mechanism_priority(grids: tuple[str, ...] | list[str]) -> int:
    """The mechanism job's priority: right after the tier of the main grid."""
    tiers = grid_tiers(grids)
    number = next((n for n, tier in enumerate(tiers) if "main" in tier), len(tiers))
    return _TOP - _STEP * number - _STEP // 2
