"""The cached pipeline: profiles, train-or-load, and per-eta caching of sweeps."""

import pytest

from bnnoise.artifacts import ArtifactStore
from bnnoise.config import load_profile
from bnnoise.evaluation import average_normalized_accuracy, mean_ci, summarize_sweep
from bnnoise.experiments import DataCache, ModelSpec, noise_sweep, sweep_config, trained_model


def test_every_profile_in_params_yaml_is_valid(project) -> None:
    for name in ("smoke", "cpu", "paper"):
        assert load_profile(name, root=project).name == name


@pytest.mark.parametrize("overrides, message", [
    ({"models": ["resnet21"]}, "unknown model 'resnet21'"),
    ({"norms": ["lnx"]}, "unknown norm 'lnx'; valid: activation part"),
    ({"datasets": ["imagenet"]}, "unknown dataset 'imagenet'"),
    ({"etas": [0.1, -1]}, "positive numbers"),
    ({"epochs": 0}, "epochs must be >= 1"),
    ({"colour": "red"}, "unknown parameter 'colour'; valid: batch_size"),
])
def test_bad_parameters_stop_before_any_compute(project, overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        load_profile("smoke", root=project, **overrides)


def test_unknown_profile(project) -> None:
    with pytest.raises(ValueError, match="valid: smoke, cpu, paper"):
        load_profile("gpu", root=project)


def test_none_overrides_keep_the_profile(project) -> None:
    assert load_profile("cpu", root=project, etas=None) == load_profile("cpu", root=project)


def test_new_eta_grid_recomputes_the_sweep_and_not_the_training(project) -> None:
    profile = load_profile("smoke", root=project, epochs=1, draws=2, targets=["weights"])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    spec = ModelSpec("synthetic10", "resnet8", "bn")
    trained = trained_model(store, spec, profile.recipe, data)
    first = noise_sweep(store, trained, profile.noise, data)
    model_files = sorted((store.root / "models").iterdir())
    sweep_files = set((store.root / "sweeps").iterdir())

    wider = load_profile("smoke", root=project, epochs=1, draws=2, targets=["weights"],
                         etas=[*profile.noise.etas, 2.0])
    again = trained_model(store, spec, wider.recipe, data)
    assert again.key == trained.key
    second = noise_sweep(store, again, wider.noise, data)
    assert sorted((store.root / "models").iterdir()) == model_files
    new_cells = set((store.root / "sweeps").iterdir()) - sweep_files
    assert [p.name.split("-eta")[1].split("-")[0] for p in new_cells] == ["2"]
    shared = second[second["eta"].isin(first["eta"])].reset_index(drop=True)
    assert shared[["eta", "draw", "accuracy"]].equals(first[["eta", "draw", "accuracy"]])


def test_sweep_table_is_tidy_and_normalized(project) -> None:
    profile = load_profile("smoke", root=project, epochs=1, draws=3)
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    trained = trained_model(store, ModelSpec("synthetic10", "resnet8", "none"), profile.recipe,
                            data)
    draws = noise_sweep(store, trained, profile.noise, data)
    assert len(draws) == len(profile.noise.targets) * (1 + 3 * len(profile.noise.etas))
    assert (draws[draws["eta"] == 0]["normalized_accuracy"] == 1.0).all()
    keys = ["model", "norm", "target"]
    summary = summarize_sweep(draws, keys)
    assert set(summary["draws"]) == {1, 3}
    average = average_normalized_accuracy(draws, keys)
    assert len(average) == len(profile.noise.targets)
    assert (average["eta_grid"] == "0.1 0.5 1").all()


def test_mean_ci_uses_student_t() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 * 1.0 / 3 ** 0.5)


def test_fast_evaluation_has_its_own_cells_and_agrees_with_fp32(project) -> None:
    profile = load_profile("smoke", root=project, epochs=1, draws=2, targets=["all"])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    trained = trained_model(store, ModelSpec("synthetic10", "resnet8", "bn"), profile.recipe,
                            data)
    reference = noise_sweep(store, trained, profile.noise, data)
    cells = set((store.root / "sweeps").iterdir())
    fast_protocol = load_profile("smoke", root=project, epochs=1, draws=2, targets=["all"],
                                 evaluation="fast").noise
    assert "evaluation" not in sweep_config(trained, profile.noise, "all", 0.1)  # old keys hold
    fast = noise_sweep(store, trained, fast_protocol, data)
    assert len(set((store.root / "sweeps").iterdir()) - cells) == len(cells)
    # same noise draws, another arithmetic: at most a few of the 100 images change their class
    assert (fast["accuracy"] - reference["accuracy"]).abs().max() <= 0.03


def test_unknown_evaluation_is_refused(project) -> None:
    with pytest.raises(ValueError, match="unknown evaluation 'gpu' \\(valid: fp32, fast\\)"):
        load_profile("smoke", root=project, evaluation="gpu")
