"""The registry of decision rules: each rule once, with a test and a commit behind it."""

import importlib
import re
import subprocess
from pathlib import Path

import pytest

from bnnoise.rules import RULES, rule_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(RULES))
def test_every_rule_names_a_test_that_exists_and_a_function_that_applies_it(name: str) -> None:
    rule = RULES[name]
    path, test = rule.test.split("::")
    assert re.search(rf"^def {test}\(", (ROOT / path).read_text(), re.M), rule.test
    module, function = rule.applied_by.rsplit(".", 1)
    assert hasattr(importlib.import_module(module), function), rule.applied_by


@pytest.mark.parametrize("name", list(RULES))
def test_every_rule_was_fixed_by_a_commit_of_this_history(name: str) -> None:
    shallow = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"],
                             capture_output=True, text=True)
    if shallow.returncode != 0 or shallow.stdout.strip() != "false":
        pytest.skip("not a full git checkout")
    found = subprocess.run(["git", "-C", str(ROOT), "merge-base", "--is-ancestor",
                            RULES[name].fixed_in, "HEAD"], capture_output=True)
    assert found.returncode == 0, f"{name}: {RULES[name].fixed_in} is not in HEAD's history"


def test_the_modules_apply_the_registered_rules_not_copies() -> None:
    from bnnoise.analysis import claims, literature_claims, normalizer_comparison, pilots
    from bnnoise.pipeline import remedies

    assert claims.BN_GAP_RULE is RULES["bn_gap"].rule
    assert claims.HEADLINE_TOLERANCE == 5.0 and claims.ROBUST_THRESHOLD == 90.0
    assert remedies.RECOVERY_RULE is RULES["recovery"].rule
    assert literature_claims.LITERATURE_RULE is RULES["literature"].rule
    assert RULES["normalizer_answer"].wording == normalizer_comparison.ANSWER_RULE
    assert pilots.LENGTH_TOLERANCE == 0.005
    assert len(rule_table()) == len(RULES)


def test_every_rule_names_the_results_it_judges() -> None:
    from bnnoise.config import load_profile

    grids = set(load_profile("cpu", root=ROOT).grid_names)
    for name, rule in RULES.items():
        assert rule.judges, name
        for source in rule.judges:
            assert source.startswith(("store:", "file:")) or source in grids, (name, source)
            if source.startswith("file:"):
                assert (ROOT / source.removeprefix("file:")).is_file(), (name, source)


def test_the_ledger_marks_a_rule_committed_after_its_first_data_as_post_hoc(monkeypatch) -> None:
    import datetime

    from bnnoise.analysis import ledger as L
    from bnnoise.config import load_profile

    day = datetime.datetime(2026, 11, 22, tzinfo=datetime.UTC)
    monkeypatch.setattr(L, "commit_date", lambda root, commit: day)
    monkeypatch.setattr(L, "first_data", lambda profile, sources: {
        ("main",): day - datetime.timedelta(hours=1),
        ("normalizers",): day + datetime.timedelta(hours=1)}.get(sources))
    table = L.rule_ledger(load_profile("cpu", root=ROOT)).set_index("rule")
    assert table.loc["headline", "post_hoc"]  # data an hour before the rule
    assert not table.loc["normalizer_answer", "post_hoc"]  # the rule an hour before its data
    assert table.loc["training_length", "first_data_at"] == ""  # stubbed: no data yet
    sentence = L.ledger_sentence(table.reset_index())
    assert "1 after it" in sentence and f"{len(RULES) - 2} judge results" in sentence


def test_the_published_ledger_reads_the_first_sweeps_before_the_claims_rules() -> None:
    import json

    from bnnoise.analysis.ledger import commit_date, first_data
    from bnnoise.config import load_profile

    profile = load_profile("cpu", root=ROOT)
    first = first_data(profile, ("main",))
    manifests = (profile.store_dir / "models").glob("cifar10-resnet20-bn-" + "?" * 16
                                                     + "/manifest.json")
    dated = [json.loads(p.read_text()).get("provenance", {}).get("created") for p in manifests]
    earliest = min(d for d in dated if d)
    assert first is not None and first.strftime("%Y-%m-%d %H:%M UTC") <= earliest
    # the claims' rules were committed after the first networks were trained and swept
    assert first < commit_date(ROOT, RULES["bn_gap"].fixed_in)
