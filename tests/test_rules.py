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
