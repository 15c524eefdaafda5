"""Command line of the book: run chapters, train and sweep a profile, fetch CIFAR.

    python -m bnnoise chapter 02_noise --profile cpu -p etas "[0.1, 0.3]"   # rerun, to runs/
    python -m bnnoise chapter all --profile smoke --output-dir /tmp/smoke   # every chapter
    python -m bnnoise publish 02_noise             # replace the book's chapter (cpu profile)
    python -m bnnoise train --profile cpu          # train all models of the profile
    python -m bnnoise sweep --profile cpu          # train if needed, then run the noise sweeps
                                                   # (and those of the epoch snapshots)
    python -m bnnoise list --profile cpu --grid all  # the models of a profile, one per line
    python -m bnnoise sweep --only cifar10-resnet20-bn  # one model only (a workflow job)
    python -m bnnoise short-runs --profile cpu     # the theory chapters' short training runs
    python -m bnnoise mechanism --profile cpu      # remedies and per-layer sensitivity sweeps
    python -m bnnoise download --data-dir DIR      # torchvision download of CIFAR-10/100

Results go to the artifact store; rerunning skips everything already stored and resumes an
interrupted training run from its last epoch checkpoint.
"""

from __future__ import annotations

import argparse
import signal

import torch

from bnnoise.build import ChapterError
from bnnoise.config import Profile, default_data_dir, load_profile, project_root
from bnnoise.data import DataCache
from bnnoise.hardware import DEVICE_CHOICES
from bnnoise.pipeline.specs import ModelSpec, profile_specs
from bnnoise.pipeline.sweeps import noise_sweep
from bnnoise.pipeline.trained import profile_model
from bnnoise.store import ArtifactStore


def main(argv: list[str] | None = None) -> None:
    """Run the command line; a bad parameter or a missing dataset stops with one line that
    says what is valid, before any compute."""
    signal.signal(signal.SIGTERM, _interrupted)  # `kill`, `timeout`, a cancelled cluster job
    try:
        _main(argv)
    except (ValueError, FileNotFoundError, ChapterError) as err:
        raise SystemExit(f"bnnoise: {str(err).splitlines()[0]}") from None
    except KeyboardInterrupt:
        raise SystemExit("bnnoise: interrupted; what was stored is kept, what was being "
                         "written is discarded (published pages and tables are as before)"
                         ) from None


def _interrupted(signum: int, frame: object) -> None:
    """SIGTERM stops the command as Ctrl-C does: every clean-up of an interruption runs (a
    publication puts the published tables back, a partial notebook is removed)."""
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    """One sub-command parser per command, each with only its own options."""
    parser = argparse.ArgumentParser(prog="bnnoise", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument("--profile", default="cpu", help="profile of params.yaml")
    profile.add_argument("--data-dir", default=None, help="dataset directory")
    device = argparse.ArgumentParser(add_help=False)
    device.add_argument("--device", default=None, choices=DEVICE_CHOICES,
                        help="override the profile's device")
    selection = argparse.ArgumentParser(add_help=False)
    selection.add_argument("--grid", nargs="+", default=["main"],
                           help="which of the profile's grids ('main', a series name, or "
                                "'all'); --models/--norms/--seeds filter them")
    selection.add_argument("--models", nargs="+", default=None, help="only these models")
    selection.add_argument("--norms", nargs="+", default=None, help="only these norms")
    selection.add_argument("--seeds", nargs="+", type=int, default=None,
                           help="only these training seeds")
    selection.add_argument("--only", nargs="+", default=None, metavar="MODEL",
                           help="only these networks, named as 'list' prints them (e.g. "
                                "cifar10-resnet20-bn)")
    chapter = argparse.ArgumentParser(add_help=False)
    chapter.add_argument("chapter", nargs="?", help="a chapter name or 'all'")
    chapter.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                         metavar=("NAME", "VALUE"),
                         help="a chapter parameter (VALUE is read as YAML)")
    chapter.add_argument("--output-dir", default=None,
                         help="where executed notebooks go (default: a new folder "
                              "runs/<date>-<time>-<profile>/; never book/, which only "
                              "'publish' writes)")

    commands.add_parser("chapter", parents=[profile, device, chapter],
                        help="rerun chapters with new parameters, into a run folder")
    commands.add_parser("publish", parents=[profile, device, chapter],
                        help="re-execute chapters of the book (cpu profile only) into book/")
    commands.add_parser("list", parents=[profile, selection],
                        help="the networks of a profile's grids, one per line")
    commands.add_parser("train", parents=[profile, device, selection],
                        help="train (or load) the networks of a profile's grids")
    commands.add_parser("sweep", parents=[profile, device, selection],
                        help="train if needed, then the noise sweeps (and their snapshots')")
    commands.add_parser("short-runs", parents=[profile],
                        help="the theory chapters' short training runs")
    mechanism = commands.add_parser("mechanism", parents=[profile, device, selection],
                                    help="remedies and per-layer sensitivity sweeps")
    mechanism.add_argument("--stored-only", action="store_true",
                           help="no training, only the networks already stored")
    _add_other_sweeps(commands, [profile, device])
    download = commands.add_parser("download", help="torchvision download of CIFAR-10/100")
    download.add_argument("--data-dir", default=None, help="dataset directory")
    return parser


def _add_other_sweeps(commands: argparse._SubParsersAction,
                      parents: list[argparse.ArgumentParser]) -> None:
    """The ``readings`` and ``devices`` commands: the profile's other sweeps of one grid."""
    readings = commands.add_parser("readings", parents=parents,
                                   help="sweep the readings grid's networks under the "
                                        "profile's other readings of the noise protocol")
    readings.add_argument("--reading", nargs="+", default=None,
                          help="only these readings (names of params.yaml's readings)")
    readings.add_argument("--only", nargs="+", default=None, metavar="MODEL",
                          help="only these networks of the readings grid, named as 'list' "
                               "prints them")
    devices = commands.add_parser("devices", parents=parents,
                                  help="sweep the devices grid's networks on the PCM-like "
                                       "device (params.yaml's devices)")
    devices.add_argument("--only", nargs="+", default=None, metavar="MODEL",
                         help="only these networks of the devices grid")


