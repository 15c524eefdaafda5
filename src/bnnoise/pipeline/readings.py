"""The noise sweeps of the other readings of the protocol: the networks of the profile's
``readings.grid`` swept again under each reading of ``readings.variants`` (another scale, kind,
noise grid or target set; :attr:`bnnoise.config.Profile.readings`).

Each reading is a full :class:`bnnoise.config.setups.NoiseProtocol`, so its cells are stored
and keyed like any sweep's; the published readings' draws join the profile's own in the
multiverse of :mod:`bnnoise.analysis.multiverse`.
"""

from __future__ import annotations

from bnnoise.config import Profile
from bnnoise.pipeline.sweeps import is_swept
from bnnoise.pipeline.trained import TrainedModel
from bnnoise.store import ArtifactStore, read_only


def reading_runs(profile: Profile, runs: list[TrainedModel], name: str) -> list[TrainedModel]:
    """The runs a page can show under reading ``name``: all of them while the store may compute
    (missing cells are computed), else those whose sweep under the reading is stored."""
    if not read_only():
        return list(runs)
    store, protocol = ArtifactStore(profile.store_dir), profile.reading(name)
    return [run for run in runs if is_swept(store, run, protocol)]
