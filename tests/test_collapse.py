"""The exact collapse probability against direct simulation of the noise."""

import numpy as np
import pytest
import torch
from scipy.stats import norm as gaussian
from torch import nn

from bnnoise.nets.models import build_model
from bnnoise.noise.collapse import collapse_probability
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import draw_seed, select_tensors


def _with_running_variances(model: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_var.copy_(torch.rand(m.num_features, generator=g) * 2 + 0.05)
    return model


def test_single_channel_matches_the_gaussian_tail() -> None:
    bn = nn.BatchNorm2d(2)
    bn.running_var.copy_(torch.tensor([1.0, 3.0]))  # std (population) = 1
    p = collapse_probability(nn.Sequential(bn), 0.5)
    expected = 1 - gaussian.cdf((1 + 1e-5) / 0.5) * gaussian.cdf((3 + 1e-5) / 0.5)
    assert p == pytest.approx(expected, rel=1e-9)


def test_no_batchnorm_never_collapses() -> None:
    assert collapse_probability(build_model("resnet8", 10, "none"), 1.0) == 0.0


@pytest.mark.parametrize("eta, kind", [(0.1, "additive"), (0.15, "additive"),
                                       (0.3, "multiplicative")])
def test_probability_agrees_with_simulated_draws(eta: float, kind: str) -> None:
    model = _with_running_variances(build_model("resnet8", 10, "bn"))
    p = collapse_probability(model, eta, kind=kind)
    tensors = select_tensors(model, "all")
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    draws = 2000
    collapsed = 0
    for d in range(draws):
        with injected_noise(tensors, eta, draw_seed(0, eta, d), kind=kind):
            collapsed += any(bool((m.running_var + m.eps < 0).any()) for m in bns)
    se = np.sqrt(p * (1 - p) / draws)
    assert 0.02 < p < 0.98
    assert abs(collapsed / draws - p) < 4 * se


def test_bad_eta_is_refused() -> None:
    with pytest.raises(ValueError, match="eta must be > 0"):
        collapse_probability(build_model("resnet8", 10, "bn"), 0.0)


def _table(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["eta", "draw", "accuracy", "accuracy_argmax", "collapsed"])


def test_collapse_check_flags_inconsistent_probabilities() -> None:
    import pandas as pd

    from bnnoise.noise.collapse import collapse_check, pooled_collapse_test

    draws = _table([(0.0, 0, 0.9, 0.9, False)]
                   + [(0.1, d, 0.0, 0.1, True) for d in range(10)]
                   + [(0.2, d, 0.0, 0.1, True) for d in range(10)]).assign(model="m")
    probs = pd.DataFrame({"model": "m", "eta": [0.1, 0.2], "collapse_probability": [0.99, 0.01]})
    check = collapse_check(draws, probs, ["model"])
    assert check["consistent"].tolist() == [True, False]
    observed, expected, p_value = pooled_collapse_test(check)
    assert observed == 20 and expected == pytest.approx(10) and p_value < 1e-3


def test_collapse_adjusted_average_uses_the_exact_probability() -> None:
    import pandas as pd

    from bnnoise.noise.collapse import collapse_adjusted_average

    rows = [(0.0, 0, 0.8, 0.8, False)]
    rows += [(0.1, d, 0.6 + 0.01 * d, 0.6 + 0.01 * d, False) for d in range(4)]
    rows += [(0.1, 4, 0.0, 0.1, True)]  # one sampled collapse ...
    probs = pd.DataFrame({"eta": [0.1], "collapse_probability": [0.5]})  # ... but p is 1/2
    wrong = collapse_adjusted_average(_table(rows), probs)
    assert wrong.estimate == pytest.approx(0.5 * 0.615 / 0.8)
    argmax = collapse_adjusted_average(_table(rows), probs, "accuracy_argmax")
    assert argmax.estimate == pytest.approx((0.5 * 0.1 + 0.5 * 0.615) / 0.8)
    assert 0 < wrong.standard_error < 0.05


def test_running_variance_table_counts_the_channels_small_for_their_layer() -> None:
    import torch
    from torch import nn

    from bnnoise.noise.collapse import running_variance_table

    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 1),
                        nn.BatchNorm2d(2))
    net[1].running_var = torch.tensor([2.0, 2.0, 2.0, 1e-4])   # median 2: 1e-4 < 2e-3
    net[4].running_var = torch.tensor([1.0, 3.0])
    table = running_variance_table(net)
    assert table["layer"].tolist() == ["1", "4"]
    assert table["channels"].tolist() == [4, 2]
    assert table["small_share"].tolist() == [0.25, 0.0]
    assert table["smallest_to_median"].tolist() == pytest.approx([5e-5, 0.5])
    assert running_variance_table(nn.Sequential(nn.Conv2d(3, 4, 3))).empty


def test_variance_trajectory_follows_a_run_through_its_snapshots(project) -> None:
    from bnnoise.config import load_profile
    from bnnoise.pipeline.progress import variance_trajectory
    from bnnoise.pipeline.specs import profile_specs
    from bnnoise.pipeline.trained import profile_model
    from bnnoise.store import ArtifactStore

    profile = load_profile("smoke", root=project)
    spec = profile_specs(profile, "length_pilot")[0]   # 3 epochs, a snapshot every 2
    run = profile_model(profile, spec)
    table = variance_trajectory(ArtifactStore(profile.store_dir), run, profile.noise)
    assert sorted(set(table["epoch"])) == [2, 3]
    assert len(table) == 2 * len(profile.noise.etas)
    for _, part in table.groupby("epoch"):
        probabilities = part.sort_values("eta")["collapse_probability"].to_numpy()
        assert ((probabilities >= 0) & (probabilities <= 1)).all()
        assert (np.diff(probabilities) >= 0).all()   # more noise, more collapse
        assert part["small_variance_share"].nunique() == 1
