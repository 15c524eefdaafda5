"""Remedies and per-layer sensitivity (bnnoise.pipeline.remedies, bnnoise.pipeline.layers)."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from bnnoise.config import load_profile
from bnnoise.nets.models import build_model
from bnnoise.pipeline.layers import (
    layer_draws,
    layer_units,
    relative_perturbation,
    sensitivity_prediction,
)
from bnnoise.pipeline.remedies import remedy_draws, remedy_ranking
from bnnoise.pipeline.trained import train_profile

ROOT = Path(__file__).resolve().parents[1]


def test_layer_units_pair_each_convolution_with_its_batchnorm() -> None:
    units = layer_units(build_model("resnet20", 10, "bn"))
    assert len(units) == 22  # 19 normalizable convolutions, 2 shortcut projections, classifier
    assert units[0] == ("stem.0", "stem.1", r"^(stem\.0|stem\.1)\.")
    assert units[-1] == ("fc", "fc", r"^(fc)\.")
    assert layer_units(build_model("resnet20", 10, "none"))[0][1] == "stem.0"


def test_relative_perturbation_is_scale_free_and_zero_without_noise() -> None:
    clean = torch.randn(8, 4, 5, 5) + 3.0  # the per-channel mean does not count as signal
    assert relative_perturbation(clean, clean) == 0.0
    noise = 0.1 * torch.randn_like(clean)
    ratio = relative_perturbation(clean, clean + noise)
    assert ratio == pytest.approx(relative_perturbation(10 * clean, 10 * (clean + noise)))
    assert 0.05 < ratio < 0.2


def _draws(norm, deployment, values, images=0, target="all", train_noise=0.0):
    return [{"dataset": "cifar10", "model": "resnet20", "norm": norm, "bn_layers": 0,
             "placement": "all", "seed": 0, "deployment": deployment, "images": images,
             "train_noise": train_noise,
             "target": target, "draw": d, "avg_normalized_accuracy": v,
             "nonfinite_fraction": 0.0} for d, v in enumerate(values)]


def test_ranking_measures_recovery_against_the_standard_deployment() -> None:
    table = pd.DataFrame(_draws("none", "standard", [0.80, 0.81, 0.79])
                         + _draws("bn", "standard", [0.400, 0.401, 0.399])
                         + _draws("bn", "recalibrated", [0.70, 0.71, 0.69], images=512)
                         + _draws("bn", "clamped", [0.400, 0.400, 0.401])
                         + _draws("bn", "gain", [0.400, 0.401, 0.399])
                         + _draws("bn", "noise-aware", [0.60, 0.61, 0.59], train_noise=0.3)
                         + _draws("none", "noise-aware", [0.9, 0.9, 0.9], train_noise=0.3))
    ranking = remedy_ranking(table).set_index("remedy")
    assert list(ranking.index) == ["recalibrated", "noise-aware", "clamped", "standard", "gain"]
    # like for like: noise-aware training against the network without BN trained with noise
    assert ranking.loc["noise-aware", "gap_closed"] == pytest.approx(0.4)
    assert ranking.loc["noise-aware", "no_bn_average"] == pytest.approx(90.0)
    assert ranking.loc["recalibrated", "no_bn_trained"] == "without noise"
    assert "weight noise of 0.3 × std" in ranking.loc["noise-aware", "cost"]
    assert ranking.loc["gain", "verdict"] == "identical to standard"
    assert ranking.loc["recalibrated", "recovered"] == pytest.approx(30.0)
    assert ranking.loc["recalibrated", "gap_closed"] == pytest.approx(0.75)
    assert ranking.loc["recalibrated", "verdict"] == "reproduced"
    assert ranking.loc["clamped", "verdict"] == "contradicted"
    assert "512 unlabelled training images" in ranking.loc["recalibrated", "cost"]


@pytest.mark.slow
def test_mechanism_sweeps_run_on_the_smoke_profile(tmp_path: Path, monkeypatch) -> None:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    profile = load_profile("smoke", root=tmp_path)
    runs = train_profile(profile)
    draws = remedy_draws(profile, runs)
    setup = profile.mechanism
    remedies = 1 + len(setup.deployments) + len(setup.recalibration_images)
    # BN: every remedy x both target sets; no BN: the standard deployment, one shared set
    assert len(draws) == setup.draws * (remedies * 2 + 2)
    from bnnoise.pipeline.remedies import noise_aware_runs

    assert noise_aware_runs(profile, stored_only=True) == []
    aware = noise_aware_runs(profile)
    assert [level for level, _ in aware] == [0.2, 0.2]  # with and without BN
    with_aware = remedy_draws(profile, runs, aware)
    assert set(with_aware["deployment"]) - set(draws["deployment"]) == {"noise-aware"}
    assert len(noise_aware_runs(profile, stored_only=True)) == 2
    layers = layer_draws(profile, runs)
    units = len(layer_units(runs[0].model))
    assert set(layers["layer"]) == set(range(units))
    assert (layers["perturbation"] > 0).all()
    prediction = sensitivity_prediction(layers)
    assert prediction["spearman_rho"].between(-1, 1).all()
    # stored: a second call (a chapter in CI) needs neither the data nor any computation
    import bnnoise.pipeline.layers as layers_module

    def no_data(*args, **kwargs):
        raise AssertionError("the data were needed")

    monkeypatch.setattr(layers_module, "evaluation_subset", no_data)
    pd.testing.assert_frame_equal(layer_draws(profile, runs), layers)


def test_findings_and_views_take_every_number_from_the_ranking() -> None:
    from bnnoise.pages.mechanism_tables import findings, ranking_view

    table = pd.DataFrame(_draws("none", "standard", [0.80, 0.81, 0.79])
                         + _draws("bn", "standard", [0.400, 0.401, 0.399])
                         + _draws("bn", "folded", [0.50, 0.52, 0.51])
                         + _draws("none", "standard", [0.80, 0.81, 0.79], target="weights")
                         + _draws("bn", "standard", [0.60, 0.61, 0.59], target="weights"))
    ranking = remedy_ranking(table)
    text = findings(ranking).data
    assert "as trained, 40.0 % (without BN 80.0 %)" in text
    assert ("BN folded into the convs, 51.0 % (+11.0 points, 28 % of the gap to the network "
            "without BN trained without noise, 80.0 %)") in text
    assert "BN kept digital with noise on the conv and linear weights and biases, 60.0 %" in text
    assert "overlaps" not in text  # the folded remedy alone: no remedy to tie with
    close = pd.concat([table, pd.DataFrame(_draws("bn", "clamped", [0.50, 0.52, 0.49]))])
    assert ("80.0 %); the intervals of 1 other remedy overlap its own, so the draws do not rank "
            "them.") in findings(remedy_ranking(close)).data
    view = ranking_view(ranking, "all")
    assert list(view["verdict"][:2]) == ["helps", "reference"]
    from bnnoise.config.mechanism import MechanismSetup
    from bnnoise.pages.mechanism_tables import remedy_tables

    text = remedy_tables(ranking, MechanismSetup(draws=7)).data
    assert "(resnet20, CIFAR-10)" in text and "over 7 draws per η" in text
    folded = remedy_tables(ranking, MechanismSetup(draws=7), fold=True).data
    assert folded.count("::::{dropdown}") == 3 and "remedies ranked, noise on" in folded
    assert "tbl-remedies-all" in text and "tbl-remedies-weights" in text
    assert "tbl-remedy-costs" in text


def test_literature_verdicts_follow_the_sign_of_the_recovery() -> None:
    import pandas as pd

    from bnnoise.pages.literature_tables import literature_view

    def row(target, remedy, rec, low, high, images=0, train_noise=0.0):
        return {"target": target, "remedy": remedy, "images": images, "train_noise": train_noise,
                "recovered": rec, "recovered_low": low, "recovered_high": high}

    ranking = pd.DataFrame([row("all", "recalibrated", 40, 30, 50, images=128),
                            row("all", "recalibrated", 30, -1, 61, images=32),
                            row("weights", "recalibrated", 1, -2, 4, images=128),
                            row("weights", "folded", -9.5, -12.7, -6.4)])
    view = literature_view(ranking)
    assert view["verdict"].tolist() == ["confirmed",                    # 128 images, all
                                        "inconclusive at this power",   # 128 images, weights
                                        "confirmed"]                    # folding is worse
    assert "128 images" in view["evidence"].iloc[0]
    robust = pd.DataFrame([
        {"target": "all", "scoring": "wrong", "norm": "l1bn", "estimate": -5.0, "low": -8.0,
         "high": -2.0, "interval": "seeds (2 vs 2)"},
        {"target": "all", "scoring": "argmax", "norm": "l1bn", "estimate": 5.0, "low": 2.0,
         "high": 8.0, "interval": "seeds (2 vs 2)"},
        {"target": "weights", "scoring": "wrong", "norm": "topkbn", "estimate": 3.0, "low": 1.0,
         "high": 5.0, "interval": "draws and images, one seed"}])
    view = literature_view(ranking, robust).iloc[3:]
    assert view["statement"].tolist() == [
        "L1 BatchNorm is more noise resistant than standard BN",
        "TopK BatchNorm is more noise resistant than standard BN"]
    assert view["verdict"].tolist() == ["contradicted", "confirmed"]
    assert "topkbn minus bn: 3.0 (1.0–5.0) points" in view["evidence"].iloc[1]
