import pytest
import torch

from bnnoise.models import build_model
from bnnoise.training import Recipe, augment, lr_at, train

RECIPE = Recipe(epochs=3, batch_size=32, lr=0.05, warmup_epochs=0.5, grad_clip=1.0, seed=3)


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


def test_checkpoint_of_another_recipe_is_refused(tiny_data, tmp_path) -> None:
    ckpt = tmp_path / "run.pt"
    train(_fresh(), tiny_data, RECIPE, checkpoint=ckpt, stop_after_epochs=1)
    other = Recipe(**{**RECIPE.as_dict(), "lr": 0.01})
    with pytest.raises(ValueError, match="another recipe"):
        train(_fresh(), tiny_data, other, checkpoint=ckpt)


def test_training_learns_the_synthetic_task(tiny_data) -> None:
    model = _fresh()
    history = train(model, tiny_data, Recipe(epochs=6, batch_size=32, lr=0.05, seed=0,
                                             warmup_epochs=1))
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
