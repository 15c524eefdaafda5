"""Time the book's hot paths against plain PyTorch baselines doing the same work, in one run.

    python benchmarks/benchmark.py [--data-dir DIR] [--profile cpu] [--skip-data]

Lines of ``benchmark.csv`` (each a ratio measured in this run, on this machine):

* peak: the best of five 4096 x 4096 matmuls in fp32 and in bfloat16 (the machine's attainable
  peak; smaller matmuls understate it);
* training throughput, ResNet20, random CIFAR-shaped images: a plain fp32 recipe (per-image
  torchvision transforms on PIL images, a DataLoader) versus the library's trainer in fp32 and
  bfloat16, in images per second and as a fraction of the matmul peak;
* bare bf16 training steps of ResNet20 (no data pipeline), eager and with ``torch.compile``
  (:func:`bnnoise.throughput.training_step_rate`): the ceiling of the trainer, to show what
  limits it;
* noisy evaluation, ResNet20 and VGG16, random images: the plain loop (deep-copy the model, add
  noise to the conv and linear weights, evaluate) versus the library's in-place injection with
  exact restore, in fp32 (the reference) and in the fast evaluation (BatchNorm folded after each
  draw, bfloat16 autocast).

With CIFAR-10 in the data directory and the profile's trained models in the artifact store:

* time to a fixed test accuracy: the plain fp32 recipe and the library's bf16 recipe train
  ResNet20 with the same optimizer and schedule on CIFAR-10; seconds of training until the
  test accuracy first reaches the threshold;
* noise sweep at equal statistical precision: per noise level, the variance components of the
  trained ResNet20's noisy accuracy (:mod:`bnnoise.sampling`) give the draws a stratified subset
  needs to match the standard error of the plain loop on the full test set; the time per sweep
  cell of both follows from the measured rates;
* ``fast_evaluation_check.csv``: every noise-sweep number of the profile's models computed with
  the fast evaluation beside the fp32 reference, with its 95 % CI.

Every row records the machine (:func:`bnnoise.hardware.machine_record`: CPU model, AMX and
AVX-512-BF16 support, threads, torch and Python versions). The book shows display tables with
human headers, split by group of tasks (``benchmark_*.csv``, ``*_display.csv``);
``--tables-only`` rewrites them from the raw CSV files without timing anything.
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from bnnoise.analysis.fast_path import fast_path_allowed
from bnnoise.analysis.summaries import average_normalized_accuracy, summarize_sweep
from bnnoise.config import load_profile
from bnnoise.config.setups import Recipe
from bnnoise.data import CHANNEL_STATS, DataCache, Dataset, normalize
from bnnoise.evaluation import EVALUATION_BATCH, accuracy, correct_mask
from bnnoise.hardware import machine_record
from bnnoise.image_selection import stratified_subset
from bnnoise.nets.folding import FoldedBatchNorm
from bnnoise.nets.models import build_model
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import draw_seed, select_tensors
from bnnoise.pipeline.specs import ModelSpec, profile_specs, recipe_of
from bnnoise.pipeline.sweeps import noise_sweep
from bnnoise.pipeline.trained import stored_model
from bnnoise.sampling import draws_needed, standard_error, variance_components
from bnnoise.store import ArtifactStore
from bnnoise.throughput import training_step_rate
from bnnoise.training import lr_at, train

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "results" / "benchmark"


def random_dataset(n_train: int, n_test: int) -> Dataset:
    g = torch.Generator().manual_seed(0)
    mean, std = CHANNEL_STATS["cifar10"]
    return Dataset("random", torch.randint(0, 256, (n_train, 3, 32, 32), generator=g,
                                           dtype=torch.uint8),
                   torch.randint(0, 10, (n_train,), generator=g),
                   torch.randint(0, 256, (n_test, 3, 32, 32), generator=g, dtype=torch.uint8),
                   torch.randint(0, 10, (n_test,), generator=g), 10, mean, std)


def forward_flops(model: nn.Module) -> float:
    """Multiply-add FLOPs (2 per MAC) of one forward pass on one 32x32 image."""
    total = 0

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kernel = module.in_channels // module.groups * module.kernel_size[0] \
                * module.kernel_size[1]
            total += 2 * output.numel() * kernel
        elif isinstance(module, nn.Linear):
            total += 2 * module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 32, 32))
    for h in handles:
        h.remove()
    return float(total)


PEAK_SIZE = 4096
"""Side of the square matmuls that measure the peak: small ones (2048) understate it on
AVX-512 cores, so that other work appeared to run above it (fraction of peak above 1)."""


def matmul_peak(dtype: torch.dtype, n: int = PEAK_SIZE, repeats: int = 5) -> float:
    """The machine's attainable FLOP/s in ``dtype``: the best of ``repeats`` timed n x n
    matmuls (after one untimed warm-up), so that a preempted repetition cannot lower it."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * n**3 / (time.perf_counter() - start))
    return best


