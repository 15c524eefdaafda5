"""The training-length chapter's table and its summary in words."""

from __future__ import annotations

from typing import Any

import pandas as pd
from IPython.display import Markdown

from bnnoise.analysis.results import NoiseResults
from bnnoise.analysis.study import PUBLISHED
from bnnoise.labels import BN_LABEL, NORM_LABEL
from bnnoise.lineage import produces
from bnnoise.pages.noise_tables import fit_residuals
from bnnoise.pages.number_format import interval_text, unbreakable


def _one_line(value: float, low: float, high: float) -> str:
    """A 95 % interval that a narrow column does not wrap: "value ± half-width" where it is
    symmetric (to its one decimal), else "value (low–high)"; no break inside either."""
    if abs((high - value) - (value - low)) < 0.05:
        return unbreakable(f"{value:.1f} ± {(high - low) / 2:.1f}")
    return unbreakable(interval_text(value, low, high)).replace("–", "\u2060–\u2060")


def _cost(run: Any, untimed: int = 0) -> str:
    """A training's CPU-hours (its process's CPU time, all threads): ``6.3``; ``≥4.0`` where
    some epochs went unrecorded (``untimed``, trained by older code: a lower bound), a
    trailing ``†`` where the training moved between machines, ``–`` where no CPU time was
    recorded."""
    hours = getattr(run, "cpu_hours", float("nan"))
    machines = getattr(run, "machines", 1)
    text = "–" if pd.isna(hours) else ("≥" if untimed else "") + f"{hours:.1f}"
    return text + ("†" if machines and machines > 1 else "")


@produces
def length_view(results: NoiseResults, variances: pd.DataFrame, etas: tuple[float, ...],
                scoring: str = "wrong", targets: tuple[str, ...] = ("weights", "all")
                ) -> pd.DataFrame:
    """One row per network of the training-length comparison (model, BN and, with several
    training seeds, the seed, all in column ``network``; epochs): the CPU-hours its training
    took, clean accuracy, average normalized accuracy per target set of ``targets`` (%, 95 %
    interval), and, for the final model, the exact collapse probability at each of ``etas``
    (%, column ``collapse (%)``: one value per eta, joined by "/") and the smallest running
    variance of any BN channel over its layer's median ("–" without BN)."""
    t = results.training
    a = results.average[(results.average["scoring"] == scoring)
                        & results.average["target"].isin(targets)]
    finals = variances.merge(t[["model", "norm", "seed", "epochs"]], how="inner")
    finals = finals[finals["epoch"] == finals["epochs"]]
    untimed = {run.key: int(run.summary.get("epochs_without_cpu_time", 0))
               for run in results.runs}
    rows = []
    for r in t.sort_values(["model", "norm", "epochs", "seed"], kind="stable").itertuples():
        row = {"network": f"{r.model} {BN_LABEL.get(r.norm, r.norm)}", "seed": r.seed,
               "epochs": r.epochs, "CPU-h": _cost(r, untimed.get(r.artifact, 0)),
               "clean (%)": f"{100 * r.clean_accuracy:.1f}"}
        mine = a[(a["model"] == r.model) & (a["norm"] == r.norm) & (a["seed"] == r.seed)
                 & (a["epochs"] == r.epochs)]
        for m in mine.set_index("target").reindex(
                [t for t in targets if t in set(mine["target"])]).reset_index().itertuples():
            row[f"{m.target} (%)"] = _one_line(100 * m.avg_normalized_accuracy, 100 * m.low,
                                                100 * m.high)
        own = finals[(finals["model"] == r.model) & (finals["norm"] == r.norm)
                     & (finals["seed"] == r.seed) & (finals["epochs"] == r.epochs)]
        values = [own.loc[(own["eta"] - eta).abs() < 1e-9, "collapse_probability"]
                  for eta in etas]
        row["collapse (%)"] = " / ".join(  # one value per eta, named in the caption
            f"{100 * p.iloc[0]:.0f}" if len(p) else "–" for p in values)
        smallest = own["smallest_to_median"]
        row["min var. / med."] = f"{smallest.iloc[0]:.2g}" if len(smallest) else "–"
        rows.append(row)
    table = pd.DataFrame(rows)
    if table["seed"].nunique() > 1:  # named in the network's cell, which can wrap
        table["network"] = [f"{n}, seed {s}" for n, s in zip(table["network"], table["seed"],
                                                               strict=True)]
    return table.drop(columns="seed")


@produces
def length_in_words(results: NoiseResults, variances: pd.DataFrame, eta: float = 0.2,
                    target: str = "weights", scoring: str = "wrong") -> Markdown:
    """The training-length comparison in words, one sentence per network (model, BN, seed)
    trained for more than one length: from the shortest to the longest run, its clean accuracy,
    its average normalized accuracy under noise on ``target`` and, with BN, the exact collapse
    probability at ``eta`` under noise on every array."""
    t = results.training.sort_values("epochs")
    a = results.average[(results.average["scoring"] == scoring)
                        & (results.average["target"] == target)]
    sentences = []
    for (model, norm, seed), runs in t.groupby(["model", "norm", "seed"], sort=False):
        if len(runs) < 2:
            continue
        lengths = " → ".join(str(e) for e in runs["epochs"])
        clean = " → ".join(f"{100 * v:.1f}" for v in runs["clean_accuracy"])
        avg = a.set_index(["model", "norm", "seed", "epochs"])["avg_normalized_accuracy"]
        resist = " → ".join(f"{100 * avg.get((model, norm, seed, e), float('nan')):.1f}"
                            for e in runs["epochs"])
        text = (f"**{model} {NORM_LABEL.get(norm, norm)}** (seed {seed}), trained {lengths} "
                f"epochs: clean accuracy {clean} %, average normalized accuracy under noise on "
                f"the {target}: {resist} %")
        v = variances[(variances["model"] == model) & (variances["norm"] == norm)
                      & (variances["seed"] == seed) & (variances["epoch"] == variances["epochs"])
                      & ((variances["eta"] - eta).abs() < 1e-9)].set_index("epochs")
        if len(v):
            collapse = " → ".join(f"{100 * v['collapse_probability'].get(e, float('nan')):.0f}"
                                  for e in runs["epochs"])
            text += f", exact collapse probability at η = {eta:g}: {collapse} %"
        sentences.append(text + ".")
    if not sentences:
        return Markdown("No network is trained for more than one length yet.")
    return Markdown(_gap_in_words(a, target) + " ".join(sentences))


