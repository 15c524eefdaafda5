import numpy as np
import pytest
import torch

from bnnoise.data import CHANNEL_STATS, load_dataset, normalize, synthetic
from bnnoise.image_selection import stratified_subset


def _fake_npz(directory, n_train=20, n_test=10, classes=10):
    rng = np.random.default_rng(0)
    np.savez(directory / "cifar10.npz",
             x_train=rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
             y_train=np.arange(n_train) % classes,
             x_test=rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
             y_test=np.arange(n_test) % classes)


def test_loads_npz_arrays_as_nchw(tmp_path) -> None:
    _fake_npz(tmp_path)
    data = load_dataset("cifar10", tmp_path)
    raw = np.load(tmp_path / "cifar10.npz")
    assert data.x_train.shape == (20, 3, 32, 32) and data.x_train.dtype == torch.uint8
    assert torch.equal(data.x_train[3, 1], torch.from_numpy(raw["x_train"][3, :, :, 1]))
    assert data.num_classes == 10 and data.mean == CHANNEL_STATS["cifar10"][0]


def test_missing_dataset_says_how_to_provide_it(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"cifar100\.npz.*\n*.*BNNOISE_DATA"):
        load_dataset("cifar100", tmp_path / "nowhere")


def test_unknown_dataset_lists_the_valid_ones(tmp_path) -> None:
    with pytest.raises(ValueError, match="valid: cifar10, cifar100"):
        load_dataset("mnist", tmp_path)


def test_official_channel_statistics() -> None:
    assert CHANNEL_STATS["cifar10"] == ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    assert CHANNEL_STATS["cifar100"] == ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))


def test_normalize_standardises_with_the_dataset_statistics() -> None:
    data = synthetic()
    mean, std = data.mean, data.std
    x = torch.tensor(np.array(mean) * 255).round().to(torch.uint8).view(1, 3, 1, 1)
    out = normalize(x.expand(1, 3, 2, 2), data)
    assert torch.allclose(out, torch.zeros_like(out), atol=0.5 / 255 / min(std))


def test_stratified_subset_is_fixed_and_balanced() -> None:
    labels = torch.arange(1000) % 10
    a = stratified_subset(labels, 7, seed=0)
    assert torch.equal(a, stratified_subset(labels, 7, seed=0))
    assert not torch.equal(a, stratified_subset(labels, 7, seed=1))
    assert torch.bincount(labels[a]).tolist() == [7] * 10
    assert len(stratified_subset(labels, None)) == 1000
    with pytest.raises(ValueError, match="class 0 has 100"):
        stratified_subset(labels, 101)


def test_number_of_classes_without_loading() -> None:
    from bnnoise.data import num_classes_of

    assert [num_classes_of(n) for n in ("cifar10", "cifar100", "cifar100coarse",
                                        "synthetic10", "synthetic100")] == [10, 100, 20, 10, 100]
    with pytest.raises(ValueError, match="unknown dataset"):
        num_classes_of("svhn")


def test_content_defined_subset_is_the_same_images_in_any_order() -> None:
    data = synthetic(10, n_train=16, n_test=200, seed=3)
    order = torch.randperm(200, generator=torch.Generator().manual_seed(7))
    a = stratified_subset(data.y_test, 5, seed=0, images=data.x_test)
    b = stratified_subset(data.y_test[order], 5, seed=0, images=data.x_test[order])
    assert not torch.equal(a, b)  # other positions ...
    same = {bytes(x.numpy()) for x in data.x_test[order][b]}
    assert {bytes(x.numpy()) for x in data.x_test[a]} == same  # ... the same images


def test_images_in_the_wrong_form_are_refused_not_misread() -> None:
    import pytest
    import torch

    from bnnoise.evaluation import accuracy, predictions

    data = synthetic(10, n_train=32, n_test=20, seed=0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10))
    once = normalize(data.x_test, data)
    with pytest.raises(TypeError, match="normalized already"):
        normalize(once, data)  # normalizing twice would give a silently wrong accuracy
    with pytest.raises(TypeError, match="normalized already"):
        accuracy(model, once, data.y_test, data)
    with pytest.raises(TypeError, match="normalize uint8 images first"):
        predictions(model, data.x_test)
    assert 0.0 <= accuracy(model, data.x_test, data.y_test, data) <= 1.0
