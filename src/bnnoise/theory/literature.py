"""Claims of the normalization literature, each tested by a rule fixed in code.

A claim says that one quantity is larger than another ("LayerNorm's training loss exceeds
GroupNorm's"). Its test estimates the difference (claimed-larger minus claimed-smaller) with a
95 % interval and applies a :class:`bnnoise.stats.Rule`: reproduced when the interval lies above
zero, contradicted when it lies below the rule's margin (zero unless stated), otherwise
*inconclusive at this power*, the honest outcome with three seeds' wide Welch intervals.

The intervals:

* :func:`welch_check`: two independent groups of runs (Welch's t, unequal variances); fewer than
  two values on a side cannot give an interval: inconclusive, and said so;
* :func:`one_sample_check`: one group of runs against a fixed value (Student's t);
* :func:`interaction_check`: a difference of differences between four independent groups of
  runs ("a exceeds b by more in one condition than in another"; Student's t with
  Welch-Satterthwaite degrees of freedom);
* :func:`proportion_check`: two shares of counted events, e.g. diverged runs out of runs
  (Newcombe's hybrid score interval: informative with three runs a side, unlike Wald's);
* :func:`all_of`: a claim made of several parts holds if every part is reproduced, fails if any
  part is contradicted, and is otherwise inconclusive.

Every :class:`Check` prints its claim, what was compared, the numbers (a difference's three at
the largest one's decimals), the rule and the verdict: Markdown in the book, plain text for nbval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bnnoise.rules import RULES
from bnnoise.stats import (
    Difference,
    Rule,
    Verdict,
    mean_ci,
    newcombe_difference,
    t_difference,
    welch_difference,
)


def _fmt(value: float, digits: int = 3, like: float | None = None) -> str:
    """``value`` to ``digits`` significant digits (scientific below 0.001 and from 10^5), or to
    the decimals ``like`` shows (one precision for a difference's three numbers: those of the
    largest); never a bare 0 for a value that is not 0."""
    if not math.isfinite(value):
        return "n/a"
    scale = abs(like or value)
    if not math.isfinite(scale) or not 1e-3 <= scale < 1e5:
        text = f"{value:.{digits - 1}e}"
    else:
        text = f"{value:.{max(0, digits - 1 - math.floor(math.log10(scale)))}f}"
    if float(text) == 0:  # a bound that is not 0 keeps digits of its own
        return _fmt(value, digits) if value != 0 and like else "0"
    return text


@dataclass(frozen=True)
class Check:
    """The test of one claim: what it says, what was compared, the interval and the verdict."""

    claim: str
    measure: str
    verdict: Verdict
    rule: Rule = field(default_factory=Rule)
    difference: Difference | None = None
    groups: str = ""
    note: str = ""
    parts: tuple[Check, ...] = ()

    @property
    def reproduced(self) -> bool:
        return self.verdict is Verdict.REPRODUCED

    def numbers(self) -> str:
        """The estimate and its interval, or what prevented one."""
        if self.parts:
            return "; ".join(f"{p.measure}: {p.numbers()} ({p.verdict})" for p in self.parts)
        d = self.difference
        top = max((abs(v) for v in (d.estimate, d.low, d.high) if math.isfinite(v)),
                  default=None) if d else None
        text = (f"difference {_fmt(d.estimate, like=top)}{self.rule.unit}, 95 % CI "
                f"[{_fmt(d.low, like=top)}, {_fmt(d.high, like=top)}]"
                if d is not None else "no interval")
        if self.groups:
            text += f" ({self.groups})"
        if self.note:
            text += f"; {self.note}"
        return text

    def text(self) -> str:
        """Plain text: claim, measure, numbers, rule, verdict (what nbval compares)."""
        lines = [f"Claim: {self.claim}"]
        if self.parts:
            lines.append(f"Compared: {self.measure}")
            lines += [f"  - {p.measure}: {p.numbers()}: {p.verdict}" for p in self.parts]
            lines.append(f"Rule: for each part, {self.rule.text()}; the claim is reproduced if "
                         "every part is, contradicted if any part is")
        else:
            lines += [f"Compared: {self.measure}", f"Numbers: {self.numbers()}",
                      f"Rule: {self.rule.text()}"]
        lines.append(f"Verdict: {self.verdict}")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The same as a Markdown paragraph (with a list for a claim of several parts)."""
        head = f"**Claim**: {self.claim}  \n*Compared*: {self.measure}"
        if self.parts:
            items = "\n".join(f"* {p.measure}: {p.numbers()}: *{p.verdict}*" for p in self.parts)
            rule = (f"*Rule*: for each part, {self.rule.text()}; the claim is reproduced if every "
                    "part is, contradicted if any part is.")
            return f"{head}\n\n{items}\n\n{rule}  \n**Verdict: {self.verdict}**\n"
        return (f"{head}  \n*Numbers*: {self.numbers()}  \n*Rule*: {self.rule.text()}  \n"
                f"**Verdict: {self.verdict}**\n")

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's text/plain
        printer.text(self.text())

    def _repr_markdown_(self) -> str:
        return self.markdown()


class Checks(tuple):
    """Several checks, shown one after the other (Markdown in the book, text for nbval)."""

    def __new__(cls, checks: Iterable[Check]) -> Checks:
        return super().__new__(cls, tuple(checks))

    def text(self) -> str:
        return "\n\n".join(c.text() for c in self)

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.text())

    def _repr_markdown_(self) -> str:
        return "\n".join(f"{i}. " + c.markdown().replace("\n", "\n   ").rstrip() + "\n"
                         for i, c in enumerate(self, start=1))

    def by_claim(self, words: str) -> Check:
        """The first check whose claim contains ``words``."""
        for check in self:
            if words in check.claim:
                return check
        raise KeyError(words)


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return a[np.isfinite(a)]


