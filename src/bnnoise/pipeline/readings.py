"""The noise sweeps of the other readings of the protocol: the networks of the profile's
``readings.grid`` swept again under each reading of ``readings.variants`` (another scale, kind,
noise grid or target set; :attr:`bnnoise.config.Profile.readings`).

Each reading is a full :class:`bnnoise.config.setups.NoiseProtocol`, so its cells are stored
and keyed like any sweep's; the published readings' draws join the profile's own in the
multiverse of :mod:`bnnoise.analysis.multiverse`.
"""

from __future__ import annotations

import pandas as pd

from bnnoise.config import Profile
from bnnoise.data import DataCache
from bnnoise.pipeline.sweeps import is_swept, noise_sweep
from bnnoise.pipeline.trained import TrainedModel
from bnnoise.store import ArtifactStore, read_only


def reading_runs(profile: Profile, runs: list[TrainedModel], name: str) -> list[TrainedModel]:
    """The runs a page can show under reading ``name``: all of them while the store may compute
    (missing cells are computed), else those whose sweep under the reading is stored."""
    if not read_only():
        return list(runs)
    store, protocol = ArtifactStore(profile.store_dir), profile.reading(name)
    return [run for run in runs if is_swept(store, run, protocol)]


def sweep_readings(profile: Profile, runs: list[TrainedModel], progress: bool = False
                   ) -> pd.DataFrame:
    """Per-draw sweep table of ``runs`` under every reading of the profile (computing missing
    cells unless the store is read-only), with the column ``reading``."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    parts = [noise_sweep(store, run, protocol, data, progress).assign(reading=name)
             for name, protocol in profile.readings
             for run in reading_runs(profile, runs, name)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
