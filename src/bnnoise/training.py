"""Fast, deterministic, resumable training on CPU.

* The data stay uint8 tensors; every batch is augmented as a whole (random crop after 4-pixel
  zero padding, horizontal flip; :mod:`bnnoise.augmentation`), no per-image Python work.
* Optional bfloat16 autocast with channels-last tensors (fast on CPUs with AMX / AVX-512-bf16).
* SGD with Nesterov momentum (weight decay on weights, not on biases or norm parameters),
  optional clipping of the gradient's global norm; linear warm-up, then cosine decay to zero,
  updated every step.
* Optional noise-aware training (``recipe.train_noise``): each step's forward and backward pass
  runs with Gaussian noise on the conv and linear weights (seeded by the training seed and the
  step), and the update is applied to the clean weights, as in hardware-aware training.
* A checkpoint (model, optimizer, random-generator state, history) is written atomically after
  every epoch; :func:`train` resumes from it and, given the seed, ends with the same weights as an
  uninterrupted run. The checkpoint also lists the machines the run has trained on and from
  which epoch (:mod:`bnnoise.checkpoints`): a run may move to another machine between two
  epochs and continue there from the same state.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from bnnoise.augmentation import augment
from bnnoise.checkpoints import machines_now, resume, save_checkpoint
from bnnoise.config.setups import Recipe
from bnnoise.data import Dataset, normalize
from bnnoise.evaluation import accuracy
from bnnoise.hardware import autocast
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import draw_seed, select_tensors

TRAINING_VERSION = 1
"""Bumped whenever the training code changes its results; it enters every trained model's key."""


