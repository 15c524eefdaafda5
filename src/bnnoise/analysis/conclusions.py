"""The book's conclusions, computed: what holds and under which readings, and which deployment
a hardware designer should choose for a BN network.

Every number comes from the tables the chapters publish (the claims, the multiverse of
readings, the remedies' draws); nothing here decides by a rule of its own: the comparison of a
deployed BN network with its twin without BN is judged by the claims' own rule
(:data:`bnnoise.rules.RULES` ``bn_gap``: no-BN minus BN, a 2-point margin on both sides).
"""

from __future__ import annotations

import pandas as pd

from bnnoise.lineage import produces
from bnnoise.pipeline.remedies import no_bn_twin
from bnnoise.rules import RULES
from bnnoise.stats import mean_ci, welch_difference

GAP_RULE = RULES["bn_gap"].rule


@produces
def claim_standing(verdicts: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Per claim: its comparisons on the book's reading (how many reproduce or contradict it)
    and the share of every reading of the protocol behind each verdict
    (:func:`bnnoise.analysis.multiverse.verdict_shares`)."""
    rows = []
    for claim, part in verdicts.groupby("claim", sort=False):
        share = shares[[claim.startswith(c) for c in shares["claim"]]]
        s = share.iloc[0] if len(share) else None
        rows.append({
            "claim": claim, "comparisons": len(part),
            "reproduced": int((part["verdict"] == "reproduced").sum()),
            "contradicted": int((part["verdict"] == "contradicted").sum()),
            "readings": int(s["readings"]) if s is not None else 0,
            "readings_reproduced": float(s["reproduced"]) if s is not None else float("nan"),
            "readings_contradicted": float(s["contradicted"]) if s is not None
            else float("nan")})
    return pd.DataFrame(rows)


@produces
def deployment_choice(remedies: pd.DataFrame, ranking: pd.DataFrame) -> pd.DataFrame:
    """Per model and target set: the BN network as trained, its best deployment (the top of
    the remedies' ranking), and its twin without BN trained the same way, each with its
    average normalized accuracy and 95 % interval over the draws (%); then the twin minus the
    best deployment (points, Welch over the draws) and the verdict of the claims' rule on it:
    "reproduced" means BN still loses noise resistance with its best deployment,
    "contradicted" that the deployment leaves no loss that matters."""
    rows = []
    for (dataset, model, target), part in ranking.groupby(["dataset", "model", "target"],
                                                          sort=False):
        draws = remedies[(remedies["dataset"] == dataset) & (remedies["model"] == model)
                         & (remedies["target"] == target)]
        standard = part[part["remedy"] == "standard"]
        others = part[part["remedy"] != "standard"]
        if standard.empty or others.empty:
            continue
        best = others.iloc[0]
        best_draws = draws[(draws["norm"] == "bn") & (draws["deployment"] == best["remedy"])
                           & (draws["images"] == best["images"])
                           & (draws["train_noise"] == best["train_noise"])]
        twin = no_bn_twin(draws, best["remedy"], best["train_noise"])
        if len(twin) < 2 or len(best_draws) < 2:
            continue
        gap = welch_difference(twin, 100 * best_draws["avg_normalized_accuracy"].to_numpy())
        twin_mean, twin_half = mean_ci(twin)
        rows.append({
            "dataset": dataset, "model": model, "target": target,
            "as_trained": float(standard["average"].iloc[0]),
            "as_trained_low": float(standard["low"].iloc[0]),
            "as_trained_high": float(standard["high"].iloc[0]),
            "best": best["remedy"], "best_images": int(best["images"]),
            "best_train_noise": float(best["train_noise"]), "best_average": best["average"],
            "best_low": best["low"], "best_high": best["high"],
            "no_bn": twin_mean, "no_bn_low": twin_mean - twin_half,
            "no_bn_high": twin_mean + twin_half, "no_bn_trained": best["no_bn_trained"],
            "gap": gap.estimate, "gap_low": gap.low, "gap_high": gap.high,
            "verdict": GAP_RULE.verdict(gap).value})
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


CHOICE_COLUMNS = ["dataset", "model", "target", "as_trained", "as_trained_low",
                  "as_trained_high", "best", "best_images", "best_train_noise", "best_average",
                  "best_low", "best_high", "no_bn", "no_bn_low", "no_bn_high", "no_bn_trained",
                  "gap", "gap_low", "gap_high", "verdict"]
"""The columns of :func:`deployment_choice` (also when no model has remedies yet)."""
