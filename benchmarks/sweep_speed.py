"""How fast, and how precise per second, the noise sweep is against the plain loop, in one run.

    python benchmarks/sweep_speed.py [--profile cpu] [--data-dir DIR] [--skip-data]
                                     [--precision-only] [--tables-only] [--out DIR]

Written to ``data/results/benchmark/sweep_speed/<vector unit>/`` (one folder per CPU kind, e.g.
``AVX2``, ``AVX512``; :func:`bnnoise.hardware.vector_unit`), every row with the machine record:

* ``rates.csv``: images per second of noisy evaluation, per network of the profile's main grid,
  random CIFAR-shaped images, noise on the conv and linear weights: the plain loop (deep copy,
  add noise, evaluate in fp32, contiguous tensors, batches of 500) against the library's exact
  fp32 path (in-place noise and exact restore, channels-last, batches of
  :data:`bnnoise.evaluation.EVALUATION_BATCH`), and against that path with batches of 1,000
  (the library's batch size before), and against the exact path compiled with
  ``torch.compile`` (its first call's seconds, and whether its predictions equal the eager
  ones under two noisy draws); the fraction of the machine's fp32 matmul peak each reaches (a
  path at a large fraction of the peak cannot be made much faster without doing less
  arithmetic). The library uses the compiled pass where it predicts the same and pays
  (:mod:`bnnoise.compilation`); the times at equal standard error use that path's rate;
* ``recompute_check.csv`` (needs CIFAR-10 and the trained models): stored sweep cells computed
  again at today's batch size with the forward pass the library chooses here (column
  ``forward``), hit for hit against the stored ones;
* ``precision.csv`` (needs the stored sweeps, CIFAR-10 and the trained models): per network,
  target set and noise level, the variance components of normalized accuracy
  (:mod:`bnnoise.sampling`), the standard error of the plain loop (the profile's draws on the
  full test set), the draws the stratified subset needs for the same standard error with the
  paired estimate and without it, the margin-stratified design of the same precision
  (:mod:`bnnoise.stratified_design`: images and draws per stratum, image evaluations; one clean
  pass over the test set per network gives the strata), the evaluations the same design would
  need chosen without the flip floor (``unfloored_evaluations``), and the seconds per sweep
  cell of the plain loop and of the library's cheapest design at equal standard error;
  ``floor_cost_display.csv`` is the book's view of what the floor costs at low noise
  (:func:`floor_cost`);
* ``planned.csv``: the CPU-hours of the sweeps the profile plans and has not run (the readings,
  the converged tier, the analog device), plain and with the library, estimated from
  ``summary.csv`` (:func:`planned_sweeps`);
* ``summary.csv``: per network, the speed-up of the exact path, the smallest and median
  speed-up at equal standard error over the noise levels, and the CPU-hours of one sweep of
  the profile's protocol (all noise levels and target sets) at equal standard error, plain and
  library; ``summary_display.csv`` is the book's view of it (``--tables-only`` rewrites it and
  the floor's table from the CSV files of an earlier run, without timing anything).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from benchmark import OLD_BATCH, forward_flops, matmul_peak, plain_noisy_eval, random_dataset

from bnnoise.compilation import GAIN
from bnnoise.config import load_profile
from bnnoise.data import DataCache, normalize
from bnnoise.evaluation import EVALUATION_BATCH, correct_mask, predictions, signed_margins
from bnnoise.hardware import machine_record, vector_unit
from bnnoise.image_selection import stratified_subset
from bnnoise.nets.models import build_model
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import select_tensors
from bnnoise.pipeline import sweep_cells as cells
from bnnoise.pipeline.specs import profile_specs, recipe_of
from bnnoise.pipeline.trained import stored_model
from bnnoise.sampling import (
    draws_needed,
    paired_components,
    standard_error,
    unpaired_components,
)
from bnnoise.store import ArtifactStore
from bnnoise.stratified_design import (
    MARGIN_QUANTILES,
    cheapest_design,
    design_variance,
    flip_floor,
    margin_strata,
    plain_design,
    stratum_variances,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "results" / "benchmark" / "sweep_speed"
EXACT = f"library exact fp32 (channels-last, batch {EVALUATION_BATCH})"
"""The library's exact path as it evaluates every sweep cell."""
COMPILED = "library exact fp32 compiled"
"""The exact path with its forward pass compiled by ``torch.compile`` (inductor)."""
TEST_SET = 10_000
"""Images of the CIFAR test set: the plain loop evaluates all of them."""


