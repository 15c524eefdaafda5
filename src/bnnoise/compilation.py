"""Compiled forward passes for the noisy evaluation, used only where they pay on this CPU.

A noise sweep evaluates one network hundreds of times, each time with new noise in its
parameters. ``torch.compile`` (PyTorch's inductor backend) can run that forward pass faster
than eager PyTorch on some CPUs and not on others, and compiling costs seconds per network
(``benchmarks/sweep_speed.py`` measures both per CPU kind). :func:`evaluation_forward` decides
per network, in the process that evaluates it, by a measurement it repeats every time:

1. compile the network's forward pass (the compiled module reads the same parameter tensors,
   so noise injected in place reaches it);
2. **same predictions**: on :data:`CHECK_IMAGES` of the evaluation images, the compiled and the
   eager forward pass must give the same predicted class and the same finiteness of the logits
   for every image, with the clean parameters and under strong noise on every array
   (η = :data:`CHECK_ETA`, which makes some logits non-finite in networks with BN);
3. **it pays**: the compiled pass must evaluate :data:`TIMING_IMAGES` of them at least
   :data:`GAIN` times as fast as the eager one (best of :data:`REPEATS` timings each).

Only then is the compiled forward used; otherwise the eager one, which is the reference. The
decision, its rates and its reason are returned, and the sweep cells record which forward pass
computed them. ``BNNOISE_COMPILE=off`` turns compilation off. Only the exact fp32 evaluation
on the CPU is ever compiled.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from bnnoise.evaluation import EVALUATION_BATCH, predictions
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import select_tensors

SWITCH = "BNNOISE_COMPILE"
"""The environment variable that turns compilation off (``off``); anything else: decide."""
GAIN = 1.1
"""How much faster than eager the compiled forward pass must be to be used."""
CHECK_IMAGES = 2 * EVALUATION_BATCH
"""Evaluation images of the check of the predictions."""
TIMING_IMAGES = 5 * EVALUATION_BATCH
"""Evaluation images of each timing (fewer make the decision flip with the machine's load)."""
CHECK_ETA = 1.0
"""The strong noise of the check (each array's std times this), on every array."""
REPEATS = 3
"""Timings of each forward pass; the best counts."""


@dataclass(frozen=True)
class CompileDecision:
    """Whether a network's evaluation runs compiled, measured as the module docstring says.

    Attributes:
        compiled: the compiled forward pass is used.
        reason: why (one line).
        eager_rate, compiled_rate: images per second of each forward pass (NaN: not measured).
        compile_seconds: the first compiled call, compilation included.
    """

    compiled: bool
    reason: str
    eager_rate: float = float("nan")
    compiled_rate: float = float("nan")
    compile_seconds: float = float("nan")

    @property
    def forward(self) -> str:
        """``compiled`` or ``eager``: what a sweep cell records."""
        return "compiled" if self.compiled else "eager"


_DECIDED: weakref.WeakKeyDictionary[nn.Module, tuple[Callable, CompileDecision]] = (
    weakref.WeakKeyDictionary())
"""Each model object's forward pass and decision, for the life of the process."""


def evaluation_forward(model: nn.Module, inputs: torch.Tensor
                       ) -> tuple[Callable[[torch.Tensor], torch.Tensor], CompileDecision]:
    """The forward pass that evaluates ``model`` (compiled or eager) and why; decided once per
    model object and process, on the first :data:`CHECK_IMAGES` (predictions) and
    :data:`TIMING_IMAGES` (rates) of ``inputs`` (normalized evaluation images), unless
    :data:`SWITCH` is ``off``."""
    if os.environ.get(SWITCH, "").lower() == "off":
        return model, CompileDecision(False, f"{SWITCH}=off")
    if model not in _DECIDED:
        _DECIDED[model] = _decide(model, inputs[:TIMING_IMAGES])
    return _DECIDED[model]


def _decide(model: nn.Module, images: torch.Tensor
            ) -> tuple[Callable[[torch.Tensor], torch.Tensor], CompileDecision]:
    if any(p.device.type != "cpu" for p in model.parameters()):
        return model, CompileDecision(False, "only the CPU evaluation is compiled")
    model.eval()
    try:
        compiled = torch.compile(model)
        start = time.perf_counter()
        predictions(compiled, images[:CHECK_IMAGES])
        seconds = time.perf_counter() - start
    except Exception as error:  # a CPU or compiler without inductor support
        return model, CompileDecision(False, f"compilation failed: {type(error).__name__}")
    if not _same_predictions(model, compiled, images[:CHECK_IMAGES]):
        return model, CompileDecision(False, "the compiled predictions differ from the eager "
                                      "ones", compile_seconds=seconds)
    eager_rate, compiled_rate = (_rate(forward, images) for forward in (model, compiled))
    measured = {"eager_rate": eager_rate, "compiled_rate": compiled_rate,
                "compile_seconds": seconds}
    ratio = compiled_rate / eager_rate
    if ratio < GAIN:
        return model, CompileDecision(False, f"compiled {ratio:.2f}x the eager rate, below "
                                      f"{GAIN:g}x", **measured)
    return compiled, CompileDecision(True, f"compiled {ratio:.2f}x the eager rate, same "
                                     "predictions", **measured)


def _same_predictions(model: nn.Module, compiled: nn.Module, images: torch.Tensor) -> bool:
    def agree() -> bool:
        eager, fast = predictions(model, images), predictions(compiled, images)
        return all(torch.equal(a, b) for a, b in zip(eager, fast, strict=True))

    if not agree():
        return False
    with injected_noise(select_tensors(model, "all"), CHECK_ETA, seed=12345):
        return agree()


def _rate(forward: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        predictions(forward, images)
        best = min(best, time.perf_counter() - start)
    return len(images) / best
