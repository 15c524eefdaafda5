"""The chapters' tables as the reader sees them: one function per table, from the results.

Each function takes :class:`bnnoise.analysis.results.NoiseResults` (or a table derived from them)
and returns the rows and columns shown on the page: human headers with units, intervals written
as "value (low–high)", one row per model or reading.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from bnnoise.analysis.results import NoiseResults, collapse_adjusted
from bnnoise.analysis.study import PUBLISHED
from bnnoise.labels import BN_LABEL, TARGET_LABEL
from bnnoise.lineage import produces
from bnnoise.pages.number_format import interval_text


def drop_constant_seed(table: pd.DataFrame) -> pd.DataFrame:
    """Without replicate seeds the seed column says nothing (the caption names the seed)."""
    if "seed" in table and table["seed"].nunique() <= 1:
        return table.drop(columns="seed")
    return table


@produces
def training_view(results: NoiseResults) -> pd.DataFrame:
    """The clean-accuracy table of the book: one row per model."""
    t = results.training
    return pd.DataFrame({
        "model": t["model"], "BN": t["norm"].map(BN_LABEL).fillna(t["norm"]),
        "seed": t["seed"], "BN layers": t["bn_layers"],
        "parameters": t["parameters"], "epochs": t["epochs"],
        "clean acc. (%)": (100 * t["clean_accuracy"]).round(2),
        "training (min)": (t["train_seconds"] / 60).round(1),
        "stored weights": t["stored_weights"].replace(
            {"conv/linear weights fp16": "fp16 conv/linear"})}).pipe(drop_constant_seed)


ACCURACY_TARGETS = {"bn": 0.85, "none": 0.80}
"""Clean CIFAR-10 accuracy the short training budget aims at, with and without BN."""


def accuracy_targets_text(results: NoiseResults) -> Markdown:
    """Which CIFAR-10 networks miss :data:`ACCURACY_TARGETS`, each with its clean accuracy and
    the test-accuracy gain of its last two epochs (points; a network still gaining is limited by
    the budget)."""
    t = results.training[results.training["dataset"] == "cifar10"]
    h = results.history.sort_values("epoch")
    aim = " and ".join(f"{100 * v:g} % {'with' if k == 'bn' else 'without'} BN"
                       for k, v in ACCURACY_TARGETS.items())
    misses = []
    for r in t.itertuples():
        if r.norm not in ACCURACY_TARGETS or r.clean_accuracy >= ACCURACY_TARGETS[r.norm]:
            continue
        run = h[(h["dataset"] == r.dataset) & (h["model"] == r.model) & (h["norm"] == r.norm)
                & (h["placement"] == r.placement) & (h["seed"] == r.seed)]["test_acc"]
        gain = 100 * (run.iloc[-1] - run.iloc[-3]) if len(run) >= 3 else float("nan")
        misses.append(f"{r.model} {BN_LABEL.get(r.norm, r.norm)} (seed {r.seed}): "
                      f"{100 * r.clean_accuracy:.2f} %, {gain:+.1f} points over its last two "
                      "epochs")
    head = f"The budget aims at a clean CIFAR-10 accuracy of at least {aim}. "
    return Markdown(head + ("Every network of this run reaches it." if not misses else
                            "Not reached: " + "; ".join(misses) + "."))


@produces
def average_view(results: NoiseResults, scoring: str = "wrong") -> pd.DataFrame:
    """Average normalized accuracy (%) with its 95 % interval per model (rows) and target set
    (columns), for one scoring, with the study's number where it reported one."""
    a = results.average[(results.average["scoring"] == scoring)
                        & (results.average["placement"] == "all")]
    cells = a.assign(text=[interval_text(100 * v, 100 * lo, 100 * hi) for v, lo, hi in
                           zip(a["avg_normalized_accuracy"], a["low"], a["high"], strict=True)])
    wide = cells.pivot_table(index=["dataset", "model", "norm", "seed"], columns="target",
                             values="text", aggfunc="first").reset_index()
    wide = wide.merge(PUBLISHED, on=["dataset", "model", "norm"], how="left")
    wide["published"] = (100 * wide.pop("avg_normalized_accuracy")).round(2)
    wide.insert(2, "BN", wide.pop("norm").map(BN_LABEL))
    wide = wide.drop(columns=["dataset"] if wide["dataset"].nunique() == 1 else [])
    return drop_constant_seed(wide)