def library_rate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, draws: int,
                 batch: int, compiled: bool = False) -> tuple[float, dict[str, float | bool]]:
    """Images per second of the library's exact fp32 path: in-place noise with exact restore,
    channels-last, batches of ``batch`` images; ``compiled``: the forward pass compiled with
    ``torch.compile`` (the noise still goes into the same parameters), with the seconds the
    first call took and whether its predictions under two noisy draws (noise on the weights,
    and strong noise on every array, which makes some logits non-finite) equal the eager
    path's."""
    model = model.eval().to(memory_format=torch.channels_last)
    tensors = select_tensors(model, "weights")
    x = x.contiguous(memory_format=torch.channels_last)
    forward = torch.compile(model) if compiled else model
    start = time.perf_counter()
    predictions(forward, x[:batch], batch_size=batch)  # warm-up (and compilation)
    extra: dict[str, float | bool] = {}
    if compiled:
        extra["first_call_seconds"] = time.perf_counter() - start
        checks = [(tensors, 0.1), (select_tensors(model, "all"), 1.0)]
        extra["identical_to_eager"] = all(
            _same_predictions(model, forward, x[:2 * batch], chosen, eta, batch)
            for chosen, eta in checks)
    start = time.perf_counter()
    for draw in range(draws):
        with injected_noise(tensors, 0.1, seed=draw):
            correct_mask(forward, x, y, batch_size=batch)
    return draws * len(y) / (time.perf_counter() - start), extra


def _same_predictions(model: torch.nn.Module, forward, x: torch.Tensor, tensors, eta: float,
                      batch: int) -> bool:
    with injected_noise(tensors, eta, seed=11):
        eager, compiled = (predictions(f, x, batch_size=batch) for f in (model, forward))
    return all(torch.equal(a, b) for a, b in zip(eager, compiled, strict=True))


def rate_rows(networks: list[tuple[str, str]], images: int, draws: int, peak: float
              ) -> pd.DataFrame:
    """``rates.csv``: plain loop and library paths per (model, norm)."""
    data = random_dataset(16, images)
    x = normalize(data.x_test, data)
    rows = []
    for model_name, norm in networks:
        torch.manual_seed(0)
        model = build_model(model_name, 10, norm).eval()
        flops = forward_flops(model)
        plain_noisy_eval(model, x[:100], 1)  # warm-up
        rates = {"plain loop (deep copy, fp32, contiguous, batch 500)":
                 (plain_noisy_eval(model, x, draws), {})}
        for batch in (EVALUATION_BATCH, OLD_BATCH):
            label = (f"library exact fp32 (channels-last, batch {batch}"
                     + (", before)" if batch == OLD_BATCH else ")"))
            rates[label] = library_rate(model, x, data.y_test, draws, batch)
        rates[f"{COMPILED} (channels-last, batch {EVALUATION_BATCH})"] = library_rate(
            model, x, data.y_test, draws, EVALUATION_BATCH, compiled=True)
        plain = next(iter(rates.values()))[0]
        for variant, (rate, extra) in rates.items():
            rows.append({"model": model_name, "norm": norm, "variant": variant,
                         "images_per_second": rate, "speedup": rate / plain,
                         "fraction_of_fp32_peak": rate * flops / peak, **extra})
        print(f"{model_name}-{norm}: " + ", ".join(f"{r:.0f}" for r, _ in rates.values())
              + " img/s", flush=True)
    return pd.DataFrame(rows)


def recompute_rows(profile, store: ArtifactStore, data: DataCache,
                   cases: list[tuple[str, str, float]]) -> pd.DataFrame:
    """``recompute_check.csv``: stored cells of ``cases`` (model, target set, eta; networks
    with BN) computed again at today's batch size."""
    rows = []
    x = y = None
    for model_name, target, eta in cases:
        spec = next(s for s in profile_specs(profile) if (s.model, s.norm) == (model_name, "bn"))
        trained = stored_model(store, spec, recipe_of(profile, spec))
        path = cells.stored_cell(store, trained, profile.noise, target, eta)
        if trained is None or path is None:
            continue
        if x is None:
            x, y = cells.evaluation_subset(data(spec.dataset), profile.noise)
        cell = cells._sweep_cell(trained, x, y, profile.noise, target, eta)
        again, stored = cell.hits, cells.cell_hits(path)
        rows.append({"model": model_name, "norm": "bn", "target": target, "eta": eta,
                     "batch": EVALUATION_BATCH, "forward": cell.forward, "hits": stored.size,
                     "differing_hits": int((stored != again).sum()),
                     "identical": bool(np.array_equal(stored, again))})
    return pd.DataFrame(rows)


