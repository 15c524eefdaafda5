"""Training progress: noise resistance of the stored epoch snapshots of a run.

A run of the ``cpu`` profile keeps its weights after chosen epochs (half precision, see
:func:`bnnoise.pipeline.models.trained_model`). Sweeping each snapshot shows how noise
resistance develops as clean accuracy grows, so that networks with and without BN can be
compared at equal clean accuracy, not only at the end of a short training budget.
"""

from __future__ import annotations

import pandas as pd

from bnnoise.config import Profile
from bnnoise.config.setups import NoiseProtocol
from bnnoise.data import DataCache
from bnnoise.pipeline.models import TrainedModel, load_snapshot, snapshot_epochs
from bnnoise.pipeline.sweeps import RUN_COLUMNS, noise_sweep, run_key
from bnnoise.stats import mean_ci
from bnnoise.store import ArtifactStore


def snapshot_runs(store: ArtifactStore, run: TrainedModel) -> list[tuple[int, TrainedModel]]:
    """The run's stored epoch snapshots (and the final model), each as a model that sweeps can
    take: its key is the run's key plus the epoch, so its cells never mix with the run's."""
    out = []
    for epoch in snapshot_epochs(store.root / "models" / run.key):
        model = load_snapshot(run, store, epoch)
        out.append((epoch, TrainedModel(run.spec, model, run.history, run.summary,
                                        f"{run.key}-epoch{epoch:03d}", run.provenance)))
    return [*out, (len(run.history), run)]


def progress_table(profile: Profile, runs: list[TrainedModel], protocol: NoiseProtocol
                   ) -> pd.DataFrame:
    """Average normalized accuracy along training: for every run with stored snapshots, every
    snapshot and the final model swept with ``protocol`` (usually a lighter one than the
    profile's), with the clean accuracy on the same test images.

    Columns: :data:`RUN_COLUMNS`, epoch, target, clean_accuracy, avg_normalized_accuracy and
    its 95 % interval over the draws (``low``, ``high``)."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    rows = []
    for run in runs:
        snapshots = snapshot_runs(store, run)
        if len(snapshots) < 2:
            continue
        for epoch, model in snapshots:
            table = noise_sweep(store, model, protocol, data)
            for target, part in table.groupby("target"):
                clean = float(part.loc[part["eta"] == 0, "accuracy"].iloc[0])
                per_draw = part[part["eta"] > 0].groupby("draw")["normalized_accuracy"].mean()
                mean, half = mean_ci(per_draw.to_numpy())
                rows.append({**dict(zip(RUN_COLUMNS, run_key(run), strict=True)),
                             "epoch": epoch, "target": target, "clean_accuracy": clean,
                             "avg_normalized_accuracy": mean, "low": mean - half,
                             "high": mean + half})
    return pd.DataFrame(rows)
