"""The book's page on its result tables (``book/data.md``), generated from what the chapters
recorded when they were last published.

The page lists every CSV file the chapters write (with what one row is, and the one chapter that
writes it) and, per chapter, where each numbered figure and table comes from: the lineage each
chapter records while it runs (:mod:`bnnoise.lineage`, read by
:func:`bnnoise.build.chapter_contents.chapter_contents`). Only the chapters of ``_toc.yml`` are
published: their tables are linked for download, the others are listed as not yet published.
Links follow the profile the chapters run with (their ``profile`` parameter).

Regenerate the page with ``python -m bnnoise.build.data_page``; ``--check`` only reports
whether it is up to date (``tests/test_layout_map.py`` runs the same check).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import yaml

from bnnoise.build.chapter_contents import ChapterContents, book_contents

PAGE = Path("book") / "data.md"
"""The generated page, relative to the project root."""

ROWS = {
    "claims.csv": "claim, model or series and reading (target set, scoring): estimate, 95 % "
                  "interval, verdict, rule",
    "claims_average.csv": "network (every training seed and dataset the claims use), target set "
                          "and scoring: average normalized accuracy with its interval, the "
                          "input of claims.csv",
    "claims_progress.csv": "network, stored epoch, target set and draw of the progress protocol: "
                           "clean and average normalized accuracy, the other input of claims.csv",
    "rule_ledger.csv": "rule: what it decides, the commit that fixed it and its date, the date "
                       "of the first result it judges, whether it is post hoc",
    "reproduction_training.csv": "trained model: clean accuracy, BN layers, parameters, "
                                 "training time, artifact",
    "reproduction_history.csv": "model and epoch: learning rate, loss, accuracy, seconds",
    "reproduction_draws.csv": "model, target set, noise level and draw: accuracy under both "
                              "scorings, normalized accuracy, non-finite share, collapse",
    "reproduction_summary.csv": "model, target set, scoring and noise level: means with 95 % "
                                "intervals over the draws",
    "reproduction_average.csv": "model, target set and scoring: average normalized accuracy, "
                                "standard error and 95 % interval (draws and test images), grid",
    "reproduction_progress.csv": "model, stored epoch, target set and draw of the lighter "
                                 "progress protocol: clean and average normalized accuracy",
    "reproduction_seed_spread.csv": "model and target set with replicate training seeds: "
                                    "between-seed and between-draw standard deviations, F test",
    "reproduction_collapse.csv": "BN model and noise level: exact collapse probability, sampled "
                                 "collapses, Clopper-Pearson interval",
    "collapse_adjusted.csv": "BN model and scoring: average under target all from the draws and "
                             "from the exact collapse probability",
    "protocol_fit.csv": "reading (grid family, target set, scoring): the eta_max fitted to all "
                        "published numbers, residuals",
    "bn_layers_average.csv": "network of the depth and BN-count series, target set and scoring: "
                             "average normalized accuracy with its 95 % interval",
    "bn_layers_depth.csv": "ResNet with or without BN and target set: average normalized "
                           "accuracy with its 95 % interval, against the BN layer count of the "
                           "network with BN of the same depth",
    "bn_layers_count.csv": "placement (first or last k convolutions), k and target set: average "
                           "normalized accuracy of ResNet20 with its 95 % interval",
    "mechanism_remedies.csv": "network, remedy, target set and draw: average normalized "
                              "accuracy, non-finite share",
    "mechanism_ranking.csv": "target set and remedy: average, recovery over the network as "
                             "trained and share of the gap closed, with 95 % intervals, verdict, "
                             "cost",
    "mechanism_layers.csv": "network, layer unit, target set, noise level and draw: normalized "
                            "accuracy, relative output perturbation",
    "mechanism_normalizers.csv": "normalizer, target set and scoring: clean accuracy, average "
                                 "normalized accuracy with its 95 % interval, seeds",
    "mechanism_normalizer_gaps.csv": "normalizer, target set and scoring: no normalization minus "
                                     "the normalizer (points, 95 % interval), verdict, rule",
    "mechanism_normalizers_matched.csv": "trained network of the normalizers grid and target set: "
                                         "clean and average normalized accuracy, the BN and "
                                         "no-normalization training trajectories at that "
                                         "clean accuracy",
    "mechanism_robust_bn.csv": "L1 or TopK BatchNorm, target set and scoring: the variant minus "
                               "standard BN (points, 95 % interval, what it is over)",
    "propagation_layers.csv": "network, normalizer, initialisation, seed and layer: activation "
                              "variance, cosine similarity, stable rank, gradient norm",
    "propagation_growth.csv": "network, normalizer and initialisation: growth of the activation "
                              "variance with depth against its bound",
    "group_size_layers.csv": "group size, seed and layer: the same quantities",
    "group_size_summary.csv": "group size: last-layer similarity and stable rank, with 95 % CIs",
    "group_size_training.csv": "short training run (normalizer, seed) and epoch: training loss, "
                               "largest step loss, test accuracy, dead-channel share, seconds",
    "group_size_training_summary.csv": "normalizer: seeds, diverged runs, last-epoch training "
                                       "loss and test accuracy, with 95 % CIs",
    "group_size_gradients.csv": "group size, seed and layer: gradient norms at the convolution "
                                "outputs",
    "gradient_ratio_summary.csv": "group size: first-to-last gradient-norm ratio, with 95 % CIs",
    "high_lr_training.csv": "run at the high learning rate and epoch: the same columns as the "
                            "short training runs",
    "high_lr_summary.csv": "normalizer: diverged runs, last-epoch losses and test accuracy, "
                           "with 95 % CIs",
    "singularity_training.csv": "run (normalizer, batch size, seed) and epoch: dead-channel "
                                "share, losses, test accuracy",
    "singularity_channels.csv": "run, stage (init or trained) and ReLU: dead-channel share, "
                                "active share, median standardized mean",
    "singularity_summary.csv": "normalizer and batch size: last-epoch dead-channel share, loss "
                               "and accuracy, with 95 % CIs",
    "dead_channels_by_lr.csv": "normalizer and learning rate: dead-channel share of the short "
                               "runs",
    "datasets_average.csv": "dataset, model, target set and scoring: average normalized "
                            "accuracy with its 95 % interval",
    "datasets_summary.csv": "dataset, model, target set, scoring and noise level: means with "
                            "95 % intervals over the draws",
    "datasets_collapse.csv": "dataset, BN model and noise level: exact collapse probability, "
                             "sampled collapses, Clopper-Pearson interval",
}
"""What one row of each CSV file written by a chapter is."""

OUTSIDE_CHAPTERS = {
    "pilot_vgg16_none_lr.csv": ("peak learning rate and epoch of the VGG16-without-BN pilot: "
                                "loss, test accuracy", "`scripts/pilot_lr.py`", "01_training"),
}
"""CSV files a chapter shows but a script writes: rows, writer, the chapter that shows it."""


INTRO = (
    "Every figure and table of the book is drawn from one tidy table, written by the one chapter "
    "that computes it. The tables of the published `{profile}` profile are stored under "
    "`data/results/{profile}/` (figures as SVG and PDF under `data/results/{profile}/figures/`) "
    "and can be downloaded here. Each row carries the parameters it depends on (dataset, model, "
    "normalization, target set, noise level, draw), and the trained models' artifacts (under "
    "`data/artifacts/{profile}/`) carry their full configuration in `manifest.json`.")
MAP_INTRO = (
    "Per chapter, every numbered figure and table with the library calls that compute it, "
    "outermost first (names within the `bnnoise` package; `(…)` marks a result whose field is "
    "shown), and the table a figure is drawn from, as recorded when the chapter was last "
    "published. Chapters not yet in the book are listed too, marked as not yet published.")
CLOSING = (
    "The short training runs' artifacts (`data/artifacts/{profile}/short_runs/`) hold each "
    "run's history, channel statistics and summary; the performance appendix's tables are "
    "under `data/results/benchmark/`.")
"""The page's prose around the generated tables (``{profile}``: the published profile)."""

