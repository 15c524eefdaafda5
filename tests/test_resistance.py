"""The public API for a reader's own network (bnnoise.resistance): what it measures and the one
line it gives for input it cannot measure."""

from dataclasses import replace

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch
from torch import nn

from bnnoise.config.setups import NoiseProtocol
from bnnoise.data import normalize
from bnnoise.nets.models import build_model
from bnnoise.resistance import combined, noise_resistance


@pytest.fixture
def inputs(tiny_data):
    return normalize(tiny_data.x_test, tiny_data), tiny_data.y_test


def _network(norm: str) -> nn.Module:
    torch.manual_seed(0)
    return build_model("resnet8", 10, norm=norm).eval()


def test_it_measures_every_target_and_eta_and_restores_the_weights(inputs) -> None:
    images, labels = inputs
    model = _network("bn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = noise_resistance(model, images, labels, name="resnet8", etas=[0.1, 0.5], draws=3,
                              targets=["all", "weights"])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert len(result.draws) == 2 * (1 + 2 * 3)  # per target: the clean network, then the draws
    clean = result.draws[result.draws["eta"] == 0]
    assert (clean["normalized_accuracy"] == 1).all()
    assert set(result.curve["scoring"]) == {"wrong", "argmax"}
    average = result.average.set_index(["target", "scoring"])
    assert (average["low"] <= average["avg_normalized_accuracy"]).all()
    assert (average["avg_normalized_accuracy"] <= average["high"]).all()
    assert average.loc[("all", "wrong"), "eta_grid"] == "0.1 0.5"
    assert list(result.collapse["eta"]) == [0.1, 0.5]  # BN present, target set all
    assert result.collapse["collapse_probability"].between(0, 1).all()
    again = noise_resistance(model, images, labels, name="resnet8", etas=[0.1, 0.5], draws=3,
                             targets=["all", "weights"])
    pd.testing.assert_frame_equal(again.draws, result.draws)  # seeded as the book's sweeps


def test_a_network_without_bn_and_one_figure_for_both(inputs) -> None:
    from bnnoise.figures.noise_figures import noise_curves

    images, labels = inputs
    protocol = NoiseProtocol(etas=(0.1, 0.2), draws=2, targets=("weights",))
    with_bn = noise_resistance(_network("bn"), images, labels, protocol=protocol)
    without = noise_resistance(_network("none"), images, labels, protocol=protocol)
    assert without.collapse.empty and set(without.draws["norm"]) == {"none"}
    both = combined(with_bn, without)
    assert set(both.average["norm"]) == {"bn", "none"}
    figure = noise_curves(both.curve)
    assert len(figure.axes) == 1
    plt.close(figure)
    with pytest.raises(ValueError, match="different noise protocols"):
        combined(with_bn, noise_resistance(_network("none"), images, labels, etas=0.1, draws=1))


@pytest.mark.parametrize("change, message", [
    ({"etas": [-0.1]}, "etas must be a non-empty list of positive numbers"),
    ({"targets": "biases"}, "unknown target 'biases'"),
    ({"sigma": 0.1}, "unknown protocol field 'sigma'; valid: etas, draws"),
    ({"layers": "no-such-layer"}, "selects no array of this model"),
])
def test_a_bad_protocol_stops_in_one_line(inputs, change, message) -> None:
    images, labels = inputs
    with pytest.raises(ValueError, match=message):
        noise_resistance(_network("bn"), images, labels, draws=1, **change)


def test_bad_networks_and_images_stop_in_one_line(inputs, tiny_data) -> None:
    images, labels = inputs
    with pytest.raises(ValueError, match="training mode: call model.eval"):
        noise_resistance(_network("bn").train(), images, labels)
    with pytest.raises(ValueError, match="no Conv2d or Linear layer"):
        noise_resistance(nn.Sequential(nn.Flatten()).eval(), images, labels)
    with pytest.raises(TypeError, match="normalize uint8 images first"):
        noise_resistance(_network("bn"), tiny_data.x_test, labels)
    with pytest.raises(ValueError, match="one per image"):
        noise_resistance(_network("bn"), images, labels[:-1])