class PilImages(torch.utils.data.Dataset):
    """What torchvision's CIFAR10 does per image: PIL conversion, then the transforms."""

    def __init__(self, data: Dataset, transform: transforms.Compose) -> None:
        self.x = data.x_train.permute(0, 2, 3, 1).numpy()
        self.y = data.y_train.numpy()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.x[i])), int(self.y[i])


def plain_training(data: Dataset, recipe: Recipe, workers: int, max_steps: int | None = None,
                   threshold: float | None = None) -> dict[str, float]:
    """A textbook fp32 recipe: per-image PIL transforms, a DataLoader, SGD with the library's
    schedule (linear warm-up, cosine decay, Nesterov momentum, weight decay), no clipping.

    Returns the training throughput of the first epoch (images/s after three warm-up steps,
    loader waits included), the final test accuracy, and the wall-clock seconds (evaluations
    included) until the end of the first epoch whose test accuracy reached ``threshold``.
    """
    torch.manual_seed(recipe.seed)
    model = build_model("resnet20", data.num_classes, "bn")
    mean, std = CHANNEL_STATS["cifar10"]
    transform = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                    transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                    transforms.Normalize(mean, std)])
    loader = DataLoader(PilImages(data, transform), batch_size=recipe.batch_size, shuffle=True,
                        num_workers=workers, drop_last=True, persistent_workers=workers > 0)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                nesterov=True, weight_decay=recipe.weight_decay)
    steps_per_epoch = min(len(loader), max_steps or len(loader))
    total, warmup = recipe.epochs * steps_per_epoch, round(recipe.warmup_epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    rate, reached, test_acc, step = float("nan"), float("nan"), float("nan"), 0
    start = time.perf_counter()
    for epoch in range(recipe.epochs):
        model.train()
        for i, (x, y) in enumerate(loader):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total, warmup, recipe.lr)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if epoch == 0 and i == 2:
                warm = time.perf_counter()
            if i + 1 == steps_per_epoch:
                break
        if epoch == 0:
            rate = (steps_per_epoch - 3) * recipe.batch_size / (time.perf_counter() - warm)
        test_acc = accuracy(model, data.x_test, data.y_test, data)
        if threshold is not None and test_acc >= threshold and np.isnan(reached):
            reached = time.perf_counter() - start
    return {"rate": rate, "seconds_to_threshold": reached, "test_acc": test_acc}


