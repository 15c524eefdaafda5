import json

import pytest

from bnnoise.config.setups import Recipe
from bnnoise.pipeline.specs import ModelSpec, model_config
from bnnoise.store import (
    NO_COMPUTE,
    ArtifactStore,
    PublishedArtifactError,
    StoreReadOnlyError,
    config_hash,
)


def test_every_parameter_changes_the_model_key() -> None:
    spec, recipe = ModelSpec("cifar10", "resnet20", "bn"), Recipe()
    base = config_hash(model_config(spec, recipe))
    variants = [ModelSpec("cifar100", "resnet20", "bn"), ModelSpec("cifar10", "resnet44", "bn"),
                ModelSpec("cifar10", "resnet20", "none"), ModelSpec("cifar10", "resnet20", "bn", 3),
                ModelSpec("cifar10", "resnet20", "bn", 3, "last"),
                ModelSpec("cifar10", "resnet20", "bn", seed=1)]
    keys = {config_hash(model_config(v, recipe)) for v in variants}
    for field, value in [("epochs", 31), ("batch_size", 64), ("lr", 0.2), ("momentum", 0.8),
                         ("weight_decay", 1e-4), ("warmup_epochs", 1.0), ("label_smoothing", 0.1),
                         ("grad_clip", 2.0), ("precision", "fp32")]:
        keys.add(config_hash(model_config(spec, Recipe(**{**recipe.as_dict(), field: value}))))
    assert base not in keys and len(keys) == 15


def test_the_seed_of_a_model_is_the_specs() -> None:
    recipe = Recipe(seed=5)
    config = model_config(ModelSpec("cifar10", "resnet20", "bn", seed=2), recipe)
    assert config["recipe"]["seed"] == 2
    assert "placement" not in model_config(ModelSpec("cifar10", "resnet20", "bn"), recipe)


