"""The faster sweep: its batch size changes no prediction, and the paired precision of
normalized accuracy agrees with a simulation of the sampling it models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bnnoise.config import load_profile
from bnnoise.evaluation import EVALUATION_BATCH, predictions
from bnnoise.noise.injection import injected_noise
from bnnoise.noise.protocol import select_tensors
from bnnoise.pipeline.specs import ModelSpec, recipe_of
from bnnoise.pipeline.trained import stored_model
from bnnoise.sampling import paired_components, standard_error, unpaired_components
from bnnoise.store import ArtifactStore

ROOT = Path(__file__).resolve().parents[1]


def test_the_evaluation_batch_size_changes_no_prediction_of_a_noisy_trained_network() -> None:
    profile = load_profile("cpu", root=ROOT)
    spec = ModelSpec("cifar10", "resnet20", "bn")
    trained = stored_model(ArtifactStore(profile.store_dir), spec, recipe_of(profile, spec))
    assert trained is not None, "the published ResNet20 with BN is missing"
    model = trained.model
    images = torch.randn(400, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    images = images.contiguous(memory_format=torch.channels_last)
    with injected_noise(select_tensors(model, "all"), 0.1, seed=3):
        small = predictions(model, images, batch_size=EVALUATION_BATCH)
        large = predictions(model, images, batch_size=400)
    assert EVALUATION_BATCH < 400
    assert torch.equal(small[0], large[0]) and torch.equal(small[1], large[1])


def _population(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clean hits and, per image, how easily noise flips it (most images never flip)."""
    rng = np.random.default_rng(seed)
    clean = rng.random(n) < 0.9
    fragility = np.where(rng.random(n) < 0.15, rng.random(n), 0.0)
    return clean, fragility


def _noisy(clean: np.ndarray, fragility: np.ndarray, draws: int, rng: np.random.Generator
           ) -> np.ndarray:
    """Hits under noise: each draw has its own strength, a fragile image flips with a
    probability that grows with it."""
    strength = rng.uniform(0.05, 0.35, size=(draws, 1))
    flips = rng.random((draws, len(clean))) < strength * fragility[None, :]
    return clean[None, :] ^ flips


def test_the_paired_standard_error_matches_the_spread_of_repeated_estimates() -> None:
    clean, fragility = _population()
    rng = np.random.default_rng(1)
    images, draws = 400, 4
    estimates, predicted, unpaired = [], [], []
    for _ in range(600):
        idx = rng.choice(len(clean), images, replace=False)
        hits = _noisy(clean[idx], fragility[idx], draws, rng)
        estimates.append(hits.mean() / clean[idx].mean())
        v = paired_components(torch.from_numpy(hits), torch.from_numpy(clean[idx]))
        predicted.append(standard_error(v, images, draws, len(clean)) ** 2)
        u = unpaired_components(torch.from_numpy(hits), float(clean.mean()))
        unpaired.append(standard_error(u, images, draws, len(clean)) ** 2)
    observed = np.var(estimates, ddof=1)
    # the formula's variance is within 20 % of the simulated one (600 replicates: about 6 %
    # sampling error), and pairing removes most of the error of the unpaired estimate
    assert abs(np.mean(predicted) / observed - 1) < 0.2, (np.mean(predicted), observed)
    assert np.mean(unpaired) > 3 * observed


def test_paired_components_are_on_the_normalized_scale() -> None:
    clean = torch.tensor([True, True, False, True] * 50)
    hits = clean[None, :].repeat(3, 1)
    v = paired_components(hits, clean)  # the noise flips nothing: no error at all
    assert (v.draw, v.image, v.residual) == (0.0, 0.0, 0.0)
    flipped = hits.clone()
    flipped[0, :20] = ~flipped[0, :20]
    assert paired_components(flipped, clean).draw > 0


def test_the_sweep_speed_benchmark_runs_and_writes_its_tables(tmp_path: Path) -> None:
    # the command the performance page shows, on the smoke profile's networks, random data only
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sweep_speed.py"), "--profile",
                    "smoke", "--skip-data", "--images", "20", "--draws", "1", "--out",
                    str(tmp_path)], check=True, cwd=ROOT, capture_output=True)
    rates = pd.read_csv(tmp_path / "rates.csv")
    assert set(rates["variant"].str.split(" ").str[0]) == {"plain", "library"}
    assert (rates["images_per_second"] > 0).all() and "vector_unit" in rates
    compiled = rates[rates["variant"].str.contains("compiled")]
    assert len(compiled) == 2 and compiled["identical_to_eager"].isin([True, False]).all()
    shown = pd.read_csv(tmp_path / "summary_display.csv")
    assert list(shown.columns[:5]) == ["network", "BN", "exact path", "of fp32 peak", "compiled"]


def test_the_fast_path_needs_every_number_within_the_reference_interval() -> None:
    from bnnoise.analysis.fast_path import fast_path_allowed

    summary = pd.DataFrame({"model": ["a", "b", "c"], "numbers": [36, 36, 0],
                            "within_fp32_ci": [36, 35, 0]})
    assert list(fast_path_allowed(summary)["fast_path"]) == [True, False, False]
    published = pd.read_csv(ROOT / "data" / "results" / "benchmark"
                            / "fast_evaluation_summary.csv")
    decided = fast_path_allowed(published)
    assert list(decided["fast_path"]) == list(
        decided["within_fp32_ci"] == decided["numbers"])


