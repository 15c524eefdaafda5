"""The ledger of the book's rules: when each was fixed, and whether its data existed by then.

A verdict is only as honest as the order of its rule and its data. For every rule of
:data:`bnnoise.rules.RULES`, :func:`rule_ledger` puts the date of the commit that fixed it
(``fixed_in``) beside the date of the first result the rule judges (``judges``), read from the
published store and history:

* a grid of the profile: the trained models of the grid and their noise sweeps;
* ``store:<kind>/<pattern>``: artifacts of the store whose directory matches the pattern;
* ``file:<path>``: a file of the project (a table a script writes).

A result's date is the ``created`` time of its artifact's provenance or, for artifacts stored
before provenance was kept and for files, the commit that first added it (a later time than its
creation, so a rule can only look *more* post hoc by it, never less). A rule whose first data
predate it is marked post hoc.
"""

from __future__ import annotations

import datetime
import json
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
    dates: list[datetime.datetime] = []
    store = profile.store_dir
    for source in sources:
        if source.startswith("file:"):
            found = _git_date(profile.root, "--diff-filter=A", "--",
                              source.removeprefix("file:"))
            dates += [found] if found else []
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
                    dates.append(datetime.datetime.strptime(created, "%Y-%m-%d %H:%M UTC")
                                 .replace(tzinfo=datetime.UTC))
                else:
                    undated.append(path / MANIFEST)
            if undated:
                found = _git_date(profile.root, "--diff-filter=A", "--",
                                  *(str(p.relative_to(profile.root)) for p in undated))
                dates += [found] if found else []
    return min(dates) if dates else None


@produces
def rule_ledger(profile: Profile) -> pd.DataFrame:
    """One row per rule: what it decides, the commit that fixed it and its date, the date of
    the first result it judges, and whether the rule came first (``post_hoc``: it did not)."""
    rows = []
    for name, rule in RULES.items():
        fixed = commit_date(profile.root, rule.fixed_in)
        data = first_data(profile, rule.judges)
        rows.append({
            "rule": name, "decides": rule.decides, "fixed_in": rule.fixed_in,
            "fixed_at": fixed.strftime("%Y-%m-%d %H:%M UTC") if fixed else "",
            "first_data_at": data.strftime("%Y-%m-%d %H:%M UTC") if data else "",
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
