"""The mechanism chapter's tables as the reader sees them: remedies ranked, layers predicted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from IPython.display import Markdown

from bnnoise.config.mechanism import MechanismSetup
from bnnoise.labels import BN_LABEL, TARGET_LABEL
from bnnoise.lineage import produces
from bnnoise.pages.elements import numbered_table
from bnnoise.pages.number_format import gathered, interval_text
from bnnoise.pipeline.remedies import RECOVERY_RULE

REMEDY_LABEL = {"standard": "none (as trained)", "clamped": "variances clamped at 0",
                "gain": "noise on the BN gain and shift", "folded": "BN folded into the convs",
                "recalibrated": "BN recalibrated", "noise-aware": "noise-aware training"}
VERDICT_LABEL = {"reproduced": "helps", "contradicted": "does not help (< 2 points)",
                 "inconclusive at this power": "inconclusive", "": "reference",
                 "identical to standard": "no change: no BN array gets noise"}
"""The verdicts of :data:`bnnoise.pipeline.remedies.RECOVERY_RULE` as the ranking words them
(a contradicted remedy that loses more than the margin is labelled by :func:`verdict_label`)."""

HURTS = "hurts"
"""The label of a remedy whose recovery's 95 % interval lies below minus the margin."""

VERDICT_RULE = (
    f"helps: the 95 % interval of the recovery lies above +{RECOVERY_RULE.margin:g} points; "
    f"does not help: it lies below +{RECOVERY_RULE.margin:g} points; {HURTS}: it lies below "
    f"−{RECOVERY_RULE.margin:g} points; otherwise inconclusive")
"""The ranking's verdict rule in words, for its caption."""

GAP_NOTE = ("A share of the gap above 100 % means the remedy lifts the BN network above the "
            "network without BN; a negative share means it widens the gap.")
"""What the column "gap to no BN closed" means beyond 0 and 100 %, for the caption."""


def verdict_label(verdict: str, recovered_high: float,
                  margin: float = RECOVERY_RULE.margin) -> str:
    """The ranking's label of a verdict (:data:`VERDICT_LABEL`); a contradicted remedy whose
    recovery's interval ends below ``-margin`` points is labelled :data:`HURTS`."""
    if verdict == "contradicted" and recovered_high < -margin:
        return HURTS
    return VERDICT_LABEL.get(verdict, verdict)


def _percent(value: float) -> str:
    """A whole percentage with a typographic minus sign; an en dash when undefined."""
    if not math.isfinite(value):
        return "–"
    return f"{round(value):d}".replace("-", "−")


def remedy_label(remedy: str, images: int, train_noise: float = 0.0) -> str:
    """A remedy's name on the page (with its recalibration images or training noise)."""
    label = REMEDY_LABEL.get(remedy, remedy)
    if train_noise:
        return f"{label}, {train_noise:g} × std"
    return f"{label}, {images} images" if images else label


def ranking_view(ranking: pd.DataFrame, target: str) -> pd.DataFrame:
    """The remedies ranked by the average normalized accuracy they recover, for one target set:
    average, recovery, the network without BN trained the same way (like for like: noise-aware
    training against the network without BN trained with the same noise) and the share of the
    gap to it closed, with 95 % intervals over the draws, and the verdict (the costs are in
    :func:`cost_view`)."""
    r = ranking[ranking["target"] == target]
    return pd.DataFrame({
        "remedy": [remedy_label(n, i, t) for n, i, t in
                   zip(r["remedy"], r["images"], r["train_noise"], strict=True)],
        "avg. normalized acc. (%)": [interval_text(v, lo, hi) for v, lo, hi in
                                     zip(r["average"], r["low"], r["high"], strict=True)],
        "recovered (points)": [interval_text(v, lo, hi) for v, lo, hi in
                               zip(r["recovered"], r["recovered_low"], r["recovered_high"],
                                   strict=True)],
        "without BN, trained alike (%)": [
            f"{v:.1f}" + (" (noise-aware)" if trained != "without noise" else "")
            for v, trained in zip(r["no_bn_average"], r["no_bn_trained"], strict=True)],
        "gap to no BN closed (%)": [_percent(100 * v) for v in r["gap_closed"]],
        "verdict": [verdict_label(v, hi) for v, hi in
                    zip(r["verdict"], r["recovered_high"], strict=True)]})


def cost_view(ranking: pd.DataFrame) -> pd.DataFrame:
    """Each remedy once, with what it costs in deployment."""
    rows = ranking.drop_duplicates(["remedy", "images", "train_noise"])
    return pd.DataFrame({"remedy": [remedy_label(n, i, t) for n, i, t in
                                    zip(rows["remedy"], rows["images"], rows["train_noise"],
                                        strict=True)],
                         "cost": rows["cost"]})


