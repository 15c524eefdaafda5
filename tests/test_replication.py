"""Between-seed against between-draw spread (bnnoise.analysis.replication) on constructed draws."""

import numpy as np
import pandas as pd
import pytest

from bnnoise.analysis.replication import seed_and_draw_spread


def _draws(seed_effects: list[float], draw_sd: float, draws: int = 40, rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    rows = []
    for seed, effect in enumerate(seed_effects):
        for draw in range(draws):
            value = 0.7 + effect + rng.normal(0, draw_sd)
            for eta in (0.0, 0.1, 0.5):  # the same value at every noisy eta: the draw's average
                rows.append({"dataset": "cifar10", "model": "resnet44", "norm": "bn",
                             "placement": "all", "bn_layers": 43, "target": "all", "seed": seed,
                             "draw": draw, "eta": eta,
                             "normalized_accuracy": 1.0 if eta == 0 else value})
    return pd.DataFrame(rows)


def test_seed_effects_are_found_and_sized() -> None:
    spread = seed_and_draw_spread(_draws([-0.1, 0.0, 0.1], draw_sd=0.02)).iloc[0]
    assert spread["seeds"] == 3 and spread["draws_per_seed"] == 40
    assert spread["seed_sd"] == pytest.approx(10.0, rel=0.1)  # sd of -0.1, 0, 0.1, in points
    assert spread["draw_sd"] == pytest.approx(2.0, rel=0.2)
    assert spread["p_value"] < 1e-6


def test_identical_seeds_have_no_seed_component_to_speak_of() -> None:
    spread = seed_and_draw_spread(_draws([0.0, 0.0, 0.0], draw_sd=0.05)).iloc[0]
    assert spread["seed_sd"] < spread["draw_sd"] / 2
    assert spread["p_value"] > 0.01


def test_one_seed_gives_no_row() -> None:
    assert seed_and_draw_spread(_draws([0.0], draw_sd=0.05)).empty


def test_the_page_shows_rows_with_replicates_and_none_without() -> None:
    from bnnoise.pages.claim_tables import spread_view

    view = spread_view(seed_and_draw_spread(_draws([-0.1, 0.1], draw_sd=0.02)))
    assert list(view["model"]) == ["resnet44"] and list(view["BN"]) == ["BN"]
    assert spread_view(seed_and_draw_spread(_draws([0.0], draw_sd=0.02))).empty
