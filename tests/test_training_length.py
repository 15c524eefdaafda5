"""The training-length comparison: runs of several lengths told apart, followed along their
stored epochs, and shown in one table and one figure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bnnoise.config import load_profile


@pytest.mark.slow
def test_the_length_runs_are_told_apart_by_their_epochs_and_followed_along_training(
        smoke_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bnnoise.analysis.training_length import length_results
    from bnnoise.figures.length_figures import LENGTH_ETAS, length_trajectories
    from bnnoise.pages.length_tables import length_view
    from bnnoise.pipeline.specs import profile_specs
    from bnnoise.pipeline.trained import profile_model

    monkeypatch.setenv("BNNOISE_ROOT", str(smoke_project))
    profile = load_profile("smoke", root=smoke_project)
    pilot = profile_specs(profile, "length_pilot")  # ResNet8 with BN for 3 and 4 epochs
    for spec in [*pilot, *profile_specs(profile)]:
        profile_model(profile, spec)
    length = length_results(profile)
    training = length.results.training
    # the 10-epoch counterpart (here the recipe's 2 epochs) and both pilot runs, with BN only:
    # the main grid's network without BN has no training-length twin
    lengths = [profile.recipe.epochs, *sorted(s.epochs for s in pilot)]
    assert sorted(training["epochs"]) == lengths == [2, 3, 4]
    assert set(training["norm"]) == {"bn"}
    runs = length.progress.draws.groupby("epochs")["epoch"].unique()
    assert {e: sorted(v) for e, v in runs.items()} == {2: [1, 2], 3: [2, 3], 4: [2, 4]}
    finals = length.variances[length.variances["epoch"] == length.variances["epochs"]]
    assert set(finals["epochs"]) == set(training["epochs"])
    assert finals["collapse_probability"].between(0, 1).all()
    view = length_view(length.results, length.variances, LENGTH_ETAS)
    assert list(view["epochs"]) == sorted(training["epochs"])
    assert "collapse (%)" in view.columns
    assert [c for c in view.columns if c.endswith("(%)")][1:3] == ["weights (%)", "all (%)"]
    figure = length_trajectories(length.progress.draws, length.variances)
    rows = len(profile.progress_noise.targets) + len(LENGTH_ETAS) + 1
    assert len(figure.axes) == rows


@pytest.mark.slow
def test_the_time_to_accuracy_benchmark_compares_the_converged_recipe_with_he_et_al(
        smoke_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the command the performance page shows, on the smoke profile (its pilot trained here)
    import subprocess
    import sys

    import pandas as pd

    from bnnoise.pipeline.specs import profile_specs
    from bnnoise.pipeline.trained import profile_model

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("BNNOISE_ROOT", str(smoke_project))
    profile = load_profile("smoke", root=smoke_project)
    for spec in profile_specs(profile, "length_pilot"):
        profile_model(profile, spec)
    subprocess.run([sys.executable, str(root / "benchmarks" / "time_to_accuracy.py"),
                    "--profile", "smoke", "--steps", "1", "--out", str(tmp_path)], check=True,
                   cwd=root, capture_output=True)
    table = pd.read_csv(tmp_path / "time_to_accuracy.csv")
    assert len(table) == 3 and (table["seconds_per_epoch"] > 0).all()
    he = table.iloc[-1]
    assert he["epochs_to_threshold"] == 164 and he["precision"] == "fp32"
    assert he["epochs_source"].startswith("estimated")
    shown = pd.read_csv(tmp_path / "time_to_accuracy_display.csv")
    assert list(shown["fewer epochs than He et al."])[-1] == "1.0x"


def test_the_converged_tier_trains_as_long_as_the_pilots_rule_chose() -> None:
    from bnnoise.analysis.pilots import length_pilot
    from bnnoise.pipeline.specs import profile_specs

    root = Path(__file__).resolve().parents[1]
    profile = load_profile("cpu", root=root)
    pilot = length_pilot(profile)  # the published pilot runs, from the committed store
    assert pilot.choice is not None, "every pilot run is published"
    for grid in ("converged", "converged_seeds"):
        assert profile.grid(grid).epochs == (pilot.choice,), grid
    # the pilot's run of that length is the converged ResNet20 with BN: trained once
    chosen = next(s for s in profile_specs(profile, "length_pilot") if s.epochs == pilot.choice)
    assert chosen in profile_specs(profile, "converged")


def test_the_converged_networks_answer_the_two_questions_with_numbers() -> None:
    from types import SimpleNamespace

    import pandas as pd

    from bnnoise.analysis.training_length import converged_fit
    from bnnoise.pages.length_tables import questions_in_words

    etas = [0.02, 0.1, 0.5, 1.0]
    rows = [{"dataset": "cifar10", "model": "resnet44", "norm": norm, "seed": 0,
             "epochs": epochs, "target": "all", "scoring": "wrong", "eta": eta,
             "normalized_accuracy": level * (1 - eta / 2)}
            for norm, level in (("bn", 0.6), ("none", 1.0)) for epochs in (10, 40)
            for eta in etas]
    results = SimpleNamespace(summary=pd.DataFrame(rows))
    long, short = converged_fit(results, 40)
    assert int(long.iloc[0]["numbers"]) == 2 and int(short.iloc[0]["numbers"]) == 2
    assert converged_fit(results, 60)[0].empty  # no network of that length
    variances = pd.DataFrame([{"model": "vgg16", "norm": "bn", "epochs": 40, "epoch": 40,
                               "eta": 0.02, "collapse_probability": 0.97}])
    text = questions_in_words((long, short), variances, 40, 0.02).data
    assert f"misses them by {long.iloc[0]['rmse']:.1f} points" in text
    residual = long.iloc[0]["residual resnet44 bn"]
    assert f"resnet44 with BN {residual:+.1f}".replace("-", "\u2212") in text
    assert f"the closest of {len(long)}:" in text
    assert "at η = 0.02, the grid's smallest level, is 97 %" in text
    text = questions_in_words(converged_fit(results, 60), variances.iloc[:0], 60, 0.02).data
    assert text.count("Not answerable yet") == 2
    one = SimpleNamespace(summary=pd.DataFrame([r for r in rows if r["norm"] == "bn"]))
    text = questions_in_words(converged_fit(one, 40), variances, 40, 0.02).data
    assert "only one has a published number" in text and "misses them" not in text


def test_the_training_cost_marks_lower_bounds_and_runs_that_moved_between_machines() -> None:
    from types import SimpleNamespace

    from bnnoise.pages.length_tables import _cost

    assert _cost(SimpleNamespace(cpu_hours=6.28, machines=1)) == "6.3"
    assert _cost(SimpleNamespace(cpu_hours=4.2, machines=2)) == "4.2†"
    assert _cost(SimpleNamespace(cpu_hours=float("nan"))) == "–"
    assert _cost(SimpleNamespace(cpu_hours=4.0, machines=1), untimed=2) == "≥4.0"  # lower bound


def test_the_chapter_opens_with_the_bn_gap_at_every_length_both_arms_have() -> None:
    from bnnoise.pages.length_tables import _gap_in_words

    average = pd.DataFrame({"model": "resnet44", "seed": 0, "epochs": [10, 10, 40, 40, 60],
                            "norm": ["bn", "none", "bn", "none", "bn"],
                            "avg_normalized_accuracy": [0.70, 0.79, 0.80, 0.78, 0.9]})
    text = _gap_in_words(average, "weights")
    assert "resnet44 (seed 0) +9.0 after 10 → \u22122.0 after 40 epochs." in text
    assert "60" not in text  # a length only one arm has is left out
    assert _gap_in_words(average[average["epochs"] == 10], "weights") == ""
    other = average.assign(dataset="cifar100", avg_normalized_accuracy=0.5)
    both = pd.concat([average.assign(dataset="cifar10"), other])
    assert "+9.0 after 10" in _gap_in_words(both, "weights")  # datasets are never averaged
