"""The committed artifact store: every stored result verifies and reloads without recomputation."""

import json
from pathlib import Path

import pytest

from bnnoise.store import MANIFEST, ArtifactStore

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "data" / "artifacts" / "cpu"
ARTIFACTS = sorted(p.parent for p in STORE.glob(f"*/*/{MANIFEST}")
                   if not p.parent.name.startswith("."))


def test_the_published_store_is_not_empty() -> None:
    kinds = {p.parent.name for p in ARTIFACTS}
    assert {"models", "sweeps", "propagation", "short_runs"} <= kinds


@pytest.mark.parametrize("path", ARTIFACTS, ids=[p.name for p in ARTIFACTS])
def test_every_committed_artifact_verifies_under_its_own_key(path: Path) -> None:
    config = json.loads((path / MANIFEST).read_text())["config"]
    kind = path.parent.name
    slug = path.name.rsplit("-", 1)[0]
    store = ArtifactStore(STORE)
    assert store.path(kind, slug, config) == path  # the directory name is the key
    assert store.load(kind, slug, config) == path  # every file present and unchanged


def test_published_models_reload_without_training(monkeypatch: pytest.MonkeyPatch) -> None:
    from bnnoise.config import load_profile
    from bnnoise.pipeline.specs import profile_specs
    from bnnoise.pipeline.trained import profile_model

    monkeypatch.setenv("BNNOISE_NO_TRAINING", "1")  # raises if anything would be trained
    profile = load_profile("cpu", root=ROOT)
    stored = {p.name.rsplit("-", 1)[0] for p in ARTIFACTS if p.parent.name == "models"}
    specs = [s for g in profile.grid_names for s in profile_specs(profile, g)
             if s.slug in stored]
    assert len(specs) >= 4
    for spec in specs:
        assert profile_model(profile, spec).spec == spec
