"""The cached pipeline: profiles, train-or-load, and per-eta caching of sweeps."""

from dataclasses import replace

import pytest

from bnnoise.analysis.summaries import average_normalized_accuracy, summarize_sweep
from bnnoise.config import load_profile
from bnnoise.data import DataCache
from bnnoise.pipeline.specs import ModelSpec
from bnnoise.pipeline.sweeps import noise_sweep, sweep_config
from bnnoise.pipeline.trained import trained_model
from bnnoise.stats import mean_ci
from bnnoise.store import ArtifactStore


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


def test_a_shorter_training_keeps_the_snapshots_within_its_epochs(project) -> None:
    assert load_profile("cpu", root=project).snapshot_epochs == (2, 4, 6, 8)
    assert load_profile("cpu", root=project, epochs=5).snapshot_epochs == (2, 4)


def test_a_grid_without_snapshots_keeps_none_unless_another_grid_trains_the_same_network(
        project) -> None:
    from bnnoise.pipeline.specs import snapshots_for

    profile = load_profile("cpu", root=project)
    assert not profile.grid("normalizers").snapshots and profile.grid("seeds").snapshots
    assert snapshots_for(profile, ModelSpec("cifar10", "resnet20", "gn4", seed=1)) == ()
    assert snapshots_for(profile, ModelSpec("cifar100", "resnet20", "bn")) == ()
    # ResNet20 with BN, seed 1, is in the normalizers grid and in the seeds grid, which keeps them
    assert snapshots_for(profile, ModelSpec("cifar10", "resnet20", "bn", seed=1)) == (2, 4, 6, 8)
    assert snapshots_for(profile, ModelSpec("cifar10", "resnet32", "bn")) == (2, 4, 6, 8)


def test_training_length_is_a_grid_axis_that_leaves_the_recipe_length_keys_alone(
        project) -> None:
    from bnnoise.pipeline.specs import model_config, profile_specs, recipe_of, snapshots_for

    profile = load_profile("cpu", root=project)
    pilot = profile_specs(profile, "length_pilot")
    assert [s.slug for s in pilot] == ["cifar10-resnet20-bn-ep30", "cifar10-resnet20-bn-ep40",
                                       "cifar10-resnet20-bn-ep60"]
    recipe = recipe_of(profile, pilot[2])
    assert (recipe.epochs, recipe.precision, recipe.lr) == (60, "fp32", profile.recipe.lr)
    assert snapshots_for(profile, pilot[2]) == (10, 20, 30, 40, 50)
    assert snapshots_for(profile, pilot[0]) == (10, 20)
    plain = ModelSpec("cifar10", "resnet20", "bn")
    assert recipe_of(profile, plain) == replace(profile.recipe, seed=0)
    keys = {store_key(model_config(s, recipe_of(profile, s))) for s in (*pilot, plain)}
    assert len(keys) == 4
    # the 10-epoch network's key as published (its model is in the committed store)
    assert store_key(model_config(plain, recipe_of(profile, plain))) == "74c8855b6f9b7057"


def store_key(config) -> str:
    from bnnoise.store import config_hash

    return config_hash(config)


@pytest.mark.parametrize("entry, message", [
    ({"epochs": [0]}, "epochs must be a non-empty list of integers >= 1"),
    ({"snapshot_every": "ten"}, "series x.snapshot_every must be an integer"),
    ({"recipe": ["fp32"]}, "series x.recipe must be a mapping"),
    ({"recipe": {"epochs": 5}}, "may not change epochs or seed"),
    ({"recipe": {"precision": "fp32"}}, "recipe changes need its epochs entry"),
])
def test_a_grid_refuses_bad_training_length_entries(entry, message) -> None:
    from bnnoise.config.grids import Grid

    with pytest.raises(ValueError, match=message):
        Grid.from_dict({"datasets": ["cifar10"], "models": ["resnet20"], "norms": ["bn"],
                        **entry}, "series x")


def test_a_grid_recipe_change_must_name_a_recipe_field(project) -> None:
    import yaml

    params = yaml.safe_load((project / "params.yaml").read_text())
    params["profiles"]["smoke"]["series"]["length_pilot"]["recipe"] = {"precison": "fp32"}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ValueError, match="series length_pilot.recipe: unknown field precison; "
                                         "valid: batch_size"):
        load_profile("smoke", root=project)