@produces
def remedy_tables(ranking: pd.DataFrame, mechanism: MechanismSetup,
                  provenance: str | None = None, fold: bool = False) -> Markdown:
    """One numbered table per target set of the ranking (``tbl-remedies-<target>``: which
    target sets there are depends on the run, so the library writes their captions), then the
    costs (``tbl-remedy-costs``); with ``fold``, each in a dropdown titled with what it holds."""
    caption = (f"Remedies for the BN network ({', '.join(mechanism.models)}, CIFAR-10), ranked "
               "by the average normalized accuracy they recover over the network as trained "
               f"(95 % intervals over {mechanism.draws} draws per η; Welch interval for the "
               "recovery), and the share of the gap to the same network without BN they close. "
               f"{GAP_NOTE} Verdict: {VERDICT_RULE}.")
    parts, titles = [], []
    for target in dict.fromkeys(ranking["target"]):
        view = ranking_view(ranking, target)
        label = TARGET_LABEL.get(target, target)
        parts.append(numbered_table(view, f"{caption} Noise on {label}.",
                                    f"tbl-remedies-{target}", provenance=provenance).data)
        titles.append(f"The {len(view)} remedies ranked, noise on {label}")
    parts.append(numbered_table(cost_view(ranking), "What each remedy costs in deployment.",
                                "tbl-remedy-costs").data)
    titles.append("What each remedy costs in deployment")
    if fold:
        parts = [f"::::{{dropdown}} {title}\n\n{part}\n::::\n"
                 for title, part in zip(titles, parts, strict=True)]
    return Markdown("\n".join(parts))


def noise_aware_note(ranking: pd.DataFrame, models: tuple[str, ...],
                     levels: tuple[float, ...]) -> Markdown:
    """Which levels of noise-aware training the ranking holds for ``models`` and which it does
    not yet (their networks are not yet trained and swept), read from the ranking itself."""
    if not levels:
        return Markdown("The profile trains no networks with noise-aware training.\n")
    aware = (ranking[ranking["remedy"] == "noise-aware"] if "remedy" in ranking
             else pd.DataFrame(columns=["model", "train_noise"]))
    missing = [f"{model} at {level:g} × std" for model in models for level in levels
               if not ((aware["model"] == model)
                       & np.isclose(aware["train_noise"], level)).any()]
    if not missing:
        return Markdown("Noise-aware training is ranked at every level of the profile ("
                        + ", ".join(f"{level:g} × std" for level in levels) + ").\n")
    return Markdown("Not yet in the ranking, because its networks are not yet trained and swept: "
                    f"noise-aware training of {', '.join(missing)}.\n")


@produces
def prediction_view(prediction: pd.DataFrame) -> pd.DataFrame:
    """Per network, target set and eta: Spearman's rank correlation between the measured output
    perturbation of each layer and the accuracy it costs."""
    p = prediction
    return pd.DataFrame({
        "model": p["model"], "BN": p["norm"].map(BN_LABEL).fillna(p["norm"]),
        "noise on": p["target"].map(TARGET_LABEL).fillna(p["target"]), "η": p["eta"],
        "layers": p["layers"], "Spearman ρ": p["spearman_rho"].round(2),
        "p-value": p["p_value"].map(lambda v: f"{v:.2g}")})


def findings(ranking: pd.DataFrame) -> Markdown:
    """The ranking in sentences, every number taken from it: per target set, the level to
    recover, the best remedy and the remedies that help; then folded against digital BN."""
    lines = []
    for (model, target), part in ranking.groupby(["model", "target"], sort=False):
        standard = part[part["remedy"] == "standard"].iloc[0]
        others = part[part["remedy"] != "standard"]
        if others.empty:
            continue
        best = others.iloc[0]
        helping = [remedy_label(r.remedy, r.images, r.train_noise) for r in others.itertuples()
                   if r.verdict == "reproduced"]
        tied = [remedy_label(r.remedy, r.images, r.train_noise)
                for r in others.iloc[1:].itertuples() if r.high >= best["low"]]
        lines.append(
            f"* **{model}, noise on {TARGET_LABEL.get(target, target)}**: as trained, "
            f"{standard['average']:.1f} % (without BN {standard['no_bn_average']:.1f} %). "
            f"Best remedy: "
            f"{remedy_label(best['remedy'], best['images'], best['train_noise'])}, "
            f"{best['average']:.1f} % ({best['recovered']:+.1f} points, "
            f"{100 * best['gap_closed']:.0f} % of the gap to the network without BN trained "
            f"{best['no_bn_trained']}, {best['no_bn_average']:.1f} %)"
            + (f"; the intervals of {len(tied)} other "
               f"remed{'y' if len(tied) == 1 else 'ies'} overlap its own, so the draws do not "
               f"rank them" if tied else "") + ". Remedies that help: "
            f"{gathered(helping, ' images') if helping else 'none'}.")
    folded = ranking[ranking["remedy"] == "folded"]
    digital = ranking[(ranking["remedy"] == "standard") & (ranking["target"] == "weights")]
    if len(folded) and len(digital):
        f, d = folded.iloc[0], digital.iloc[0]
        lines.append(f"* **Where the noise lands**: BN folded into the convolutions before the "
                     f"noise, {f['average']:.1f} % (95 % interval {f['low']:.1f}–{f['high']:.1f}"
                     f"); BN kept digital with noise on the conv and linear weights and biases, "
                     f"{d['average']:.1f} % ({d['low']:.1f}–{d['high']:.1f}).")
    return Markdown("\n".join(lines) + "\n")


