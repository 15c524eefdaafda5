"""The ledger of the book's rules: when each was fixed, and whether its data existed by then.

A verdict is only as honest as the order of its rule and its data. For every rule of
:data:`bnnoise.rules.RULES`, :func:`rule_ledger` puts the date of the commit that fixed it
(``fixed_in``) beside the date of the first result the rule judges (``judges``), read from the
published store and history:

* a grid of the profile: the trained models of the grid and their noise sweeps;
* ``store:<kind>/<pattern>``: artifacts of the store whose directory matches the pattern;
* ``file:<path>``: a file of the project (a table a script writes).

A result's date is the ``created`` time of its artifact's provenance or, for artifacts stored
before provenance was kept and for files, the commit that first added it. A commit comes after
the result it adds, so a commit date before the rule proves the rule post hoc, but one after it
proves nothing: such data may have existed, uncommitted, when the rule was fixed. A rule whose
first data predate it is marked post hoc.

Verdicts are marked one by one too (:func:`verdict_order`): a rule fixed after its first data
can still judge networks trained after it, whose results did not exist when it was fixed.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
from pathlib import Path

import pandas as pd

from bnnoise.config import Profile
from bnnoise.lineage import produces
from bnnoise.pipeline.specs import profile_specs
from bnnoise.rules import RULES
from bnnoise.store import MANIFEST

SWEPT_TARGETS = ("all", "trainable", "weights", "kernels", "clean")
"""The target names a sweep cell's directory can carry (``clean``: the reference, eta 0)."""


