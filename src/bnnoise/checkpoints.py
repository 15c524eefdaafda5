"""Epoch checkpoints of a training run: written atomically, resumed exactly, and the record of
the machines a run has trained on.

A checkpoint holds everything :func:`bnnoise.training.train` needs to continue as if never
interrupted (recipe, model, optimizer and random-generator state, history) plus, per stretch of
epochs, the machine that trained them; a run may move to another machine between two epochs.
"""

from __future__ import annotations

import fcntl
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bnnoise.config.setups import Recipe
from bnnoise.hardware import machine_record
from bnnoise.store import atomic_write_bytes


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a run's state (recipe, model, optimizer, generator, history, machines) to
    ``path`` atomically: a reader finds the previous epoch's checkpoint or this one."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def resume(checkpoint: Path, recipe: Recipe, model: nn.Module,
           optimizer: torch.optim.Optimizer, generator: torch.Generator
           ) -> tuple[list[dict[str, float]], list[dict[str, Any]]]:
    """Load model, optimizer and generator state from ``checkpoint``; return its history and
    the machines it was trained on (:func:`trained_on`)."""
    state = torch.load(checkpoint, weights_only=False, map_location=recipe.device)
    if state["recipe"] != recipe.as_dict():
        raise ValueError(f"checkpoint {checkpoint} was written by another recipe")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    return state["history"], state.get("machines", [])


def trained_on(checkpoint: Path) -> list[dict[str, Any]]:
    """The machines a checkpointed run has trained on, in order: one entry per stretch of
    epochs, ``from_epoch`` (the first epoch trained there) and the machine's record
    (:func:`bnnoise.hardware.machine_record`). More than one entry: the run was resumed on
    another machine (or with another thread count or torch version)."""
    return torch.load(checkpoint, weights_only=False, map_location="cpu").get("machines", [])


def machines_now(machines: list[dict[str, Any]], first_epoch: int, device: str
                 ) -> list[dict[str, Any]]:
    """``machines`` with this machine appended if it is not the one the run last trained on."""
    here = machine_record(device)
    last = {k: v for k, v in machines[-1].items() if k != "from_epoch"} if machines else None
    return machines if last == here else [*machines, {"from_epoch": first_epoch, **here}]


@contextmanager
def training_lock(checkpoint: Path) -> Iterator[None]:
    """Hold the exclusive lock of the training that ``checkpoint`` belongs to for the block:
    a second process that would train the same network (two test workers, two workflow jobs
    on a shared folder) waits for the first and then finds its result stored, instead of
    resuming from, and deleting, the same checkpoint file."""
    lock = checkpoint.parent.parent / ".locks" / f"{checkpoint.name}.lock"  # not in resume/
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