def published_chapters(root: Path) -> list[str]:
    """The chapters the book publishes: the ``book/<name>`` entries of ``_toc.yml``."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            file = node.get("file")
            if isinstance(file, str) and file.startswith("book/"):
                found.append(file.removeprefix("book/"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    return found


def _link(root: Path, name: str, profile: str, published: bool) -> str:
    """A download link to a published table; a table its chapter has not written yet (a
    chapter changed since it was last published) is named without a link."""
    if not published:
        return f"`{name}`"
    if not (root / "data" / "results" / profile / name).is_file():
        return f"`{name}` (written when the chapter is next published)"
    return f"{{download}}`{name} <../data/results/{profile}/{name}>`"


def _chapter(chapter: ChapterContents, published: bool, code: bool = True) -> str:
    """A link to a published chapter; else its title and name (plain text in a heading)."""
    name = f"`{chapter.name}`" if code else chapter.name
    return (f"[{chapter.title}]({chapter.name}.ipynb)" if published
            else f"{chapter.title} ({name}, not yet published)")


TABLE_WIDTHS = (28, 48, 24)
"""Relative widths of the columns of the page's list of tables (file, one row per, writer)."""


def _list_table(rows: list[tuple[str, str, str]]) -> list[str]:
    """A MyST list table with a header row and :data:`TABLE_WIDTHS`."""
    lines = [":::{list-table}", ":header-rows: 1",
             f":widths: {' '.join(map(str, TABLE_WIDTHS))}", ":width: 100%", ""]
    for row in [("table", "one row per", "written by"), *rows]:
        lines += [f"{'* -' if i == 0 else '  -'} {cell}" for i, cell in enumerate(row)]
    return [*lines, ":::"]


