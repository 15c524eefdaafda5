"""Which images a protocol uses, defined by their content rather than their position.

Two copies of CIFAR (the offline ``.npz`` and torchvision's archive) store the same images in
different orders. So that every copy gives the same results, the evaluation subset
(:func:`stratified_subset`) and the recalibration images (:func:`content_order`) are chosen
from the images ordered by the SHA-256 of their pixels, and :func:`fingerprint` identifies a
copy by its content.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from bnnoise.data import Dataset, DataSource

STANDARD_FINGERPRINTS = {"cifar10": "2f8cbb96a85bc701", "cifar100": "a979d621030a62cb"}
"""What :func:`fingerprint` gives for the standard CIFAR copies (torchvision's archives and the
offline ``.npz`` agree): the value every trained network of the book records, and a test
checks against those records."""


def stratified_subset(labels: torch.Tensor, per_class: int | None, seed: int = 0,
                      images: torch.Tensor | None = None) -> torch.Tensor:
    """Indices of a fixed class-stratified subset: ``per_class`` seeded picks from every class.

    ``None`` returns all indices. The result is sorted, and the same for the same arguments.
    Given ``images``, the members of each class are first ordered by the SHA-256 of their
    pixels, so the subset is defined by content: every copy of a dataset, in whatever order it
    stores its images, gives the same images (at different positions).
    """
    if per_class is None:
        return torch.arange(len(labels))
    if per_class < 1:
        raise ValueError(f"per_class must be a positive integer or None, got {per_class}")
    g = torch.Generator().manual_seed(seed)
    digests = _image_digests(images) if images is not None else None
    picks = []
    for c in labels.unique():
        members = torch.nonzero(labels == c).flatten()
        if len(members) < per_class:
            raise ValueError(f"class {int(c)} has {len(members)} images < {per_class}")
        if digests is not None:
            members = members[sorted(range(len(members)),
                                     key=lambda i: digests[int(members[i])])]
        picks.append(members[torch.randperm(len(members), generator=g)[:per_class]])
    return torch.cat(picks).sort().values


def content_order(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A fixed random order of ``images`` defined by content: the images sorted by the SHA-256
    of their pixels, then shuffled with ``seed``. Its first n entries are the same n images in
    every copy of a dataset, and the first n are part of the first m > n (nested subsets)."""
    digests = _image_digests(images)
    by_content = torch.tensor(sorted(range(len(images)), key=digests.__getitem__))
    return by_content[torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))]


def _image_digests(x: torch.Tensor) -> list[bytes]:
    return [hashlib.sha256(img.numpy().tobytes()).digest() for img in x]


def fingerprint(data: Dataset) -> str:
    """A short content fingerprint of a dataset: SHA-256 over the training images and labels in
    their order (training depends on it) and over the test set as a *set* of (image, label)
    pairs (evaluation does not depend on the order; the offline copy's test set is ordered by
    class, torchvision's is not, and both give the same fingerprint when their content agrees).
    """
    h = hashlib.sha256()
    h.update(data.x_train.numpy().tobytes())
    h.update(data.y_train.numpy().astype(np.int64).tobytes())
    pairs = sorted(d + int(label).to_bytes(2, "little")
                   for d, label in zip(_image_digests(data.x_test), data.y_test, strict=True))
    for pair in pairs:
        h.update(pair)
    return h.hexdigest()[:16]


def source_fingerprint(source: DataSource) -> str:
    """The fingerprint of the copy in ``source.data_dir``; where that directory holds no copy
    of a standard dataset, the standard copy's (:data:`STANDARD_FINGERPRINTS`), so that stored
    results keyed by it are found without the data.

    Raises:
        FileNotFoundError: the data are missing and the dataset has no standard fingerprint.
    """
    try:
        return fingerprint(source.load())
    except FileNotFoundError:
        if source.name not in STANDARD_FINGERPRINTS:
            raise
        return STANDARD_FINGERPRINTS[source.name]