def strata_of(trained, data: DataCache, protocol) -> tuple[tuple[int, ...], torch.Tensor]:
    """The sizes of the margin strata on the full test set
    (:func:`bnnoise.stratified_design.margin_strata` of the clean network's signed margins) and
    the stratum of every image of the protocol's evaluation subset, in the order of the stored
    hits."""
    dataset = data(trained.spec.dataset)
    margins = signed_margins(trained.model, normalize(dataset.x_test, dataset), dataset.y_test)
    strata = margin_strata(margins)
    subset = stratified_subset(dataset.y_test, protocol.eval_per_class, protocol.seed,
                               images=dataset.x_test)
    sizes = np.bincount(strata.numpy(), minlength=len(MARGIN_QUANTILES) - 1)
    return tuple(int(size) for size in sizes), strata[subset]


def stratified_row(noisy: torch.Tensor, clean: torch.Tensor, strata: tuple, draws: int
                   ) -> dict[str, object]:
    """The margin-stratified design (:mod:`bnnoise.stratified_design`) as precise as ``draws``
    draws on the full test set, its variances estimated from the stored hits of the subset
    images in each stratum and raised where few flips were seen (:func:`flip_floor`): images and
    draws per stratum, the image evaluations in all, and its standard error beside the plain
    loop's by the same estimate. ``unfloored_evaluations``: what the design would cost chosen
    from the sample's variances alone, as the first fresh-draw check's failed designs were; the
    difference is the price of the floor."""
    sizes, of_image = strata
    sampled = stratum_variances(noisy, clean, of_image, sizes)
    v = flip_floor(sampled, noisy, clean, of_image)
    design = cheapest_design(v, draws)
    return {"stratified_images": "|".join(map(str, design.images)),
            "stratified_draws": "|".join(map(str, design.draws)),
            "stratified_evaluations": design.evaluations,
            "unfloored_evaluations": cheapest_design(sampled, draws).evaluations,
            "stratified_se": design_variance(v, design) ** 0.5,
            "plain_se_by_strata": design_variance(v, plain_design(v, draws)) ** 0.5}


def precision_rows(profile, store: ArtifactStore, data: DataCache | None = None) -> pd.DataFrame:
    """``precision.csv`` (without times): the variance components of every stored sweep cell
    of the profile's main grid (cells not stored are left out; no cell is computed) and the
    designs that match the plain loop's standard error; with ``data``, also the margin-stratified
    design (one clean pass over the test set per network)."""
    draws, rows = profile.noise.draws, []
    for spec in profile_specs(profile):
        trained = stored_model(store, spec, recipe_of(profile, spec))
        clean_path = trained and cells.stored_cell(store, trained, profile.noise, "weights", 0.0)
        if not clean_path:
            continue
        clean = torch.from_numpy(cells.cell_hits(clean_path)[0])
        strata = strata_of(trained, data, profile.noise) if data is not None else None
        canonical = cells.canonical_targets(cells.noisy_network(trained), profile.noise)
        for target, (cell_target, _) in canonical.items():
            for eta in profile.noise.etas:
                path = cells.stored_cell(store, trained, profile.noise, cell_target, eta)
                if path is None:
                    continue
                noisy = torch.from_numpy(cells.cell_hits(path))
                images = noisy.shape[1]
                paired = paired_components(noisy, clean)
                unpaired = unpaired_components(noisy, float(clean.double().mean()))
                target_se = standard_error(paired, TEST_SET, draws, TEST_SET)
                rows.append({
                    "model": spec.model, "norm": spec.norm, "target": target, "eta": eta,
                    "draw_variance": paired.draw, "image_variance_paired": paired.image,
                    "image_variance_unpaired": unpaired.image,
                    "residual_variance": paired.residual, "plain_draws": draws,
                    "plain_images": TEST_SET, "plain_se": target_se, "subset_images": images,
                    "draws_paired": draws_needed(paired, images, TEST_SET, target_se),
                    "draws_unpaired": draws_needed(unpaired, images, TEST_SET, target_se),
                    **(stratified_row(noisy, clean, strata, draws) if strata else {})})
    return pd.DataFrame(rows)


