"""What the measurements say about statements of the cited literature, as the remedies chapter
shows it: one row per statement, its source, the evidence and the verdict."""

from __future__ import annotations

import pandas as pd

from bnnoise.analysis.literature_claims import literature_verdict
from bnnoise.analysis.normalizer_comparison import ROBUST_BN
from bnnoise.lineage import produces
from bnnoise.pages.mechanism_tables import remedy_label
from bnnoise.pages.number_format import interval_text


@produces
def literature_view(ranking: pd.DataFrame, robust_bn: pd.DataFrame | None = None,
                    scoring: str = "wrong") -> pd.DataFrame:
    """What the measurements say about statements of the cited literature, per target set: each
    statement, its source, the evidence (points, 95 % CI) and the verdict of
    :func:`bnnoise.analysis.literature_claims.literature_verdict`. The remedies' evidence is
    their recovery over the network as trained (``ranking``); the robust BN variants' is their
    difference to standard BN (``robust_bn``, from
    :func:`bnnoise.analysis.normalizer_comparison.robust_bn_differences`, non-finite outputs
    scored ``scoring``). Statements whose runs are missing are left out."""
    rows = []

    def add(statement: str, source: str, r: pd.Series, worse: bool = False) -> None:
        recovery = interval_text(r["recovered"], r["recovered_low"], r["recovered_high"])
        rows.append({"statement": statement, "source": source, "noise on": r["target"],
                     "evidence": f"{remedy_label(r['remedy'], r['images'], r['train_noise'])}: "
                                 f"{recovery} points",
                     "verdict": literature_verdict(r["recovered_low"], r["recovered_high"], worse)})

    for _, part in ranking.groupby("target", sort=False):
        recal = part[part["remedy"] == "recalibrated"]
        if len(recal):
            add("re-estimating the BN statistics after the noise restores accuracy",
                "BN statistics re-estimated on the chip, {cite:t}`joshi2020accurate`",
                recal.loc[recal["images"].idxmax()])
        aware = part[part["remedy"] == "noise-aware"]
        if len(aware):
            add("training with weight noise makes the network more robust",
                "hardware-aware training, {cite:t}`joshi2020accurate`",
                aware.loc[aware["recovered"].idxmax()])
    folded = ranking[(ranking["remedy"] == "folded") & (ranking["target"] == "weights")]
    if len(folded):
        add("BN kept digital is more robust than BN folded into the analog weights",
            "IBM's aihwkit practice {cite:p}`rasch2021flexible`", folded.iloc[0], worse=True)
    if robust_bn is not None:
        for _, r in robust_bn[robust_bn["scoring"] == scoring].iterrows():
            rows.append({
                "statement": f"{ROBUST_BN[r['norm']]} is more noise resistant than standard BN",
                "source": "{cite:t}`fagbohungbe2022l1`", "noise on": r["target"],
                "evidence": f"{r['norm']} minus bn: "
                            f"{interval_text(r['estimate'], r['low'], r['high'])}"
                            f" points (interval over {r['interval']})",
                "verdict": literature_verdict(r["low"], r["high"])})
    return pd.DataFrame(rows, columns=["statement", "source", "noise on", "evidence",
                                       "verdict"])