def library_training(data: Dataset, recipe: Recipe, threshold: float | None = None
                     ) -> dict[str, float]:
    """:func:`bnnoise.training.train` with ``recipe`` after a short warm-up run: throughput
    over all epochs and wall-clock seconds (evaluations included) until the end of the first
    epoch whose test accuracy reached ``threshold``."""
    torch.manual_seed(recipe.seed)
    model = build_model("resnet20", data.num_classes, "bn")
    warm = replace(data, x_train=data.x_train[:3 * recipe.batch_size],
                   y_train=data.y_train[:3 * recipe.batch_size])
    train(copy.deepcopy(model), warm, replace(recipe, epochs=1))  # warm-up of the kernels
    history = train(model, data, recipe)
    seconds = np.cumsum([h["seconds"] for h in history])
    accs = np.array([h["test_acc"] for h in history])
    hit = np.nonzero(accs >= threshold)[0] if threshold is not None else []
    images = len(history) * (len(data.y_train) // recipe.batch_size) * recipe.batch_size
    return {"rate": images / seconds[-1],
            "seconds_to_threshold": float(seconds[hit[0]]) if len(hit) else float("nan"),
            "test_acc": float(accs[-1])}


def plain_noisy_eval(model: nn.Module, x: torch.Tensor, draws: int) -> float:
    """Noisy evaluations' images per second: deep copy, add noise to the conv and linear
    weights, evaluate, per draw (NCHW fp32, batches of 500)."""
    x = x.contiguous()
    start = time.perf_counter()
    for draw in range(draws):
        noisy = copy.deepcopy(model).eval()
        torch.manual_seed(draw)
        with torch.no_grad():
            for m in noisy.modules():
                if isinstance(m, nn.Conv2d | nn.Linear):
                    for p in m.parameters(recurse=False):
                        p.add_(torch.randn_like(p) * 0.1 * p.std())
            for i in range(0, len(x), 500):
                noisy(x[i:i + 500]).argmax(1)
    return draws * len(x) / (time.perf_counter() - start)


def library_noisy_eval(model: nn.Module, x: torch.Tensor, y: torch.Tensor, draws: int,
                       fast: bool) -> float:
    """Noisy evaluations' images per second with in-place injection and exact restore; ``fast``
    refolds BatchNorm after each draw and evaluates in bfloat16 autocast."""
    model = model.eval().to(memory_format=torch.channels_last)
    tensors = select_tensors(model, "weights")
    network = FoldedBatchNorm(model) if fast else model
    x = x.contiguous(memory_format=torch.channels_last)
    start = time.perf_counter()
    for draw in range(draws):
        with injected_noise(tensors, 0.1, seed=draw):
            if fast:
                network.refresh()
            correct_mask(network, x, y, precision="bf16" if fast else "fp32")
    return draws * len(y) / (time.perf_counter() - start)


def row(task: str, variant: str, rate: float, unit: str, baseline: float,
        fraction_of_peak: float = float("nan"), higher_is_better: bool = True) -> dict:
    speedup = rate / baseline if higher_is_better else baseline / rate
    return {"task": task, "variant": variant, "rate": rate, "unit": unit,
            "baseline_rate": baseline, "speedup": speedup, "fraction_of_peak": fraction_of_peak}


def speed_rows(args: argparse.Namespace, peak: dict[str, float]) -> list[dict]:
    """Training and noisy-evaluation throughput on random data (no dataset needed)."""
    data = random_dataset(args.train_images, args.eval_images)
    rows = []
    recipe = Recipe(epochs=1, batch_size=128, warmup_epochs=0.0)
    train_flops = 3 * forward_flops(build_model("resnet20", 10, "bn"))  # forward + backward
    base = plain_training(replace(data, x_test=data.x_test[:256], y_test=data.y_test[:256]),
                          recipe, workers=args.workers)["rate"]
    task = "training ResNet20 (throughput)"
    rows.append(row(task, f"plain fp32, PIL transforms, DataLoader({args.workers} workers)",
                    base, "images/s", base, base * train_flops / peak["fp32"]))
    for precision in ("fp32", "bf16"):
        small_test = replace(data, x_test=data.x_test[:256], y_test=data.y_test[:256])
        rate = library_training(small_test, replace(recipe, precision=precision))["rate"]
        rows.append(row(task, f"library: batched augmentation, channels-last, {precision}", rate,
                        "images/s", base, rate * train_flops / peak[precision]))

    task = "training step ResNet20 bf16 (model only, no data pipeline)"
    for compiled in (False, True):
        rate = training_step_rate("cpu", "bf16", compiled=compiled).images_per_second
        rows.append(row(task, "torch.compile (inductor)" if compiled else "eager", rate,
                        "images/s", base, rate * train_flops / peak["bf16"]))

    x = normalize(data.x_test, data)
    for name in ("resnet20", "vgg16"):
        torch.manual_seed(0)
        model = build_model(name, 10, "bn").eval()
        flops = forward_flops(model)
        base = plain_noisy_eval(model, x, args.draws)
        task = f"noisy evaluation {name} (weights target, per image)"
        rows.append(row(task, "plain: deepcopy + add noise + evaluate, fp32", base, "images/s",
                        base, base * flops / peak["fp32"]))
        for fast, variant in [
                (False, f"library: in-place noise, exact restore, fp32, batch {EVALUATION_BATCH}"),
                (True, f"library fast: + BN folded per draw, bf16 autocast, batch "
                       f"{EVALUATION_BATCH}")]:
            rate = library_noisy_eval(model, x, data.y_test, args.draws, fast)
            rows.append(row(task, variant, rate, "images/s", base,
                            rate * flops / peak["bf16" if fast else "fp32"]))
    return rows


def time_to_accuracy_rows(args: argparse.Namespace, cifar: Dataset) -> list[dict]:
    """Both recipes train ResNet20 on CIFAR-10 with the same schedule; seconds to threshold."""
    recipe = Recipe(epochs=args.tta_epochs, batch_size=128, lr=0.1, warmup_epochs=0.5)
    plain = plain_training(cifar, recipe, args.workers, threshold=args.threshold)
    lib = library_training(cifar, replace(recipe, precision="bf16"), threshold=args.threshold)
    task = f"training ResNet20 on CIFAR-10: seconds to {args.threshold:.0%} test accuracy"
    return [
        {**row(task, f"plain fp32 ({args.tta_epochs} epochs; final test accuracy "
               f"{plain['test_acc']:.3f})", plain["seconds_to_threshold"], "s",
               plain["seconds_to_threshold"], higher_is_better=False)},
        {**row(task, f"library bf16 ({args.tta_epochs} epochs; final test accuracy "
               f"{lib['test_acc']:.3f})", lib["seconds_to_threshold"], "s",
               plain["seconds_to_threshold"], higher_is_better=False)},
    ]


def equal_precision_rows(args: argparse.Namespace, profile, cifar: Dataset,
                         rates: dict[str, float]) -> tuple[list[dict], pd.DataFrame]:
    """Per noise level: draws the subset needs for the plain loop's precision, and the time per
    sweep cell of both, from the variance components of the trained ResNet20 (BN)."""
    spec = ModelSpec("cifar10", "resnet20", "bn")
    trained = stored_model(ArtifactStore(profile.store_dir), spec,
                           recipe_of(profile, spec))
    if trained is None:
        raise SystemExit(f"{spec.slug} of profile {profile.name} is not trained: train it first "
                         f"(bnnoise train --profile {profile.name}) or use --skip-data")
    model = trained.model
    x, y = normalize(cifar.x_test, cifar), cifar.y_test
    tensors = select_tensors(model, "weights")
    folded = FoldedBatchNorm(model)
    population, subset = len(y), len(stratified_subset(y, profile.noise.eval_per_class))
    rows, components = [], []
    for eta in args.precision_etas:
        hits = []
        for draw in range(args.precision_draws):
            with injected_noise(tensors, eta, draw_seed(1000, eta, draw)):
                folded.refresh()
                hits.append(correct_mask(folded, x, y, precision="bf16")[0])
        v = variance_components(torch.stack(hits))
        plain_draws = profile.noise.draws
        target = standard_error(v, population, plain_draws, population)
        needed = draws_needed(v, subset, population, target)
        plain_s = plain_draws * population / rates["plain"]
        fast_s = needed * subset / rates["fast"] if needed else float("nan")
        components.append({"eta": eta, "draw_variance": v.draw, "image_variance": v.image,
                           "residual_variance": v.residual, "plain_draws": plain_draws,
                           "plain_images": population, "standard_error": target,
                           "subset_images": subset, "subset_draws_needed": needed})
        task = (f"noise sweep cell ResNet20 (weights target, eta {eta:g}) at equal standard "
                f"error {target:.4f}")
        rows.append(row(task, f"plain: {plain_draws} draws x {population} images, fp32",
                        plain_s, "s", plain_s, higher_is_better=False))
        variant = (f"library fast: {needed} draws x {subset}-image stratified subset"
                   if needed else
                   f"library fast, {subset}-image stratified subset: not reachable (its image "
                   f"sampling error alone exceeds the target)")
        rows.append(row(task, variant, fast_s, "s", plain_s, higher_is_better=False))
    return rows, pd.DataFrame(components)


def fast_evaluation_check(profile) -> pd.DataFrame:
    """Every per-eta normalized accuracy and average normalized accuracy of the profile's
    sweeps, with the fp32 reference and the fast evaluation side by side (same noise draws).

    Only models already trained take part (the benchmark never trains). The fast sweeps are
    kept in a scratch store beside the profile's (``<store>-benchmark``, not published), the
    fp32 ones are the profile's own."""
    store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    scratch = ArtifactStore(profile.store_dir.with_name(profile.store_dir.name + "-benchmark"))
    fast = replace(profile.noise, evaluation="fast")
    keys = ["model", "norm", "target"]
    tables = []
    for spec in profile_specs(profile):
        trained = stored_model(store, spec, recipe_of(profile, spec))
        if trained is None:
            print(f"fast evaluation check: {spec.slug} is not trained, left out")
            continue
        per = {}
        for label, protocol, cells in (("fp32", profile.noise, store), ("fast", fast, scratch)):
            draws = noise_sweep(cells, trained, protocol, data)
            by_eta = summarize_sweep(draws, keys).assign(quantity="normalized accuracy")
            avg = average_normalized_accuracy(draws, keys).rename(columns={
                "avg_normalized_accuracy": "normalized_accuracy",
                "avg_normalized_accuracy_ci95": "normalized_accuracy_ci95"}).assign(
                eta=np.nan, quantity="average normalized accuracy")
            per[label] = pd.concat([by_eta, avg], ignore_index=True)[
                [*keys, "quantity", "eta", "normalized_accuracy", "normalized_accuracy_ci95"]]
        both = per["fp32"].merge(per["fast"], on=[*keys, "quantity", "eta"],
                                 suffixes=("_fp32", "_fast"))
        tables.append(both)
    table = pd.concat(tables, ignore_index=True)
    table = table[(table["eta"] != 0) | table["eta"].isna()]
    table["difference"] = table["normalized_accuracy_fast"] - table["normalized_accuracy_fp32"]
    table["within_ci"] = table["difference"].abs() <= table["normalized_accuracy_ci95_fp32"]
    return table


SECTIONS = {
    "benchmark_peak_training.csv": ("matmul", "training ResNet20 (throughput)",
                                    "training step"),
    "benchmark_evaluation.csv": ("noisy evaluation",),
    "benchmark_campaign.csv": ("training ResNet20 on CIFAR-10", "noise sweep cell"),
}
"""The book's display tables of ``benchmark.csv``: one per group of tasks, so that none is
wider than the text column."""

MACHINE_LABELS = {"cpu": "CPU", "amx": "AMX (bf16 tiles)", "avx512_bf16": "AVX-512-BF16",
                  "threads": "threads", "torch": "torch", "python": "Python"}


OLD_BATCH = 1000
"""The library's evaluation batch (images) before it was measured and set to
``bnnoise.evaluation.EVALUATION_BATCH``; rows of runs before the change name no batch."""


def _fmt(value: float, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:.0f}"


def _of_peak(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    text = f"{100 * value:.0f} %"
    return text + " (over)" if value > 1.0 else text


def display_tables(table: pd.DataFrame, components: pd.DataFrame | None = None,
                   fast_summary: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Tables for the book (``book/benchmark.md``) with human headers and few columns: the
    benchmark rows split by group of tasks, the machine record, the variance components and
    the fast-evaluation summary. A rate that could not be measured reads "–"; a group whose
    rows are all seconds to a goal heads them "time", and drops "of peak" where no row has
    one; the library's noisy evaluations name their batch (:data:`OLD_BATCH` for runs that
    predate the batch in their label)."""
    out: dict[str, pd.DataFrame] = {}
    for name, prefixes in SECTIONS.items():
        part = table[table["task"].str.startswith(prefixes)]
        variants = part["variant"].str.replace(  # runs before "not reachable" was written
            r"library fast: None draws x (\d+)-image stratified subset",
            r"library fast, \1-image stratified subset: not reachable (its image sampling "
            r"error alone exceeds the target)", regex=True)
        unnamed = (part["task"].str.startswith("noisy evaluation")
                   & part["variant"].str.startswith("library")
                   & ~part["variant"].str.contains("batch"))  # measured before the change
        variants = variants.where(~unnamed, variants + f", batch {OLD_BATCH}")
        timed = part["unit"].eq("s").all()  # seconds to a goal, not a rate
        shown = pd.DataFrame({
            "task": part["task"].where(part["task"] != part["task"].shift(), ""),
            "variant": variants,
            "time" if timed else "rate": [
                f"{_fmt(r)} {u}" if np.isfinite(r) else "–"
                for r, u in zip(part["rate"], part["unit"], strict=True)],
            "speed-up": part["speedup"].map(lambda v: f"{_fmt(v)}x" if np.isfinite(v) else "–"),
            "of peak": part["fraction_of_peak"].map(_of_peak)})
        out[name] = shown if (shown["of peak"] != "–").any() else shown.drop(columns="of peak")
    record = {k: table[k].iloc[0] for k in MACHINE_LABELS if k in table}
    if record:
        out["benchmark_machine.csv"] = pd.DataFrame(
            [(MACHINE_LABELS[k], {"True": "yes", "False": "no"}.get(str(v), v))
             for k, v in record.items()],
            columns=["property", "value"])
    if components is not None:
        out["variance_components_display.csv"] = pd.DataFrame({
            "eta": components["eta"].map(_fmt),
            "draw variance": components["draw_variance"].map(lambda v: f"{v:.2e}"),
            "image variance": components["image_variance"].map(lambda v: f"{v:.2e}"),
            "residual variance": components["residual_variance"].map(lambda v: f"{v:.2e}"),
            "plain SE": components["standard_error"].map(lambda v: f"{v:.4f}"),
            "subset draws": components["subset_draws_needed"].map(
                lambda v: "not reachable" if pd.isna(v) else str(int(v)))})
    if fast_summary is not None:
        fast_summary = fast_path_allowed(fast_summary)  # the rule fast_evaluation
        out["fast_evaluation_display.csv"] = pd.DataFrame({
            "model": fast_summary["model"], "BN": fast_summary["norm"].map(
                {"bn": "with", "none": "without"}).fillna(fast_summary["norm"]),
            "noise on": fast_summary["target"],
            "within fp32 CI": [f"{int(w)} of {int(n)}" for w, n in
                               zip(fast_summary["within_fp32_ci"], fast_summary["numbers"],
                                   strict=True)],
            "largest |diff.|": fast_summary["max_abs_difference"].map(lambda v: f"{v:.4f}"),
            "smallest CI": fast_summary["smallest_fp32_ci"].map(lambda v: f"{v:.4f}"),
            "may replace fp32": fast_summary["fast_path"].map({True: "yes", False: "no"})})
    return out


def write_display_tables(folder: Path) -> None:
    """Rewrite the display tables from the raw CSV files of an earlier run (no timing)."""
    table = pd.read_csv(folder / "benchmark.csv")
    if "threads" in table and "cpu" not in table:
        table["cpu"] = "not recorded (run before machine records were kept)"
    optional = {name: pd.read_csv(folder / name) if (folder / name).is_file() else None
                for name in ("variance_components.csv", "fast_evaluation_summary.csv")}
    for name, frame in display_tables(table, *optional.values()).items():
        frame.to_csv(folder / name, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-images", type=int, default=128 * 40)
    parser.add_argument("--eval-images", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=3, help="draws per timed noisy evaluation")
    parser.add_argument("--workers", type=int, default=2, help="plain DataLoader workers")
    parser.add_argument("--profile", default="cpu", help="whose trained models to use")
    parser.add_argument("--data-dir", default=None, help="CIFAR location (as for chapters)")
    parser.add_argument("--skip-data", action="store_true",
                        help="only the parts on random data (no CIFAR, no trained models)")
    parser.add_argument("--tta-epochs", type=int, default=2)
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--precision-etas", type=float, nargs="+", default=[0.05, 0.2, 0.5])
    parser.add_argument("--precision-draws", type=int, default=8)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--tables-only", action="store_true",
                        help="only rewrite the book's display tables from the CSV files in --out")
    args = parser.parse_args()
    if args.tables_only:
        write_display_tables(args.out)
        print(f"display tables written to {args.out}")
        return
    profile = load_profile(args.profile, data_dir=args.data_dir)
    cifar = None if args.skip_data else DataCache(profile.data_dir)("cifar10")

    peak = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    rows = [row(f"matmul {PEAK_SIZE}x{PEAK_SIZE} (peak, best of 5)", p, flops / 1e9,
                "GFLOP/s", flops / 1e9, 1.0) for p, flops in peak.items()]
    rows += speed_rows(args, peak)
    outputs = {}
    if cifar is not None:
        rows += time_to_accuracy_rows(args, cifar)
        resnet20 = [r for r in rows if r["task"].startswith("noisy evaluation resnet20")]
        rates = {"plain": resnet20[0]["rate"], "fast": resnet20[2]["rate"]}
        precision_rows, components = equal_precision_rows(args, profile, cifar, rates)
        rows += precision_rows
        outputs["variance_components.csv"] = components
        check = fast_evaluation_check(profile)
        outputs["fast_evaluation_check.csv"] = check
        outputs["fast_evaluation_summary.csv"] = (
            check.assign(abs_difference=check["difference"].abs())
            .groupby(["model", "norm", "target"], sort=False)
            .agg(numbers=("within_ci", "size"), within_fp32_ci=("within_ci", "sum"),
                 max_abs_difference=("abs_difference", "max"),
                 smallest_fp32_ci=("normalized_accuracy_ci95_fp32", "min"))
            .reset_index())

    table = pd.DataFrame(rows).assign(**machine_record())
    above = table[table["fraction_of_peak"] > 1]
    if len(above):
        print(f"warning: {len(above)} rows run above the measured peak, which is then not the "
              "machine's peak: " + "; ".join(above["task"] + " / " + above["variant"]))
    outputs["benchmark.csv"] = table
    outputs.update(display_tables(table, outputs.get("variance_components.csv"),
                                  outputs.get("fast_evaluation_summary.csv")))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in outputs.items():
        frame.to_csv(args.out / name, index=False, float_format="%.4g")
    print(table[["task", "variant", "rate", "unit", "speedup", "fraction_of_peak"]]
          .to_string(index=False, float_format="%.3g"))
    if "fast_evaluation_check.csv" in outputs:
        check = outputs["fast_evaluation_check.csv"]
        print(f"fast evaluation within the fp32 CI: {int(check['within_ci'].sum())} of "
              f"{len(check)} numbers; largest |difference| {check['difference'].abs().max():.4f}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