def library_rates(rates: pd.DataFrame) -> pd.DataFrame:
    """Per network, the rate of the forward pass the library uses (:mod:`bnnoise.compilation`):
    the compiled one where it gave the eager predictions and was at least ``GAIN`` times as
    fast, else the exact eager one."""
    exact = rates[rates["variant"] == EXACT].set_index(["model", "norm"])
    compiled = rates[rates["variant"].str.startswith(COMPILED)].set_index(["model", "norm"])
    if compiled.empty:
        return exact.reset_index()
    compiled = compiled.reindex(exact.index)
    use = (compiled["identical_to_eager"].fillna(False).astype(bool)
           & (compiled["images_per_second"] >= GAIN * exact["images_per_second"]))
    out = exact.copy()
    out.loc[use, "images_per_second"] = compiled.loc[use, "images_per_second"]
    out["forward"] = np.where(use, "compiled", "eager")
    return out.reset_index()


def with_times(precision: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """Seconds per sweep cell at equal standard error, plain and library, from the rates."""
    plain = rates[rates["variant"].str.startswith("plain")].set_index(["model", "norm"])
    library = library_rates(rates).set_index(["model", "norm"])
    index = pd.MultiIndex.from_frame(precision[["model", "norm"]])
    out = precision.copy()
    out["plain_seconds"] = (out["plain_draws"] * out["plain_images"]
                            / plain["images_per_second"].reindex(index).to_numpy())
    rate = library["images_per_second"].reindex(index).to_numpy()
    subset = out["draws_paired"] * out["subset_images"] / rate  # NaN: not reachable
    full = out["plain_draws"] * out["plain_images"] / rate  # the plain design, faster path
    strata = (out["stratified_evaluations"] if "stratified_evaluations" in out
              else pd.Series(np.nan, index=out.index)) / rate
    seconds = pd.concat([subset, strata, full], axis=1).to_numpy()
    choice = np.nanargmin(seconds, axis=1)  # the full test set is always reachable
    out["design"] = np.where(
        choice == 0, "paired estimate, stratified subset",
        np.where(choice == 1, "margin strata",
                 np.where(subset.notna(), "full test set (faster than the subset)",
                          "full test set (the subset cannot reach the standard error)")))
    out["library_seconds"] = seconds[np.arange(len(out)), choice]
    out["speedup_at_equal_se"] = out["plain_seconds"] / out["library_seconds"]
    return out


def summary(rates: pd.DataFrame, precision: pd.DataFrame | None) -> pd.DataFrame:
    """``summary.csv``: per network, the exact path's speed-up (eager, compiled, and the one
    the library uses) and, with the stored sweeps, the speed-up at equal standard error and the
    CPU-hours of one sweep of the protocol (at the rate of the path the library uses)."""
    exact = rates[rates["variant"] == EXACT]
    table = exact[["model", "norm", "speedup"]].rename(columns={"speedup": "exact_path_speedup"})
    compiled = rates[rates["variant"].str.startswith(COMPILED)]
    if not compiled.empty:
        table = table.merge(compiled[["model", "norm", "speedup", "identical_to_eager"]].rename(
            columns={"speedup": "compiled_speedup"}), on=["model", "norm"], how="left")
        used = library_rates(rates)[["model", "norm", "forward"]]
        table = table.merge(used, on=["model", "norm"], how="left")
        table["library_path_speedup"] = np.where(table["forward"] == "compiled",
                                                 table["compiled_speedup"],
                                                 table["exact_path_speedup"])
    if precision is None or precision.empty:
        return table
    # the threads that timed the rates (an earlier run's, with --precision-only)
    threads = int(rates["threads"].iloc[0]) if "threads" in rates else torch.get_num_threads()
    per = precision.groupby(["model", "norm"], sort=False).agg(
        min_speedup_at_equal_se=("speedup_at_equal_se", "min"),
        median_speedup_at_equal_se=("speedup_at_equal_se", "median"),
        plain_cpu_hours=("plain_seconds", lambda s: s.sum() * threads / 3600),
        library_cpu_hours=("library_seconds", lambda s: s.sum() * threads / 3600)).reset_index()
    return table.merge(per, on=["model", "norm"], how="left")


def _evaluations(protocol) -> int:
    """Noisy evaluations of the test subset one sweep of ``protocol`` takes (draws per cell)."""
    return len(protocol.targets) * len(protocol.etas) * protocol.draws


PERIPHERY_CELL = "device, periphery"
"""The device benchmark's cell whose tiles read through their periphery."""


def device_ratios(path: Path = OUT.parent / "device_speed.csv") -> dict[str, float]:
    """The device benchmark's cost of a device draw over a Gaussian one, mean over its
    networks, per cell (``device``, ``device, periphery``); 1 for a cell it has not timed."""
    ratios = {"device": 1.0, PERIPHERY_CELL: 1.0}
    if path.is_file():
        table = pd.read_csv(path)
        ratios.update(table.groupby("cell")["ratio_to_gaussian"].mean().to_dict())
    return ratios


def planned_sweeps(profile, summary_table: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """``planned.csv``: the CPU-hours of the sweeps the profile has planned and not yet run,
    per kind of sweep: at the plain loop's precision, plain and with the library, estimated
    from each network's cost of one sweep of the profile's protocol at that precision
    (``summary.csv``) scaled by how many noisy evaluations the planned sweep takes against
    that protocol; and as the book runs them (its test subset and draws, at the rate of the
    library's path, ``book_design_cpu_hours``). The planned sweeps:

    * ``readings``: every reading of ``params.yaml`` on every network of its grid;
    * ``converged tier``: each network of the ``converged`` grids (cost of its model as in the
      main grid): the full protocol on the final weights and the progress protocol on every
      snapshot and the final weights;
    * ``analog device``: every deployment (BN networks) and variant at every time, one device
      draw counted as the device benchmark measured it against a Gaussian one
      (:func:`device_ratios`): the variants with a periphery at its ratio, the others at the
      plain device's.
    """
    if "plain_cpu_hours" not in summary_table:
        return pd.DataFrame()
    cost = summary_table.set_index(["model", "norm"])[["plain_cpu_hours", "library_cpu_hours"]]
    rate = library_rates(rates).set_index(["model", "norm"])["images_per_second"]
    images = profile.noise.eval_per_class * 10 if profile.noise.eval_per_class else TEST_SET
    threads = int(rates["threads"].iloc[0]) if "threads" in rates else torch.get_num_threads()
    per_sweep = _evaluations(profile.noise)
    rows = []

    def add(kind: str, model: str, norm: str, evaluations: float) -> None:
        if (model, norm) in cost.index:
            plain, library = cost.loc[(model, norm)]
            rows.append({"sweep": kind, "model": model, "norm": norm,
                         "evaluations": evaluations,
                         "plain_cpu_hours": plain * evaluations / per_sweep,
                         "library_cpu_hours": library * evaluations / per_sweep,
                         "book_design_cpu_hours": evaluations * images / rate[(model, norm)]
                         * threads / 3600})

    for spec in profile_specs(profile, profile.readings_grid) if profile.readings else []:
        add("readings", spec.model, spec.norm,
            sum(_evaluations(protocol) for _, protocol in profile.readings))
    for grid in ("converged", "converged_seeds"):
        if grid not in profile.grid_names:
            continue
        for spec in profile_specs(profile, grid):
            stored = len(range(profile.grid(grid).snapshot_every or spec.epochs,
                               spec.epochs + 1, profile.grid(grid).snapshot_every or 1))
            progress = _evaluations(profile.progress_noise) * stored
            add("converged tier", spec.model, spec.norm, per_sweep + progress)
    if profile.devices is not None:
        study = profile.devices
        ratios = device_ratios()
        for spec in profile_specs(profile, study.grid):
            protocols = [study.protocol] * (len(study.deployments) if spec.norm == "bn" else 1)
            protocols += [protocol for _, protocol in study.variants]
            add("analog device", spec.model, spec.norm, sum(
                ratios[PERIPHERY_CELL if p.device.periphery else "device"] * len(p.times)
                * p.draws * len(p.targets) for p in protocols))
    table = pd.DataFrame(rows)
    return table.groupby("sweep", sort=False, as_index=False)[
        ["plain_cpu_hours", "library_cpu_hours", "book_design_cpu_hours"]].sum() \
        if len(table) else table


def display(rates: pd.DataFrame, summary_table: pd.DataFrame) -> pd.DataFrame:
    """``summary_display.csv``: the book's table, one row per network, human headers."""
    peak = rates.pivot_table(index=["model", "norm"], columns=rates["variant"].str.startswith(
        "plain"), values="fraction_of_fp32_peak", aggfunc="first", sort=False)
    out = summary_table.merge(peak.reset_index().rename(columns={True: "plain_peak",
                                                                 False: "library_peak"}),
                              on=["model", "norm"], how="left")

    def times(value: float) -> str:
        return f"{value:.2g}x" if np.isfinite(value) else "–"

    table = pd.DataFrame({
        "network": out["model"], "BN": out["norm"].map({"bn": "with", "none": "without"}),
        "exact path": out["exact_path_speedup"].map(times),
        "of fp32 peak": [f"{100 * a:.0f} → {100 * b:.0f} %" for a, b in
                         zip(out["plain_peak"], out["library_peak"], strict=True)]})
    if "compiled_speedup" in out:
        table["compiled"] = [
            times(c) + (", used" if forward == "compiled" else ", not used" if same
                        else ", other predictions: not used")
            for c, same, forward in zip(out["compiled_speedup"], out["identical_to_eager"],
                                        out["forward"], strict=True)]
    if "min_speedup_at_equal_se" in out:
        table["equal SE: least, median"] = [
            f"{times(a)}, {times(b)}" for a, b in zip(
                out["min_speedup_at_equal_se"], out["median_speedup_at_equal_se"], strict=True)]
        table["CPU-hours per sweep"] = [f"{a:.2g} → {b:.2g}" for a, b in zip(
            out["plain_cpu_hours"], out["library_cpu_hours"], strict=True)]
    return table


LOW_NOISE = 0.1
"""The noise levels up to which :func:`floor_cost` compares the designs: where few flips are
seen and the flip floor decides the design."""


def floor_cost(precision: pd.DataFrame) -> pd.DataFrame:
    """``floor_cost_display.csv``: per network, how many times fewer image evaluations than the
    plain loop the margin-strata design needs at noise up to :data:`LOW_NOISE`, chosen with the
    flip floor (as published) and from the sample's variances alone (as the designs that failed
    the first fresh-draw check were): the median and the least over target sets and levels."""
    low = precision[precision["eta"] <= LOW_NOISE].copy()
    plain = low["plain_draws"] * low["plain_images"]
    low["floored"] = plain / low["stratified_evaluations"]
    low["unfloored"] = plain / low["unfloored_evaluations"]
    per = low.groupby(["model", "norm"], sort=False)
    return pd.DataFrame({
        "network": [m for m, _ in per.groups], "BN": [
            {"bn": "with", "none": "without"}[n] for _, n in per.groups],
        **{f"η ≤ {LOW_NOISE:g}, {label}: median, least": [
            f"{part[column].median():.2g}x, {part[column].min():.2g}x" for _, part in per]
           for label, column in (("with the flip floor", "floored"),
                                 ("without it", "unfloored"))}})


def cpu_label(rates: pd.DataFrame) -> str:
    """The CPU kind of a run, from its machine record: vector unit and native bfloat16."""
    first = rates.iloc[0]
    native = [name for name, has in (("AMX", first["amx"]), ("AVX-512-BF16",
                                                             first["avx512_bf16"])) if has]
    return f"{first['vector_unit']}" + (f" ({', '.join(native)})" if native else "")


def every_cpu(root: Path) -> pd.DataFrame:
    """The book's table over every CPU kind measured (one folder each under ``root``): the rows
    of each kind's ``summary_display.csv`` under a first column naming the kind, AVX2 first."""
    parts = []
    for folder in sorted(p for p in root.iterdir() if (p / "summary.csv").is_file()):
        rates = pd.read_csv(folder / "rates.csv")
        shown = display(rates, pd.read_csv(folder / "summary.csv"))
        parts.append(shown.assign(**{"CPU": cpu_label(rates)})[["CPU", *shown.columns]])
    table = pd.concat(parts, ignore_index=True)
    return table.fillna("not measured")


def planned_every_cpu(root: Path) -> pd.DataFrame:
    """The book's table of :func:`planned_sweeps` over every CPU kind measured."""
    parts = []
    for folder in sorted(p for p in root.iterdir() if (p / "planned.csv").is_file()):
        table = pd.read_csv(folder / "planned.csv")
        parts.append(pd.DataFrame({
            "CPU": cpu_label(pd.read_csv(folder / "rates.csv")), "sweeps": table["sweep"],
            "at the plain loop's precision: plain → cheapest design": [
                f"{a:.3g} → {b:.3g}" for a, b in zip(table["plain_cpu_hours"],
                                                     table["library_cpu_hours"], strict=True)],
            "as the book runs them": table["book_design_cpu_hours"].map(lambda v: f"{v:.2g}")}))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data-dir", default=None, help="CIFAR location (as for chapters)")
    parser.add_argument("--images", type=int, default=1000, help="random images per rate")
    parser.add_argument("--draws", type=int, default=2, help="draws per timed rate")
    parser.add_argument("--skip-data", action="store_true",
                        help="only the rates (no CIFAR, no stored sweeps)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--precision-only", action="store_true",
                        help="only recompute precision.csv and the tables after it, with the "
                             "rates of an earlier run in --out (needs CIFAR and the models)")
    parser.add_argument("--tables-only", action="store_true",
                        help="only rewrite the display tables from the CSV files in --out "
                             "(default: of every CPU kind measured)")
    args = parser.parse_args()
    out = args.out or OUT / vector_unit()
    if args.tables_only:
        folders = [args.out] if args.out else [p for p in OUT.iterdir()
                                               if (p / "summary.csv").is_file()]
        profile = load_profile(args.profile, data_dir=args.data_dir)
        for folder in folders:
            planned_sweeps(profile, pd.read_csv(folder / "summary.csv"),
                           pd.read_csv(folder / "rates.csv")).assign(
                **pd.read_csv(folder / "rates.csv").iloc[0][
                    [k for k in machine_record() if k in pd.read_csv(folder / "rates.csv")]
                ].to_dict()
            ).to_csv(folder / "planned.csv", index=False, float_format="%.4g")
            display(pd.read_csv(folder / "rates.csv"), pd.read_csv(folder / "summary.csv")
                    ).to_csv(folder / "summary_display.csv", index=False)
            precision = (pd.read_csv(folder / "precision.csv")
                         if (folder / "precision.csv").is_file() else None)
            if precision is not None and "unfloored_evaluations" in precision:
                floor_cost(precision).to_csv(folder / "floor_cost_display.csv", index=False)
        if args.out is None:
            every_cpu(OUT).to_csv(OUT / "summary_display.csv", index=False)
            planned_every_cpu(OUT).to_csv(OUT / "planned_display.csv", index=False)
        return
    profile = load_profile(args.profile, data_dir=args.data_dir)
    networks = list(dict.fromkeys((s.model, s.norm) for s in profile_specs(profile)))
    rates = (pd.read_csv(out / "rates.csv") if args.precision_only
             else rate_rows(networks, args.images, args.draws, matmul_peak(torch.float32)))
    tables = {"rates.csv": rates}
    precision = None
    if not args.skip_data:
        store, data = ArtifactStore(profile.store_dir), DataCache(profile.data_dir)
    if not (args.skip_data or args.precision_only):
        tables["recompute_check.csv"] = recompute_rows(
            profile, store, data, [("resnet20", "weights", 0.1), ("resnet20", "all", 0.05),
                                   ("vgg16", "weights", 0.2)])
    if not args.skip_data:
        precision = with_times(precision_rows(profile, store, data), tables["rates.csv"])
        tables["precision.csv"] = precision
        tables["floor_cost_display.csv"] = floor_cost(precision)
    tables["summary.csv"] = summary(tables["rates.csv"], precision)
    tables["planned.csv"] = planned_sweeps(profile, tables["summary.csv"], tables["rates.csv"])
    tables["summary_display.csv"] = display(tables["rates.csv"], tables["summary.csv"])
    record = (rates.iloc[0][list(machine_record())].to_dict() if args.precision_only
              else machine_record())  # the rates' machine: the times are its
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if args.precision_only and name == "rates.csv":
            continue  # timed by the earlier run, with its machine record
        if not name.endswith("_display.csv"):
            frame = frame.assign(**record)
        frame.to_csv(out / name, index=False, float_format="%.4g")
    if out.resolve().parent == OUT.resolve():  # a CPU kind's folder: the combined views too
        every_cpu(OUT).to_csv(OUT / "summary_display.csv", index=False)
        planned_every_cpu(OUT).to_csv(OUT / "planned_display.csv", index=False)
    print(tables["summary.csv"].to_string(index=False, float_format="%.3g"))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
