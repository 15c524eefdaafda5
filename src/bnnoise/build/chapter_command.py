"""The command line's ``chapter`` and ``publish`` commands: every chapter's parameters checked
before the first one runs, then each executed into a run folder or into the book."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bnnoise.build.chapter_parameters import chapter_names, check_chapter, read_value
from bnnoise.build.data_page import published_chapters
from bnnoise.build.runner import check_rerun_folder, published_book, run_chapter
from bnnoise.config import project_root

PUBLISHED_PROFILE = "cpu"
"""The profile whose results the book publishes; ``publish`` refuses any other."""


def run_chapters(args: argparse.Namespace) -> None:
    """Execute one chapter (or all) with the profile and parameters given on the command line:
    ``chapter`` into a run folder (never into the published book), ``publish`` into ``book/``
    (published profile only, as ``params.yaml`` defines it)."""
    root = project_root()
    if not args.chapter:
        raise SystemExit(f"name a chapter: {', '.join(chapter_names(root))} or all")
    parameters = {name: read_value(name, value) for name, value in args.parameter}
    parameters["profile"] = args.profile
    if args.data_dir:
        parameters["data_dir"] = args.data_dir
    if args.device:  # a profile override like any other, shown on the page with the others
        overrides = parameters.get("overrides") or {}
        if not isinstance(overrides, dict):
            raise ValueError(f"overrides must be a mapping, e.g. {{lr: 0.05}}, got "
                             f"{overrides!r}")
        parameters["overrides"] = {**overrides, "device": args.device}
    publish = args.command == "publish"
    names = [args.chapter] if args.chapter != "all" else (
        [n for n in published_chapters(root) if n in chapter_names(root)] if publish
        else chapter_names(root))  # publish all: the chapters in the book's table of contents
    # (a chapter not yet in it is published by name)
    if publish:
        if args.profile != PUBLISHED_PROFILE or args.output_dir or args.device:
            raise ValueError(f"publish writes the book's chapters from the {PUBLISHED_PROFILE} "
                             f"profile only, as params.yaml defines it (no --output-dir, no "
                             f"--device); use 'chapter' for other profiles or folders")
        output_dir = published_book(root)
    elif args.output_dir:
        output_dir = Path(args.output_dir)
        check_rerun_folder(root, output_dir)  # one line naming 'publish'; nothing has run
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        output_dir = root / "runs" / f"{stamp}-{args.profile}"
    for name in names:  # every chapter's parameters are checked before the first one runs
        check_chapter(root, name, parameters)
    for name in names:
        start = time.perf_counter()
        path = run_chapter(root, name, parameters, output_dir, publish=publish)
        print(f"{path} ({time.perf_counter() - start:.0f} s)", flush=True)