def test_an_own_network_is_trained_and_measured_once_then_read_from_the_store(
        tmp_path, tiny_data, inputs, monkeypatch: pytest.MonkeyPatch) -> None:
    from functools import partial

    from bnnoise.config.setups import Recipe
    from bnnoise.pipeline import own_networks
    from bnnoise.store import ArtifactStore

    store = ArtifactStore(tmp_path / "store")
    recipe = Recipe(epochs=1, batch_size=32, lr=0.05, warmup_epochs=0, precision="fp32")
    build = partial(build_model, "resnet8", 10, "bn")
    model, history = own_networks.trained_network(store, "mine", build, recipe, tiny_data)
    assert not model.training and len(history) == 1
    key = own_networks.own_network_config("mine", build, recipe, tiny_data)
    images, labels = inputs
    protocol = NoiseProtocol(etas=(0.2,), draws=2, targets=("all",))
    measure = partial(noise_resistance, model, images, labels, name="mine", protocol=protocol)
    first = own_networks.measured_resistance(store, "mine", key, protocol, measure)

    def never(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(own_networks, "train", never)
    again, _ = own_networks.trained_network(store, "mine", build, recipe, tiny_data)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 again.state_dict().values(), strict=True))
    stored = own_networks.measured_resistance(store, "mine", key, protocol, never)
    pd.testing.assert_frame_equal(stored.average, first.average)
    assert len(own_networks.own_records(store, "mine", key, protocol)) == 2
    monkeypatch.setenv("BNNOISE_NO_COMPUTE", "1")
    other = replace(protocol, draws=3)
    with pytest.raises(FileNotFoundError, match="not stored yet"):
        own_networks.measured_resistance(store, "mine", key, other, never)


def test_a_standard_dataset_is_keyed_without_its_images(tmp_path) -> None:
    from bnnoise.data import DataSource
    from bnnoise.image_selection import source_fingerprint

    absent = DataSource("cifar10", tmp_path / "no data here")
    assert source_fingerprint(absent) == "2f8cbb96a85bc701"
    assert absent.num_classes == 10
    with pytest.raises(FileNotFoundError, match="not found in data directory"):
        absent.load()
    with pytest.raises(FileNotFoundError):
        source_fingerprint(DataSource("cifar100coarse", tmp_path / "no data here"))


def test_the_standard_fingerprints_are_those_the_trained_networks_record() -> None:
    import json
    from pathlib import Path

    from bnnoise.image_selection import STANDARD_FINGERPRINTS

    models = Path(__file__).parents[1].glob("data/artifacts/*/models/*/")
    seen: dict[str, set[str]] = {}
    for model in models:
        name = json.loads((model / "manifest.json").read_text())["config"]["dataset"]
        summary = json.loads((model / "summary.json").read_text())
        if name in STANDARD_FINGERPRINTS and "data_fingerprint" in summary:  # older records lack it
            seen.setdefault(name, set()).add(summary["data_fingerprint"])
    assert seen == {name: {value} for name, value in STANDARD_FINGERPRINTS.items()}


def test_the_own_network_collapse_table_shows_percent_and_hides_a_constant_arm() -> None:
    import pandas as pd

    from bnnoise.pages.own_network_tables import own_collapse_view

    one = pd.DataFrame({"norm": "bn", "eta": [0.02, 0.5], "collapse_probability": [7e-234, 0.25]})
    view = own_collapse_view(one)
    assert list(view.columns) == ["η", "collapse_probability"]
    assert list(view["collapse_probability"]) == ["<0.1", "25.0"]
    two = pd.concat([one, one.assign(norm="gn4")])
    assert "BN" in own_collapse_view(two)
