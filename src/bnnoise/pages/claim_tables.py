"""The claims' tables as the reader sees them: one claim's comparisons with their verdicts, the
claims at a glance, and the split of the spread between training seeds and noise draws.

Each function takes the verdict rows of :mod:`bnnoise.analysis.claims` (or the spread of
:func:`bnnoise.analysis.replication.seed_and_draw_spread`) and returns what the page shows:
a numbered table, or a sentence when there is nothing to compare; or the rows of a table
the chapter publishes and captions itself.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from bnnoise.analysis.claims import ONE_SEED, verdict_counts
from bnnoise.config.setups import TARGETS
from bnnoise.labels import BN_LABEL, dataset_label
from bnnoise.lineage import produces
from bnnoise.pages.elements import numbered_table
from bnnoise.pages.number_format import interval_text, unbreakable

SHORT_VERDICTS = {"inconclusive at this power": "inconclusive"}
"""How a claim table names a verdict, where shorter than the verdict itself (its caption's rule
says at what power)."""


@produces
def claim_table(verdicts: pd.DataFrame, claim: str, name: str, provenance: str | None = None,
                ledger: pd.DataFrame | None = None, fold: bool = False) -> Markdown:
    """The rows of one claim (those whose claim starts with ``claim``) as a numbered table:
    dataset (when the rows span several), subject (with its training length where the rows
    have several), reading, estimate with its interval (one decimal, two when the interval is
    narrower than 2, e.g. slopes per BN layer), verdict; the
    rule in the caption, marked post hoc when the ledger
    (:func:`bnnoise.analysis.ledger.rule_ledger`) says it was committed after its first data.
    With ``fold``, the table sits in a dropdown whose title counts its rows per verdict."""
    rows = verdicts[verdicts["claim"].str.startswith(claim)]
    if rows.empty:
        return Markdown("*No comparison for this claim in this run (its models are not part of "
                        "the run's grids).* \n")
    shown = pd.DataFrame({
        "subject": rows["subject"], "target": rows["target"], "scoring": rows["scoring"],
        "estimate (95 % CI)": [interval_text(v, lo, hi, 1 if hi - lo >= 2 else 2) for v, lo, hi in
                               zip(rows["estimate"], rows["low"], rows["high"], strict=True)],
        "verdict": rows["verdict"].replace(SHORT_VERDICTS)})
    if rows["dataset"].nunique() > 1:  # e.g. CIFAR-10 and CIFAR-100 rows of one claim
        shown.insert(0, "dataset", rows["dataset"].map(dataset_label))
    if "epochs" in rows and rows["epochs"].nunique() > 1:  # the recipe's and longer trainings
        shown["subject"] = [f"{subject}, {epochs} epochs" for subject, epochs in
                            zip(rows["subject"], rows["epochs"], strict=True)]
    if "published" in rows and rows["published"].notna().any():
        shown.insert(3, "published", rows["published"].round(2))
    if "kendall_tau" in rows and rows["kendall_tau"].notna().any():  # growth claims
        shown["trend: Kendall τ (p)"] = [
            "–" if pd.isna(tau) else f"{tau:.2f} ({p:.2g})"
            for tau, p in zip(rows["kendall_tau"], rows["trend_p"], strict=True)]
        shown["harm reached at the smallest count"] = [
            "–" if pd.isna(v) else f"{round(100 * v) + 0:.0f} %".replace("-", "\u2212")
            for v in rows["share_at_smallest"]]
    intervals = rows["interval"].unique()
    if len(intervals) > 1:  # e.g. over seeds for some models, over draws for one-seed models
        shown.insert(shown.columns.get_loc("estimate (95 % CI)") + 1, "interval over",
                     rows["interval"])
    shown = merged_scorings(shown)
    shown["subject"], shared = _shared_detail(shown["subject"])
    caption = (f"{rows['claim'].iloc[0][0].upper()}{rows['claim'].iloc[0][1:]}: "
               f"{rows['rule'].iloc[0]}{_post_hoc(rows, ledger)}.{shared} Interval: "
               + (f"{intervals[0]}." if len(intervals) == 1
                  else "per row (column 'interval over').")
               + (" One seed (t): Student's t over the noise draws and test images of one "
                  "training run per network." if ONE_SEED in set(intervals) else "")
               + (" Scoring 'both': the two scorings of non-finite outputs give the same row."
                  if (shown["scoring"] == "both").any() else ""))
    table = numbered_table(shown, caption, name, provenance=provenance)
    if not fold:
        return table
    counts = ", ".join(f"{n} {verdict}" for verdict, n in shown["verdict"].value_counts().items())
    both = int((shown["scoring"] == "both").sum())
    merged = (f"; {both} rows stand for both scorings, so the {len(rows)} comparisons counted "
              f"at the top of the page fill {len(shown)} rows" if both else "")
    return Markdown(f"::::{{dropdown}} Every comparison: {len(shown)} rows ({counts}{merged})"
                    f"\n\n"
                    f"{table.data}\n::::\n")


def _shared_detail(subjects: pd.Series) -> tuple[pd.Series, str]:
    """Subjects without the parenthesis naming their training seeds that ends every one of them
    alike (e.g. "(k = 0, 3, 7; seed 0)"), and that parenthesis as a sentence for the caption, so
    that a narrow column does not repeat it on every row; subjects as they are otherwise."""
    ends = subjects.str.extract(r"\s*\(([^()]*)\)$")[0]
    if (len(subjects) < 2 or ends.isna().any() or ends.nunique() != 1
            or "seed" not in ends.iloc[0]):  # e.g. a snapshot's accuracy stays in its row
        return subjects, ""
    short = subjects.str.replace(r"\s*\([^()]*\)$", "", regex=True)
    return short, f" In every row: {ends.iloc[0]}."


def merged_scorings(shown: pd.DataFrame) -> pd.DataFrame:
    """One row, scoring ``both``, where the two scorings of non-finite outputs give the same
    row (as they do wherever no noisy output is non-finite); rows that differ stay apart."""
    others = [c for c in shown.columns if c != "scoring"]
    scorings = shown.groupby(others, sort=False, dropna=False)["scoring"].transform("nunique")
    return (shown.assign(scoring=shown["scoring"].where(scorings < 2, "both"))
            .drop_duplicates(ignore_index=True))


def _post_hoc(rows: pd.DataFrame, ledger: pd.DataFrame | None) -> str:
    """`` (post hoc: ...)`` when the ledger marks the rows' rule post hoc, else empty; with
    the rows' ``order`` (:func:`bnnoise.analysis.ledger.verdict_order`), how many rows judge
    networks trained after the rule was committed."""
    if ledger is None or "rule_name" not in rows:
        return ""
    late = set(ledger.loc[ledger["post_hoc"].astype(bool), "rule"])
    if not set(rows["rule_name"]) & late:
        return ""
    first = int((rows["order"] == "rule first").sum()) if "order" in rows else 0
    if not first:
        return (" (post hoc: the rule was committed after its first data; see the "
                "{ref}`ledger <rule-ledger>`)")
    return (f" (post hoc: the rule was committed after its first data, {{ref}}`ledger "
            f"<rule-ledger>`; but {first} of these {len(rows)} comparisons judge networks "
            f"trained after it was committed, data it could not have been fitted to: column "
            f"order of claims.csv)")


@produces
def glance_view(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The claims at a glance: one row per claim (and dataset, when there are several), one
    column per target set; each cell gives "R/C/I" (how many comparisons reproduce,
    contradict or leave the claim undecided) with non-finite outputs scored by ``argmax``,
    then with them scored wrong, separated by " · ", and "–" for a reading not measured."""
    counts = verdict_counts(verdicts)
    counts["cell"] = [f"{r}/{c}/{i}" for r, c, i in zip(
        counts["reproduced"], counts["contradicted"], counts["inconclusive at this power"],
        strict=True)]
    index = ["claim", "dataset"] if verdicts["dataset"].nunique() > 1 else ["claim"]
    if "epochs" in counts:  # networks of several training lengths, judged apart
        index.append("epochs")
    by_scoring = counts.pivot_table(index=[*index, "target"], columns="scoring",
                                    values="cell", aggfunc="first")
    by_scoring = by_scoring.reindex(columns=["argmax", "wrong"]).astype(object).fillna("–")
    by_scoring["cell"] = by_scoring["argmax"] + " · " + by_scoring["wrong"]
    wide = by_scoring["cell"].unstack("target")
    wide = wide.reindex(columns=[t for t in TARGETS if t in wide])
    wide = wide.fillna("– · –").reset_index()
    order = list(dict.fromkeys(verdicts["claim"]))
    wide = wide.iloc[wide["claim"].map(order.index).argsort(kind="stable")]
    if "dataset" in wide:
        wide["dataset"] = wide["dataset"].map(dataset_label)
    return wide.rename_axis(columns=None).reset_index(drop=True)