def _gap_in_words(average: pd.DataFrame, target: str) -> str:
    """The first sentence of :func:`length_in_words`: per model and seed trained with and
    without BN at more than one common length, the BN gap (without minus with BN, points) at
    each of them; empty where there is none."""
    gaps = []
    pairs = average[average["norm"].isin(["bn", "none"])]
    if "placement" in pairs:
        pairs = pairs[pairs["placement"] == "all"]
    keys = [k for k in ("dataset", "model", "seed") if k in pairs]
    for key, part in pairs.groupby(keys, sort=False):
        model, seed = key[-2:]
        wide = part.pivot(index="epochs", columns="norm",
                          values="avg_normalized_accuracy").dropna()
        if len(wide) < 2 or not {"bn", "none"} <= set(wide.columns):
            continue
        steps = " → ".join(f"{100 * (r.none - r.bn):+.1f} after {e}".replace("-", "\u2212")
                           for e, r in wide.sort_index().iterrows())
        gaps.append(f"{model} (seed {seed}) {steps} epochs")
    if not gaps:
        return ""
    return (f"**The BN gap with longer training** (average normalized accuracy without BN minus "
            f"with BN under noise on the {target}, points; each verdict with its interval is on "
            f"the {{ref}}`claims page <claim-gap>`): {'; '.join(gaps)}.\n\n")


def questions_in_words(fits: tuple[pd.DataFrame, pd.DataFrame], variances: pd.DataFrame,
                       epochs: int | None, eta: float) -> Markdown:
    """The two questions the converged networks answer: does a reading of the protocol fit the
    study's published numbers (:func:`bnnoise.analysis.training_length.converged_fit`: the
    converged networks, and the same networks at their shortest length), and does VGG16 with
    BN collapse under noise on every array at the grid's smallest level ``eta`` once trained
    for ``epochs`` (its exact collapse probability)."""
    if epochs is None:
        return Markdown("*This profile trains no converged tier (grid `converged`), so the two "
                        "questions of converged networks are not asked here.*")
    long, short = fits
    if long.empty:
        fit = (f"*Does a reading of the protocol fit the published numbers?* Not answerable yet: "
               f"no network trained for {epochs} epochs that the study publishes a number for "
               f"(ResNet44 and VGG16, with and without BN) is trained and swept.")
    elif long["numbers"].max() < 2:
        fit = (f"*Does a reading of the protocol fit the published numbers?* Not answerable yet: "
               f"of the networks trained for {epochs} epochs, only one has a published number, "
               f"and every reading has a free noise range (η_max) that can meet one number "
               f"exactly, so a fit is a test only from two numbers on (ResNet44 with and "
               f"without BN, and VGG16).")
    else:
        best, before = long.iloc[0], short.iloc[0] if len(short) else None
        fit = (f"*Does a reading of the protocol fit the published numbers?* With the "
               f"networks trained for {epochs} epochs ({int(best['numbers'])} of the study's "
               f"{len(PUBLISHED)} numbers, those of the networks trained this long; the "
               f"[protocol chapter](04_protocol.ipynb) fits all {len(PUBLISHED)} with the main "
               f"grid's networks) the closest "
               f"reading misses them by {best['rmse']:.1f} points (rms, "
               f"η_max {best['eta_max']:.3g}, target {best['target']}, scored "
               f"{best['scoring']}; ours minus published: {fit_residuals(best)})"
               + (f"; the same networks at their shortest training are missed by "
                  f"{before['rmse']:.1f} points by their own closest reading (η_max "
                  f"{before['eta_max']:.3g}, target {before['target']}, scored "
                  f"{before['scoring']}; {fit_residuals(before)})" if before is not None
                  else "")
               + f". Each η_max was fitted to these {int(best['numbers'])} numbers and each "
               f"reading chosen as the closest of {len(long)}: a small miss says the numbers "
               f"are consistent with that reading, not that the study used it.")
    v = variances[(variances["model"] == "vgg16") & (variances["norm"] == "bn")
                  & (variances["epochs"] == epochs) & (variances["epoch"] == epochs)
                  & ((variances["eta"] - eta).abs() < 1e-9)]
    vgg = (f"*Does VGG16 with BN collapse at every noise level once trained for {epochs} "
           f"epochs?* " + (f"Its exact collapse probability at η = {eta:g}, the grid's smallest "
                           f"level, is {100 * v['collapse_probability'].max():.0f} %."
                           if len(v) else "Not answerable yet: VGG16 is not in the converged "
                           "tier; the box *Differences from the study* at the end of this page "
                           "says why."))
    return Markdown(fit + "\n\n" + vgg)