@produces
def collapse_view(results: NoiseResults) -> pd.DataFrame:
    """Per BN model and eta: the exact collapse probability and the sampled rate."""
    c = results.collapse[results.collapse["norm"] != "none"]
    return pd.DataFrame({"model": c["model"], "η": c["eta"].map(lambda e: f"{e:g}"),
                         "exact P(collapse)": c["collapse_probability"].map(_probability),
                         "collapsed draws": [f"{k} of {n}" for k, n in
                                             zip(c["collapsed_draws"], c["draws"], strict=True)],
                         "95 % CI of the rate": [f"{lo:.2f}–{hi:.2f}" for lo, hi in
                                                 zip(c["rate_low"], c["rate_high"], strict=True)],
                         "consistent": c["consistent"].map({True: "yes", False: "no"})})


def _probability(p: float) -> str:
    if p < 0.001:
        return "<0.001"
    if p > 0.999:
        return ">0.999"
    return f"{p:.3f}"


@produces
def scoring_view(results: NoiseResults) -> pd.DataFrame:
    """Average normalized accuracy (%) of the BN networks under target ``all`` with both
    scorings of non-finite outputs, side by side."""
    a = results.average[(results.average["target"] == "all")
                        & (results.average["norm"] != "none")
                        & (results.average["placement"] == "all")]
    cells = a.assign(text=[interval_text(100 * v, 100 * lo, 100 * hi) for v, lo, hi in
                           zip(a["avg_normalized_accuracy"], a["low"], a["high"], strict=True)])
    wide = cells.pivot_table(index=["model", "seed"], columns="scoring", values="text",
                             aggfunc="first").reset_index()
    return drop_constant_seed(wide.rename(columns={"wrong": "scored wrong",
                                                    "argmax": "plain argmax"}))


@produces
def depth_view(results: NoiseResults, scoring: str = "wrong") -> pd.DataFrame:
    """Averages of the fully normalized and unnormalized ResNets for :func:`average_versus`:
    x = the BN layer count of the network with BN of the same depth."""
    a = results.average[(results.average["scoring"] == scoring)
                        & (results.average["placement"] == "all")
                        & results.average["model"].str.startswith("resnet")]
    layers = a[a["norm"] == "bn"].groupby("model")["bn_layers"].max()
    return a.assign(**{"BN layers": a["model"].map(layers),
                       "BN": a["norm"].map(BN_LABEL)}).dropna(subset=["BN layers"])


@produces
def count_view(results: NoiseResults, model: str = "resnet20", scoring: str = "wrong"
               ) -> pd.DataFrame:
    """Averages of the controlled series of ``model`` for :func:`average_versus`: x = ``k``,
    the number of normalized slots; the end points (k = 0 and all slots) belong to both
    placements."""
    a = results.average[(results.average["scoring"] == scoring)
                        & (results.average["model"] == model)]
    ends = a[a["placement"] == "all"]
    parts = [pd.concat([ends, a[a["placement"] == p]]).assign(placement=p)
             for p in ("first", "last")]
    out = pd.concat(parts, ignore_index=True)
    return out.assign(k=out["bn_layers"])


@produces
def adjusted_view(results: NoiseResults) -> pd.DataFrame:
    """:func:`collapse_adjusted` for the page: model, seed, scoring, and both averages with
    their intervals as text."""
    a = collapse_adjusted(results)
    if a.empty:
        return a
    return pd.DataFrame({
        "model": a["model"], "seed": a["seed"], "scoring": a["scoring"],
        "from the draws (%)": [interval_text(v, lo, hi) for v, lo, hi in
                               zip(a["sampled"], a["sampled_low"], a["sampled_high"],
                                   strict=True)],
        "using exact P(collapse) (%)": [interval_text(v, lo, hi) for v, lo, hi in
                                        zip(a["exact_collapse"], a["exact_low"],
                                            a["exact_high"], strict=True)]}
    ).pipe(drop_constant_seed)


