import pandas as pd
import pytest
import torch
from torch import nn

from bnnoise.nets.models import build_model
from bnnoise.theory.singularity import channel_statistics, dead_channel_fraction, relu_inputs


def _two_layer(dead_channel: int) -> nn.Module:
    """conv (4 channels, one with a large negative bias) -> ReLU -> conv (2) -> ReLU."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(4, 2, 1), nn.ReLU(), nn.Flatten())
    with torch.no_grad():
        model[0].bias.zero_()
        model[0].bias[dead_channel] = -1e3
    return model


def test_a_channel_that_is_never_positive_counts_as_dead() -> None:
    x = torch.randn(8, 3, 6, 6)
    table = channel_statistics(_two_layer(dead_channel=2), x)
    assert list(table["name"]) == ["1", "3"] and list(table["channels"]) == [4, 2]
    assert table["dead_fraction"].iloc[0] == pytest.approx(0.25)
    assert 0 < table["active_share"].iloc[0] < 0.75  # three live channels, about half positive
    assert table["standardized_mean"].iloc[0] == pytest.approx(0.0, abs=0.5)


def test_dead_channel_fraction_weights_layers_by_their_channels() -> None:
    table = pd.DataFrame({"channels": [4, 12], "dead_fraction": [1.0, 0.0]})
    assert dead_channel_fraction(table) == pytest.approx(0.25)


def test_every_relu_of_a_resnet_is_observed_in_forward_order() -> None:
    model = build_model("resnet8", 10, "gn4")
    seen = relu_inputs(model, torch.randn(4, 3, 32, 32))
    assert [name for name, _ in seen][:3] == ["stem_relu", "blocks.0.relu1", "blocks.0.relu2"]
    assert len(seen) == 1 + 2 * 3  # stem + two per block
    assert not model.training  # measured as the network is used: evaluation mode