def _git_date(root: Path, *arguments: str) -> datetime.datetime | None:
    """The earliest commit date that ``git log`` reports for ``arguments``, or None."""
    try:
        out = subprocess.run(["git", "-C", str(root), "log", "--format=%cI", *arguments],
                             capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    dates = [datetime.datetime.fromisoformat(d).astimezone(datetime.UTC) for d in out]
    return min(dates) if dates else None


def commit_date(root: Path, commit: str) -> datetime.datetime | None:
    """The UTC date of ``commit`` in the project's history, or None if it is unknown."""
    return _git_date(root, "-1", commit)


def _patterns(profile: Profile, source: str) -> list[str]:
    """Store directory patterns (``<kind>/<glob>``) of one ``judges`` entry."""
    if source.startswith("store:"):
        return [source.removeprefix("store:")]
    if source not in profile.grid_names:  # a profile without this grid has no such data
        return []
    slugs = [spec.slug for spec in profile_specs(profile, source)]
    return [f"models/{slug}-" + "?" * 16 for slug in slugs] + [
        f"sweeps/{slug}-{target}-eta*" for slug in slugs for target in SWEPT_TARGETS]


def first_data(profile: Profile, sources: tuple[str, ...]) -> datetime.datetime | None:
    """The date of the first result among ``sources`` (module docstring); None if none exists
    yet."""
    return first_data_dated(profile, sources)[0]


def first_data_dated(profile: Profile, sources: tuple[str, ...]
                     ) -> tuple[datetime.datetime | None, bool]:
    """:func:`first_data`, and whether that date is a result's own ``created`` time (True) or
    the commit that added it (False: the result may be older)."""
    dates: list[tuple[datetime.datetime, bool]] = []
    store = profile.store_dir
    for source in sources:
        if source.startswith("file:"):
            found = _git_date(profile.root, "--diff-filter=A", "--",
                              source.removeprefix("file:"))
            dates += [(found, False)] if found else []
            continue
        for pattern in _patterns(profile, source):
            kind, glob = pattern.split("/", 1)
            folder = store / kind
            matches = sorted(folder.glob(glob)) if folder.is_dir() else []
            undated = []
            for path in matches:
                created = json.loads((path / MANIFEST).read_text()).get(
                    "provenance", {}).get("created")
                if created:
                    dates.append((datetime.datetime.strptime(created, "%Y-%m-%d %H:%M UTC")
                                  .replace(tzinfo=datetime.UTC), True))
                else:
                    undated.append(path / MANIFEST)
            if undated:
                found = _git_date(profile.root, "--diff-filter=A", "--",
                                  *(str(p.relative_to(profile.root)) for p in undated))
                dates += [(found, False)] if found else []
    # the earliest; of equal dates, an exact one
    return min(dates, key=lambda d: (d[0], not d[1])) if dates else (None, False)


@produces
def rule_ledger(profile: Profile) -> pd.DataFrame:
    """One row per rule: what it decides, the commit that fixed it and its date, the date of
    the first result it judges and what dates it (its creation, or the commit that added it:
    a later time), and whether the rule came first (``post_hoc``: it did not)."""
    rows = []
    for name, rule in RULES.items():
        fixed = commit_date(profile.root, rule.fixed_in)
        data, exact = first_data_dated(profile, rule.judges)
        rows.append({
            "rule": name, "decides": rule.decides, "fixed_in": rule.fixed_in,
            "fixed_at": fixed.strftime("%Y-%m-%d %H:%M UTC") if fixed else "",
            "first_data_at": data.strftime("%Y-%m-%d %H:%M UTC") if data else "",
            "first_data_dated_by": ("" if data is None
                                    else "its creation" if exact else "its commit"),
            "post_hoc": bool(fixed and data and data < fixed),
            "judges": ", ".join(rule.judges)})
    return pd.DataFrame(rows)


def ledger_sentence(ledger: pd.DataFrame) -> str:
    """How many rules were fixed before their first data, after them, or have none yet."""
    dated = ledger[ledger["first_data_at"] != ""]
    late = int(dated["post_hoc"].sum())
    waiting = len(ledger) - len(dated)
    return (f"Of the book's {len(ledger)} rules, {len(dated) - late} were committed before the "
            f"first result they judge, {late} after it (post hoc: the rule was written when "
            f"some of its data could already be seen), and {waiting} "
            f"judge{'s' if waiting == 1 else ''} results that do not exist yet.")


def network_dates(profile: Profile, artifacts: list[str]) -> dict[str, tuple[datetime.datetime,
                                                                           bool]]:
    """Per trained model (its artifact key): when it was stored, and whether that date is the
    provenance's ``created`` time (True) or the commit that added it (False: later than its
    creation). Keys without a stored model are left out."""
    dates = {}
    for key in artifacts:
        manifest = profile.store_dir / "models" / key / MANIFEST
        if not manifest.is_file():
            continue
        created = json.loads(manifest.read_text()).get("provenance", {}).get("created")
        if created:
            dates[key] = (datetime.datetime.strptime(created, "%Y-%m-%d %H:%M UTC")
                          .replace(tzinfo=datetime.UTC), True)
        elif (found := _git_date(profile.root, "--diff-filter=A", "--",
                                 str(manifest.relative_to(profile.root)))):
            dates[key] = (found, False)
    return dates


MODEL_NAME = re.compile(r"\b(?:resnet|vgg)\d+\b")
"""A model's name inside a verdict's subject."""


def verdict_order(verdicts: pd.DataFrame, training: pd.DataFrame, profile: Profile,
                  ledger: pd.DataFrame) -> pd.Series:
    """Per verdict row: ``data first`` if a network it judges was trained before its rule was
    fixed, ``rule first`` if every one was trained after it, ``unknown`` where only commit
    dates after the rule are known (module docstring). The networks of a row: those of
    ``training`` (with its ``artifact`` column) of the row's dataset and training length whose
    model the row's subject names, or all of them where it names none (a series across
    depths), which can only make a row look post hoc, never the reverse."""
    fixed = {r.rule: datetime.datetime.strptime(r.fixed_at, "%Y-%m-%d %H:%M UTC")
             .replace(tzinfo=datetime.UTC) for r in ledger.itertuples() if r.fixed_at}
    dates = network_dates(profile, list(training["artifact"].dropna().unique()))
    orders = []
    for row in verdicts.itertuples():
        mine = training[training["dataset"] == row.dataset]
        if "epochs" in verdicts and "epochs" in mine and pd.notna(row.epochs):
            mine = mine[mine["epochs"] == row.epochs]
        named = MODEL_NAME.findall(row.subject)
        mine = mine[mine["model"].isin(named)] if named else mine
        known = [dates[key] for key in mine["artifact"] if key in dates]
        rule = fixed.get(row.rule_name)
        if rule is None or not known:
            orders.append("unknown")
        elif any(date < rule for date, _ in known):
            orders.append("data first")
        else:
            orders.append("rule first" if all(exact for _, exact in known) else "unknown")
    return pd.Series(orders, index=verdicts.index, name="order")
