"""Every verdict of the claims page follows from the tables a reader can download."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bnnoise.analysis.claims import all_claims
from bnnoise.analysis.multiverse import multiverse_claims, verdict_shares

RESULTS = Path(__file__).resolve().parents[1] / "data" / "results" / "cpu"
TOLERANCE = 1e-3
"""Points: the tables are written with six significant digits."""


def test_the_published_claims_are_recomputed_from_the_published_inputs_alone() -> None:
    published = pd.read_csv(RESULTS / "claims.csv")
    again = all_claims(pd.read_csv(RESULTS / "claims_average.csv"),
                       pd.read_csv(RESULTS / "claims_progress.csv"))
    assert len(again) == len(published) > 0
    keys = ["claim", "dataset", "subject", "target", "scoring"]
    assert again[keys].astype(str).equals(published[keys].astype(str))
    for column in ("estimate", "low", "high"):
        assert np.allclose(again[column], published[column], atol=TOLERANCE, equal_nan=True), column
    assert list(again["verdict"]) == list(published["verdict"])
    # the inputs hold every training seed the claims use, not only seed 0
    assert pd.read_csv(RESULTS / "claims_average.csv")["seed"].nunique() > 1


def test_every_reading_of_the_claims_page_is_recomputed_from_its_published_input() -> None:
    published = pd.read_csv(RESULTS / "claims_multiverse.csv")
    again = multiverse_claims(pd.read_csv(RESULTS / "claims_readings_average.csv"))
    assert len(again) == len(published) > 0
    keys = ["claim", "subject", "grid", "reading", "dataset", "target", "scoring"]
    assert again[keys].astype(str).equals(published[keys].astype(str))
    for column in ("estimate", "low", "high"):
        assert np.allclose(again[column], published[column], atol=TOLERANCE, equal_nan=True), column
    assert list(again["verdict"]) == list(published["verdict"])
    # the shares of the readings table follow from the published rows alone
    shares = verdict_shares(published).set_index("claim")
    assert (shares[["reproduced", "contradicted", "inconclusive at this power"]].sum(axis=1)
            .round(6) == 1).all()
    assert set(published["reading"]) > {"std, additive"}  # the other readings are there
