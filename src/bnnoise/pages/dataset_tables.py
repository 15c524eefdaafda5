"""CIFAR-100 beside CIFAR-10: the chapter's tables, one column per dataset.

Each function takes :class:`bnnoise.analysis.results.NoiseResults` holding the networks of
several datasets (the same architectures) and returns the rows shown on the page.
"""

from __future__ import annotations

import pandas as pd

from bnnoise.analysis.claims import verdict_counts
from bnnoise.analysis.results import NoiseResults
from bnnoise.analysis.study import chance_reading
from bnnoise.data import num_classes_of
from bnnoise.labels import BN_LABEL, dataset_label
from bnnoise.lineage import produces
from bnnoise.pages.number_format import interval_text


def _full(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["placement"] == "all") & (table["seed"] == table["seed"].min())]


@produces
def clean_accuracy_view(results: NoiseResults) -> pd.DataFrame:
    """Clean test accuracy (%) per model and BN arm (rows), one column per dataset."""
    t = _full(results.training)
    wide = (t.assign(pct=(100 * t["clean_accuracy"]).round(2))
            .pivot_table(index=["model", "norm"], columns="dataset", values="pct",
                         aggfunc="first", sort=False).reset_index())
    datasets = [d for d in dict.fromkeys(t["dataset"])]
    return pd.DataFrame({"model": wide["model"], "BN": wide["norm"].map(BN_LABEL),
                         **{f"{dataset_label(d)} clean acc. (%)": wide[d] for d in datasets}})


@produces
def average_by_dataset_view(results: NoiseResults, scoring: str = "wrong") -> pd.DataFrame:
    """Average normalized accuracy (%, 95 % interval) per model, BN arm and target set (rows),
    one column per dataset, for one scoring of non-finite outputs."""
    a = _full(results.average)
    a = a[a["scoring"] == scoring]
    cells = a.assign(text=[interval_text(100 * v, 100 * lo, 100 * hi) for v, lo, hi in
                           zip(a["avg_normalized_accuracy"], a["low"], a["high"], strict=True)])
    wide = cells.pivot_table(index=["model", "norm", "target"], columns="dataset",
                             values="text", aggfunc="first", sort=False).reset_index()
    datasets = list(dict.fromkeys(a["dataset"]))
    return pd.DataFrame({"model": wide["model"], "BN": wide["norm"].map(BN_LABEL),
                         "noise on": wide["target"],
                         **{f"{dataset_label(d)} (%)": wide[d].fillna("–") for d in datasets}})


@produces
def chance_view(results: NoiseResults) -> pd.DataFrame:
    """Per dataset and network with BN: what a collapsed draw scores under the ``argmax``
    convention (class 0 for every image: one image in K on a balanced test set), normalized by
    the clean accuracy (:func:`bnnoise.analysis.study.chance_reading`), beside the average
    normalized accuracy under target ``all`` with both scorings."""
    t = _full(results.training)
    t = t[t["norm"] != "none"]
    a = _full(results.average)
    a = a[(a["target"] == "all") & (a["norm"] != "none")]
    averages = a.pivot_table(index=["dataset", "model"], columns="scoring",
                             values="avg_normalized_accuracy", aggfunc="first")
    rows = []
    for r in t.itertuples():
        classes = num_classes_of(r.dataset)
        pair = averages.loc[(r.dataset, r.model)] if (r.dataset, r.model) in averages.index \
            else {}
        rows.append({
            "dataset": dataset_label(r.dataset), "model": r.model, "classes": classes,
            "clean acc. (%)": round(100 * r.clean_accuracy, 1),
            "collapsed draw, argmax (% of clean)": round(
                100 * chance_reading(r.clean_accuracy, classes), 1),
            "avg., all, wrong (%)": round(100 * pair.get("wrong", float("nan")), 1),
            "avg., all, argmax (%)": round(100 * pair.get("argmax", float("nan")), 1)})
    return pd.DataFrame(rows)


@produces
def disagreements(verdicts: pd.DataFrame, reference: str, other: str) -> pd.DataFrame:
    """The comparisons (claim, subject, target set, scoring) whose verdict on dataset ``other``
    differs from the one on ``reference``."""
    keys = ["claim", "subject", "target", "scoring"]
    a = verdicts[verdicts["dataset"] == reference][[*keys, "verdict"]]
    b = verdicts[verdicts["dataset"] == other][[*keys, "verdict"]]
    both = a.merge(b, on=keys, suffixes=(f" ({dataset_label(reference)})",
                                         f" ({dataset_label(other)})"))
    return both[both.iloc[:, -2] != both.iloc[:, -1]].reset_index(drop=True)


def no_disagreement_text(verdicts: pd.DataFrame, datasets: list[str]) -> str:
    """The sentence shown instead of :func:`disagreements` when it is empty: why no comparison
    differs (one dataset only, no comparison on the second dataset yet, or full agreement)."""
    if len(datasets) < 2:
        return "No comparison between datasets: only one dataset is trained."
    other = datasets[1]
    if not (verdicts["dataset"] == other).any():
        return (f"No claim can be judged on {dataset_label(other)} yet: its trained networks "
                f"do not yet form a comparison (most claims need a model with and without BN).")
    return "No comparison has a different verdict on the two datasets."


@produces
def claims_by_dataset_view(verdicts: pd.DataFrame) -> pd.DataFrame:
    """One row per claim, one column per dataset: how many comparisons, over every reading of
    the protocol, reproduce / contradict / leave the claim inconclusive (``R/C/I``), and how many
    comparisons measured on both the first and another dataset get a different verdict there
    (:func:`disagreements`; "–" where the claim is not measured on the other dataset)."""
    kinds = ["reproduced", "contradicted", "inconclusive at this power"]
    counts = (verdict_counts(verdicts).groupby(["claim", "dataset"], sort=False)[kinds]
              .sum().reset_index())
    counts["cell"] = [f"{r}/{c}/{i}" for r, c, i in counts[kinds].itertuples(index=False)]
    datasets = list(dict.fromkeys(verdicts["dataset"]))
    wide = counts.pivot_table(index="claim", columns="dataset", values="cell", aggfunc="first",
                              sort=False).reset_index()
    view = pd.DataFrame({"claim": wide["claim"],
                         **{f"{dataset_label(d)} (R/C/I)": wide[d].fillna("–") for d in datasets}})
    for other in datasets[1:]:
        differ = disagreements(verdicts, datasets[0], other)["claim"].value_counts()
        measured = wide[other].notna()
        view[f"verdicts that differ on {dataset_label(other)}"] = [  # "–": not measured there
            str(int(differ.get(claim, 0))) if seen else "–"
            for claim, seen in zip(view["claim"], measured, strict=True)]
    return view.reset_index(drop=True)
