"""Other normalizers under the same noise: is it batch statistics, or normalization as such,
that costs noise resistance?

Each normalizer of a grid (the ``normalizers`` series of ``params.yaml``: GroupNorm, LayerNorm,
GN+WS, BCN+WS, L1 and TopK BatchNorm, BatchNorm, none) is compared with the unnormalized network
of the same architecture and seeds by the rule of the claims page (:data:`BN_GAP_RULE`: no
normalization minus the normalizer, average normalized accuracy, points). The question is then
answered per target set and scoring by :data:`ANSWER_RULE`, fixed before the runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bnnoise.analysis.claim_rows import BN_GAP_RULE, COLUMNS, arm_difference, claim_row
from bnnoise.figures.style import clip_normalized
from bnnoise.lineage import produces
from bnnoise.nets.norms import parse_norm
from bnnoise.rules import RULES
from bnnoise.stats import Verdict, mean_ci

ANSWER_RULE = RULES["normalizer_answer"].wording
"""How the per-normalizer verdicts answer the question, per target set and scoring."""

UNANSWERABLE = "not answerable"
"""How :func:`normalizer_answer` begins an answer it cannot give (one kind of normalizer
missing)."""

MIXED = "mixed or inconclusive"
"""The answer when the verdicts fit none of the three decided patterns."""


def uses_batch_statistics(norm: str) -> bool:
    """Whether the normalizer ``norm`` (a name of :func:`bnnoise.nets.norms.parse_norm`)
    normalizes with batch statistics."""
    return parse_norm(norm).batch_statistics


@produces
def normalizer_gaps(average: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model, target, scoring) and normalizer: the unnormalized network's average
    normalized accuracy minus the normalizer's (points), with its interval (over seeds when both
    arms have two or more, see :func:`bnnoise.analysis.claim_rows.arm_difference`) and the
    verdict of :data:`BN_GAP_RULE`; column ``batch_statistics`` says which kind the normalizer
    is."""
    rows = []
    full = average[average["placement"] == "all"]
    for (dataset, model, target, scoring), part in full.groupby(
            ["dataset", "model", "target", "scoring"]):
        none = part[part["norm"] == "none"]
        if none.empty:
            continue
        for norm, arm in part[part["norm"] != "none"].groupby("norm", sort=False):
            d, interval = arm_difference(none, arm)
            rows.append({**claim_row(f"{norm} lowers noise resistance", dataset, model, target,
                                     scoring, d, interval, BN_GAP_RULE),
                         "model": model, "norm": norm,
                         "batch_statistics": uses_batch_statistics(norm)})
    return pd.DataFrame(rows, columns=[*COLUMNS, "model", "norm", "batch_statistics"])


ROBUST_BN = {"l1bn": "L1 BatchNorm", "topkbn": "TopK BatchNorm"}
"""The BatchNorm variants that the study's authors report more noise resistant than standard BN
(Fagbohungbe & Qian 2022, arXiv:2205.04886), with their names in words."""


