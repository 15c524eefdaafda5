"""The study's claim verdicts (bnnoise.analysis.claims) on constructed tables."""

import pandas as pd
import pytest

from bnnoise.analysis.claims import (
    all_claims,
    bn_gap_at_matched_accuracy,
    bn_lowers_resistance,
    harm_grows_across_depths,
    harm_grows_controlled,
    headline_numbers,
    no_bn_stays_robust,
    verdict_counts,
)


def _row(model, norm, avg, se=0.01, seed=0, bn_layers=None, placement="all", target="all",
         scoring="wrong", dataset="cifar10"):
    layers = bn_layers if bn_layers is not None else (0 if norm == "none" else 19)
    return {"dataset": dataset, "model": model, "norm": norm, "bn_layers": layers,
            "placement": placement, "seed": seed, "target": target, "scoring": scoring,
            "avg_normalized_accuracy": avg, "standard_error": se, "low": avg - 2 * se,
            "high": avg + 2 * se}


def test_bn_gap_outcomes() -> None:
    table = pd.DataFrame([_row("a", "bn", 0.40), _row("a", "none", 0.90),   # clear harm
                          _row("b", "bn", 0.90), _row("b", "none", 0.89, se=0.002),  # none
                          _row("c", "bn", 0.80, se=0.1), _row("c", "none", 0.85, se=0.1)])
    verdicts = bn_lowers_resistance(table).set_index("subject")["verdict"].to_dict()
    assert verdicts == {"a": "reproduced", "b": "contradicted",
                        "c": "inconclusive at this power"}


def test_bn_gap_uses_seeds_when_there_are_several() -> None:
    table = pd.DataFrame([_row("a", "bn", v, seed=s) for s, v in enumerate([0.4, 0.7, 0.5])]
                         + [_row("a", "none", v, seed=s) for s, v in enumerate([0.9, 0.6, 0.8])])
    row = bn_lowers_resistance(table).iloc[0]
    assert row["interval"] == "seeds (3 vs 3)"
    assert row["estimate"] == pytest.approx(100 * (0.7667 - 0.5333), abs=0.05)
    assert row["verdict"] == "inconclusive at this power"  # the seeds disagree


def test_depth_series_slope() -> None:
    rows = []
    for model, layers, bn in [("resnet20", 19, 0.8), ("resnet32", 31, 0.7),
                              ("resnet44", 43, 0.6), ("resnet56", 55, 0.5)]:
        rows += [_row(model, "bn", bn, bn_layers=layers), _row(model, "none", 0.9)]
    row = harm_grows_across_depths(pd.DataFrame(rows)).iloc[0]
    assert row["estimate"] == pytest.approx(100 * 0.1 / 12) and row["verdict"] == "reproduced"


def test_controlled_series_per_placement() -> None:
    rows = [_row("resnet20", "none", 0.9), _row("resnet20", "bn", 0.5)]
    for k in (3, 7, 11, 15):
        rows.append(_row("resnet20", "bn", 0.9 - 0.02 * k, bn_layers=k, placement="first"))
        rows.append(_row("resnet20", "bn", {3: 0.2, 7: 0.95, 11: 0.2, 15: 0.95}[k],
                         bn_layers=k, placement="last"))  # no trend: a wide interval
    table = harm_grows_controlled(pd.DataFrame(rows)).set_index("subject")
    first = table.loc["resnet20, BN in the first k of its slots (k = 0, 3, 7, 11, 15, 19)"]
    assert first["verdict"] == "reproduced" and first["estimate"] == pytest.approx(2.1, abs=0.2)
    last = table.loc["resnet20, BN in the last k of its slots (k = 0, 3, 7, 11, 15, 19)"]
    assert last["verdict"] != "reproduced"
    # a placement with fewer trained counts says which counts its slope rests on
    fewer = harm_grows_controlled(pd.DataFrame([r for r in rows if not (
        r["placement"] == "last" and r["bn_layers"] in (11, 15))]))
    assert "resnet20, BN in the last k of its slots (k = 0, 3, 7, 19)" in set(fewer["subject"])


def test_headline_and_robustness() -> None:
    table = pd.DataFrame([_row("resnet44", "bn", 0.45), _row("resnet44", "none", 0.80),
                          _row("vgg16", "none", 0.96, se=0.005)])
    headline = headline_numbers(table).set_index("subject")["verdict"].to_dict()
    assert headline == {"resnet44 with BN": "reproduced",       # 41.3 within 45 +- 2 +- 5
                        "resnet44 without BN": "contradicted",  # 91.95 far above 80
                        "vgg16 without BN": "reproduced"}       # 93.8 within 96 +- 1 +- 5
    robust = no_bn_stays_robust(table).set_index("subject")["verdict"].to_dict()
    assert robust == {"resnet44": "contradicted", "vgg16": "reproduced"}
    assert set(all_claims(table)["claim"]) >= {"BN lowers noise resistance",
                                               "the headline numbers"}
    counts = verdict_counts(all_claims(table))
    assert counts[["reproduced", "contradicted"]].to_numpy().sum() >= 4


def _progress(norm, epoch, clean, draws, model="resnet32", target="all"):
    return [{"dataset": "cifar10", "model": model, "norm": norm,
             "bn_layers": 0 if norm == "none" else 31, "placement": "all", "seed": 0,
             "epoch": epoch, "target": target, "draw": d, "clean_accuracy": clean,
             "avg_normalized_accuracy": v} for d, v in enumerate(draws)]


def test_matched_accuracy_compares_the_final_no_bn_model_with_the_nearest_bn_snapshot() -> None:
    rows = (_progress("none", 10, 0.80, [0.80, 0.81, 0.79])
            + _progress("bn", 2, 0.60, [0.10, 0.11, 0.12])
            + _progress("bn", 4, 0.78, [0.50, 0.52, 0.48])     # nearest to 80 %
            + _progress("bn", 10, 0.86, [0.30, 0.31, 0.29]))
    row = bn_gap_at_matched_accuracy(pd.DataFrame(rows)).iloc[0]
    assert "after epoch 10 (80.0 %) vs with BN after epoch 4 (78.0 %)" in row["subject"]
    assert row["estimate"] == pytest.approx(30.0)
    assert row["verdict"] == "reproduced" and row["interval"] == "draws (3 vs 3)"
    same = (_progress("none", 10, 0.80, [0.800, 0.802, 0.798])
            + _progress("bn", 4, 0.79, [0.801, 0.799, 0.800]))
    assert bn_gap_at_matched_accuracy(pd.DataFrame(same))["verdict"].iloc[0] == "contradicted"
    assert "matched" in " ".join(all_claims(pd.DataFrame([_row("a", "bn", 0.4)]),
                                            pd.DataFrame(rows))["claim"])