@produces
def spread_view(spread: pd.DataFrame) -> pd.DataFrame:
    """:func:`bnnoise.analysis.replication.seed_and_draw_spread` as the page shows it (no rows
    when no network has replicate training seeds)."""
    return pd.DataFrame({
        "model": spread["model"], "BN": spread["norm"].map(BN_LABEL).fillna(spread["norm"]),
        "noise on": spread["target"], "seeds": spread["seeds"],
        "draws per seed": spread["draws_per_seed"].round(0).astype(int),
        "between seeds (SD, points)": spread["seed_sd"].round(2),
        "between draws (SD, points)": spread["draw_sd"].round(2),
        "ratio": spread["seed_to_draw"].round(2),
        "F test p": spread["p_value"].map(lambda v: f"{v:.2g}")})


NO_REPLICATES = ("No network of this run has replicate training seeds yet (the seed replicates "
                 "are trained after the reproduction's grids).")
"""What the seed-spread table says when :func:`spread_view` has no rows."""


@produces
def ledger_view(ledger: pd.DataFrame) -> pd.DataFrame:
    """:func:`bnnoise.analysis.ledger.rule_ledger` as the page shows it: per rule, the commit
    and date that fixed it, the date of its first data, and which came first."""
    dated_by = (ledger["first_data_dated_by"] if "first_data_dated_by" in ledger
                else pd.Series("its creation", index=ledger.index))
    order = [("post hoc: data first" if late else "rule first" if how == "its creation"
              else "rule first by the data's commit date (they may be older)")
             if data else "no data yet"
             for late, data, how in zip(ledger["post_hoc"], ledger["first_data_at"], dated_by,
                                        strict=True)]
    def when(dates: pd.Series) -> pd.Series:  # the date never split, the time below it
        return dates.str.removesuffix(" UTC").map(
            lambda d: " ".join(unbreakable(part) for part in d.split(" ")))

    return pd.DataFrame({
        "rule": ledger["rule"], "decides": ledger["decides"],
        "fixed in": ledger["fixed_in"] + " " + when(ledger["fixed_at"]),
        "first data": when(ledger["first_data_at"]), "order": order})