@produces
def normalizer_view(summary: pd.DataFrame, scoring: str = "wrong") -> pd.DataFrame:
    """One row per normalizer
    (:func:`bnnoise.analysis.normalizer_comparison.normalizer_summary`): its kind,
    seeds, clean accuracy and average normalized accuracy per target set (columns), best
    first under the last target set."""
    s = summary[summary["scoring"] == scoring]
    cells = s.assign(text=[interval_text(100 * v, 100 * lo, 100 * hi) for v, lo, hi in
                           zip(s["avg_normalized_accuracy"], s["low"], s["high"], strict=True)])
    wide = cells.pivot_table(index=["model", "norm", "batch_statistics", "seeds",
                                    "clean_accuracy"], columns="target", values="text",
                             aggfunc="first").reset_index()
    order = s[s["target"] == s["target"].iloc[-1]].set_index("norm")["avg_normalized_accuracy"]
    wide = wide.iloc[(-wide["norm"].map(order)).argsort(kind="stable")]
    return pd.DataFrame({
        "model": wide["model"], "normalizer": wide["norm"],
        "batch statistics": wide["batch_statistics"].map({True: "yes", False: "no"}),
        "seeds": wide["seeds"], "clean acc. (%)": (100 * wide["clean_accuracy"]).round(1),
        **{f"noise on {t} (%)": wide[t] for t in dict.fromkeys(s["target"])}})


@produces
def normalizer_verdicts(gaps: pd.DataFrame, answer: pd.DataFrame, scoring: str = "wrong"
                        ) -> pd.DataFrame:
    """Per target set and normalizer: the loss against no normalization (points, 95 % CI), its
    verdict, and the answer of the target set (:func:`bnnoise.analysis.normalizer_comparison.
    normalizer_answer`)."""
    g = gaps[gaps["scoring"] == scoring]
    answers = answer[answer["scoring"] == scoring].set_index(["model", "target"])["answer"]
    return pd.DataFrame({
        "noise on": g["target"], "normalizer": g["norm"],
        "batch statistics": g["batch_statistics"].map({True: "yes", False: "no"}),
        "no norm. minus normalizer (points)": [
            interval_text(v, lo, hi) for v, lo, hi in zip(g["estimate"], g["low"], g["high"],
                                                      strict=True)],
        "lowers noise resistance": g["verdict"],
        "answer for this target set": [answers.get((m, t), "") for m, t in
                                       zip(g["model"], g["target"], strict=True)]})


@produces
def matched_view(matched: pd.DataFrame) -> pd.DataFrame:
    """:func:`bnnoise.analysis.normalizer_comparison.at_matched_accuracy` as the page shows it:
    per target set and trained network, its clean and average normalized accuracy and the two
    training trajectories' values at that clean accuracy (%, "–" where a trajectory never gets
    there)."""
    def pct(values: pd.Series) -> list[str]:
        return ["–" if math.isnan(v) else f"{100 * v:.1f}" for v in values]

    m = matched.sort_values(["target", "norm", "seed"], kind="stable")
    return pd.DataFrame({
        "noise on": m["target"], "normalizer": m["norm"], "seed": m["seed"],
        "clean acc. (%)": pct(m["clean_accuracy"]),
        "avg. normalized acc. (%)": pct(m["avg_normalized_accuracy"]),
        "BN trajectory there (%)": pct(m["bn_trajectory"]),
        "no-norm. trajectory there (%)": pct(m["none_trajectory"])})
