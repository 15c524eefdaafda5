"""The claims' verdicts in words, the first thing a page says: per claim of the claims page
(:func:`claims_in_words`), per series of the BN-layers chapter (:func:`series_in_words`) and per
check of a theory chapter (:func:`checks_in_words`), with links to the claims page's sections."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

VERDICT_WORDS = {"reproduced": "reproduced", "contradicted": "contradicted",
                 "inconclusive at this power": "undecided"}
"""How the answer names each verdict."""


def _in_words(row: pd.Series) -> str:
    """``reproduced in every comparison``, ``mostly contradicted`` or ``mixed``."""
    total = int(row.sum())
    for verdict, word in VERDICT_WORDS.items():
        if int(row.get(verdict, 0)) == total:
            return f"{word} in every comparison"
    for verdict, word in VERDICT_WORDS.items():
        if 2 * int(row.get(verdict, 0)) > total:
            return f"mostly {word}"
    return "mixed"


CLAIM_SECTIONS = {"BN lowers": "claim-gap", "at matched": "claim-gap",
                  "the harm grows": "claim-layers", "the headline": "claim-headline",
                  "networks without BN": "claim-robust"}
"""The claims page's section (its label) of each claim, by the start of the claim's name."""


def section_link(claim: str, word: str = "details") -> str:
    """`` ({ref}`details <label>`)``: a link to the claims page's section of ``claim``, or
    empty when it has none."""
    label = next((v for k, v in CLAIM_SECTIONS.items() if claim.startswith(k)), None)
    return f" ({{ref}}`{word} <{label}>`)" if label else ""


def _across_readings(claim: str, shares: pd.DataFrame | None) -> str:
    if shares is None:
        return ""
    row = shares[[claim.startswith(c) for c in shares["claim"]]]
    if row.empty:
        return ""
    r = row.iloc[0]
    return (f" Under every reading of the protocol ({int(r['readings'])}): "
            f"{100 * r['reproduced']:.0f} % reproduce it, {100 * r['contradicted']:.0f} % "
            f"contradict it.")


def _by_grid(claim: str, by_grid: pd.DataFrame | None) -> str:
    """`` By noise grid (…): log ≤ 0.1: contradicted; log ≤ 0.2 to log ≤ 0.3: undecided; ….``:
    the most common verdict of the claim's readings per grid, neighbouring grids with the same
    verdict joined, said only where it is not the same on every grid."""
    if by_grid is None:
        return ""
    rows = by_grid[by_grid["claim"] == claim]
    if rows["verdict"].nunique() < 2:
        return ""
    runs: list[list] = []
    for r in rows.itertuples():
        if runs and runs[-1][2] == r.verdict:
            runs[-1][1] = r.grid
        else:
            runs.append([r.grid, r.grid, r.verdict])
    parts = "; ".join(
        (first if first == last else f"{first} to {last}") + ": "
        + " or ".join(VERDICT_WORDS.get(v, v) for v in verdict.split(" or "))
        for first, last, verdict in runs)
    return f" By noise grid (the most common verdict, the profile's noise scale and kind): {parts}."


def claims_in_words(verdicts: pd.DataFrame, ledger: pd.DataFrame | None = None,
                    shares: pd.DataFrame | None = None,
                    by_grid: pd.DataFrame | None = None) -> Markdown:
    """The page's answer, first: per claim, how many of its comparisons (every network, dataset
    and reading) reproduce it, contradict it or leave it undecided, in words, with a link to
    its section; with ``shares`` (:func:`bnnoise.analysis.multiverse.verdict_shares`), the
    share of every reading of the protocol behind each verdict; with the ledger, whether the
    rules behind them were fixed after their first data; with ``by_grid``
    (:func:`bnnoise.analysis.multiverse.verdict_by_grid`), the most common verdict per noise
    grid, where it is not the same on every grid."""
    counts = verdicts.groupby("claim", sort=False)["verdict"].value_counts().unstack(
        fill_value=0)
    lines = []
    for claim, row in counts.iterrows():
        n = {v: int(row.get(v, 0)) for v in VERDICT_WORDS}
        lines.append(f"* **{claim[0].upper()}{claim[1:]}**: {_in_words(row)} ({n['reproduced']} "
                     f"of {int(row.sum())} comparisons reproduce it, {n['contradicted']} "
                     f"contradict it, {n['inconclusive at this power']} cannot decide)."
                     f"{_across_readings(claim, shares)}{_by_grid(claim, by_grid)}"
                     f"{section_link(claim)}")
    text = ("**The answer, claim by claim** (every network, dataset, target set and scoring "
            "this run has, on the book's noise grid, with intervals over the training seeds "
            "where there are several, else over one training's noise draws; then under every "
            "reading of the protocol, {ref}`multiverse`):\n\n" + "\n".join(lines) + "\n")
    if ledger is not None and "rule_name" in verdicts:
        late = set(ledger.loc[ledger["post_hoc"].astype(bool), "rule"])
        used = set(verdicts["rule_name"])
        if used and used <= late:
            first = (int((verdicts["order"] == "rule first").sum()) if "order" in verdicts
                     else 0)
            text += ("\nEvery rule behind these verdicts was committed after the first data it "
                     "judges: they are post hoc ({ref}`ledger <rule-ledger>`)" + (
                         f"; but {first} of the {len(verdicts)} comparisons judge networks "
                         f"trained after their rule was committed, data the rule could not "
                         f"have been fitted to (column order of the verdicts' table)"
                         if first else "") + ".\n")
    return Markdown(text)


def series_in_words(rows: pd.DataFrame) -> Markdown:
    """A growth claim's answer per series (subject), first on its page: its verdicts over the
    readings (target set, scoring), the range of the growth of the harm, and how much of the
    largest count's harm is already there at the smallest count."""
    lines = []
    for subject, part in rows.groupby("subject", sort=False):
        counts = part["verdict"].value_counts()
        verdicts = (f"{VERDICT_WORDS.get(counts.index[0], counts.index[0])} under every "
                    f"reading ({len(part)})" if len(counts) == 1 else ", ".join(
                        f"{VERDICT_WORDS.get(v, v)} in {n}" for v, n in counts.items()))
        share = part["share_at_smallest"].dropna() if "share_at_smallest" in part else []
        saturation = (f"; {_minus(100 * min(share), 0)} to {_minus(100 * max(share), 0)} % "
                      f"of the largest count's harm is already there at the smallest"
                      if len(share) else "")
        lines.append(f"* **{subject}**: {verdicts}; growth of the harm "
                     f"{_minus(part['estimate'].min(), 1)} to {_minus(part['estimate'].max(), 1)}"
                     f" points{saturation}.")
    return Markdown("**The answer** (the growth of the harm from the smallest BN-layer count "
                    "above zero to the largest, judged with a 2-point margin on both sides; "
                    "tables below):"
                    "\n\n" + "\n".join(lines) + "\n")


def _minus(value: float, decimals: int) -> str:
    """A number with a typographic minus sign."""
    return f"{value:.{decimals}f}".replace("-", "\u2212")


def _evidence(check) -> str:
    """The numbers behind a check's verdict in a few words: its estimate and interval, or, for
    a check made of several comparisons, how many of them reproduce the claim."""
    if check.parts:
        agree = sum(part.reproduced for part in check.parts)
        return f" ({agree} of {len(check.parts)} comparisons reproduced)"
    if check.difference is not None:
        return f" ({check.measure}: {check.numbers()})"
    return ""


def checks_in_words(checks, later: str = "") -> Markdown:
    """A theory chapter's answer, first: each check's claim with its verdict and, where it has
    one, its estimate and interval (:class:`bnnoise.theory.literature.Check`; its rule and
    details follow later on the page),
    and ``later``, a sentence on what the page answers further down."""
    lines = [f"* {c.claim[0].upper()}{c.claim[1:]}: **{c.verdict.value}**" + _evidence(c)
             for c in checks]
    return Markdown("**The answer** (each check's rule and details follow below):\n\n"
                    + "\n".join(lines) + "\n" + (f"\n{later}\n" if later else ""))
