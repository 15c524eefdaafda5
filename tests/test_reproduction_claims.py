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
            "high": avg + 2 * se, "draws": 5}


def test_bn_gap_outcomes() -> None:
    table = pd.DataFrame([_row("a", "bn", 0.40), _row("a", "none", 0.90),   # clear harm
                          _row("b", "bn", 0.90), _row("b", "none", 0.89, se=0.002),  # none
                          _row("c", "bn", 0.80, se=0.1), _row("c", "none", 0.85, se=0.1),
                          # a real but small harm (1 point, precisely): below the margin
                          _row("d", "bn", 0.89, se=0.001), _row("d", "none", 0.90, se=0.001),
                          # a harm of 3 points whose interval reaches below 2: not settled
                          _row("e", "bn", 0.87, se=0.004), _row("e", "none", 0.90, se=0.004)])
    verdicts = bn_lowers_resistance(table).set_index("subject")["verdict"].to_dict()
    assert verdicts == {"a": "reproduced", "b": "contradicted",
                        "c": "inconclusive at this power", "d": "contradicted",
                        "e": "inconclusive at this power"}


def test_one_seed_differences_use_students_t_with_the_draws_degrees_of_freedom() -> None:
    table = pd.DataFrame([_row("a", "bn", 0.80, se=0.01), _row("a", "none", 0.90, se=0.01)])
    row = bn_lowers_resistance(table).iloc[0]
    # two runs of 5 draws each with equal standard errors: 8 degrees of freedom, t = 2.306
    assert (row["high"] - row["low"]) / 2 == pytest.approx(2.306 * 100 * 0.01 * 2 ** 0.5,
                                                            rel=1e-3)
    assert row["interval"] == "one seed (t)"


def test_bn_gap_uses_seeds_when_there_are_several() -> None:
    table = pd.DataFrame([_row("a", "bn", v, seed=s) for s, v in enumerate([0.4, 0.7, 0.5])]
                         + [_row("a", "none", v, seed=s) for s, v in enumerate([0.9, 0.6, 0.8])])
    row = bn_lowers_resistance(table).iloc[0]
    assert row["interval"] == "seeds (3 vs 3)"
    assert row["estimate"] == pytest.approx(100 * (0.7667 - 0.5333), abs=0.05)
    assert row["verdict"] == "inconclusive at this power"  # the seeds disagree


def test_bn_gap_compares_only_the_seeds_both_arms_have() -> None:
    # seed 1 of the BN arm is trained, its twin without BN not yet: seed 0 alone is compared
    table = pd.DataFrame([_row("a", "bn", 0.80, seed=0), _row("a", "bn", 0.20, seed=1),
                          _row("a", "none", 0.90, seed=0)])
    row = bn_lowers_resistance(table).iloc[0]
    assert row["estimate"] == pytest.approx(10.0) and row["interval"] == "one seed (t)"
    lone = pd.DataFrame([_row("a", "bn", 0.80, seed=1), _row("a", "none", 0.90, seed=0)])
    assert bn_lowers_resistance(lone).empty


def test_depth_series_growth_from_the_shallowest_to_the_deepest() -> None:
    rows = []
    for model, layers, bn in [("resnet20", 19, 0.8), ("resnet32", 31, 0.7),
                              ("resnet44", 43, 0.6), ("resnet56", 55, 0.5)]:
        rows += [_row(model, "bn", bn, bn_layers=layers), _row(model, "none", 0.9)]
    row = harm_grows_across_depths(pd.DataFrame(rows)).iloc[0]
    assert row["estimate"] == pytest.approx(30.0) and row["verdict"] == "reproduced"
    assert row["kendall_tau"] == pytest.approx(1.0)
    assert row["share_at_smallest"] == pytest.approx(10 / 40)


def test_a_series_uses_the_seeds_every_member_has() -> None:
    rows = []
    for model, layers in [("resnet20", 19), ("resnet32", 31), ("resnet56", 55)]:
        rows += [_row(model, "bn", 0.6, se=0.002, bn_layers=layers),
                 _row(model, "none", 0.9, se=0.002)]
    # further seeds of one depth only: they do not enter the series
    rows += [_row("resnet20", "bn", 0.1, seed=s, bn_layers=19) for s in (1, 2)]
    rows += [_row("resnet20", "none", 0.9, seed=s) for s in (1, 2)]
    row = harm_grows_across_depths(pd.DataFrame(rows)).iloc[0]
    assert "(seed 0)" in row["subject"] and row["estimate"] == pytest.approx(0.0)
    assert row["verdict"] == "contradicted"  # equal harm at every depth: no growth