def welch_check(claim: str, measure: str, larger: Sequence[float] | np.ndarray,
                smaller: Sequence[float] | np.ndarray, rule: Rule | None = None) -> Check:
    """Test "``larger`` exceeds ``smaller``" with Welch's interval of the difference of means.

    Non-finite values are left out; with fewer than two values on a side there is no interval
    and the verdict is inconclusive."""
    rule = rule or RULES["theory_default"].rule
    a, b = _clean(larger), _clean(smaller)
    groups = f"{len(a)} vs {len(b)} runs"
    if len(a) < 2 or len(b) < 2:
        return Check(claim, measure, Verdict.INCONCLUSIVE, rule, None, groups,
                     "needs at least two runs on each side")
    difference = welch_difference(a, b)
    return Check(claim, measure, rule.verdict(difference), rule, difference, groups)


def one_sample_check(claim: str, measure: str, values: Sequence[float] | np.ndarray,
                     reference: float = 0.0, rule: Rule | None = None) -> Check:
    """Test "the mean of ``values`` exceeds ``reference``" with a Student-t interval."""
    rule = rule or RULES["theory_default"].rule
    a = _clean(values)
    if len(a) < 2:
        return Check(claim, measure, Verdict.INCONCLUSIVE, rule, None, f"{len(a)} runs",
                     "needs at least two runs")
    mean, half = mean_ci(a)
    difference = Difference(mean - reference, mean - reference - half, mean - reference + half)
    return Check(claim, measure, rule.verdict(difference), rule, difference, f"{len(a)} runs")


def interaction_check(claim: str, measure: str, larger_first: Sequence[float] | np.ndarray,
                      smaller_first: Sequence[float] | np.ndarray,
                      larger_second: Sequence[float] | np.ndarray,
                      smaller_second: Sequence[float] | np.ndarray, rule: Rule | None = None,
                      conditions: tuple[str, str] = ("in the first condition",
                                                     "in the second")) -> Check:
    """Test "``larger`` exceeds ``smaller`` by more in the first condition than in the second"
    with the interval of the difference of differences (an interaction).

    The estimate is (mean of ``larger_first`` - mean of ``smaller_first``) - (mean of
    ``larger_second`` - mean of ``smaller_second``); the four groups are independent runs, so its
    standard error is the root of the four squared standard errors of the means, with
    Welch-Satterthwaite degrees of freedom (:func:`bnnoise.stats.t_difference`, Welch's
    construction extended from two groups to four). The note gives the two differences it
    compares, named by ``conditions`` (e.g. ``("at batch 8", "at batch 128")``). Non-finite
    values are left out; with fewer than two values in any group the verdict is inconclusive."""
    rule = rule or RULES["theory_default"].rule
    samples = [_clean(v) for v in (larger_first, smaller_first, larger_second, smaller_second)]
    sizes = [len(g) for g in samples]
    groups = f"{sizes[0]} vs {sizes[1]} and {sizes[2]} vs {sizes[3]} runs"
    if min(sizes) < 2:
        return Check(claim, measure, Verdict.INCONCLUSIVE, rule, None, groups,
                     "needs at least two runs in each group")
    means = [float(g.mean()) for g in samples]
    first, second = means[0] - means[1], means[2] - means[3]
    errors = [float(g.std(ddof=1)) / math.sqrt(len(g)) for g in samples]
    difference = t_difference(first - second, errors, [n - 1 for n in sizes])
    return Check(claim, measure, rule.verdict(difference), rule, difference, groups,
                 f"difference {conditions[0]} {_fmt(first)}, {conditions[1]} {_fmt(second)}")


def proportion_check(claim: str, measure: str, events_a: int, trials_a: int, events_b: int,
                     trials_b: int, rule: Rule | None = None) -> Check:
    """Test "the share of events in a exceeds that in b" (e.g. diverged runs)."""
    rule = rule or RULES["theory_default"].rule
    groups = f"{events_a} of {trials_a} vs {events_b} of {trials_b}"
    if trials_a < 1 or trials_b < 1:
        return Check(claim, measure, Verdict.INCONCLUSIVE, rule, None, groups, "no runs")
    difference = newcombe_difference(events_a, trials_a, events_b, trials_b)
    return Check(claim, measure, rule.verdict(difference), rule, difference, groups)


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """Reproduced if every verdict is, contradicted if any is, else inconclusive (and
    inconclusive for no verdict at all)."""
    verdicts = list(verdicts)
    if verdicts and all(v is Verdict.REPRODUCED for v in verdicts):
        return Verdict.REPRODUCED
    if any(v is Verdict.CONTRADICTED for v in verdicts):
        return Verdict.CONTRADICTED
    return Verdict.INCONCLUSIVE


def all_of(claim: str, measure: str, parts: Sequence[Check], rule: Rule | None = None
           ) -> Check:
    """A claim made of ``parts`` (see :func:`combine`)."""
    rule = rule or (parts[0].rule if parts else RULES["theory_default"].rule)
    return Check(claim, measure, combine(p.verdict for p in parts), rule, parts=tuple(parts),
                 note="" if parts else "nothing to compare in this configuration")