@produces
def robust_bn_differences(average: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model, target, scoring) and variant of :data:`ROBUST_BN`: its average
    normalized accuracy minus standard BN's (points), with its 95 % interval (over seeds when
    both arms have two or more, see :func:`bnnoise.analysis.claim_rows.arm_difference`). Positive:
    the variant is the more noise resistant. Empty until a variant and BN are both swept."""
    rows = []
    full = average[average["placement"] == "all"]
    keys = ["dataset", "model", "target", "scoring"]
    for key, part in full.groupby(keys, sort=False):
        bn = part[part["norm"] == "bn"]
        for norm in ROBUST_BN:
            arm = part[part["norm"] == norm]
            if bn.empty or arm.empty:
                continue
            d, interval = arm_difference(arm, bn)
            rows.append({**dict(zip(keys, key, strict=True)), "norm": norm,
                         "estimate": d.estimate, "low": d.low, "high": d.high,
                         "interval": interval})
    return pd.DataFrame(rows, columns=[*keys, "norm", "estimate", "low", "high", "interval"])


def _answer(verdicts: pd.DataFrame) -> str:
    batch = verdicts[verdicts["batch_statistics"]]["verdict"]
    free = verdicts[~verdicts["batch_statistics"]]["verdict"]
    lowers, keeps = Verdict.REPRODUCED.value, Verdict.CONTRADICTED.value
    if batch.empty or free.empty:
        return f"{UNANSWERABLE}: one kind of normalizer is missing"
    if (batch == lowers).all() and (free == keeps).all():
        return "batch statistics"
    if (batch == lowers).all() and (free == lowers).all():
        return "normalization as such"
    if (batch == keeps).all() and (free == keeps).all():
        return "neither"
    return MIXED


@produces
def normalizer_answer(gaps: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model, target, scoring): which normalizers lower noise resistance, with
    and without batch statistics, and the answer by :data:`ANSWER_RULE`."""
    rows = []
    for (dataset, model, target, scoring), part in gaps.groupby(
            ["dataset", "model", "target", "scoring"], sort=False):
        def names(batch: bool, verdict: str, part: pd.DataFrame = part) -> str:
            chosen = part[(part["batch_statistics"] == batch) & (part["verdict"] == verdict)]
            return ", ".join(chosen["norm"]) or "–"

        rows.append({"dataset": dataset, "model": model, "target": target, "scoring": scoring,
                     "lower it, batch statistics": names(True, Verdict.REPRODUCED.value),
                     "lower it, no batch statistics": names(False, Verdict.REPRODUCED.value),
                     "answer": _answer(part), "rule": ANSWER_RULE})
    return pd.DataFrame(rows)


@produces
def normalizer_summary(average: pd.DataFrame, training: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model, normalizer, target, scoring): training seeds, mean clean accuracy and
    mean average normalized accuracy over the seeds, with a 95 % interval over the seeds when
    there are two or more (clipped to 0-100 %: an average of accuracies cannot be negative, and
    noise on a trained network does not raise its expected accuracy; an interval of two seeds,
    t = 12.7, would otherwise reach past both ends), else the single run's interval (draws and
    test images)."""
    keys = ["dataset", "model", "norm"]
    clean = training.groupby(keys, as_index=False)["clean_accuracy"].mean()
    rows = []
    full = average[average["placement"] == "all"]
    for key, part in full.groupby([*keys, "target", "scoring"], sort=False):
        values = part["avg_normalized_accuracy"].to_numpy()
        if len(values) >= 2:
            mean, half = mean_ci(values)
            low, high = (float(bound) for bound in clip_normalized(mean - half, mean + half))
            high = min(high, max(1.0, mean))  # within 0-100 %, never excluding the mean
            interval = f"seeds ({len(values)})"
        else:
            mean, low, high = values[0], part["low"].iloc[0], part["high"].iloc[0]
            interval = "draws and images, one seed"
        rows.append({**dict(zip([*keys, "target", "scoring"], key, strict=True)),
                     "seeds": len(values), "avg_normalized_accuracy": mean, "low": low,
                     "high": high, "interval": interval,
                     "batch_statistics": uses_batch_statistics(key[2])})
    return pd.DataFrame(rows).merge(clean, on=keys, how="left")


@produces
def normalizer_status(answer: pd.DataFrame, reference: str = "tbl-normalizer-verdicts") -> str:
    """One sentence for the page on what the comparison of normalizers answers so far (from
    :func:`normalizer_answer`): for how many target sets it gives an answer, or, while none,
    what it will answer once the grid's networks are trained; ``reference`` is the table."""
    table = f"{{numref}}`{reference}`"
    answered = answer[~answer["answer"].str.startswith(UNANSWERABLE)] if len(answer) else answer
    targets = list(dict.fromkeys(answer["target"])) if len(answer) else []
    if len(answered):
        done = list(dict.fromkeys(answered["target"]))
        decided = list(dict.fromkeys(answered.loc[answered["answer"] != MIXED, "target"]))
        return (f"The comparison of normalizers with and without batch statistics under the "
                f"same noise ({table}) can be made for {len(done)} of {len(targets)} target "
                f"sets ({', '.join(done)}) and decides the question for {len(decided)} of them"
                + (f" ({', '.join(decided)})." if decided else
                   f": every reading is \"{MIXED}\" at this power."))
    return (f"The comparison of normalizers with and without batch statistics under the same "
            f"noise ({table}) answers nothing yet: until both kinds of normalizer are trained, "
            f"every row reads \"{UNANSWERABLE}\". Once they are, it will say for each target "
            f"set whether batch statistics, normalization as such, or neither costs noise "
            f"resistance.")


