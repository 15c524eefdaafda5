"""The first-screen sentences of the reproduction chapters: what the page found, in words and
numbers, each computed from the chapter's own result tables (never typed in)."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from bnnoise.analysis.study import PUBLISHED
from bnnoise.labels import TARGET_LABEL, dataset_label
from bnnoise.lineage import produces

PAIR = ["dataset", "model", "seed", "epochs"]
"""The columns that pair a network with BN and its twin without BN."""


def _span(values: pd.Series, digits: int = 1) -> str:
    low, high = float(values.min()), float(values.max())
    return (f"{low:.{digits}f}" if round(low, digits) == round(high, digits)
            else f"{low:.{digits}f}–{high:.{digits}f}")


def _pairs(table: pd.DataFrame, value: str) -> pd.DataFrame:
    """One row per twin pair of fully normalized networks: ``value`` with and without BN."""
    full = table[table["placement"] == "all"]
    wide = full.pivot_table(index=PAIR, columns="norm", values=value, aggfunc="first")
    return wide.dropna(subset=[c for c in ("bn", "none") if c in wide]).reset_index() \
        if {"bn", "none"} <= set(wide.columns) else wide.iloc[:0].reset_index()


@produces
def training_in_words(training: pd.DataFrame) -> Markdown:
    """Clean accuracy of the networks with and without BN, per dataset, and how far each
    network without BN ends below its twin (points)."""
    sentences = []
    for dataset, part in training.groupby("dataset", sort=False):
        pairs = _pairs(part, "clean_accuracy")
        if pairs.empty:
            continue
        gap = 100 * (pairs["bn"] - pairs["none"])
        epochs = _span(pairs["epochs"], 0)
        sentences.append(
            f"**{dataset_label(dataset)}, {epochs} epochs:** clean accuracy (full test set) "
            f"{_span(100 * pairs['bn'])} % with BN and {_span(100 * pairs['none'])} % without; "
            f"each network without BN ends {_span(gap)} points below its twin with BN.")
    return Markdown(" ".join(sentences) or "No pair of networks with and without BN is trained.")


@produces
def noise_in_words(average: pd.DataFrame, targets: tuple[str, ...] = ("weights", "all"),
                   scoring: str = "wrong", published_table: str | None = None) -> Markdown:
    """Per dataset and target set: the average normalized accuracy over the noise grid of the
    networks with and without BN, and in how many twin pairs BN is below (points); with
    ``published_table`` (the label of the page's table that sets ours beside them), the
    study's published numbers after them."""
    a = average[average["scoring"] == scoring]
    sentences = []
    for dataset, part in a.groupby("dataset", sort=False):
        for target in targets:
            pairs = _pairs(part[part["target"] == target], "avg_normalized_accuracy")
            if pairs.empty:
                continue
            gap = 100 * (pairs["none"] - pairs["bn"])
            lower = int((gap > 0).sum())
            sentences.append(
                f"**{dataset_label(dataset)}, noise on {TARGET_LABEL.get(target, target)}:** "
                f"averaged over the noise grid, the networks keep {_span(100 * pairs['bn'])} % "
                f"of their clean accuracy with BN and {_span(100 * pairs['none'])} % without; "
                f"BN is below its twin in {lower} of {len(pairs)} pairs by the point estimates "
                f"(the twin without BN minus the network with BN: {_span(gap)} points; the "
                f"{{ref}}`claims page <claim-gap>` judges each pair with its interval).")
    if not sentences:
        return Markdown("No pair of networks with and without BN is swept.")
    if published_table is None:
        return Markdown(" ".join(sentences))
    study = "; ".join(
        f"{r.model} {100 * r.avg_normalized_accuracy:.2f} % "
        f"{'with' if r.norm == 'bn' else 'without'} BN" for r in PUBLISHED.itertuples())
    where = " and ".join(dataset_label(d) for d in PUBLISHED["dataset"].unique())
    return Markdown(" ".join(sentences) + f" The study reports, on {where}: {study} "
                    f"({{numref}}`{published_table}` sets ours beside them).")
