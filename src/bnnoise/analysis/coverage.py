"""How much of a profile's grids the stored results cover: the networks still to be trained or
swept, and the stated exceptions to the recipe, as the sentences a page shows beside its numbers.
"""

from __future__ import annotations

from bnnoise.config import Profile
from bnnoise.pipeline.progress import swept_runs
from bnnoise.pipeline.specs import profile_specs
from bnnoise.pipeline.trained import train_profile


def untrained_by_grid(profile: Profile, grids: tuple[str, ...]) -> dict[str, list[str]]:
    """For each of the profile's ``grids`` (those it has) with models not yet trained and swept
    (:func:`bnnoise.pipeline.progress.swept_runs`): those models, in the grid's order (a model
    of two grids is listed under the first)."""
    seen: set[str] = set()
    missing: dict[str, list[str]] = {}
    for grid in grids:
        if grid not in profile.grid_names:
            continue
        done = {run.spec.slug for run in
                swept_runs(profile, train_profile(profile, grid=grid, stored_only=True))}
        for spec in profile_specs(profile, grid):
            if spec.slug not in seen and spec.slug not in done:
                missing.setdefault(grid, []).append(spec.slug)
            seen.add(spec.slug)
    return missing


def untrained_text(profile: Profile, grids: tuple[str, ...]) -> str:
    """:func:`untrained_by_grid` as one sentence for a page: per grid, how many of its networks
    are still to be trained, and which; empty when every network is trained."""
    parts = []
    for grid, slugs in untrained_by_grid(profile, grids).items():
        total = len(profile_specs(profile, grid))
        parts.append(f"grid `{grid}`, {len(slugs)} of {total} networks still to be trained "
                     f"or swept ({', '.join(slugs)})")
    return "; ".join(parts)


def recipe_exceptions_text(profile: Profile, grids: tuple[str, ...]) -> str:
    """The profile's stated exceptions to its recipe that change a network of ``grids`` (those it
    has), one sentence each; empty when every network of them follows the recipe."""
    specs = [spec for grid in grids if grid in profile.grid_names
             for spec in profile_specs(profile, grid)]
    return " ".join(override.describe() for override in profile.recipe_overrides
                    if any(override.applies(s.dataset, s.model, s.norm) for s in specs))
