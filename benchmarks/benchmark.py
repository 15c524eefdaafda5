"""Time the book's hot paths against plain PyTorch baselines doing the same work, in one run.

    python benchmarks/benchmark.py [--train-steps 40] [--draws 3] [--out PATH]

Lines of the table (each a ratio measured in this run, on this machine):

* peak: a large matmul in fp32 and in bfloat16 (the machine's attainable peak);
* training, ResNet20, CIFAR-shaped data: a plain fp32 recipe (per-image torchvision transforms,
  a DataLoader) versus the library's recipe (batched tensor augmentation, channels-last,
  bfloat16 autocast), in images per second and as a fraction of the matmul peak;
* noisy evaluation, ResNet20 and VGG16: the plain loop (deep-copy the model, add noise, evaluate)
  versus the library's in-place injection and restore, on the same number of images (fp32 both).

Random CIFAR-shaped images are used: speed does not depend on pixel values.
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

from bnnoise.data import CHANNEL_STATS, Dataset
from bnnoise.evaluation import predict_correct
from bnnoise.models import build_model
from bnnoise.noise import injected_noise, select_tensors
from bnnoise.training import Recipe, train

ROOT = Path(__file__).resolve().parents[1]


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


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 10) -> float:
    """Attained FLOP/s of an n x n matmul in ``dtype``."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start)


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


def plain_training(data: Dataset, steps: int, workers: int) -> float:
    """Images per second of a textbook fp32 recipe with per-image transforms and a DataLoader."""
    torch.manual_seed(0)
    model = build_model("resnet20", 10, "bn").train()
    mean, std = CHANNEL_STATS["cifar10"]
    transform = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                    transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                    transforms.Normalize(mean, std)])
    loader = DataLoader(PilImages(data, transform), batch_size=128, shuffle=True,
                        num_workers=workers, drop_last=True, persistent_workers=workers > 0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    seen, start = 0, None
    for i, (x, y) in enumerate(loader):
        if i == 3:  # warm-up excluded
            start, seen = time.perf_counter(), 0
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(y)
        if i == steps + 2:
            break
    return seen / (time.perf_counter() - start)


def library_training(data: Dataset, precision: str) -> float:
    """Images per second of :func:`bnnoise.training.train` (one epoch over ``data``, including
    its end-of-epoch evaluation on 256 test images)."""
    data = replace(data, x_test=data.x_test[:256], y_test=data.y_test[:256])
    torch.manual_seed(0)
    model = build_model("resnet20", 10, "bn")
    warm = replace(data, x_train=data.x_train[:384], y_train=data.y_train[:384])
    train(model, warm, Recipe(epochs=1, precision=precision))  # warm-up
    start = time.perf_counter()
    train(model, data, Recipe(epochs=1, precision=precision))
    return (len(data.y_train) // 128 * 128) / (time.perf_counter() - start)


def plain_noisy_eval(model: nn.Module, data: Dataset, draws: int) -> float:
    """Noisy evaluations' images per second: deep copy, add noise, evaluate, per draw."""
    x = ((data.x_test.float() / 255 - torch.tensor(data.mean).view(1, 3, 1, 1))
         / torch.tensor(data.std).view(1, 3, 1, 1))
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


def library_noisy_eval(model: nn.Module, data: Dataset, draws: int) -> float:
    """Noisy evaluations' images per second with in-place injection and exact restore."""
    model = model.eval().to(memory_format=torch.channels_last)
    tensors = select_tensors(model, "weights")
    start = time.perf_counter()
    for draw in range(draws):
        with injected_noise(tensors, 0.1, seed=draw):
            predict_correct(model, data.x_test, data.y_test, data)
    return draws * len(data.y_test) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-images", type=int, default=128 * 40)
    parser.add_argument("--eval-images", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="plain DataLoader workers")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "results" / "benchmark"
                        / "benchmark.csv")
    args = parser.parse_args()

    data = random_dataset(args.train_images, args.eval_images)
    rows = []
    peak = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    for precision, flops in peak.items():
        rows.append({"task": "matmul 2048x2048 (peak)", "variant": precision,
                     "rate": flops / 1e9, "unit": "GFLOP/s", "baseline_rate": np.nan,
                     "speedup": np.nan, "fraction_of_peak": 1.0})

    train_flops = 3 * forward_flops(build_model("resnet20", 10, "bn"))  # forward + backward
    base = plain_training(data, steps=args.train_images // 128 - 4, workers=args.workers)
    rows.append({"task": "training ResNet20", "variant": "plain fp32, PIL transforms, "
                 f"DataLoader({args.workers} workers)", "rate": base, "unit": "images/s",
                 "baseline_rate": base, "speedup": 1.0,
                 "fraction_of_peak": base * train_flops / peak["fp32"]})
    for precision in ("fp32", "bf16"):
        rate = library_training(data, precision)
        rows.append({"task": "training ResNet20",
                     "variant": f"library: batched augmentation, channels-last, {precision}",
                     "rate": rate, "unit": "images/s", "baseline_rate": base,
                     "speedup": rate / base,
                     "fraction_of_peak": rate * train_flops / peak[precision]})

    for name in ("resnet20", "vgg16"):
        torch.manual_seed(0)
        model = build_model(name, 10, "bn").eval()
        flops = forward_flops(model)
        base = plain_noisy_eval(model, data, args.draws)
        rate = library_noisy_eval(model, data, args.draws)
        for variant, value in [("plain: deepcopy + add noise + evaluate, fp32", base),
                               ("library: in-place noise, exact restore, channels-last, fp32",
                                rate)]:
            rows.append({"task": f"noisy evaluation {name} (weights target)",
                         "variant": variant, "rate": value, "unit": "images/s",
                         "baseline_rate": base, "speedup": value / base,
                         "fraction_of_peak": value * flops / peak["fp32"]})

    table = pd.DataFrame(rows).assign(threads=torch.get_num_threads(), torch=torch.__version__)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.4g")
    print(table.drop(columns=["torch"]).to_string(index=False, float_format="%.3g"))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
