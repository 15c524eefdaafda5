"""The device chapter's tables as the page shows them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from bnnoise.config import project_root
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


DEVICE_CHAPTER = "13_analog_device"
"""The device chapter's notebook: its verdicts join the claims page once it is in the book."""


def device_chapter_in_book(root: Path | None = None) -> bool:
    """Whether the book's table of contents (``_toc.yml``) lists the device chapter."""
    toc = (root or project_root()) / "_toc.yml"
    return toc.is_file() and f"book/{DEVICE_CHAPTER}" in toc.read_text()


def device_claims_in_words(gap: pd.DataFrame | None, parity: pd.DataFrame | None,
                           in_book: bool = True) -> Markdown:
    """The device's two verdicts for the claims page, beside the Gaussian ones: how many
    comparisons of each rule (:mod:`bnnoise.analysis.device_claims`) reproduce, contradict or
    leave undecided its statement; a sentence saying that none is stored yet otherwise, or,
    while the device chapter is not in the book (``in_book`` false), that its sweeps are under
    way and its verdicts wait for the chapter."""
    if gap is None or parity is None or (gap.empty and parity.empty):
        return Markdown("*On the PCM-like device:* no device sweep of this profile is stored "
                        "yet, so neither of its two verdicts (rules committed before any device "
                        "sweep ran) is given here; the device chapter joins the book with "
                        "them.")
    if not in_book:
        return Markdown("*On the PCM-like device:* its sweeps are under way (the store holds "
                        "them for some networks); its two verdicts (rules committed before any "
                        "device sweep ran) join this page with the device chapter.")
    lines = []
    for name, rows in (("BN lowers noise resistance on the device (BN kept digital)", gap),
                       ("a deployment of the BN network is as robust as its twin without BN",
                        parity)):
        n = rows["verdict"].value_counts()
        lines.append(f"* **{name[0].upper()}{name[1:]}**: {int(n.get('reproduced', 0))} of "
                     f"{len(rows)} comparisons reproduce it, {int(n.get('contradicted', 0))} "
                     f"contradict it, {int(n.get('inconclusive at this power', 0))} cannot "
                     "decide.")
    return Markdown("*On the PCM-like device* (aihwkit's model; the [device "
                    "chapter](13_analog_device.ipynb) gives every comparison):\n\n"
                    + "\n".join(lines) + "\n")
