import numpy as np
import pandas as pd
import pytest

from bnnoise.analysis.study import (
    PUBLISHED,
    chance_reading,
    joint_fit,
    running_average,
    truncated_grid_average,
)


def test_published_numbers_are_the_abstracts() -> None:
    values = PUBLISHED.set_index(["model", "norm"])["avg_normalized_accuracy"].to_dict()
    assert values == {("resnet44", "bn"): 0.4132, ("resnet44", "none"): 0.9195,
                      ("vgg16", "bn"): 0.1075, ("vgg16", "none"): 0.9380}


def test_running_average_of_a_linear_curve() -> None:
    eta = np.array([0.0, 0.5, 1.0])
    curve = 1 - eta  # mean over [0, m] is 1 - m / 2
    assert running_average(eta, curve, np.array([0.5, 1.0])) == pytest.approx([0.75, 0.5],
                                                                              abs=1e-6)


def test_truncated_grid_average() -> None:
    eta = np.array([0.0, 0.1, 0.2, 0.5])
    values = np.array([1.0, 0.9, 0.7, 0.1])
    assert truncated_grid_average(eta, values, np.array([0.2, 0.5])) == pytest.approx(
        [0.8, 0.5666667])
    assert np.isnan(truncated_grid_average(eta, values, np.array([0.05]))[0])


def _linear_summary(eta_max: float, target: str = "all", scoring: str = "wrong") -> pd.DataFrame:
    """Linear curves whose uniform average up to eta_max equals each published number."""
    eta = np.round(np.linspace(0, 1, 21), 3)
    rows = []
    for r in PUBLISHED.itertuples():
        slope = 2 * (1 - r.avg_normalized_accuracy) / eta_max
        rows += [{"dataset": r.dataset, "model": r.model, "norm": r.norm, "target": target,
                  "scoring": scoring, "eta": e, "normalized_accuracy": 1 - slope * e}
                 for e in eta]
    return pd.DataFrame(rows)


def test_joint_fit_recovers_the_common_eta_max() -> None:
    fit = joint_fit(_linear_summary(0.4))
    best = fit[fit["family"] == "uniform"].iloc[0]
    assert best["numbers"] == 4
    assert best["eta_max"] == pytest.approx(0.4, abs=0.005) and best["rmse"] < 0.3
    assert {c for c in fit if c.startswith("residual")} == {
        "residual resnet44 bn", "residual resnet44 none", "residual vgg16 bn",
        "residual vgg16 none"}


def test_joint_fit_cannot_fit_curves_that_disagree() -> None:
    summary = _linear_summary(0.4)
    vgg = summary["model"] == "vgg16"
    summary.loc[vgg, "normalized_accuracy"] = 1.0  # VGG never degrades: no eta_max fits it
    best = joint_fit(summary).iloc[0]
    assert best["rmse"] > 20 and abs(best["residual vgg16 bn"]) > 50


def test_chance_reading_of_the_vgg16_number() -> None:
    # every draw collapses, argmax picks class 0: 10 % right, over a clean accuracy of 93 %
    assert 100 * chance_reading(0.93, 10) == pytest.approx(10.75, abs=0.01)


def test_joint_fit_without_published_models_is_empty() -> None:
    summary = _linear_summary(0.4).assign(model="resnet8")
    fit = joint_fit(summary)
    assert fit.empty and "rmse" in fit.columns
