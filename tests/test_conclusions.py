"""The conclusions page: every number from the chapters' tables (bnnoise.analysis.conclusions)."""

import pandas as pd
import pytest

from bnnoise.analysis.conclusions import claim_standing, deployment_choice
from bnnoise.pipeline.remedies import remedy_ranking


def _draws(norm, deployment, values, images=0, train_noise=0.0, target="weights"):
    return [{"dataset": "cifar10", "model": "resnet20", "norm": norm, "bn_layers": 0,
             "placement": "all", "seed": 0, "deployment": deployment, "images": images,
             "train_noise": train_noise, "target": target, "draw": d,
             "avg_normalized_accuracy": v, "nonfinite_fraction": 0.0}
            for d, v in enumerate(values)]


def test_the_best_deployment_is_judged_against_the_twin_trained_alike() -> None:
    draws = pd.DataFrame(_draws("none", "standard", [0.75, 0.74, 0.76])
                         + _draws("bn", "standard", [0.60, 0.61, 0.59])
                         + _draws("bn", "recalibrated", [0.85, 0.84, 0.86], images=128)
                         + _draws("bn", "folded", [0.50, 0.51, 0.49]))
    choice = deployment_choice(draws, remedy_ranking(draws)).iloc[0]
    assert choice["best"] == "recalibrated" and choice["best_images"] == 128
    assert choice["as_trained"] == pytest.approx(60.0)
    assert choice["no_bn"] == pytest.approx(75.0)
    assert choice["gap"] == pytest.approx(-10.0)  # the twin minus the best deployment
    assert choice["verdict"] == "contradicted"  # BN no longer loses
    worse = pd.DataFrame(_draws("none", "standard", [0.95, 0.94, 0.96])
                         + _draws("bn", "standard", [0.60, 0.61, 0.59])
                         + _draws("bn", "folded", [0.70, 0.71, 0.69]))
    assert deployment_choice(worse, remedy_ranking(worse))["verdict"].iloc[0] == "reproduced"


def test_the_standing_of_each_claim_counts_the_book_reading_and_every_reading() -> None:
    verdicts = pd.DataFrame({"claim": ["BN lowers noise resistance"] * 3,
                             "verdict": ["reproduced", "reproduced", "contradicted"]})
    shares = pd.DataFrame({"claim": ["BN lowers noise resistance"], "readings": [20],
                           "reproduced": [0.6], "contradicted": [0.3]})
    row = claim_standing(verdicts, shares).iloc[0]
    assert (row["comparisons"], row["reproduced"], row["contradicted"]) == (3, 2, 1)
    assert row["readings"] == 20 and row["readings_reproduced"] == 0.6
    from bnnoise.pages.conclusion_text import standing_in_words

    text = standing_in_words(claim_standing(verdicts, shares)).data
    assert "2 of 3 comparisons on the book's reading reproduce it, 1 contradict it" in text
    assert "over all 20 readings of the protocol, 60 % reproduce it" in text
    assert "{ref}`evidence <claim-gap>`" in text


def test_the_training_length_limit_names_the_verdicts_of_longer_trained_networks() -> None:
    from bnnoise.config import load_profile
    from bnnoise.pages.conclusion_text import limits_in_words

    profile = load_profile("cpu")
    ledger = pd.DataFrame({"post_hoc": [True, False]})
    training = pd.DataFrame({"dataset": "cifar10", "model": "resnet20", "norm": ["bn", "bn"],
                             "seed": 0, "epochs": [10, 40], "clean_accuracy": [0.85, 0.91]})
    verdicts = pd.DataFrame({"subject": ["resnet20", "resnet20", "resnet44 with BN"],
                             "epochs": [10, 40, 40]})
    text = limits_in_words(profile, ledger, training, verdicts).data
    assert "train for 10 epochs on two CPU cores, ending at 85.0–85.0 % on CIFAR-10 in" in text
    two = pd.concat([training, training.assign(dataset="cifar100", clean_accuracy=0.36)])
    assert ("85.0–85.0 % on CIFAR-10 and 36.0–36.0 % on CIFAR-100"
            in limits_in_words(profile, ledger, two, verdicts).data)  # ranges per dataset
    assert "2 of 3 verdicts judge networks trained for 40 epochs instead" in text
    assert "(resnet20 with BN)" in text and "2 of 2 networks have one" in text
    by_subject = limits_in_words(profile, ledger, training.drop(columns="epochs"), verdicts).data
    assert "(resnet20, resnet44 with BN)" in by_subject  # no lengths in the training table
    assert "carry less weight." in text  # no order per comparison: nothing more to say
    ordered = verdicts.assign(order=["data first", "rule first", "rule first"])
    assert ("less weight, except the 2 of 3 comparisons whose networks were trained after their "
            "rule was committed.") in limits_in_words(profile, ledger, training, ordered).data
    alone = limits_in_words(profile, ledger, training[:1], verdicts[:1]).data
    assert "Every network of the verdicts trains for 10 epochs" in alone
