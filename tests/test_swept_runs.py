"""Pages built from a read-only store take a trained model only once its sweeps are stored."""

from bnnoise.config import load_profile
from bnnoise.data import DataCache
from bnnoise.pipeline.progress import swept_runs
from bnnoise.pipeline.specs import ModelSpec
from bnnoise.pipeline.sweeps import is_swept, noise_sweep
from bnnoise.pipeline.trained import trained_model
from bnnoise.store import ArtifactStore


def test_a_trained_model_joins_stored_pages_once_swept(project, monkeypatch) -> None:
    profile = load_profile("smoke", root=project, epochs=1, draws=1, targets=["weights"],
                           etas=[0.5])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    run = trained_model(store, ModelSpec("synthetic10", "resnet8", "bn"), profile.recipe, data)
    assert not is_swept(store, run, profile.noise)  # checking computes nothing
    assert not list(store.root.glob("sweeps/*"))
    assert [r.key for r in swept_runs(profile, [run])] == [run.key]  # may still compute
    monkeypatch.setenv("BNNOISE_NO_COMPUTE", "1")
    assert swept_runs(profile, [run]) == []  # read-only: it waits for its sweep
    monkeypatch.delenv("BNNOISE_NO_COMPUTE")
    noise_sweep(store, run, profile.noise, data)
    assert is_swept(store, run, profile.noise)
    monkeypatch.setenv("BNNOISE_NO_COMPUTE", "1")
    assert [r.key for r in swept_runs(profile, [run])] == [run.key]  # a wider grid is not:
    wider = load_profile("smoke", root=project, epochs=1, draws=1, targets=["weights"],
                         etas=[0.5, 1.0])
    assert not is_swept(store, run, wider.noise)
