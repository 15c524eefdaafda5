import math

import pytest
import torch

from bnnoise.config.setups import PropagationSetup
from bnnoise.nets.models import build_model
from bnnoise.theory.propagation import (
    activation_variance,
    average_cosine_similarity,
    layer_statistics,
    stable_rank,
)


def test_quantities_on_known_inputs() -> None:
    identical = torch.ones(5, 2, 3, 3)
    assert average_cosine_similarity(identical) == pytest.approx(1.0)
    assert stable_rank(identical) == pytest.approx(1.0)
    orthogonal = torch.eye(4).view(4, 4, 1, 1)
    assert average_cosine_similarity(orthogonal) == pytest.approx(0.0)
    assert stable_rank(orthogonal) == pytest.approx(4.0)
    a = torch.zeros(2, 2, 1, 2)
    a[:, 0] = torch.tensor([[0.0, 2.0], [4.0, 6.0]]).view(2, 1, 2)  # channel 0: variance 5
    assert activation_variance(a) == pytest.approx(5.0 / 2)


def test_bn_before_relu_gives_the_half_rectified_gaussian_variance() -> None:
    # reference fact: with BN (gamma 1, beta 0) before a ReLU, the post-ReLU variance of a
    # Gaussian pre-activation is (1 - 1/pi) / 2 = 0.3408
    torch.manual_seed(0)
    model = build_model("plain6", 10, "bn")
    stats = layer_statistics(model, torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,)))
    assert stats["activation_variance"].iloc[1:].to_numpy() == pytest.approx(
        (1 - 1 / math.pi) / 2, rel=0.05)


def test_unnormalized_resnet_variance_grows_and_bn_keeps_it_bounded() -> None:
    x, y = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))
    var = {}
    for norm in ("none", "bn"):
        torch.manual_seed(0)
        model = build_model("resnet20", 10, norm, zero_init_residual=False)
        var[norm] = layer_statistics(model, x, y)["activation_variance"].to_numpy()
    assert var["none"][-1] / var["none"][0] > 20  # grows by about 1.6x per block
    assert var["bn"].max() / var["bn"].min() < 5  # linear growth within a stage at most


def test_gradient_norms_are_reported_for_every_layer() -> None:
    torch.manual_seed(0)
    stats = layer_statistics(build_model("resnet8", 10, "gn4"), torch.randn(8, 3, 32, 32),
                             torch.randint(0, 10, (8,)))
    assert len(stats) == 3 and (stats["grad_norm"] > 0).all()


def test_setup_validation() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        PropagationSetup(models=("resnet7",))
    with pytest.raises(ValueError, match="unknown norm"):
        PropagationSetup(norms=("batchnorm",))


def test_growth_verdicts_and_claims() -> None:
    import pandas as pd

    from bnnoise.theory.propagation import growth_table, propagation_claims

    rows = []
    for norm, final in [("bn", 2.0), ("none", 500.0)]:
        for init, last in [("default", final), ("zero", 1.5)]:
            for seed in (0, 1):
                rows += [{"model": "resnet20", "residual_init": init, "norm": norm, "seed": seed,
                          "layer": 1, "activation_variance": 1.0},
                         {"model": "resnet20", "residual_init": init, "norm": norm, "seed": seed,
                          "layer": 2, "activation_variance": last}]
    growth = growth_table(pd.DataFrame(rows))
    verdicts = growth.set_index(["init", "norm"])["verdict"].to_dict()
    assert verdicts == {("default", "bn"): "bounded", ("zero", "bn"): "bounded",
                        ("default", "none"): "exponential", ("zero", "none"): "bounded"}
    assert propagation_claims(growth) == {"activation_norms_bound": True,
                                          "zero_init_bounds": True}