def test_a_small_network_trains_in_the_committable_resume_folder_and_records_its_machines(
        project, monkeypatch) -> None:
    from bnnoise.pipeline import trained as pipeline_models
    from bnnoise.pipeline.specs import profile_specs

    profile = load_profile("smoke", root=project)
    store = ArtifactStore(profile.store_dir)
    spec = profile_specs(profile, "length_pilot")[0]  # 3 epochs, a snapshot every 2
    real_train = pipeline_models.train
    seen = {}

    def killed_after_two(model, dataset, recipe, checkpoint, hooks):
        real_train(model, dataset, recipe, checkpoint, hooks, stop_after_epochs=2)
        seen["files"] = sorted(p.relative_to(store.root).as_posix()
                               for p in (store.root / "resume").rglob("*.pt"))
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline_models, "train", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        pipeline_models.profile_model(profile, spec)
    name = store.path("models", spec.slug,
                      pipeline_models.model_config(spec, profile.recipe)).name
    assert seen["files"] == [f"resume/{name}-epochs/epoch002.pt", f"resume/{name}.pt"]
    monkeypatch.setattr(pipeline_models, "train", real_train)
    trained = pipeline_models.profile_model(profile, spec)
    assert trained.key == name and len(trained.history) == 3
    assert trained.summary["snapshot_epochs"] == [2]
    assert [m["from_epoch"] for m in trained.summary["trained_on"]] == [1]
    assert trained.summary["cpu_hours"] > 0 and trained.summary["epochs_without_cpu_time"] == 0
    assert not list((store.root / "resume").rglob("*.pt"))  # nothing left to commit


def test_a_grid_refuses_a_snapshots_entry_that_is_not_a_boolean() -> None:
    from bnnoise.config.grids import Grid

    with pytest.raises(ValueError, match="series x.snapshots must be true or false"):
        Grid.from_dict({"datasets": ["cifar10"], "models": ["resnet20"], "norms": ["bn"],
                        "snapshots": "no"}, "series x")


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
    assert len(average) == 2 * len(profile.noise.targets)  # both scorings of non-finite outputs
    assert (average["eta_grid"] == "0.1 0.5 1").all()


def test_mean_ci_uses_student_t() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.3027 * 1.0 / 3 ** 0.5, rel=1e-4)


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