@produces
def fit_view(fit: pd.DataFrame) -> pd.DataFrame:
    """:func:`bnnoise.analysis.study.joint_fit` for the page, best first: one reading per row in
    three short columns (grid "dense" from 0 or "ours" truncated, target set, scoring), its
    eta_max ("end": all of our grid), the rms residual and each number's residual (points),
    headed by the network's short name (R44: ResNet44, V16: VGG16) and BN or no BN."""
    fit = fit.sort_values("rmse", kind="stable")
    ends = (fit["family"] == "grid") & (fit["eta_max"] >= fit["eta_max"].max() - 1e-9)
    shown = pd.DataFrame({
        "grid": fit["family"].replace({"uniform": "dense", "grid": "ours"}),
        "target": fit["target"], "scoring": fit["scoring"],
        "ηₘₐₓ": [f"{e:.3g}" + ("\u00a0(end)" if end else "")
                  for e, end in zip(fit["eta_max"], ends, strict=True)],
        "fitted": fit["numbers"], "rms": fit["rmse"].map(lambda v: f"{v:.1f}")})
    for c in (c for c in fit if c.startswith("residual ") and fit[c].notna().any()):
        model, norm = c.removeprefix("residual ").split()
        short = model.replace("resnet", "R").replace("vgg", "V")  # R44: ResNet44, V16: VGG16
        shown[f"{short} {'BN' if norm == 'bn' else 'no BN'}"] = fit[c].map(
            lambda v: f"{v:+.1f}".replace("-", "−"))
    return shown.reset_index(drop=True)


def fit_residuals(reading: pd.Series) -> str:
    """A row of :func:`bnnoise.analysis.study.joint_fit` as its residuals in words, ours minus
    published, e.g. "resnet44 with BN +0.8, resnet44 without BN −1.3" (numbers without a
    curve left out)."""
    return ", ".join(f"{_network(c.removeprefix('residual '))} "
                     + f"{round(reading[c], 1) + 0.0:+.1f}".replace("-", "\u2212")
                     for c in reading.index if c.startswith("residual ") and pd.notna(reading[c]))


def _network(name: str) -> str:
    """``resnet44 bn`` as ``resnet44 with BN``."""
    model, norm = name.split()
    return f"{model} {'with' if norm == 'bn' else 'without'} BN"


def fit_in_words(fit: pd.DataFrame) -> Markdown:
    """The protocol chapter's answer, first: the reading that fits every published number best
    at once (:func:`bnnoise.analysis.study.joint_fit`), its rms residual and each number's
    residual, in one paragraph."""
    if fit.empty:
        return Markdown("*No network of this run has a published number to fit.*\n")
    best = fit.sort_values("rmse", kind="stable").iloc[0]
    grid = ("a dense uniform grid from 0 to" if best["family"] == "uniform"
            else "our grid cut at")
    return Markdown(
        f"**The answer**: the reading that comes closest to all {int(best['numbers'])} "
        f"published numbers at once is {grid} η = {best['eta_max']:.3g}, noise on "
        f"{TARGET_LABEL.get(best['target'], best['target']).split(' (')[0]}, non-finite "
        f"outputs scored {best['scoring']}; it still misses them by {best['rmse']:.1f} points "
        f"(root mean square; ours minus published: {fit_residuals(best)}; "
        f"{{numref}}`tbl-fit`).\n")


def collapse_agreement_text(a: dict[str, float]) -> Markdown:
    """:func:`bnnoise.analysis.results.collapse_agreement` in one sentence for the page."""
    if not a["cells"]:
        return Markdown("*No network with BN in this run: nothing can collapse.*\n")
    return Markdown(
        f"Over all {a['cells']} (model, η) cells of the networks with BN, the exact "
        f"probability lies inside the sampled rate's 95 % interval in {a['consistent_cells']}; "
        f"pooled over every draw, {a['observed']:.0f} draws collapsed where "
        f"{a['expected']:.1f} were expected (two-sided p = {a['p_value']:.2f}, independent "
        f"draws, normal approximation of the Poisson-binomial count)."
        + (f" The pooled count departs from the expectation at the 5 % level, most at "
           f"η = {a['largest_gap_eta']:g} ({a['largest_gap_observed']:.0f} observed, "
           f"{a['largest_gap_expected']:.1f} expected), with "
           + ("every cell" if a["consistent_cells"] == a["cells"]
              else f"{a['consistent_cells']} of {a['cells']} cells")
           + " consistent on its own: a small difference spread over the cells and, as one "
           "test among several on this page, weaker evidence that the exact probability is off "
           "than its p-value alone suggests."
           if a["p_value"] < 0.05 else "")
        + "\n")