@produces
def final_points(summary: pd.DataFrame, average: pd.DataFrame, scoring: str = "wrong"
                 ) -> pd.DataFrame:
    """Per trained network (dataset, model, norm, seed) and target set: its clean accuracy on
    the sweep's test subset (the ``eta`` = 0 row of ``summary``, as the training-progress points
    measure it) and its average normalized accuracy (``average``, non-finite outputs scored
    ``scoring``)."""
    keys = ["dataset", "model", "norm", "seed", "target"]
    full = average[(average["placement"] == "all") & (average["scoring"] == scoring)]
    clean = summary[(summary["placement"] == "all") & (summary["scoring"] == scoring)
                    & (summary["eta"] == 0)].rename(columns={"accuracy": "clean_accuracy"})
    return full[[*keys, "avg_normalized_accuracy"]].merge(
        clean[[*keys, "clean_accuracy"]], on=keys, how="inner")


TRAJECTORY_KEYS = ["dataset", "model", "norm", "target", "epoch"]
"""What identifies one point of a seed-averaged training trajectory."""


def mean_trajectories(progress: pd.DataFrame) -> pd.DataFrame:
    """Training trajectories of the fully normalized runs (``placement`` "all") of ``progress``
    (:func:`bnnoise.pipeline.progress.progress_summary`): per (dataset, model, norm, target,
    epoch), clean and average normalized accuracy, each the mean over the seeds that keep
    snapshots."""
    columns = [*TRAJECTORY_KEYS, "clean_accuracy", "avg_normalized_accuracy"]
    if progress.empty:  # no run keeps snapshots yet
        return pd.DataFrame(columns=columns)
    full = progress[progress["placement"] == "all"]
    return full.groupby(TRAJECTORY_KEYS, as_index=False)[columns[-2:]].mean()


@produces
def at_matched_accuracy(finals: pd.DataFrame, progress: pd.DataFrame,
                        references: tuple[str, ...] = ("bn", "none")) -> pd.DataFrame:
    """Per network of ``finals`` (:func:`final_points`) and target set: the average normalized
    accuracy of each reference run's training trajectory (:func:`mean_trajectories` of
    ``progress``: the same model with ``bn`` or ``none``) at the network's clean accuracy, by
    linear interpolation between the two nearest epochs; empty (NaN) where the trajectory never
    reaches that clean accuracy (no extrapolation). Descriptive: no interval."""
    trajectories = mean_trajectories(progress)
    rows = []
    for _, net in finals.iterrows():
        row = {k: net[k] for k in ("dataset", "model", "norm", "seed", "target",
                                   "clean_accuracy", "avg_normalized_accuracy")}
        for ref in references:
            path = trajectories[(trajectories["dataset"] == net["dataset"])
                                & (trajectories["model"] == net["model"])
                                & (trajectories["norm"] == ref)
                                & (trajectories["target"] == net["target"])]
            row[f"{ref}_trajectory"] = _interpolate(path, net["clean_accuracy"])
        rows.append(row)
    return pd.DataFrame(rows, columns=["dataset", "model", "norm", "seed", "target",
                                       "clean_accuracy", "avg_normalized_accuracy",
                                       *(f"{ref}_trajectory" for ref in references)])


def _interpolate(path: pd.DataFrame, clean: float) -> float:
    """The trajectory ``path`` (one row per epoch) at clean accuracy ``clean``, its epochs
    ordered by clean accuracy; NaN outside its range."""
    if path.empty:
        return float("nan")
    by_clean = path.sort_values("clean_accuracy")
    x = by_clean["clean_accuracy"].to_numpy(dtype=float)
    y = by_clean["avg_normalized_accuracy"].to_numpy(dtype=float)
    if not x[0] <= clean <= x[-1]:
        return float("nan")
    return float(np.interp(clean, x, y))
