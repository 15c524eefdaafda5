import math

import pytest
import torch

from bnnoise.config.setups import PropagationSetup
from bnnoise.nets.models import build_model
from bnnoise.theory.propagation import (
    activation_variance,
    at_site,
    average_cosine_similarity,
    conv_points,
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
    stats = at_site(layer_statistics(model, torch.randn(64, 3, 32, 32),
                                     torch.randint(0, 10, (64,))), "output")
    assert stats["activation_variance"].iloc[1:].to_numpy() == pytest.approx(
        (1 - 1 / math.pi) / 2, rel=0.05)


def test_unnormalized_resnet_variance_grows_and_bn_keeps_it_bounded() -> None:
    x, y = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))
    var = {}
    for norm in ("none", "bn"):
        torch.manual_seed(0)
        model = build_model("resnet20", 10, norm, zero_init_residual=False)
        outputs = at_site(layer_statistics(model, x, y), "output")
        var[norm] = outputs["activation_variance"].to_numpy()
    assert var["none"][-1] / var["none"][0] > 20  # grows by about 1.6x per block
    assert var["bn"].max() / var["bn"].min() < 5  # linear growth within a stage at most


def test_gradient_norms_are_taken_at_every_conv_output_and_at_every_block() -> None:
    torch.manual_seed(0)
    model = build_model("resnet8", 10, "gn4")
    assert len(conv_points(model)) == 7  # stem + two per block; the 1x1 shortcuts are not slots
    stats = layer_statistics(model, torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,)))
    outputs, convs = at_site(stats, "output"), at_site(stats, "conv")
    assert len(outputs) == 3 and (outputs["grad_norm"] > 0).all()
    assert len(convs) == 7 and (convs["grad_norm"] > 0).all()
    assert convs["cosine_similarity"].isna().all()  # similarity is read at the outputs only
    with pytest.raises(ValueError, match="unknown site"):
        at_site(stats, "relu")


def test_conv_gradient_is_the_gradient_of_the_conv_output() -> None:
    # plain2 with no normalizer: d loss / d conv2 output, by hand with autograd
    torch.manual_seed(0)
    model = build_model("plain2", 10, "none")
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
    stats = at_site(layer_statistics(model, x, y), "conv")
    conv2 = model.units[1][0][0]
    h = model.units[0](x)
    z = conv2(h).requires_grad_(True)
    out = model.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(torch.relu(z), 1), 1))
    (grad,) = torch.autograd.grad(torch.nn.functional.cross_entropy(out, y), z)
    assert stats["grad_norm"].iloc[1] == pytest.approx(float(grad.norm()), rel=1e-5)


def test_small_groups_amplify_early_gradients_at_the_conv_outputs() -> None:
    from bnnoise.theory.propagation import gradient_ratio

    x, y = torch.randn(16, 3, 16, 16), torch.randint(0, 10, (16,))
    ratios = {}
    for norm in ("gn1", "gn64"):
        torch.manual_seed(0)
        ratios[norm] = gradient_ratio(layer_statistics(build_model("plain8", 10, norm), x, y))
    assert ratios["gn1"] > 2 * ratios["gn64"]


def test_setup_validation() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        PropagationSetup(models=("resnet7",))
    with pytest.raises(ValueError, match="unknown norm"):
        PropagationSetup(norms=("batchnorm",))


def _growth_layers(finals: dict[tuple[str, str], list[float]], depth: int = 3):
    """A propagation table of resnet20 (depth blocks) whose last layer has the given variances
    per (init, norm), one per seed; the first layer has variance 1."""
    import pandas as pd

    rows = []
    for (init, norm), lasts in finals.items():
        for seed, last in enumerate(lasts):
            for layer in range(1, depth + 1):
                rows.append({"model": "resnet20", "residual_init": init, "norm": norm,
                             "seed": seed, "site": "output", "layer": layer,
                             "activation_variance": last if layer == depth else 1.0})
    return pd.DataFrame(rows)