def _wrap(text: str, prefix: str = "") -> list[str]:
    return textwrap.wrap(text, 100, initial_indent=prefix, subsequent_indent=prefix,
                         break_on_hyphens=False, break_long_words=False)


def data_page(root: Path) -> str:
    """The Markdown of the page on the book's result tables, from the chapters' lineage
    records (in the book's order, then the chapters not yet published)."""
    order = published_chapters(root)
    published = set(order)
    chapters = sorted(book_contents(root), key=lambda c: (
        order.index(c.name) if c.name in published else len(order), c.name))
    profiles = {c.profile for c in chapters if c.name in published}
    if len(profiles) != 1:
        raise ValueError(f"the published chapters run with several profiles: {profiles}")
    profile = profiles.pop()
    lines = [
        "# Result tables", "",
        *_wrap("Generated from the chapters' lineage records (data/results/<profile>/lineage/, "
               "written when a chapter is published) by `python -m bnnoise.build.data_page`: "
               "edit the chapters or that module, not this page.", "% "), "",
        *_wrap(INTRO.format(profile=profile)), ""]
    titles = {c.name: c for c in chapters}
    table = [(_link(root, name, profile, c.name in published), ROWS.get(name, ""),
              _chapter(c, c.name in published)) for c in chapters for name in c.writes]
    table += [(_link(root, name, profile, shown_in in published), rows,
               f"{writer}, shown in {_chapter(titles[shown_in], shown_in in published)}")
              for name, (rows, writer, shown_in) in OUTSIDE_CHAPTERS.items()]
    lines += [*_list_table(table), "", "## Where each figure and table comes from", "",
              *_wrap(MAP_INTRO)]
    for chapter in chapters:
        shown = chapter.name in published
        lines += ["", f"### {_chapter(chapter, shown, code=False)}", ""]
        for item in chapter.items:
            calls = " ← ".join(f"`{step}`" for step in item.computed_by.split(" <- ")
                               if step) or "(no library call)"
            data = f"; data: {_link(root, item.data, chapter.profile, shown)}" if item.data else ""
            kind = "Figure" if item.kind == "figure" else "Table"
            lines.append(f"* {kind} `{item.label}`: {calls}{data}")
        if not chapter.recorded:
            lines.append("* recorded when the chapter is next published")
        elif not chapter.items:
            lines.append("* no numbered figure or table")
    lines += ["", *_wrap(CLOSING.format(profile=profile))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write ``book/data.md`` (or, with ``--check``, report whether it is up to date)."""
    from bnnoise.config import project_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, exit 1 if stale")
    args = parser.parse_args(argv)
    root = project_root()
    page, text = root / PAGE, data_page(root)
    if args.check:
        stale = not page.exists() or page.read_text() != text
        print(f"{PAGE} is {'out of date' if stale else 'up to date'}")
        return int(stale)
    page.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
