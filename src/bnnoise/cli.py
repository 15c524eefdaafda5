"""Command line: train and sweep every model of a profile (resumable), or fetch CIFAR.

    python -m bnnoise train --profile cpu          # train all models of the profile
    python -m bnnoise sweep --profile cpu          # train if needed, then run the noise sweeps
    python -m bnnoise download --data-dir DIR      # torchvision download of CIFAR-10/100

Results go to the artifact store; rerunning skips everything already stored and resumes an
interrupted training run from its last epoch checkpoint.
"""

from __future__ import annotations

import argparse
import itertools

import torch

from bnnoise.artifacts import ArtifactStore
from bnnoise.config import load_profile
from bnnoise.experiments import DataCache, ModelSpec, noise_sweep, trained_model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnnoise", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("train", "sweep", "download"))
    parser.add_argument("--profile", default="cpu", help="profile of params.yaml")
    parser.add_argument("--data-dir", default=None, help="dataset directory")
    parser.add_argument("--models", nargs="+", default=None, help="override the profile's models")
    parser.add_argument("--norms", nargs="+", default=None, help="override the profile's norms")
    args = parser.parse_args(argv)

    if args.command == "download":
        from torchvision import datasets

        root = args.data_dir or str(load_profile("smoke").data_dir)
        for cls in (datasets.CIFAR10, datasets.CIFAR100):
            for train_split in (True, False):
                cls(root, train=train_split, download=True)
        return

    profile = load_profile(args.profile, data_dir=args.data_dir, models=args.models,
                           norms=args.norms)
    print(f"profile {profile.name}: {profile.summary()} ({torch.get_num_threads()} threads)")
    store = ArtifactStore(profile.store_dir)
    data = DataCache(profile.data_dir)
    for dataset, model, norm in itertools.product(profile.datasets, profile.models,
                                                  profile.norms):
        trained = trained_model(store, ModelSpec(dataset, model, norm), profile.recipe, data,
                                progress=True)
        print(f"{trained.key}: clean accuracy {trained.summary['clean_accuracy']:.4f}",
              flush=True)
        if args.command == "sweep":
            noise_sweep(store, trained, profile.noise, data, progress=True)


if __name__ == "__main__":
    main()