def test_growth_table_against_the_linear_bound() -> None:
    from bnnoise.theory.propagation import growth_table

    table = growth_table(_growth_layers({("default", "bn"): [2.0, 2.2, 1.9],
                                         ("default", "none"): [500.0, 800.0, 650.0],
                                         ("default", "ln"): [1.0, 10.0, 100.0]}))
    sides = dict(zip(table["norm"], table["versus_bound"], strict=True))
    assert sides == {"bn": "below", "none": "above", "ln": "undecided"}
    assert table["bound"].tolist() == [3, 3, 3]
    assert table.loc[0, "growth"] == pytest.approx((2.0 * 2.2 * 1.9) ** (1 / 3))
    assert list(table["kind"]) == ["activation", "none", "activation"]


def test_growth_claims_reproduced_contradicted_and_inconclusive() -> None:
    from bnnoise.stats import Verdict
    from bnnoise.theory.propagation import growth_checks

    zero = {("zero", "bn"): [0.2, 0.25, 0.22], ("zero", "none"): [0.3, 0.2, 0.25]}
    holds = growth_checks(_growth_layers({("default", "bn"): [1.5, 1.6, 1.4],
                                          ("default", "none"): [1e4, 3e4, 2e4], **zero}))
    assert [c.verdict for c in holds] == [Verdict.REPRODUCED, Verdict.REPRODUCED]
    # the zero-init claim covers the network without a normalizer too, and says so
    assert holds[1].claim.endswith("for every normalizer and without one (none)")
    assert [p.measure.split(", ")[-1].split(":")[0] for p in holds[1].parts] == ["bn", "none"]
    only_bn = growth_checks(_growth_layers({("default", "bn"): [1.5, 1.6, 1.4],
                                            ("zero", "bn"): [0.2, 0.25, 0.22]}))
    assert only_bn[1].claim.endswith("for every normalizer")
    # without normalization the variance stays flat: part (none) and claim (i) contradicted
    flat = growth_checks(_growth_layers({("default", "bn"): [1.5, 1.6, 1.4],
                                         ("default", "none"): [1.0, 1.1, 0.9], **zero}))
    assert flat[0].verdict is Verdict.CONTRADICTED
    assert [p.verdict for p in flat[0].parts] == [Verdict.REPRODUCED, Verdict.CONTRADICTED]
    # seeds on both sides of the bound: inconclusive
    wide = growth_checks(_growth_layers({("default", "bn"): [0.5, 30.0, 2.0],
                                         ("default", "none"): [1e4, 3e4, 2e4], **zero}))
    assert wide[0].verdict is Verdict.INCONCLUSIVE
    assert "Rule: for each part, reproduced if the 95 % CI" in wide[0].text()


def test_group_size_checks_on_constructed_series() -> None:
    import pandas as pd

    from bnnoise.stats import Verdict
    from bnnoise.theory.propagation import gradient_check, rank_check, similarity_check

    def per_seed(small: list[float], large: list[float], column: str) -> pd.DataFrame:
        return pd.DataFrame([{"group_size": g, "seed": i, column: v}
                             for g, values in ((1, small), (64, large))
                             for i, v in enumerate(values)])

    rising = per_seed([0.30, 0.32, 0.31], [0.80, 0.85, 0.83], "cosine_similarity")
    assert similarity_check(rising).verdict is Verdict.REPRODUCED
    falling = per_seed([0.80, 0.85, 0.83], [0.30, 0.32, 0.31], "cosine_similarity")
    assert similarity_check(falling).verdict is Verdict.CONTRADICTED
    noisy = per_seed([0.3, 0.9, 0.5], [0.4, 0.8, 0.6], "cosine_similarity")
    assert similarity_check(noisy).verdict is Verdict.INCONCLUSIVE
    assert rank_check(per_seed([3.0, 2.9, 3.1], [1.2, 1.1, 1.15], "stable_rank")).reproduced
    one_seed = per_seed([18.0], [1.1], "grad_ratio")
    check = gradient_check(one_seed)
    assert check.verdict is Verdict.INCONCLUSIVE and "at least two runs" in check.text()
    assert gradient_check(per_seed([18.0, 17.0, 19.0], [1.1, 1.2, 1.0], "grad_ratio")).reproduced
