"""The compiled evaluation: used only with the eager predictions and when it pays, and then
giving the same hits as the eager reference in a sweep."""

from __future__ import annotations

import pytest
import torch

from bnnoise import compilation
from bnnoise.compilation import CompileDecision, evaluation_forward
from bnnoise.evaluation import predictions
from bnnoise.nets.models import build_model
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import select_tensors


@pytest.fixture
def network() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("resnet8", 10, "bn").eval()


@pytest.fixture
def images() -> torch.Tensor:
    return torch.randn(200, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_the_compiled_forward_is_used_only_when_it_pays_and_predicts_the_same(
        network, images, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compilation.SWITCH, "auto")
    forward, decision = evaluation_forward(network, images)
    assert isinstance(decision, CompileDecision)
    assert evaluation_forward(network, images)[1] is decision  # decided once per model
    if decision.compiled:
        assert decision.compiled_rate >= compilation.GAIN * decision.eager_rate
        assert forward is not network
    else:
        assert forward is network and decision.reason
    with injected_noise(select_tensors(network, "weights"), 0.3, seed=4):
        eager, used = predictions(network, images), predictions(forward, images)
    assert all(torch.equal(a, b) for a, b in zip(eager, used, strict=True))


def test_a_decision_that_does_not_pay_keeps_the_eager_forward(
        network, images, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compilation.SWITCH, "auto")
    monkeypatch.setattr(compilation, "GAIN", 1e9)  # nothing is that much faster
    forward, decision = evaluation_forward(network, images)
    assert forward is network and not decision.compiled and "below" in decision.reason
    assert decision.eager_rate > 0 and decision.compiled_rate > 0


def test_compilation_can_be_turned_off(network, images,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compilation.SWITCH, "off")
    forward, decision = evaluation_forward(network, images)
    assert forward is network and decision.forward == "eager"
    assert decision.reason == f"{compilation.SWITCH}=off"


def test_a_sweep_cell_computed_compiled_or_eager_gives_the_same_hits_and_records_which(
        project, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from bnnoise.config import load_profile
    from bnnoise.data import DataCache
    from bnnoise.pipeline import sweep_cells as cells
    from bnnoise.pipeline.specs import profile_specs
    from bnnoise.pipeline.trained import profile_model

    monkeypatch.setenv("BNNOISE_ROOT", str(project))
    profile = load_profile("smoke", root=project)
    trained = profile_model(profile, profile_specs(profile)[0])
    x, y = cells.evaluation_subset(DataCache(profile.data_dir)("synthetic10"), profile.noise)
    monkeypatch.setenv(compilation.SWITCH, "off")
    eager = cells._sweep_cell(trained, x, y, profile.noise, "all", 0.5)
    monkeypatch.setenv(compilation.SWITCH, "auto")
    monkeypatch.setattr(compilation, "GAIN", 0.0)  # use the compiled pass whenever it agrees
    compiled = cells._sweep_cell(trained, x, y, profile.noise, "all", 0.5)
    assert eager.forward == "eager" and compiled.forward == "compiled"
    assert np.array_equal(eager.hits, compiled.hits)
