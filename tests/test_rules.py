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
    monkeypatch.setattr(L, "first_data_dated", lambda profile, sources: {
        ("main",): (day - datetime.timedelta(hours=1), True),
        ("normalizers",): (day + datetime.timedelta(hours=1), False)}.get(sources,
                                                                         (None, False)))
    table = L.rule_ledger(load_profile("cpu", root=ROOT)).set_index("rule")
    assert table.loc["headline", "post_hoc"]  # data an hour before the rule
    assert not table.loc["normalizer_answer", "post_hoc"]  # the rule an hour before its data
    assert table.loc["normalizer_answer", "first_data_dated_by"] == "its commit"
    assert table.loc["headline", "first_data_dated_by"] == "its creation"
    assert table.loc["training_length", "first_data_at"] == ""  # stubbed: no data yet
    assert table.loc["training_length", "first_data_dated_by"] == ""
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


def test_each_verdict_is_marked_by_whether_its_networks_were_trained_before_its_rule(
        tmp_path: Path, monkeypatch) -> None:
    import datetime
    import json
    from types import SimpleNamespace

    import pandas as pd

    from bnnoise.analysis import ledger as L

    def stored(key: str, created: str | None) -> None:
        folder = tmp_path / "models" / key
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps(
            {"provenance": {"created": created} if created else {}}))

    stored("old", "2026-11-22 04:00 UTC")  # trained before the rule
    stored("new-bn", "2026-12-07 06:00 UTC")  # after it
    stored("new-none", "2026-12-07 08:00 UTC")
    stored("undated", None)  # no provenance: dated by the commit that added it
    commits = {"undated": datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC)}
    monkeypatch.setattr(L, "_git_date", lambda root, *args: commits.get(Path(args[-1]).parent.name))
    profile = SimpleNamespace(store_dir=tmp_path, root=tmp_path)
    training = pd.DataFrame({
        "dataset": "cifar10", "model": ["resnet20", "resnet44", "resnet44", "vgg16"],
        "epochs": [10, 40, 40, 10], "artifact": ["old", "new-bn", "new-none", "undated"]})
    ledger = pd.DataFrame({"rule": ["bn_gap"], "fixed_at": ["2026-12-06 23:26 UTC"]})
    verdicts = pd.DataFrame({
        "dataset": "cifar10", "rule_name": "bn_gap", "epochs": [10, 40, 10, 10, 40],
        "subject": ["resnet20", "resnet44 with BN", "vgg16", "resnet × 2 depths", "resnet20"]})
    order = L.verdict_order(verdicts, training, profile, ledger)
    assert list(order) == ["data first", "rule first",
                           "unknown",  # only a commit after the rule: may be older
                           "data first",  # no model named: every network of its length counts
                           "unknown"]  # no network of that model and length
    assert L.network_dates(profile, ["undated"])["undated"][1] is False
