"""The device chapter's tables as the page shows them."""

from __future__ import annotations

import pandas as pd

from bnnoise.labels import BN_LABEL
from bnnoise.lineage import produces


@produces
def device_variant_view(average: pd.DataFrame, scoring: str = "wrong") -> pd.DataFrame:
    """:func:`bnnoise.analysis.device_claims.device_average` with BN kept digital, one row per
    network and one column per device variant: the average normalized accuracy over the times
    after programming (%) with its 95 % interval, for one scoring of non-finite outputs."""
    rows = average[(average["deployment"] == "standard") & (average["scoring"] == scoring)]
    cells = rows.assign(
        shown=[f"{100 * m:.1f} ({100 * lo:.1f}–{100 * hi:.1f})" for m, lo, hi in
               zip(rows["avg_normalized_accuracy"], rows["low"], rows["high"], strict=True)],
        BN=rows["norm"].map(BN_LABEL).fillna(rows["norm"]))
    table = cells.pivot_table(index=["model", "BN", "target"], columns="device",
                              values="shown", aggfunc="first", sort=False)
    devices = list(dict.fromkeys(rows["device"]))  # the study's own device first
    return table[devices].reset_index().rename_axis(columns=None)
