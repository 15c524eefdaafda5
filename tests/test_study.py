import math

import numpy as np
import pytest

from bnnoise.report.study import PUBLISHED, matching_eta_max, running_average


def test_published_numbers_are_the_abstracts() -> None:
    values = PUBLISHED.set_index(["model", "norm"])["avg_normalized_accuracy"].to_dict()
    assert values == {("resnet44", "bn"): 0.4132, ("resnet44", "none"): 0.9195,
                      ("vgg16", "bn"): 0.1075, ("vgg16", "none"): 0.9380}


def test_running_average_of_a_linear_curve() -> None:
    eta = np.array([0.0, 0.5, 1.0])
    curve = 1 - eta  # mean over [0, m] is 1 - m / 2
    assert running_average(eta, curve, np.array([0.5, 1.0])) == pytest.approx([0.75, 0.5],
                                                                              abs=1e-6)


def test_matching_eta_max_inverts_the_running_average() -> None:
    eta = np.array([0.0, 0.1, 0.5, 1.0])
    curve = 1 - eta
    assert matching_eta_max(eta, curve, 0.75) == pytest.approx(0.5, abs=1e-3)
    assert math.isnan(matching_eta_max(eta, curve, 0.2))  # needs eta_max beyond the grid
    assert math.isnan(matching_eta_max(eta, np.ones(4), 0.9))  # never drops
