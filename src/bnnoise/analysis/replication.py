"""Training seeds against noise draws: how much of the spread of a network's noise resistance
comes from training it again, and how much from drawing the noise again.

Each draw is summarised by its average normalized accuracy over the eta grid (the draws of one
index at the different noise levels are independent). For one network and target set with
``S`` training seeds and ``D`` draws per seed, a one-way random-effects analysis of variance
splits the spread into a between-seed and a within-seed (between-draw) component:

* between draws: the mean square within seeds, ``MS_w``;
* between seeds: ``(MS_b - MS_w) / D`` (zero when negative), where ``MS_b`` is ``D`` times the
  variance of the seed means;

and the F test of ``MS_b / MS_w`` (:func:`scipy.stats.f_oneway`, which also takes unequal numbers
of draws per seed) says whether the seeds differ more than their draws explain.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from bnnoise.lineage import produces

RUN = ["dataset", "model", "norm", "placement", "bn_layers"]


@produces
def seed_and_draw_spread(draws: pd.DataFrame, column: str = "normalized_accuracy"
                         ) -> pd.DataFrame:
    """Per network and target set with two or more training seeds: the standard deviations
    (points) between seeds and between draws of the per-draw average over the eta grid (``eta``
    = 0 excluded), their ratio, and the F test's p-value. Empty without replicate seeds."""
    noisy = draws[draws["eta"] > 0]
    per_draw = (noisy.groupby([*RUN, "target", "seed", "draw"], as_index=False)[column].mean())
    rows = []
    for key, part in per_draw.groupby([*RUN, "target"], sort=False):
        sizes = part.groupby("seed").size()
        if len(sizes) < 2 or sizes.min() < 2:
            continue
        seeds, draws_per_seed = len(sizes), float(sizes.mean())
        within = float(part.groupby("seed")[column].var(ddof=1).mean())
        between_ms = draws_per_seed * float(part.groupby("seed")[column].mean().var(ddof=1))
        seed_var = max(0.0, (between_ms - within) / draws_per_seed)
        groups = [g[column].to_numpy() for _, g in part.groupby("seed")]
        p_value = float(stats.f_oneway(*groups).pvalue) if within > 0 else 0.0
        rows.append({**dict(zip([*RUN, "target"], key, strict=True)), "seeds": seeds,
                     "draws_per_seed": draws_per_seed,
                     "seed_sd": 100 * math.sqrt(seed_var), "draw_sd": 100 * math.sqrt(within),
                     "seed_to_draw": math.sqrt(seed_var / within) if within > 0 else math.inf,
                     "p_value": p_value})
    return pd.DataFrame(rows, columns=[*RUN, "target", "seeds", "draws_per_seed", "seed_sd",
                                       "draw_sd", "seed_to_draw", "p_value"])
