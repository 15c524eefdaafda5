"""The device verdicts (bnnoise.analysis.device_claims): the average over the times after
programming, and the two rules fixed before the device sweeps of the published profile."""

import numpy as np
import pandas as pd
import pytest

from bnnoise.analysis.device_claims import device_average, device_bn_gap, device_parity

TIMES = (1.0, 3600.0, 86400.0)


def _draws(levels: dict[tuple[str, str], float], spread: float = 0.002,
           draws: int = 5, device: str = "default") -> pd.DataFrame:
    """A device sweep table whose normalized accuracy is ``levels[(norm, deployment)]`` at
    every time, up to a small alternating spread over the draws."""
    rng = np.random.default_rng(0)
    rows = []
    for (norm, deployment), level in levels.items():
        for t in TIMES:
            for draw in range(draws):
                value = level + spread * rng.standard_normal()
                rows.append({"dataset": "cifar10", "model": "resnet20", "norm": norm,
                             "bn_layers": 19 if norm == "bn" else 0, "placement": "all",
                             "seed": 0, "epochs": 10, "deployment": deployment, "device": device,
                             "target": "kernels",
                             "t_inference": t, "draw": draw, "accuracy": 0.9 * value,
                             "normalized_accuracy": value, "accuracy_argmax": 0.9 * value,
                             "normalized_accuracy_argmax": value, "nonfinite_fraction": 0.0})
    return pd.DataFrame(rows)


def test_the_device_average_takes_each_draw_over_the_times_as_one_replicate() -> None:
    draws = _draws({("bn", "standard"): 0.8}, spread=0.0)
    draws.loc[draws["t_inference"] == 1.0, "normalized_accuracy"] = 1.1
    average = device_average(draws)
    wrong = average[average["scoring"] == "wrong"].iloc[0]
    assert wrong["avg_normalized_accuracy"] == pytest.approx((1.1 + 0.8 + 0.8) / 3)
    assert wrong["draws"] == 5 and wrong["times"] == "1 3600 86400"
    assert wrong["high"] - wrong["low"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("bn", "none", "gap", "parity"), [
    (0.80, 0.90, "reproduced", "contradicted"),      # a 10-point harm
    (0.895, 0.90, "contradicted", "reproduced"),     # half a point: no harm that matters
    (0.885, 0.90, "inconclusive at this power", "inconclusive at this power"),  # 1.5 points
])
def test_device_verdicts_follow_the_margins(bn: float, none: float, gap: str,
                                            parity: str) -> None:
    spread = 0.02 if gap.startswith("inconclusive") else 0.002
    average = device_average(_draws({("bn", "standard"): bn, ("bn", "folded"): bn,
                                     ("none", "standard"): none}, spread=spread))
    gaps = device_bn_gap(average)
    assert set(gaps["verdict"]) == {gap} and len(gaps) == 2  # two scorings
    assert gaps["estimate"].iloc[0] == pytest.approx(100 * (none - bn), abs=1.5)
    parities = device_parity(average)
    assert set(parities["subject"]) == {"resnet20, BN standard", "resnet20, BN folded"}
    assert set(parities["verdict"]) == {parity}
    assert "above \N{MINUS SIGN}2 points" in parities["rule"].iloc[0]
    assert set(parities["interval"]) == {"one seed, programmed devices (t)"}


def test_a_device_variant_gets_its_own_gap_and_no_deployment_verdict() -> None:
    levels = {("bn", "standard"): 0.8, ("none", "standard"): 0.9}
    draws = pd.concat([_draws({**levels, ("bn", "folded"): 0.85}),
                       _draws(levels, device="column")], ignore_index=True)
    average = device_average(draws)
    gaps = device_bn_gap(average)
    assert set(gaps["subject"]) == {"resnet20", "resnet20, column device"}
    parities = device_parity(average)
    assert set(parities["subject"]) == {"resnet20, BN standard", "resnet20, BN folded"}


def test_the_claims_page_gives_the_device_verdicts_or_says_none_is_stored() -> None:
    from bnnoise.pages.device_tables import device_claims_in_words

    assert "no device sweep of this profile is stored" in device_claims_in_words(None, None).data
    rows = pd.DataFrame({"verdict": ["reproduced", "reproduced", "inconclusive at this power"]})
    text = device_claims_in_words(rows, rows.iloc[:1]).data
    assert "2 of 3 comparisons reproduce it, 0 contradict it, 1 cannot decide" in text
    assert "1 of 1 comparisons reproduce it" in text
    # while the device chapter is not in the book, its verdicts wait for it
    waiting = device_claims_in_words(rows, rows, in_book=False).data
    assert "under way" in waiting and "reproduce it" not in waiting