def lr_at(step: int, total_steps: int, warmup_steps: int, peak: float) -> float:
    """Learning rate after ``step`` optimizer steps: linear warm-up, then cosine decay to 0."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


@dataclass(frozen=True)
class TrainingHooks:
    """What a training run reports and keeps besides the weights.

    Attributes:
        progress: called with each epoch's history row.
        progress_bar: show a per-step progress bar (on standard error) during each epoch.
        epoch_metrics: called with the model after every epoch; the entries of the dict it
            returns are added to that epoch's history row.
        snapshot: called with the epoch number and the model after every finished epoch,
            before the checkpoint is written (e.g. to keep the weights of chosen epochs).
    """

    progress: Callable[[dict[str, float]], None] | None = None
    progress_bar: bool = False
    epoch_metrics: Callable[[nn.Module], dict[str, float]] | None = None
    snapshot: Callable[[int, nn.Module], None] | None = None


def _optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum; weight decay on weights (ndim > 1) only."""
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    return torch.optim.SGD(
        [{"params": decay, "weight_decay": recipe.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.momentum > 0,
    )


def _diverged(history: list[dict[str, float]]) -> bool:
    return bool(history) and math.isfinite(history[-1].get("diverged_step", math.nan))


@dataclass
class _Run:
    """The state of one training run that every epoch needs."""

    model: nn.Module
    data: Dataset
    recipe: Recipe
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    steps_per_epoch: int

    @classmethod
    def start(cls, model: nn.Module, data: Dataset, recipe: Recipe) -> _Run:
        """A fresh run: the model on the recipe's device (channels last), a new optimizer, the
        generator seeded with the recipe's seed."""
        model.to(device=recipe.device, memory_format=torch.channels_last)
        n = len(data.y_train)
        if n // recipe.batch_size < 1:  # the last incomplete batch of every epoch is dropped
            raise ValueError(f"batch_size {recipe.batch_size} exceeds the {n} training images")
        return cls(model, data, recipe, _optimizer(model, recipe),
                   torch.Generator().manual_seed(recipe.seed), n // recipe.batch_size)

    def epoch(self, epoch: int, progress_bar: bool) -> dict[str, float]:
        """Train one epoch; return its history row (``diverged_step`` set if a loss was not
        finite, in which case the epoch stops at that step)."""
        recipe, data, model = self.recipe, self.data, self.model
        start, cpu_start = time.perf_counter(), time.process_time()
        total = recipe.epochs * self.steps_per_epoch
        warmup = round(recipe.warmup_epochs * self.steps_per_epoch)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
        model.train()
        order = torch.randperm(len(data.y_train), generator=self.generator)
        loss_sum, max_loss, correct, diverged_step = 0.0, 0.0, 0, math.nan
        steps = tqdm(range(self.steps_per_epoch), desc=f"epoch {epoch + 1}/{recipe.epochs}",
                     leave=False, disable=not progress_bar, file=sys.stderr, mininterval=5)
        for i in steps:
            step = epoch * self.steps_per_epoch + i
            for group in self.optimizer.param_groups:
                group["lr"] = lr_at(step, total, warmup, recipe.lr)
            idx = order[i * recipe.batch_size:(i + 1) * recipe.batch_size]
            x = normalize(augment(data.x_train[idx], self.generator), data).to(recipe.device)
            y = data.y_train[idx].to(recipe.device)
            self.optimizer.zero_grad(set_to_none=True)
            with self.noise(step):
                with autocast(recipe.device, recipe.precision):
                    logits = model(x)
                    loss = loss_fn(logits.float(), y)
                step_loss = loss.item()
                if math.isfinite(step_loss):
                    loss.backward()
            if not math.isfinite(step_loss):
                diverged_step = step
                break
            max_loss = max(max_loss, step_loss)
            if recipe.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
            self.optimizer.step()
            loss_sum += step_loss * len(y)
            correct += int((logits.argmax(1) == y).sum())
        diverged = math.isfinite(diverged_step)
        seen = self.steps_per_epoch * recipe.batch_size
        return {
            "epoch": epoch + 1,
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_loss": math.nan if diverged else loss_sum / seen,
            "train_acc": math.nan if diverged else correct / seen,
            "max_step_loss": max_loss,
            "test_acc": math.nan if diverged else accuracy(model, data.x_test, data.y_test, data,
                                                           precision=recipe.precision),
            "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu_start,
            "diverged_step": diverged_step,
        }

    def noise(self, step: int) -> contextlib.AbstractContextManager:
        """The weight noise of one step of noise-aware training (none if it is off)."""
        if not self.recipe.train_noise:
            return contextlib.nullcontext()
        return injected_noise(select_tensors(self.model, "weights"), self.recipe.train_noise,
                              draw_seed(self.recipe.seed, self.recipe.train_noise, step))

    def save(self, checkpoint: Path, history: list[dict[str, float]],
             machines: list[dict[str, Any]]) -> None:
        save_checkpoint(checkpoint, {
            "recipe": self.recipe.as_dict(), "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(), "generator": self.generator.get_state(),
            "history": history, "machines": machines,
        })


def train(
    model: nn.Module,
    data: Dataset,
    recipe: Recipe,
    checkpoint: Path | None = None,
    hooks: TrainingHooks | None = None,
    stop_on_divergence: bool = False,
    stop_after_epochs: int | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` in place and return the per-epoch history.

    Args:
        model: a freshly built network (seed PyTorch before building it).
        data: the dataset; its training split is used for training, its test split for the
            per-epoch test accuracy (evaluated in the training precision, for the curves only).
        recipe: hyper-parameters.
        checkpoint: file to resume from and to write after every epoch; ``None`` disables both.
        hooks: progress reports, per-epoch metrics and snapshots (see :class:`TrainingHooks`).
        stop_on_divergence: when the loss of a step is not finite, end training and return the
            history (its last row has ``diverged_step`` set) instead of raising.
        stop_after_epochs: stop (as if killed) once this many epochs are done in total; for tests.

    Returns:
        One dict per epoch: epoch, lr, train_loss, train_acc, max_step_loss (the largest
        finite loss of a step in the epoch), test_acc, seconds (wall clock), cpu_seconds (the
        process's CPU time, all threads: what the epoch cost), diverged_step (the global step
        whose loss was not finite, else NaN), and any ``hooks.epoch_metrics``.

    Raises:
        FloatingPointError: a step's loss was not finite and ``stop_on_divergence`` is false.
    """
    hooks = hooks or TrainingHooks()
    run = _Run.start(model, data, recipe)
    history, machines = (resume(checkpoint, recipe, model, run.optimizer, run.generator)
                         if checkpoint is not None and checkpoint.exists() else ([], []))
    machines = machines_now(machines, len(history) + 1, recipe.device)
    if _diverged(history) and not stop_on_divergence:
        raise FloatingPointError(f"checkpoint {checkpoint} holds a diverged run")
    last_epoch = min(recipe.epochs, stop_after_epochs or recipe.epochs)
    for epoch in range(len(history), 0 if _diverged(history) else last_epoch):
        row = run.epoch(epoch, hooks.progress_bar)
        diverged = math.isfinite(row["diverged_step"])
        if hooks.epoch_metrics is not None and not diverged:
            row.update(hooks.epoch_metrics(model))
        history.append(row)
        if hooks.snapshot is not None and not diverged:
            hooks.snapshot(epoch + 1, model)
        if checkpoint is not None:
            run.save(checkpoint, history, machines)
        if hooks.progress is not None:
            hooks.progress(row)
        if diverged and not stop_on_divergence:
            raise FloatingPointError(f"training diverged at epoch {epoch + 1}, step "
                                     f"{row['diverged_step']} (loss not finite)")
        if diverged:
            break
    return history
