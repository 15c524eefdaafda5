"""Where a figure's or table's numbers were computed, in one sentence generated from the store.

Every artifact's manifest records its provenance (:func:`bnnoise.origin.provenance`): the CPU and
its bfloat16 capability, threads, torch and Python versions, the library version, the code
commit, the date and, for results computed from data, the data's fingerprint. A figure usually
rests on many artifacts; :func:`provenance_line` condenses their records into one line for the
book. A page shows each such line once: under a figure or table, :func:`cite` puts a short
reference to a numbered note, and :func:`provenance_notes`, the page's last cell, lists the
notes. Records of older artifacts may lack keys, or be empty: what is missing is said to be "not
recorded", never guessed; for those without a date, git's first commit of the artifact bounds
when it was computed, and the line says so.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from IPython.display import Markdown

from bnnoise.origin import dated_by_git
from bnnoise.store import MANIFEST

NOT_RECORDED = "not recorded"


def records_under(store_root: Path | str, kind: str, slugs_prefix: str | None = None
                  ) -> list[dict[str, Any]]:
    """The provenance records of every stored artifact of ``kind`` under ``store_root`` whose
    directory name starts with ``slugs_prefix`` (all if ``None``), in name order. Temporary and
    set-aside directories are skipped; an artifact without a record gives an empty dict."""
    folder = Path(store_root) / kind
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not (path / MANIFEST).is_file():
            continue
        if slugs_prefix is not None and not path.name.startswith(slugs_prefix):
            continue
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError):
            manifest = {}
        records.append(dated_by_git(dict(manifest.get("provenance") or {}), path))
    return records


def _distinct(records: list[dict[str, Any]], key: str) -> tuple[list[str], bool]:
    """The distinct recorded values of ``key`` (in order of first appearance) and whether some
    record lacks it."""
    values = [r.get(key) for r in records]
    present = list(dict.fromkeys(str(v) for v in values if v not in (None, "")))
    return present, any(v in (None, "") for v in values) or not records


def _bf16(record: dict[str, Any]) -> str:
    amx, avx = record.get("amx"), record.get("avx512_bf16")
    if amx is None and avx is None:
        return f"bf16 capability {NOT_RECORDED}"
    if amx or avx:
        return "native bf16 (" + " + ".join(
            name for name, flag in (("AMX", amx), ("AVX-512-BF16", avx)) if flag) + ")"
    return "no native bf16"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _seeds(seeds: Iterable[int] | None) -> str | None:
    seeds = list(seeds) if seeds is not None else []
    if not seeds:
        return None
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(s) for s in seeds)


def provenance_line(records: list[dict[str, Any]], profile: str,
                    seeds: list[int] | None = None) -> str:
    """One human sentence saying where the numbers behind a figure or table come from.

    Args:
        records: provenance records of the artifacts it rests on (:func:`records_under`,
            :meth:`bnnoise.store.ArtifactStore.provenance`); missing keys or empty records are
            reported as "not recorded".
        profile: the profile of ``params.yaml`` that produced them.
        seeds: the seeds involved, if any.
    """
    records = [dict(r or {}) for r in records]
    count = len(records)
    results = f"{count} stored result{'s' if count != 1 else ''}" if count else "no stored result"
    seed_text = _seeds(seeds)
    head = (f"Computed with profile {profile} from {results}"
            f" ({seed_text or 'seeds ' + NOT_RECORDED})")
    known, unknown, partly = [], [], []

    dates, missing = _distinct(records, "created")
    if dates:
        days = sorted({d.split(" ")[0] for d in dates})
        head += " on " + (days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}")
        partly += ["date"] if missing else []
    else:
        unknown.append("date")
    for key, label in (("commit", "code commit"), ("library", "bnnoise"), ("torch", "torch")):
        name = label if key != "library" else "bnnoise version"
        values, missing = _distinct(records, key)
        if values:
            known.append(f"{label} {', '.join(values)}")
            partly += [name] if missing else []
        else:
            unknown.append(name)
    machines = list(dict.fromkeys(f"{r['cpu']}, {_bf16(r)}" for r in records if r.get("cpu")))
    if machines:
        known.append("CPU " + "; ".join(machines))
        partly += ["CPU"] if any(not r.get("cpu") for r in records) else []
    else:
        unknown.append("CPU")
    sentence = head
    if known:
        sentence += "; " + ", ".join(known)
    if unknown:
        sentence += f"; {_and(unknown)} {NOT_RECORDED}"
    if partly:
        sentence += f"; {_and(partly)} {NOT_RECORDED} for some (older) results"
    return sentence + _git_dated(records) + "."


def _git_dated(records: list[dict[str, Any]]) -> str:
    """What git says of the records without a date of their own (``committed``, from
    :func:`bnnoise.origin.dated_by_git`): when and in which commits they were first committed,
    the latest they can have been computed; empty where no record has it."""
    undated = [r for r in records if not r.get("created")]
    found = [r["committed"] for r in undated if r.get("committed")]
    if not found:
        return ""
    days = sorted({c.split(" ")[0] for c in found})
    commits = list(dict.fromkeys(c.split(" ")[-1] for c in found))
    shown = ", ".join(commits[:2]) + (f" and {len(commits) - 2} more" if len(commits) > 2 else "")
    span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    counted = (f"{len(found)} of the {len(undated)} undated ones" if len(found) < len(undated)
               else "the undated ones" if len(found) > 1 else "the undated one")
    return f"; {counted} first committed on {span} ({shown}), so computed no later"


def provenance_markdown(records: list[dict[str, Any]], profile: str,
                        seeds: list[int] | None = None) -> str:
    """:func:`provenance_line` as a small, italic MyST block for the page (class
    ``provenance``), to be placed under a figure or table."""
    return _block(provenance_line(records, profile, seeds))


def _block(line: str) -> str:
    """A provenance sentence as the small, italic MyST block placed under figures and tables."""
    line = line.replace("*", r"\*")
    return f":::{{container}} provenance small text-muted\n*{line}*\n:::\n"


def script_table_markdown(path: Path, script: str) -> str:
    """The provenance block of a table written by a script rather than from stored artifacts
    (e.g. the learning-rate pilot): the script, and the date and commit that added the table
    to the repository, read from git; the machine is not recorded for such tables."""
    try:
        log = subprocess.run(["git", "-C", str(path.parent), "log", "-1", "--format=%cs %h",
                              "--", path.name], capture_output=True, text=True, check=True)
        date, commit = log.stdout.split() if log.stdout.strip() else (None, None)
    except (OSError, subprocess.CalledProcessError, ValueError):
        date, commit = None, None
    committed = (f"committed on {date} in {commit}" if date
                 else f"not committed (commit {NOT_RECORDED})")
    line = (f"Written by {script}; the table was {committed}; CPU, torch and bnnoise version "
            f"{NOT_RECORDED}.")
    return _block(line)


_notes: dict[str, int] = {}
"""The provenance blocks cited on the page being executed (one kernel per page), numbered in
the order they are first cited."""


def cite(block: str) -> str:
    """A short reference to ``block`` (:func:`provenance_markdown`), to put under a figure or
    table instead of the block: its note number, the same for every figure and table that rests
    on the same results; the notes are listed by :func:`provenance_notes`."""
    number = _notes.setdefault(block, len(_notes) + 1)
    return _block(f"Provenance: note {number} at the end of this page.")


def _sentence(block: str) -> str:
    """The sentence inside a provenance block (the reverse of :func:`_block`)."""
    lines = [line for line in block.splitlines() if not line.startswith(":::")]
    return " ".join(lines).strip().removeprefix("*").removesuffix("*")


def provenance_notes() -> Markdown:
    """The page's provenance notes, each once, numbered as :func:`cite` numbered them (the
    last cell of every page that cites one)."""
    if not _notes:
        return Markdown("")
    items = "\n".join(f"{number}. {_sentence(block)}" for block, number in _notes.items())
    return Markdown("**Provenance notes.** Where and with what the numbers of this page were "
                    "computed; each figure and table names its note.\n\n" + items + "\n")
