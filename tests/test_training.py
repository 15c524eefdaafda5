import math

import pytest
import torch

from bnnoise.augmentation import augment
from bnnoise.config.setups import Recipe
from bnnoise.nets.models import build_model
from bnnoise.training import TrainingHooks, lr_at, train

RECIPE = Recipe(epochs=3, batch_size=32, lr=0.05, warmup_epochs=0.5, grad_clip=1.0, seed=3,
                precision="fp32")  # bf16 is emulated, and slow, on many CPUs


def _fresh():
    torch.manual_seed(RECIPE.seed)
    return build_model("resnet8", 10, "bn")


def test_training_is_deterministic_given_the_seed(tiny_data) -> None:
    a, b = _fresh(), _fresh()
    train(a, tiny_data, RECIPE)
    train(b, tiny_data, RECIPE)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k


def test_resume_after_interruption_gives_the_same_weights(tiny_data, tmp_path) -> None:
    reference = _fresh()
    full_history = train(reference, tiny_data, RECIPE)

    ckpt = tmp_path / "run.pt"
    interrupted = _fresh()
    train(interrupted, tiny_data, RECIPE, checkpoint=ckpt, stop_after_epochs=1)  # "killed"
    resumed = _fresh()  # a new process starts from scratch and finds the checkpoint
    history = train(resumed, tiny_data, RECIPE, checkpoint=ckpt)

    assert len(history) == RECIPE.epochs
    assert [h["train_loss"] for h in history] == [h["train_loss"] for h in full_history]
    for (k, va), vb in zip(reference.state_dict().items(), resumed.state_dict().values(),
                           strict=True):
        assert torch.equal(va, vb), k


def test_a_run_moved_to_another_machine_records_both_and_ends_as_if_uninterrupted(
        tiny_data, tmp_path, monkeypatch) -> None:
    from bnnoise import checkpoints

    reference = _fresh()
    train(reference, tiny_data, RECIPE)
    ckpt = tmp_path / "run.pt"
    train(_fresh(), tiny_data, RECIPE, checkpoint=ckpt, stop_after_epochs=1)
    assert [m["from_epoch"] for m in checkpoints.trained_on(ckpt)] == [1]
    train(_fresh(), tiny_data, RECIPE, checkpoint=ckpt, stop_after_epochs=2)  # same machine
    assert len(checkpoints.trained_on(ckpt)) == 1
    real = checkpoints.machine_record
    monkeypatch.setattr(checkpoints, "machine_record",
                        lambda device: {**real(device), "cpu": "another CPU"})
    resumed = _fresh()
    train(resumed, tiny_data, RECIPE, checkpoint=ckpt)  # the checkpoint travelled
    machines = checkpoints.trained_on(ckpt)
    assert [(m["from_epoch"], m["cpu"]) for m in machines] == [
        (1, real("cpu")["cpu"]), (3, "another CPU")]
    for (k, va), vb in zip(reference.state_dict().items(), resumed.state_dict().values(),
                           strict=True):
        assert torch.equal(va, vb), k


def test_checkpoint_of_another_recipe_is_refused(tiny_data, tmp_path) -> None:
    ckpt = tmp_path / "run.pt"
    train(_fresh(), tiny_data, RECIPE, checkpoint=ckpt, stop_after_epochs=1)
    other = Recipe(**{**RECIPE.as_dict(), "lr": 0.01})
    with pytest.raises(ValueError, match="another recipe"):
        train(_fresh(), tiny_data, other, checkpoint=ckpt)


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=pytest.mark.slow)])
def test_training_learns_the_synthetic_task(tiny_data, precision: str) -> None:
    model = _fresh()
    history = train(model, tiny_data, Recipe(epochs=6, batch_size=32, lr=0.05, seed=0,
                                             warmup_epochs=1, precision=precision))
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_augment_is_a_crop_of_the_padded_image_and_maybe_a_flip() -> None:
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8) + 1
    out = augment(x, torch.Generator().manual_seed(0), pad=2)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        windows = [padded[i, :, r:r + 8, c:c + 8] for r in range(5) for c in range(5)]
        candidates = windows + [w.flip(-1) for w in windows]
        assert any(torch.equal(out[i], w) for w in candidates)


def test_learning_rate_schedule() -> None:
    assert lr_at(0, 100, 10, 1.0) == pytest.approx(0.1)
    assert lr_at(9, 100, 10, 1.0) == pytest.approx(1.0)
    assert lr_at(55, 100, 10, 1.0) == pytest.approx(0.5)
    assert lr_at(100, 100, 10, 1.0) == pytest.approx(0.0)


