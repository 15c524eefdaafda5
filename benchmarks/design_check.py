"""Are the margin-strata designs as precise as the plain loop when judged on fresh noise draws?

    python benchmarks/design_check.py [--profile cpu] [--data-dir DIR] [--draws 10]
                                      [--networks resnet20:bn resnet20:none] [--target weights]
                                      [--tables-only]

``sweep_speed.py`` chooses each cell's margin-strata design (:mod:`bnnoise.stratified_design`)
with variances estimated from the stored sweep's five draws on the 1,000-image subset, and
judges it with the same estimates, which favours the design. This script judges every chosen
design of the named networks and target set out of sample: ``--draws`` fresh draws on the whole
test set, with a noise seed no sweep and no earlier check used, give new estimates of the
strata's variances, and with them the standard errors of the chosen design and of the plain
loop. Every check is kept: ``design_check.csv`` gains the new check's rows beside the earlier
ones, each row naming its seed and how its designs were chosen (:data:`CHECKS`).

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

CHECKS = {1000: "from the stored variances", 1001: "with the flip floor",
          1002: "no stratum below the plain draws, across the draw-scale interval"}
"""The checks run, by noise seed of their fresh draws (no sweep of the book uses these seeds):
the designs chosen from the stored variances alone (commit 86edd2a); then with
:func:`bnnoise.stratified_design.flip_floor` (commit b5b75cb, after the first check had failed
at small noise); then with no stratum given fewer draws than the plain loop and the design held
at both ends of the draw covariance's interval
(:func:`bnnoise.stratified_design.draw_scale_bounds`, after the second check had failed at
large noise). Each change was judged with a seed not used before. The third check was then
extended from ResNet20 to ResNet44 (``--networks resnet44:bn resnet44:none``) with its designs,
seed and rule unchanged: draws no sweep of ResNet44 had used."""
FRESH_SEED = max(CHECKS)
"""The seed of the check this script runs: the designs ``sweep_speed.py`` chooses today."""


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
            rows.append({"fresh_seed": FRESH_SEED, "designs": CHECKS[FRESH_SEED],
                         "model": spec.model, "norm": spec.norm, "target": target,
                         "eta": row["eta"], "design": row["design"],
                         "stratified_images": row["stratified_images"],
                         "stratified_draws": row["stratified_draws"], "fresh_draws": draws,
                         "fresh_design_se": design_variance(v, design) ** 0.5,
                         "fresh_plain_se": design_variance(v, plain) ** 0.5,
                         "se_ratio": ratio, "passes": designs_hold([ratio])[0][0]})
            print(rows[-1])
    return pd.DataFrame(rows)


def display(table: pd.DataFrame) -> pd.DataFrame:
    """``design_check_display.csv``: per check and network, the cells checked and passing, the
    median and largest fresh standard-error ratio, and the rule's verdict over the check's
    cells."""
    rows = []
    for (seed, designs), check in table.groupby(["fresh_seed", "designs"], sort=True):
        holds = designs_hold(list(check["se_ratio"]))[1]
        verdict = f"{'hold' if holds else 'do not hold'} ({check['passes'].mean():.0%} pass)"
        for (model, norm), part in check.groupby(["model", "norm"], sort=False):
            rows.append({
                "designs (fresh seed)": f"{designs} ({seed})", "network": model,
                "BN": {"bn": "with", "none": "without"}[norm],
                "cells passing": f"{int(part['passes'].sum())} of {len(part)}",
                "SE ratio: median, largest": f"{part['se_ratio'].median():.2f}, "
                                             f"{part['se_ratio'].max():.2f}",
                "designs (rule: 90 % of the check's cells)": verdict})
    return pd.DataFrame(rows)


def stored_checks(path) -> pd.DataFrame:
    """The checks stored at ``path`` (none if it does not exist); the first, from before the
    columns ``fresh_seed`` and ``designs``, ran with seed 1000."""
    if not path.is_file():
        return pd.DataFrame()
    table = pd.read_csv(path)
    if "fresh_seed" not in table:
        table.insert(0, "designs", CHECKS[1000])
        table.insert(0, "fresh_seed", 1000)
    return table


def without_rechecked(earlier: pd.DataFrame, checked: pd.DataFrame) -> pd.DataFrame:
    """The stored check rows that ``checked`` does not replace: a rerun of this script's seed
    replaces the rows of the networks and target set it checks again and keeps the others (a
    check extended to more networks keeps the ones it covered before)."""
    if earlier.empty:
        return earlier
    keys = ["fresh_seed", "model", "norm", "target"]
    again = earlier[keys].merge(checked[keys].drop_duplicates(), how="left", indicator=True)
    return earlier[(again["_merge"] == "left_only").to_numpy()]


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
        display(stored_checks(out / "design_check.csv")).to_csv(
            out / "design_check_display.csv", index=False)
        return
    profile = load_profile(args.profile, data_dir=args.data_dir)
    precision = pd.read_csv(out / "precision.csv")
    networks = [tuple(n.split(":")) for n in args.networks]
    table = check_rows(profile, ArtifactStore(profile.store_dir), DataCache(profile.data_dir),
                       precision, networks, args.target, args.draws)
    table = pd.concat([without_rechecked(stored_checks(out / "design_check.csv"), table),
                       table.assign(**machine_record())], ignore_index=True)
    table.to_csv(out / "design_check.csv", index=False, float_format="%.4g")
    display(table).to_csv(out / "design_check_display.csv", index=False)
    this = table[table["fresh_seed"] == FRESH_SEED]
    print(f"{this['passes'].mean():.0%} of {len(this)} cells pass; the designs "
          f"{'hold' if designs_hold(list(this['se_ratio']))[1] else 'do not hold'} "
          f"(rule: at least {DESIGN_SHARE:.0%} within {DESIGN_RATIO_LIMIT} times)")


if __name__ == "__main__":
    main()