@produces
def multiverse_view(shares: pd.DataFrame) -> pd.DataFrame:
    """:func:`bnnoise.analysis.multiverse.verdict_shares` as the page shows it: per claim, the
    number of readings and the shares (%) behind the three verdicts in one column (so that the
    claim's name keeps its width), beside the share reproduced on the book's own reading (% of
    its rows)."""
    percent = {v: (100 * shares[v]).round(0).astype(int) for v in
               ("reproduced", "contradicted", "inconclusive at this power")}
    return pd.DataFrame({
        "claim": shares["claim"], "readings": shares["readings"],
        "reproduced / contradicted / inconclusive (%)": [
            " / ".join(str(p) for p in values) for values in zip(*percent.values(), strict=True)],
        "book's reading": [
            "–" if pd.isna(v) else f"{100 * v:.0f} (of {n})"
            for v, n in zip(shares["book_reproduced"], shares["book_rows"], strict=True)]})


@produces
def bias_view(table: pd.DataFrame, scoring: str = "wrong") -> pd.DataFrame:
    """The rows of :func:`bnnoise.analysis.multiverse.bias_treatment` for one ``scoring``, as
    the page shows them: per network, the BN gap (no BN minus BN, points, 95 % CI) and its
    verdict with noise on every bias but BN's and with every bias exact, and the change."""
    rows = table[table["scoring"] == scoring]
    shown = {"network": rows["subject"] if "epochs" not in rows else [
        f"{subject}, {epochs} epochs" for subject, epochs in
        zip(rows["subject"], rows["epochs"], strict=True)]}
    for target, label in (("weights", "biases noisy"), ("kernels", "biases exact")):
        shown[f"gap, {label}"] = [interval_text(v, lo, hi) for v, lo, hi in zip(
            rows[f"estimate_{target}"], rows[f"low_{target}"], rows[f"high_{target}"],
            strict=True)]
        shown[f"verdict, {label}"] = rows[f"verdict_{target}"].replace(SHORT_VERDICTS)
    shown["change (95 % CI)"] = [
        f"{_signed(v)} ({interval_text(v, lo, hi).split(' (', 1)[1]}" for v, lo, hi in
        zip(rows["change"], rows["change_low"], rows["change_high"], strict=True)]
    return pd.DataFrame(shown)


def bias_in_words(table: pd.DataFrame, scoring: str = "wrong") -> Markdown:
    """One sentence on :func:`bias_view`'s rows: the range of the change and how many verdicts
    it keeps (those it changes named)."""
    rows = table[table["scoring"] == scoring]
    if rows.empty:
        return Markdown("*The reading with every bias exact is not swept in this run.*")
    moved = rows[rows["verdict_weights"] != rows["verdict_kernels"]]
    named = "; ".join(f"{r.subject}: {r.verdict_weights} → {r.verdict_kernels}"
                      for r in moved.itertuples())
    low, high = (_signed(v) for v in (rows["change"].min(), rows["change"].max()))
    return Markdown(
        f"**With every bias exact in both arms**, the BN gap changes by "
        f"{low if low == high else f'{low} to {high}'} points against noise on the biases "
        f"(intervals in the table); the verdict stays the same for {len(rows) - len(moved)} of "
        f"{len(rows)} network{'s' if len(rows) > 1 else ''}"
        + (f" and changes for {named}." if len(moved) else "."))


def _signed(value: float) -> str:
    """``+1.2`` or ``−1.2`` (typographic minus), a value that rounds to zero as ``+0.0``."""
    return f"{round(value, 1) + 0.0:+.1f}".replace("-", "\u2212")