def test_controlled_series_per_placement() -> None:
    rows = [_row("resnet20", "none", 0.9), _row("resnet20", "bn", 0.5, se=0.003)]
    for k in (3, 7, 11, 15):
        rows.append(_row("resnet20", "bn", 0.9 - 0.02 * k, bn_layers=k, placement="first"))
        rows.append(_row("resnet20", "bn", 0.5, se=0.003, bn_layers=k,
                         placement="last"))  # saturated
    table = harm_grows_controlled(pd.DataFrame(rows)).set_index("subject")
    first = table.loc["resnet20, BN in the first k of its slots (k = 0, 3, 7, 11, 15, 19; "
                      "seed 0)"]
    # growth from k = 3 (0.84) to k = 19 (0.50): 34 points
    assert first["verdict"] == "reproduced" and first["estimate"] == pytest.approx(34.0)
    last = table.loc["resnet20, BN in the last k of its slots (k = 0, 3, 7, 11, 15, 19; seed 0)"]
    assert last["verdict"] == "contradicted"  # all the harm is there at k = 3
    assert last["share_at_smallest"] == pytest.approx(1.0)
    # a placement with fewer trained counts says which counts it rests on
    fewer = harm_grows_controlled(pd.DataFrame([r for r in rows if not (
        r["placement"] == "last" and r["bn_layers"] in (11, 15))]))
    assert ("resnet20, BN in the last k of its slots (k = 0, 3, 7, 19; seed 0)"
            in set(fewer["subject"]))


def test_controlled_series_with_seeds_takes_the_growth_per_seed() -> None:
    rows = []
    for seed, shift in ((0, 0.0), (1, 0.05), (2, -0.05)):
        rows += [_row("resnet20", "none", 0.9 + shift, seed=seed),
                 _row("resnet20", "bn", 0.5 + shift, seed=seed),
                 _row("resnet20", "bn", 0.8 + shift, seed=seed, bn_layers=3,
                      placement="first"),
                 _row("resnet20", "bn", 0.7 + shift, seed=seed, bn_layers=7,
                      placement="first")]
    row = harm_grows_controlled(pd.DataFrame(rows)).iloc[0]
    # the seeds shift every network alike: the paired growth has no spread
    assert row["interval"] == "seeds (3, paired)" and row["estimate"] == pytest.approx(30.0)
    assert row["low"] == pytest.approx(30.0) and row["verdict"] == "reproduced"


def test_headline_and_robustness() -> None:
    table = pd.DataFrame([_row("resnet44", "bn", 0.43), _row("resnet44", "none", 0.80),
                          _row("vgg16", "none", 0.96, se=0.005)])
    headline = headline_numbers(table).set_index("subject")["verdict"].to_dict()
    assert headline == {"resnet44 with BN": "reproduced",       # 43 +- 2 within 41.3 +- 5
                        "resnet44 without BN": "contradicted",  # 80 +- 2 far below 91.95 - 5
                        "vgg16 without BN": "reproduced"}       # 96 +- 1 within 93.8 +- 5
    # imprecision cannot make a number match: a wide interval around it is inconclusive
    wide = headline_numbers(pd.DataFrame([_row("resnet44", "bn", 0.45, se=0.05)]))
    assert wide["verdict"].iloc[0] == "inconclusive at this power"
    # two seeds far apart: Student's t with one degree of freedom would reach below 0 %
    spread = headline_numbers(pd.DataFrame([_row("resnet44", "bn", 0.10, seed=0),
                                            _row("resnet44", "bn", 0.70, seed=1)]))
    assert spread["low"].iloc[0] == 0.0 and spread["high"].iloc[0] > 100
    # the robustness claim's interval never reaches below an average of 0 %, on one seed
    tiny = no_bn_stays_robust(pd.DataFrame([_row("resnet20", "none", 0.02, se=0.05)]))
    assert tiny["low"].iloc[0] == -90.0
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


def test_networks_of_different_training_lengths_are_judged_apart() -> None:
    from bnnoise.pages.claim_tables import claim_table, glance_view

    short = [{**_row("resnet20", "bn", 0.40), "epochs": 10},
             {**_row("resnet20", "none", 0.90), "epochs": 10}]
    longer = [{**_row("resnet20", "bn", 0.895, se=0.001), "epochs": 40},
              {**_row("resnet20", "none", 0.90, se=0.001), "epochs": 40}]
    claims = all_claims(pd.DataFrame(short + longer))
    gap = claims[claims["claim"] == "BN lowers noise resistance"].set_index("epochs")
    assert gap.loc[10, "verdict"] == "reproduced"  # not pooled with the longer training
    assert gap.loc[40, "verdict"] == "contradicted"
    assert gap.loc[10, "estimate"] == pytest.approx(50.0)
    assert list(verdict_counts(claims).columns[:3]) == ["claim", "dataset", "epochs"]
    assert "epochs" in glance_view(claims).columns
    table = claim_table(claims, "BN lowers noise resistance", "tbl-x").data
    assert "resnet20, 10 epochs" in table and "resnet20, 40 epochs" in table
    alone = all_claims(pd.DataFrame(short))  # one length: no column for it in the views
    assert "epochs" not in verdict_counts(alone) and "epochs" not in glance_view(alone)