@pytest.mark.parametrize("field, value, message", [
    ("epochs", 0, "epochs must be >= 1"),
    ("lr", -0.1, "lr must be > 0"),
    ("precision", "fp16", "precision must be one of"),
    ("grad_clip", 0.0, "grad_clip must be > 0"),
])
def test_invalid_recipes_are_rejected(field: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Recipe(**{field: value})


class _BlowsUp(torch.nn.Module):
    """A classifier whose logits become NaN from its ``after``-th training forward pass on."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3 * 32 * 32, 10)
        self.after, self.calls = after, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.calls += 1
        out = self.linear(x.flatten(1))
        return out * float("nan") if self.training and self.calls > self.after else out


def test_a_non_finite_loss_raises_by_default(tiny_data) -> None:
    with pytest.raises(FloatingPointError, match="step 5"):
        train(_BlowsUp(after=5), tiny_data, RECIPE)


def test_stop_on_divergence_returns_the_history_up_to_the_bad_step(tiny_data, tmp_path) -> None:
    ckpt = tmp_path / "run.pt"
    history = train(_BlowsUp(after=5), tiny_data, RECIPE, checkpoint=ckpt,
                    stop_on_divergence=True)
    steps_per_epoch = len(tiny_data.y_train) // RECIPE.batch_size  # 4: step 5 is in epoch 2
    assert len(history) == 2 and steps_per_epoch == 4
    assert math.isnan(history[0]["diverged_step"]) and history[1]["diverged_step"] == 5
    assert math.isnan(history[1]["train_loss"]) and math.isfinite(history[0]["train_loss"])
    # a rerun finds the diverged checkpoint and does not train on
    again = _BlowsUp(after=0)
    resumed = train(again, tiny_data, RECIPE, checkpoint=ckpt, stop_on_divergence=True)
    assert [h["epoch"] for h in resumed] == [1, 2] and resumed[1]["diverged_step"] == 5
    assert again.calls == 0
    with pytest.raises(FloatingPointError, match="diverged run"):
        train(_BlowsUp(after=0), tiny_data, RECIPE, checkpoint=ckpt)


def test_epoch_metrics_and_the_largest_step_loss_enter_the_history(tiny_data) -> None:
    calls = []

    def metrics(model: torch.nn.Module) -> dict[str, float]:
        calls.append(model.training)
        return {"probe": 1.5}

    history = train(_fresh(), tiny_data, RECIPE, hooks=TrainingHooks(epoch_metrics=metrics))
    assert [h["probe"] for h in history] == [1.5] * RECIPE.epochs
    assert all(h["max_step_loss"] >= h["train_loss"] for h in history)


def test_noise_aware_training_is_deterministic_resumable_and_keyed(tiny_data, tmp_path) -> None:
    from dataclasses import replace

    noisy_recipe = replace(RECIPE, train_noise=0.2)
    a, b, plain = _fresh(), _fresh(), _fresh()
    train(a, tiny_data, noisy_recipe)
    train(plain, tiny_data, RECIPE)
    ckpt = tmp_path / "run.pt"
    train(b, tiny_data, noisy_recipe, checkpoint=ckpt, stop_after_epochs=1)
    resumed = _fresh()
    train(resumed, tiny_data, noisy_recipe, checkpoint=ckpt)
    weight = "stem.0.weight"
    assert torch.equal(a.state_dict()[weight], resumed.state_dict()[weight])
    assert not torch.equal(a.state_dict()[weight], plain.state_dict()[weight])
    assert "train_noise" not in RECIPE.as_dict()  # keys of earlier models stay as they were
    assert noisy_recipe.as_dict()["train_noise"] == 0.2
    with pytest.raises(ValueError, match="train_noise must be >= 0"):
        Recipe(train_noise=-0.1)


def test_one_training_of_a_network_at_a_time_and_the_second_finds_it_stored(
        tmp_path, monkeypatch) -> None:
    """Two processes that would train the same network (two test workers on one store) take
    turns on its lock; the second finds the first one's result in the store and trains
    nothing."""
    import threading
    import time

    from bnnoise.checkpoints import training_lock
    from bnnoise.pipeline import trained as trained_module

    checkpoint = tmp_path / "resume" / "net.pt"
    order = []

    def first() -> None:
        with training_lock(checkpoint):
            order.append("first in")
            time.sleep(0.3)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.1)
    with training_lock(checkpoint):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]
    # under the lock, trained_model looks in the store again before it trains
    looks = []

    def stored(*args):
        looks.append(1)
        return None if len(looks) == 1 else "stored by the other process"

    def never(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(trained_module, "stored_model", stored)
    monkeypatch.setattr(trained_module, "train", never)
    from bnnoise.data import synthetic
    from bnnoise.pipeline.specs import ModelSpec
    from bnnoise.store import ArtifactStore

    spec = ModelSpec("synthetic10", "resnet8", "bn")
    result = trained_module.trained_model(ArtifactStore(tmp_path / "store"), spec,
                                          Recipe(epochs=1, precision="fp32"),
                                          lambda name: synthetic(10, n_train=64, n_test=20))
    assert result == "stored by the other process" and len(looks) == 2