def _main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)

    # the commands' own modules are imported where they run: every job of the workflow is a
    # process of its own, and Papermill or SciPy would add seconds to each
    if args.command in ("chapter", "publish"):
        from bnnoise.build.chapter_command import run_chapters

        run_chapters(args)
        return

    if args.command == "download":
        from torchvision import datasets

        root = args.data_dir or str(default_data_dir(project_root()))
        for cls in (datasets.CIFAR10, datasets.CIFAR100):
            for train_split in (True, False):
                cls(root, train=train_split, download=True)
        return

    profile = load_profile(args.profile, data_dir=args.data_dir,
                           device=getattr(args, "device", None))
    store = ArtifactStore(profile.store_dir)
    data = DataCache(profile.data_dir)
    threads = (f"(on {profile.device}, {torch.get_num_threads()} CPU threads)")
    if args.command == "short-runs":
        _short_runs(profile, store, data, threads)
        return
    if args.command == "readings":
        _readings(profile, args, store, data, threads)
        return
    if args.command == "devices":
        from bnnoise.pipeline.device_sweeps import profile_device_sweeps

        profile_device_sweeps(profile, args.only, store, data, threads)
        return
    specs = _selected(profile, args)
    if args.command == "list":
        print("\n".join(dict.fromkeys(spec.slug for spec in specs)))
        return
    if args.command == "mechanism":
        _mechanism(profile, specs, data, args.stored_only, threads)
        return
    print(f"profile {profile.name}: {profile.summary()} {threads}")
    for spec in dict.fromkeys(specs):  # one model at a time: each finished result is stored
        trained = profile_model(profile, spec, data, progress=True)
        print(f"{trained.key}: clean accuracy {trained.summary['clean_accuracy']:.4f}",
              flush=True)
        if args.command == "sweep":
            from bnnoise.pipeline.progress import sweep_snapshots

            noise_sweep(store, trained, profile.noise, data, progress=True)
            if profile.progress_noise is not None:  # the epoch snapshots, if the run has any
                sweep_snapshots(store, trained, profile.progress_noise, data, progress=True)


def _short_runs(profile: Profile, store: ArtifactStore, data: DataCache, threads: str) -> None:
    from bnnoise.pipeline.short_runs import group_size_runs, high_lr_runs, singularity_runs

    print(f"profile {profile.name}, short runs: {profile.short_runs.as_dict()} {threads}")
    for runs in (group_size_runs, high_lr_runs, singularity_runs):
        runs(store, data, profile.short_runs, progress=True)


def _mechanism(profile: Profile, specs: list[ModelSpec], data: DataCache, stored_only: bool,
               threads: str) -> None:
    from bnnoise.pipeline.layers import layer_draws
    from bnnoise.pipeline.remedies import noise_aware_runs, remedy_draws

    print(f"profile {profile.name}, mechanism: {profile.mechanism.as_dict()} {threads}")
    runs = [profile_model(profile, spec, data, progress=True) for spec in specs
            if spec.model in profile.mechanism.models]
    remedy_draws(profile, runs)
    layer_draws(profile, runs)
    remedy_draws(profile, runs, noise_aware_runs(profile, True, stored_only))


def _readings(profile: Profile, args: argparse.Namespace, store: ArtifactStore,
              data: DataCache, threads: str) -> None:
    """The ``readings`` command: the readings grid's networks swept under the profile's other
    readings of the noise protocol (all, or ``--reading``), one network at a time."""
    names = args.reading or [name for name, _ in profile.readings]
    protocols = {name: profile.reading(name) for name in names}  # unknown names stop here
    print(f"profile {profile.name}, readings {', '.join(names)} of grid "
          f"{profile.readings_grid} {threads}")
    specs = profile_specs(profile, profile.readings_grid)
    unknown = sorted(set(args.only or ()) - {spec.slug for spec in specs})
    if unknown:
        raise ValueError(f"unknown model {unknown[0]!r} in the readings grid "
                         f"{profile.readings_grid}; see: python -m bnnoise list --profile "
                         f"{profile.name} --grid {profile.readings_grid}")
    for spec in dict.fromkeys(specs):
        if args.only is None or spec.slug in args.only:
            trained = profile_model(profile, spec, data, progress=True)
            for protocol in protocols.values():
                noise_sweep(store, trained, protocol, data, progress=True)


def _selected(profile: Profile, args: argparse.Namespace) -> list[ModelSpec]:
    """The networks of the chosen grids that pass the command line's filters."""
    grids = profile.grid_names if args.grid == ["all"] else args.grid
    specs = [spec for grid in grids for spec in profile_specs(profile, grid)
             if (args.models is None or spec.model in args.models)
             and (args.norms is None or spec.norm in args.norms)
             and (args.seeds is None or spec.seed in args.seeds)]
    if args.only is not None:
        unknown = sorted(set(args.only) - {spec.slug for spec in specs})
        if unknown:
            raise ValueError(f"unknown model {unknown[0]!r} in grids {', '.join(grids)} of "
                             f"profile {profile.name}; see: python -m bnnoise list --profile "
                             f"{profile.name} --grid {' '.join(grids)}")
        specs = [spec for spec in specs if spec.slug in args.only]
    if not specs:
        raise SystemExit(f"no model of grids {', '.join(grids)} matches the filters")
    return specs


if __name__ == "__main__":
    main()