def test_snapshots_are_stored_in_half_precision_and_reload(project) -> None:
    import torch

    from bnnoise.pipeline.trained import load_snapshot, profile_model, snapshot_epochs

    profile = load_profile("smoke", root=project)
    trained = profile_model(profile, ModelSpec("synthetic10", "resnet8", "bn"))
    store = ArtifactStore(profile.store_dir)
    path = store.root / "models" / trained.key
    assert snapshot_epochs(path) == [1]  # the last epoch is the model itself
    raw = torch.load(path / "epoch001.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in raw.values() if v.is_floating_point())
    early = load_snapshot(trained, store, 1)
    assert not torch.equal(early.fc.weight, trained.model.fc.weight)
    assert trained.summary["data_fingerprint"] and trained.summary["cpu"]
    for folder in ("checkpoints", "resume"):
        assert not (store.root / folder).exists() or not any((store.root / folder).iterdir())


def test_snapshots_of_an_interrupted_run_survive_a_resume_that_does_not_ask_for_them(
        project, monkeypatch) -> None:
    from bnnoise.pipeline import trained as pipeline_models
    from bnnoise.pipeline.trained import snapshot_epochs

    profile = load_profile("smoke", root=project, epochs=2)
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    spec = ModelSpec("synthetic10", "resnet8", "none")
    real_train = pipeline_models.train

    def interrupted(model, dataset, recipe, checkpoint, hooks):
        def snapshot_then_stop(epoch, network):
            hooks.snapshot(epoch, network)
            raise KeyboardInterrupt

        return real_train(model, dataset, recipe, checkpoint,
                          replace(hooks, snapshot=snapshot_then_stop))

    monkeypatch.setattr(pipeline_models, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        trained_model(store, spec, profile.recipe, data, snapshots=(1,))
    monkeypatch.setattr(pipeline_models, "train", real_train)
    resumed = trained_model(store, spec, profile.recipe, data)  # e.g. another caller
    assert snapshot_epochs(store.root / "models" / resumed.key) == [1]
    assert resumed.summary["snapshot_epochs"] == [1]


def test_large_models_store_half_precision_weights_and_are_evaluated_as_stored(
        project, monkeypatch) -> None:
    import torch

    from bnnoise.pipeline import stored_weights
    from bnnoise.pipeline import trained as pipeline_models

    monkeypatch.setattr(stored_weights, "STORE_FP32_LIMIT", 1000)  # make ResNet8 "large"
    profile = load_profile("smoke", root=project, epochs=1)
    trained = pipeline_models.profile_model(profile, ModelSpec("synthetic10", "resnet8", "none"))
    path = ArtifactStore(profile.store_dir).root / "models" / trained.key
    raw = torch.load(path / "model.pt", weights_only=True)
    assert raw["fc.weight"].dtype == torch.float16 and raw["fc.bias"].dtype == torch.float32
    assert trained.summary["stored_weights"] == "conv/linear weights fp16"
    reloaded = pipeline_models.profile_model(profile, ModelSpec("synthetic10", "resnet8", "none"))
    assert torch.equal(reloaded.model.fc.weight, raw["fc.weight"].float())


def test_series_grid_maps_its_endpoints_to_the_plain_models(project) -> None:
    from bnnoise.pipeline.specs import profile_specs

    specs = profile_specs(load_profile("smoke", root=project), "bn_count")
    slugs = [s.slug for s in specs]
    assert slugs[0] == "synthetic10-resnet8-none"
    assert "synthetic10-resnet8-bn-bnlast3" in slugs and "synthetic10-resnet8-bn-bn3" in slugs
    assert slugs[-1] == "synthetic10-resnet8-bn"  # 7 of 7 slots: the fully normalized model
    with pytest.raises(ValueError,
                       match="grid .x. in profile smoke; valid: main, length_pilot, bn_count"):
        load_profile("smoke", root=project).grid("x")


def test_target_sets_get_independent_draws_and_identical_sets_share_one_cell(project) -> None:
    from bnnoise.noise.protocol import draw_seed

    assert draw_seed(0, 0.1, 0, "a") != draw_seed(0, 0.1, 0, "b")
    profile = load_profile("smoke", root=project, epochs=1, draws=2, etas=[0.5])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    plain = trained_model(store, ModelSpec("synthetic10", "resnet8", "none"), profile.recipe,
                          data)
    table = noise_sweep(store, plain, profile.noise, data)
    cells = sorted(p.name for p in (store.root / "sweeps").iterdir())
    assert len(cells) == 2 and any("-weights-eta0.5-" in c for c in cells)  # clean + one set
    by_target = table[table["eta"] > 0].pivot(index="draw", columns="target", values="accuracy")
    assert (by_target.nunique(axis=1) == 1).all()  # the same draws for all three names

    bn = trained_model(store, ModelSpec("synthetic10", "resnet8", "bn"), profile.recipe, data)
    noise_sweep(store, bn, profile.noise, data)
    assert len(list((store.root / "sweeps").iterdir())) == 2 + 1 + 3


def test_collapse_and_both_scorings_of_nonfinite_outputs_are_recorded(project) -> None:
    from bnnoise.pipeline.sweeps import cell_hits

    profile = load_profile("smoke", root=project, epochs=1, draws=4, etas=[50.0],
                           targets=["all"])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    bn = trained_model(store, ModelSpec("synthetic10", "resnet8", "bn"), profile.recipe, data)
    table = noise_sweep(store, bn, profile.noise, data)
    noisy = table[table["eta"] > 0]
    assert noisy["collapsed"].all()  # eta = 50 times the spread of the running variances
    assert (noisy["nonfinite_fraction"] == 1).all() and (noisy["accuracy"] == 0).all()
    # plain argmax of an all-NaN row picks class 0: right for exactly the class-0 images
    assert noisy["accuracy_argmax"].iloc[0] == pytest.approx(0.1)
    cell = next(p for p in (store.root / "sweeps").iterdir() if "-all-eta50-" in p.name)
    hits = cell_hits(cell)
    assert hits.shape == (4, 100) and not hits.any()


def test_progress_table_sweeps_every_snapshot_and_the_final_model(project) -> None:
    from bnnoise.pipeline.progress import progress_draws, progress_summary
    from bnnoise.pipeline.trained import profile_model

    profile = load_profile("smoke", root=project, etas=[0.5])
    assert profile.progress_noise.draws == 2 and profile.progress_noise.etas == (0.5,)
    run = profile_model(profile, ModelSpec("synthetic10", "resnet8", "bn"))
    draws = progress_draws(profile, [run])
    assert len(draws) == 2 * 2 * 2  # (snapshot, final) x (all, weights) x 2 draws
    table = progress_summary(draws)
    assert table["epoch"].tolist() == [1, 1, 2, 2]  # epoch-1 snapshot, final model (epoch 2)
    assert table["clean_accuracy"].between(0, 1).all() and (table["draws"] == 2).all()
    cells = [p.name for p in (ArtifactStore(profile.store_dir).root / "sweeps").iterdir()]
    assert len(cells) == 2 * 3  # clean, eta 0.5 on all, eta 0.5 on weights; two models


def test_reparametrized_models_get_noise_on_their_effective_weights(project) -> None:
    profile = load_profile("smoke", root=project, epochs=1, draws=2, etas=[0.5])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    ws = trained_model(store, ModelSpec("synthetic10", "resnet8", "gn4+ws"), profile.recipe,
                       data)
    plain = trained_model(store, ModelSpec("synthetic10", "resnet8", "bn"), profile.recipe, data)
    assert sweep_config(ws, profile.noise, "weights", 0.5)["weights"] == "effective"
    assert "weights" not in sweep_config(plain, profile.noise, "weights", 0.5)
    table = noise_sweep(store, ws, profile.noise, data)
    from bnnoise.evaluation import predictions
    from bnnoise.pipeline.sweeps import evaluation_subset

    x, y = evaluation_subset(data("synthetic10"), profile.noise)
    predicted, _ = predictions(ws.model, x)  # the original, reparametrized model
    clean = table[table["eta"] == 0]["accuracy"].iloc[0]
    assert clean == pytest.approx(float((predicted == y).float().mean()), abs=0.02)
    assert (table[table["eta"] > 0]["accuracy"] < 1).all()


def test_a_model_swept_on_another_copy_of_its_data_warns_and_records_both(project) -> None:
    import json

    profile = load_profile("smoke", root=project, draws=1, etas=[0.5], targets=["weights"])
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    trained = trained_model(store, ModelSpec("synthetic10", "resnet8", "none"), profile.recipe,
                            data)
    trained.summary["data_fingerprint"] = "0123456789abcdef"  # as if trained on another copy
    with pytest.warns(UserWarning, match="trained on data with fingerprint 0123456789abcdef"):
        noise_sweep(store, trained, profile.noise, data)
    records = [json.loads(p.read_text())["provenance"]
               for p in (store.root / "sweeps").glob("*/manifest.json")]
    assert {r["model_data_fingerprint"] for r in records} == {"0123456789abcdef"}
    assert all(r["data_fingerprint"] != "0123456789abcdef" for r in records)


def test_a_recipe_exception_changes_only_the_datasets_models_and_norms_it_names(project) -> None:
    from bnnoise.pipeline.specs import model_config, recipe_of

    profile = load_profile("cpu", root=project)
    cifar100_vgg = ModelSpec("cifar100", "vgg16", "none")
    assert recipe_of(profile, cifar100_vgg).precision == "fp32"
    assert recipe_of(profile, ModelSpec("cifar10", "vgg16", "none")).precision == "bf16"
    assert recipe_of(profile, ModelSpec("cifar100", "resnet44", "none")).precision == "fp32"
    assert recipe_of(profile, ModelSpec("cifar100", "resnet20", "bn")).precision == "bf16"
    # the exception enters the artifact key, so an fp32 network never loads a bf16 one
    bf16 = model_config(cifar100_vgg, profile.recipe)
    assert model_config(cifar100_vgg, recipe_of(profile, cifar100_vgg)) != bf16
    assert "cifar100" in profile.recipe_overrides[0].describe()


def test_a_recipe_exception_with_an_unknown_dataset_stops_at_load() -> None:
    from bnnoise.config.grids import RecipeOverride

    with pytest.raises(ValueError, match="unknown dataset 'cifar1000'; valid"):
        RecipeOverride(("vgg16",), ("bn",), {"precision": "fp32"}, datasets=("cifar1000",))


def test_a_parameter_may_come_named_or_in_overrides_but_not_both_ways_differently(
        project) -> None:
    named = load_profile("smoke", root=project, draws=4)
    assert load_profile("smoke", root=project, overrides={"draws": 4}) == named
    assert load_profile("smoke", root=project, draws=4, overrides={"draws": 4}) == named
    assert load_profile("smoke", root=project, draws=None, overrides={"draws": 4}) == named
    with pytest.raises(ValueError, match="draws is given twice, as 4 and in overrides as 5"):
        load_profile("smoke", root=project, draws=4, overrides={"draws": 5})
