"""Are the margin-strata designs as precise as the plain loop when judged on fresh noise draws?

    python benchmarks/design_check.py [--profile cpu] [--data-dir DIR] [--draws 10]
                                      [--networks resnet20:bn resnet20:none] [--target weights]
                                      [--tables-only]

``sweep_speed.py`` chooses each cell's margin-strata design (:mod:`bnnoise.stratified_design`)
with variances estimated from the stored sweep's five draws on the 1,000-image subset, and
judges it with the same estimates, which favours the design: a stratum in which those draws
flipped nothing gets the smallest share and a single draw. This script judges every chosen
design of the named networks and target set out of sample: ``--draws`` fresh draws (noise seed
1000, which no sweep uses) on the whole test set give new estimates of the strata's variances,
and with them the standard errors of the chosen design and of the plain loop.

The rule (:func:`bnnoise.stratified_design.designs_hold`, the ledger's ``margin_designs``),
fixed before the first fresh draw was evaluated: a design is as precise as the plain loop if its
fresh standard error is at most 1.25 times the plain loop's (ten draws estimate a standard
error to within about a quarter), and the designs hold if at least 90 % of the cells checked
pass. Written to ``data/results/benchmark/sweep_speed/<vector unit>/design_check.csv``,
one row per cell, with the machine record, and ``design_check_display.csv``, the book's view.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import pandas as pd
import torch
from sweep_speed import OUT, strata_of

from bnnoise.config import load_profile
from bnnoise.data import DataCache, normalize
from bnnoise.hardware import machine_record, vector_unit
from bnnoise.pipeline import sweep_cells as cells
from bnnoise.pipeline.specs import profile_specs, recipe_of
from bnnoise.pipeline.trained import stored_model
from bnnoise.store import ArtifactStore
from bnnoise.stratified_design import (
    DESIGN_RATIO_LIMIT,
    DESIGN_SHARE,
    Design,
    design_variance,
    designs_hold,
    plain_design,
    stratum_variances,
)

FRESH_SEED = 1000
"""Noise seed of the fresh draws: no sweep of the book uses it."""


def _design(row: pd.Series) -> Design:
    return Design(tuple(int(n) for n in row["stratified_images"].split("|")),
                  tuple(int(d) for d in row["stratified_draws"].split("|")))


def check_rows(profile, store: ArtifactStore, data: DataCache, precision: pd.DataFrame,
               networks: list[tuple[str, str]], target: str, draws: int) -> pd.DataFrame:
    """One row per checked cell: the chosen design, and the standard errors of it and of the
    plain loop estimated from ``draws`` fresh draws on the whole test set."""
    fresh = replace(profile.noise, seed=FRESH_SEED, draws=draws, eval_per_class=None)
    rows = []
    for spec in profile_specs(profile):
        if (spec.model, spec.norm) not in networks:
            continue
        trained = stored_model(store, spec, recipe_of(profile, spec))
        dataset = data(spec.dataset)
        x, y = normalize(dataset.x_test, dataset), dataset.y_test
        sizes, whole = strata_of(trained, data, fresh)  # the stratum of every test image
        cell_target = cells.canonical_targets(cells.noisy_network(trained), profile.noise)[
            target][0]
        clean = torch.from_numpy(cells._sweep_cell(trained, x, y, fresh, cell_target, 0.0).hits[0])
        chosen = precision[(precision["model"] == spec.model) & (precision["norm"] == spec.norm)
                           & (precision["target"] == target)]
        for _, row in chosen.iterrows():
            hits = torch.from_numpy(cells._sweep_cell(trained, x, y, fresh, cell_target,
                                                      float(row["eta"])).hits)
            v = stratum_variances(hits, clean, whole, sizes)
            design, plain = _design(row), plain_design(v, int(row["plain_draws"]))
            ratio = (design_variance(v, design) / design_variance(v, plain)) ** 0.5 if (
                design_variance(v, plain) > 0) else 1.0
            rows.append({"model": spec.model, "norm": spec.norm, "target": target,
                         "eta": row["eta"], "design": row["design"],
                         "stratified_images": row["stratified_images"],
                         "stratified_draws": row["stratified_draws"], "fresh_draws": draws,
                         "fresh_design_se": design_variance(v, design) ** 0.5,
                         "fresh_plain_se": design_variance(v, plain) ** 0.5,
                         "se_ratio": ratio, "passes": designs_hold([ratio])[0][0]})
            print(rows[-1])
    return pd.DataFrame(rows)


def display(table: pd.DataFrame) -> pd.DataFrame:
    """``design_check_display.csv``: per network, the cells checked and passing, the median and
    largest fresh standard-error ratio, and the rule's verdict over all cells."""
    per = table.groupby(["model", "norm"], sort=False).agg(
        cells=("passes", "size"), passing=("passes", "sum"), median=("se_ratio", "median"),
        largest=("se_ratio", "max")).reset_index()
    share = float(table["passes"].mean())
    verdict = (f"hold ({share:.0%} pass)" if designs_hold(list(table["se_ratio"]))[1]
               else f"do not hold ({share:.0%} pass)")
    return pd.DataFrame({
        "network": per["model"], "BN": per["norm"].map({"bn": "with", "none": "without"}),
        "cells passing": [f"{p} of {c}" for p, c in zip(per["passing"], per["cells"],
                                                        strict=True)],
        "SE ratio: median, largest": [f"{m:.2f}, {x:.2f}" for m, x in zip(
            per["median"], per["largest"], strict=True)],
        "designs (rule: 90 % of all cells)": verdict})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data-dir", default=None, help="CIFAR location (as for chapters)")
    parser.add_argument("--draws", type=int, default=10, help="fresh draws per cell")
    parser.add_argument("--networks", nargs="+", default=["resnet20:bn", "resnet20:none"],
                        help="model:norm of the main grid")
    parser.add_argument("--target", default="weights")
    parser.add_argument("--tables-only", action="store_true",
                        help="only rewrite the display table from design_check.csv")
    args = parser.parse_args()
    out = OUT / vector_unit()
    if args.tables_only:
        display(pd.read_csv(out / "design_check.csv")).to_csv(
            out / "design_check_display.csv", index=False)
        return
    profile = load_profile(args.profile, data_dir=args.data_dir)
    precision = pd.read_csv(out / "precision.csv")
    networks = [tuple(n.split(":")) for n in args.networks]
    table = check_rows(profile, ArtifactStore(profile.store_dir), DataCache(profile.data_dir),
                       precision, networks, args.target, args.draws)
    table.assign(**machine_record()).to_csv(out / "design_check.csv", index=False,
                                            float_format="%.4g")
    display(table).to_csv(out / "design_check_display.csv", index=False)
    share = float(table["passes"].mean())
    print(f"{share:.0%} of {len(table)} cells pass; the designs "
          f"{'hold' if designs_hold(list(table['se_ratio']))[1] else 'do not hold'} "
          f"(rule: at least {DESIGN_SHARE:.0%} within {DESIGN_RATIO_LIMIT} times)")


if __name__ == "__main__":
    main()