def test_write_then_load(tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    with store.writer("kind", "thing", {"a": 1}) as out:
        (out / "x.txt").write_text("hello")
    path = store.load("kind", "thing", {"a": 1})
    assert path is not None and (path / "x.txt").read_text() == "hello"
    assert store.load("kind", "thing", {"a": 2}) is None


def test_failed_write_publishes_nothing(tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(KeyboardInterrupt), store.writer("kind", "thing", {"a": 1}) as out:
        (out / "x.txt").write_text("half")
        raise KeyboardInterrupt  # a kill in the middle of writing
    assert store.load("kind", "thing", {"a": 1}) is None
    assert list((tmp_path / "kind").iterdir()) == []


@pytest.mark.parametrize("damage", ["truncate", "delete", "manifest", "empty", "extra"])
def test_corrupt_artifacts_are_detected_and_discarded(tmp_path, damage: str) -> None:
    store = ArtifactStore(tmp_path)
    with store.writer("kind", "thing", {"a": 1}) as out:
        (out / "x.txt").write_text("hello world")
    path = store.path("kind", "thing", {"a": 1})
    if damage == "truncate":
        (path / "x.txt").write_text("hello")
    elif damage == "delete":
        (path / "x.txt").unlink()
    elif damage == "manifest":
        (path / "manifest.json").write_text(json.dumps({"config": {"a": 2}, "files": {}}))
    elif damage == "empty":  # a manifest that lists no files must not verify
        (path / "x.txt").unlink()
        (path / "manifest.json").write_text(json.dumps({"config": {"a": 1}, "files": {}}))
    else:
        (path / "stray.txt").write_text("not listed")
    with pytest.warns(UserWarning, match="discarding corrupt artifact"):
        assert store.load("kind", "thing", {"a": 1}) is None
    assert not path.exists()
    assert len(list((tmp_path / "kind").glob(".corrupt-*"))) == 1  # moved aside, not deleted


def test_a_published_corrupt_artifact_stops_the_run(tmp_path) -> None:
    import subprocess

    store = ArtifactStore(tmp_path)
    with store.writer("kind", "thing", {"a": 1}) as out:
        (out / "x.txt").write_text("hello world")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    path = store.path("kind", "thing", {"a": 1})
    (path / "x.txt").write_text("changed")
    with pytest.raises(PublishedArtifactError, match="git checkout --"):
        store.load("kind", "thing", {"a": 1})
    assert (path / "x.txt").read_text() == "changed"  # left for the reader to restore


def test_a_valid_artifact_is_never_replaced(tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    with store.writer("kind", "thing", {"a": 1}) as out:
        (out / "x.txt").write_text("first")
    with store.writer("kind", "thing", {"a": 1}) as out:
        (out / "x.txt").write_text("second")
    assert (store.load("kind", "thing", {"a": 1}) / "x.txt").read_text() == "first"
    assert [p.name.startswith(".tmp") for p in (tmp_path / "kind").iterdir()] == [False]


def test_an_empty_artifact_is_refused(tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(ValueError, match="would hold no files"), store.writer("k", "t", {}):
        pass
    assert store.load("k", "t", {}) is None


def test_a_read_only_store_loads_but_never_computes(tmp_path, monkeypatch) -> None:
    store = ArtifactStore(tmp_path)
    with store.writer("kind", "thing", {"a": 1}) as out:
        (out / "x.txt").write_text("stored")
    monkeypatch.setenv(NO_COMPUTE, "1")
    assert store.load("kind", "thing", {"a": 1}) is not None  # reading stays allowed
    with pytest.raises(StoreReadOnlyError, match="BNNOISE_NO_COMPUTE is set"), \
            store.writer("kind", "thing", {"a": 2}) as out:
        (out / "x.txt").write_text("new")
    assert store.load("kind", "thing", {"a": 2}) is None


def test_manifests_record_provenance(tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    with store.writer("kind", "thing", {"a": 1}, {"data_fingerprint": "abc"}) as out:
        (out / "x.txt").write_text("hello")
    record = store.provenance("kind", "thing", {"a": 1})
    assert record["data_fingerprint"] == "abc"
    assert {"cpu", "avx512_bf16", "amx", "torch", "library", "commit", "created"} <= set(record)


def test_every_protocol_field_changes_the_sweep_key() -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    from bnnoise.config.setups import NoiseProtocol
    from bnnoise.nets.models import build_model
    from bnnoise.pipeline.sweeps import sweep_config

    net = build_model("resnet8", 10, "bn")
    trained = SimpleNamespace(key="cifar10-resnet20-bn-0123", model=net)
    base = NoiseProtocol()
    key = config_hash(sweep_config(trained, base, "all", 0.1))
    variants = [sweep_config(SimpleNamespace(key="other", model=net), base, "all", 0.1),
                sweep_config(trained, base, "weights", 0.1),
                sweep_config(trained, base, "all", 0.2)]
    for field, value in [("draws", 7), ("eval_per_class", 50), ("scale", "max"),
                         ("kind", "multiplicative"), ("seed", 1), ("layers", "fc")]:
        variants.append(sweep_config(trained, replace(base, **{field: value}), "all", 0.1))
    keys = {config_hash(v) for v in variants}
    assert key not in keys and len(keys) == len(variants)
    # the grid itself is not part of a cell's key: a new grid re-uses the etas it shares
    wider = replace(base, etas=(*base.etas, 3.0))
    assert config_hash(sweep_config(trained, wider, "all", 0.1)) == key


def _git_store(path):
    """A store folder inside a scratch git repository, with one tracked file (published)."""
    import subprocess

    store = path / "store"
    store.mkdir()
    (store / "published.txt").write_text("tracked")
    for command in (["init", "-q"], ["add", "."],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(path), *command], check=True)
    return store


def test_a_published_store_refuses_results_of_uncommitted_code(tmp_path, monkeypatch) -> None:
    import bnnoise.store as store_module
    from bnnoise.origin import UncommittedCodeError

    published = ArtifactStore(_git_store(tmp_path))
    scratch = ArtifactStore(tmp_path / "scratch")  # not tracked by git: not published
    monkeypatch.setattr(store_module, "code_commit", lambda root: "0123456789ab+dirty")
    with pytest.raises(UncommittedCodeError, match="commit them first"):
        published.check_code_committed()
    with pytest.raises(UncommittedCodeError), published.writer("models", "m", {"a": 1}) as out:
        (out / "w.txt").write_text("weights")
    assert not (published.root / "models").exists() or not any(
        (published.root / "models").iterdir())
    with scratch.writer("models", "m", {"a": 1}) as out:  # a scratch store takes it
        (out / "w.txt").write_text("weights")
    monkeypatch.setattr(store_module, "code_commit", lambda root: "0123456789ab")
    with published.writer("models", "m", {"a": 1}) as out:  # committed code: stored
        (out / "w.txt").write_text("weights")
    assert published.load("models", "m", {"a": 1}) is not None