def _benchmark_script(name: str) -> dict:
    """The names a script of ``benchmarks/`` defines (its siblings importable, as when run)."""
    import runpy

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return runpy.run_path(str(ROOT / "benchmarks" / name))
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_the_performance_page_shows_the_sweep_speed_of_every_cpu_kind_measured() -> None:
    script = _benchmark_script("sweep_speed.py")
    folder = ROOT / "data" / "results" / "benchmark" / "sweep_speed"
    kinds = sorted(p.name for p in folder.iterdir() if (p / "summary.csv").is_file())
    table = script["every_cpu"](folder)
    assert [label.split(" ")[0] for label in table["CPU"].unique()] == kinds
    published = pd.read_csv(folder / "summary_display.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(table.astype(str), published.astype(str))


def test_every_published_design_is_as_precise_as_the_plain_loop_and_no_dearer() -> None:
    folder = ROOT / "data" / "results" / "benchmark" / "sweep_speed"
    for path in folder.glob("*/precision.csv"):
        table = pd.read_csv(path)
        assert (table["stratified_se"] <= table["plain_se_by_strata"] * (1 + 1e-3)).all(), path
        assert (table["stratified_evaluations"]
                <= table["plain_draws"] * table["plain_images"]).all(), path
        images = table["stratified_images"].str.split("|").map(lambda n: sum(map(int, n)))
        assert (images <= table["plain_images"]).all(), path
        assert set(table["design"]) <= {
            "margin strata", "paired estimate, stratified subset",
            "full test set (faster than the subset)",
            "full test set (the subset cannot reach the standard error)"}, path


def test_the_published_design_check_applies_its_rule_to_every_cell() -> None:
    from bnnoise.stratified_design import DESIGN_RATIO_LIMIT, DESIGN_SHARE, designs_hold

    assert designs_hold([1.0] * 9 + [1.3]) == ([True] * 9 + [False], True)
    assert designs_hold([1.0] * 8 + [1.3] * 2)[1] is False and designs_hold([])[1] is False
    script = _benchmark_script("design_check.py")
    for path in (ROOT / "data" / "results" / "benchmark" / "sweep_speed").glob(
            "*/design_check.csv"):
        table = script["stored_checks"](path)
        assert (table["passes"] == (table["se_ratio"] <= DESIGN_RATIO_LIMIT)).all()
        assert np.allclose(table["se_ratio"], table["fresh_design_se"] / table["fresh_plain_se"],
                           rtol=2e-3)
        shown = pd.read_csv(path.with_name("design_check_display.csv"))
        pd.testing.assert_frame_equal(script["display"](table), shown)
        for (seed, designs), check in table.groupby(["fresh_seed", "designs"]):
            holds = check["passes"].mean() >= DESIGN_SHARE
            verdicts = shown.loc[shown["designs (fresh seed)"] == f"{designs} ({seed})"]
            assert verdicts.iloc[:, -1].str.startswith("hold" if holds else "do not hold").all()


def test_a_design_check_extended_to_more_networks_keeps_the_ones_it_covered() -> None:
    without_rechecked = _benchmark_script("design_check.py")["without_rechecked"]
    earlier = pd.DataFrame({"fresh_seed": [1001, 1002, 1002], "model": ["resnet20"] * 3,
                            "norm": ["bn", "bn", "none"], "target": ["weights"] * 3})
    checked = pd.DataFrame({"fresh_seed": [1002, 1002], "model": ["resnet20", "resnet44"],
                            "norm": ["none", "bn"], "target": ["weights"] * 2})
    kept = without_rechecked(earlier, checked)
    assert kept[["fresh_seed", "norm"]].values.tolist() == [[1001, "bn"], [1002, "bn"]]
    assert without_rechecked(pd.DataFrame(), checked).empty


def test_the_published_floor_cost_table_is_the_one_its_precision_table_gives() -> None:
    script = _benchmark_script("sweep_speed.py")
    floor_cost, low_noise = script["floor_cost"], script["LOW_NOISE"]
    folder = ROOT / "data" / "results" / "benchmark" / "sweep_speed" / "AVX512"
    precision = pd.read_csv(folder / "precision.csv")
    shown = pd.read_csv(folder / "floor_cost_display.csv")
    pd.testing.assert_frame_equal(floor_cost(precision), shown)
    # the floor raises the variances: the greedy search seldom finds a cheaper design with it
    low = precision[precision["eta"] <= low_noise]
    assert (low["unfloored_evaluations"] <= low["stratified_evaluations"]).mean() > 0.9
    toy = pd.DataFrame({"model": ["m"] * 3, "norm": ["bn"] * 3, "eta": [0.05, 0.1, 0.5],
                        "plain_draws": [5] * 3, "plain_images": [10_000] * 3,
                        "stratified_evaluations": [50_000, 25_000, 5_000],
                        "unfloored_evaluations": [10_000, 5_000, 5_000]})
    assert floor_cost(toy).iloc[0, 2:].tolist() == ["1.5x, 1x", "7.5x, 5x"]
