"""What training length does to noise resistance and to BatchNorm's running variances.

The training-length grids of a profile (``length_pilot``: ResNet20 with BN trained for several
lengths; ``converged`` and ``converged_seeds``: the converged tier, as long as the pilot's rule
chose) keep a snapshot every ``snapshot_every`` epochs. :func:`length_results` gathers, for
every trained run of those grids and for the networks of the same models in the 10-epoch main
grid:

* the final networks under the profile's full noise protocol (:class:`NoiseResults`);
* every stored epoch (snapshots and final model) under the lighter progress protocol: the
  average normalized accuracy against the epoch (:class:`ProgressResults`);
* every stored epoch's exact collapse probability under noise on every array, and the share
  of BN channels whose running variance is below a thousandth of its layer's median
  (:func:`bnnoise.pipeline.progress.variance_trajectory`).

The runs are told apart by the ``epochs`` column (how long each trained).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bnnoise.analysis.results import NoiseResults, ProgressResults, progress_results, results_of
from bnnoise.analysis.study import joint_fit
from bnnoise.config import Profile
from bnnoise.lineage import produces
from bnnoise.pipeline.progress import VARIANCE_COLUMNS, swept_runs, variance_trajectory
from bnnoise.pipeline.trained import TrainedModel, train_profile
from bnnoise.store import ArtifactStore, read_only

LENGTH_GRIDS = ("length_pilot", "converged", "converged_seeds")
"""The grids of ``params.yaml`` that train networks for another length than the recipe's."""


@dataclass
class LengthResults:
    """The training-length runs and their 10-epoch counterparts (see the module docstring).

    Attributes:
        results: the final networks under the full noise protocol.
        progress: every stored epoch under the progress protocol.
        variances: per run, stored epoch and eta, the exact collapse probability and the share
            of small running variances (networks with BN only).
    """

    results: NoiseResults
    progress: ProgressResults
    variances: pd.DataFrame


def length_runs(profile: Profile, reference: str = "main", train: bool = True
                ) -> list[TrainedModel]:
    """The runs of the profile's training-length grids, and those of its ``reference`` grid
    with the same dataset, model, norm and seed: the same networks trained for the recipe's own
    length. ``train``: train the grids' missing networks (hours for a converged tier on a CPU);
    else, as always in a read-only store, only those already trained (and, read-only, swept)."""
    stored_only = not train or read_only()
    runs = [run for grid in LENGTH_GRIDS if grid in profile.grid_names
            for run in train_profile(profile, grid=grid, stored_only=stored_only)]
    names = {(r.spec.dataset, r.spec.model, r.spec.norm, r.spec.seed) for r in runs}
    same = [run for run in train_profile(profile, grid=reference, stored_only=True)
            if (run.spec.dataset, run.spec.model, run.spec.norm, run.spec.seed) in names]
    return swept_runs(profile, [*same, *runs])


@produces
def length_results(profile: Profile, reference: str = "main", train: bool = True
                   ) -> LengthResults:
    """The tables of :class:`LengthResults` for :func:`length_runs` (missing sweep cells are
    computed where the store allows it)."""
    runs = length_runs(profile, reference, train)
    if not runs:
        raise ValueError(f"no run of the training-length grids of profile {profile.name} is "
                         "trained yet")
    results = results_of(profile, runs)
    store = ArtifactStore(profile.store_dir)
    parts = [variance_trajectory(store, run, profile.noise) for run in results.runs]
    parts = [part for part in parts if len(part)]
    variances = (pd.concat(parts, ignore_index=True) if parts
                 else pd.DataFrame(columns=VARIANCE_COLUMNS))
    return LengthResults(results, progress_results(profile, results), variances)


def converged_epochs(profile: Profile, grid: str = "converged") -> int | None:
    """How long the profile's converged tier trains (the longest length of its ``grid``), or
    ``None`` for a profile without that grid."""
    return max(profile.grid(grid).epochs or (0,)) or None if grid in profile.grid_names else None


def converged_fit(results: NoiseResults, epochs: int | None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The protocol fit (:func:`bnnoise.analysis.study.joint_fit`, training seed 0) of the
    networks trained for ``epochs``, and the same fit of the same networks at the shortest
    length they were trained for: is any reading closer to the study's numbers once they are
    trained longer? Two empty tables where no network of that length has a published number."""
    summary = results.summary[results.summary["seed"] == 0]
    keys = ["dataset", "model", "norm"]
    long = summary[summary["epochs"] == epochs]
    short = summary.merge(long[keys].drop_duplicates(), on=keys)
    short = short[short["epochs"] == short.groupby(keys)["epochs"].transform("min")]
    if short["epochs"].eq(epochs).all():
        short = short.iloc[:0]
    return joint_fit(long), joint_fit(short)
