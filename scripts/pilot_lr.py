"""Learning-rate pilot: short training runs of one network at several peak learning rates.

    python scripts/pilot_lr.py --model vgg16 --norm none --lrs 0.1 0.05 0.02 0.01

Each run trains on a fixed class-stratified subset of the training set (``--per-class`` images
per class) for ``--epochs`` epochs with the profile's recipe, only the peak learning rate
changed, and reports the training loss and the test accuracy on 2000 test images per epoch.
The table goes to ``data/results/<profile>/pilot_<model>_<norm>_lr.csv``; the training chapter
shows it and the learning rate it supports (:mod:`bnnoise.analysis.pilots`).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import pandas as pd
import torch

from bnnoise.analysis.pilots import pilot_path
from bnnoise.config import load_profile
from bnnoise.data import load_dataset
from bnnoise.image_selection import stratified_subset
from bnnoise.nets.models import build_model
from bnnoise.training import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--model", required=True)
    parser.add_argument("--norm", required=True)
    parser.add_argument("--lrs", type=float, nargs="+", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    profile = load_profile(args.profile, data_dir=args.data_dir)
    data = load_dataset(args.dataset, profile.data_dir)
    train_idx = stratified_subset(data.y_train, args.per_class, seed=0)
    test_idx = stratified_subset(data.y_test, 200, seed=0)
    subset = replace(data, x_train=data.x_train[train_idx], y_train=data.y_train[train_idx],
                     x_test=data.x_test[test_idx], y_test=data.y_test[test_idx])
    rows = []
    for lr in args.lrs:
        recipe = replace(profile.recipe, lr=lr, epochs=args.epochs,
                         warmup_epochs=min(profile.recipe.warmup_epochs, args.epochs / 2))
        torch.manual_seed(recipe.seed)
        model = build_model(args.model, data.num_classes, args.norm)
        history = train(model, subset, recipe, stop_on_divergence=True)
        for row in history:
            rows.append({"model": args.model, "norm": args.norm, "peak_lr": lr,
                         "grad_clip": recipe.grad_clip, "train_images": len(subset.y_train),
                         **row})
            print(rows[-1], flush=True)
    out = pilot_path(profile, args.model, args.norm)
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out, index=False)
    print(out)


if __name__ == "__main__":
    main()
