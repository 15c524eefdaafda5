"""The book's style, figure publishing, tables and provenance lines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnnoise.config import load_profile
from bnnoise.config.setups import ShortRunSetup
from bnnoise.figures.style import FULL_WIDTH, PALETTE, clip_band, figure, use_book_style
from bnnoise.pages.claim_tables import claim_table
from bnnoise.pages.elements import (
    configuration_rows,
    configuration_table,
    figure_links,
    format_number,
    link_path,
    numbered_table,
    publish_figure,
)
from bnnoise.pages.provenance import provenance_line, provenance_markdown, records_under
from bnnoise.store import ArtifactStore

FULL = {"cpu": "Intel(R) Xeon(R) Platinum 8480+", "amx": True, "avx512_bf16": True,
        "threads": 2, "torch": "2.14.1", "python": "3.11.2", "library": "0.1.0",
        "commit": "abc123def456", "created": "2026-11-03 10:00 UTC"}


def test_figures_are_full_width_and_at_most_two_panels_per_row() -> None:
    fig, axes = figure(rows=3, cols=2, height_per_row=2.5)
    assert axes.shape == (3, 2)
    assert tuple(fig.get_size_inches()) == pytest.approx((FULL_WIDTH, 7.5))
    assert fig.dpi == 100 and FULL_WIDTH * fig.dpi <= 704
    with pytest.raises(ValueError, match="at most 2 per row"):
        figure(cols=3)


def test_book_style_is_seaborn_colorblind_with_readable_fonts() -> None:
    import matplotlib as mpl

    use_book_style()
    # seaborn's colour-blind palette: blue, orange, green (Wong 2011 as seaborn ships it)
    assert [mpl.colors.to_hex(c) for c in PALETTE[:3]] == ["#0173b2", "#de8f05", "#029e73"]
    cycle = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    assert mpl.colors.to_rgb(cycle[0]) == pytest.approx(PALETTE[0])
    for key in ("xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        size_px = mpl.rcParams[key] / 72 * 100  # points at 100 dpi
        assert size_px >= 14, key


def test_clip_band_keeps_intervals_in_range() -> None:
    low, high = clip_band(np.array([-0.1, 0.5]), np.array([0.2, 1.3]))
    assert low.tolist() == [0.0, 0.5] and high.tolist() == [0.2, 1.0]
    low, high = clip_band(-5.0, 5.0, lower=-1.0, upper=2.0)
    assert (float(low), float(high)) == (-1.0, 2.0)
    with pytest.raises(ValueError):
        clip_band(0, 1, lower=1, upper=0)


def test_provenance_line_from_complete_records() -> None:
    other = {**FULL, "created": "2026-11-05 09:00 UTC", "commit": "0123456789ab"}
    line = provenance_line([FULL, other], "cpu", seeds=[0, 1, 2])
    assert line.startswith("Computed with profile cpu from 2 stored results (seeds 0, 1, 2) on "
                           "2026-11-03 to 2026-11-05;")
    assert "code commit abc123def456, 0123456789ab" in line
    assert "bnnoise 0.1.0" in line and "torch 2.14.1" in line
    assert "CPU Intel(R) Xeon(R) Platinum 8480+, native bf16 (AMX + AVX-512-BF16)" in line
    assert "not recorded" not in line and line.endswith(".")


def test_provenance_line_says_what_is_not_recorded() -> None:
    old = {"cpu": "AMD EPYC 7B13", "amx": False, "avx512_bf16": False}  # an older artifact
    line = provenance_line([FULL, old, {}], "cpu", seeds=[0])
    assert "from 3 stored results (seed 0)" in line
    assert "code commit abc123def456," in line and "AMD EPYC 7B13, no native bf16" in line
    assert line.endswith("; date, code commit, bnnoise version, torch and CPU not recorded "
                         "for some (older) results.")  # said once, not after every item
    empty = provenance_line([{}], "smoke")
    assert empty == ("Computed with profile smoke from 1 stored result (seeds not recorded); "
                     "date, code commit, bnnoise version, torch and CPU not recorded.")
    assert "torch 2.14; date, code commit, bnnoise version and CPU not recorded" in \
        provenance_line([{"torch": "2.14"}], "cpu", [0])
    assert "no stored result" in provenance_line([], "cpu", seeds=[])
    assert "bf16 capability not recorded" in provenance_line([{"cpu": "X"}], "cpu", [0])
    assert provenance_markdown([FULL], "cpu").startswith(":::{container} provenance")


def test_records_under_reads_the_manifests(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    for slug in ("a-x", "b-x"):
        with store.writer("runs", slug, {"slug": slug}, {"data_fingerprint": "f"}) as out:
            (out / "t.csv").write_text("x\n1\n")
    (tmp_path / "runs" / ".tmp-junk").mkdir()
    records = records_under(tmp_path, "runs")
    assert len(records) == 2 and records[0]["data_fingerprint"] == "f"
    assert {"cpu", "commit", "created", "torch"} <= set(records[0])
    assert len(records_under(tmp_path, "runs", "a-")) == 1
    assert records_under(tmp_path, "nothing") == []
    assert store.provenance("runs", "a-x", {"slug": "a-x"}) == records[0]
    # an artifact whose manifest has no provenance gives an empty record
    manifest = store.path("runs", "b-x", {"slug": "b-x"}) / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["provenance"]
    manifest.write_text(json.dumps(data))
    assert records_under(tmp_path, "runs", "b-") == [{}]


@pytest.mark.parametrize("value, text", [
    (0.123456, "0.123"), (12.3456, "12.3"), (1234.5, "1234"),
    (0.00012345, "1.23\u00a0×\u00a010⁻⁴"), (3, "3"), (2.0, "2"), (float("nan"), "–"),
    (None, "–"), (True, "yes"), (1.2e27, "1.20\u00a0×\u00a010²⁷"), (float("inf"), "∞"),
    (25000, "25\u2009000"),
])
def test_numbers_are_rounded_for_tables(value, text) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize("column, texts", [
    ([26.0, 45.3], ["26.0", "45.3"]), ([0.1, 0.05, 0.02], ["0.10", "0.05", "0.02"]),
    ([1.0, 2.0], ["1", "2"]), ([0.123456, 0.5, 0.001], ["0.123", "0.5", "0.001"]),
    ([float("nan"), 2.5, 3.0], ["–", "2.5", "3.0"]),
    ([220.0, 43.2, 9.64], ["220", "43.2", "9.64"]),  # never beyond three significant digits
])
def test_a_float_column_shows_one_number_of_decimals(column, texts) -> None:
    table = numbered_table(pd.DataFrame({"x": column}), "A caption.", "tbl-x").data
    cells = [line.strip("| ").strip() for line in table.splitlines()[6:6 + len(column)]]
    assert cells == texts


def test_numbered_tables_have_human_headers_and_no_index() -> None:
    table = pd.DataFrame({"group_size": [1, 64], "grad_ratio": [1.23456, 0.5],
                          "grad_ratio_ci95": [0.0123, 0.2]}, index=[7, 8])
    text = numbered_table(table, "A caption.", "tbl-x",
                          headers={"grad_ratio": "ratio first / last"}).data
    assert text.startswith(":::{table} A caption.\n:name: tbl-x\n")
    header = text.splitlines()[4]
    assert "channels / group" in header and "ratio first / last" in header
    assert "± 95 % CI" in header and "group_size" not in header
    assert "1.23" in text and "0.0123" in text and "1.23456" not in text
    assert "7" not in text.split("\n", 4)[4].split("|")[1]  # no index column
    merged = numbered_table(table, "c", "tbl-y", merge_ci=True).data
    assert "1.23\u00a0±\u00a00.012" in merged and merged.splitlines()[4].count("|") == 3


def test_a_published_table_is_glued_for_its_markdown_caption(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bnnoise.pages import markdown_tables

    glued: dict[str, tuple] = {}
    monkeypatch.setattr(markdown_tables, "glue",
                        lambda name, obj, display: glued.update({name: (obj, display)}))
    table = pd.DataFrame({"group_size": [1, 64], "grad_ratio": [1.23456, 0.5]})
    cited = markdown_tables.publish_table("tbl-x", table, {"grad_ratio": "ratio"},
                                          provenance="*made here*", digits=2)
    body, display = glued["tbl-x"]
    assert display is False and ":::" not in body.data and ":name:" not in body.data
    assert [c.strip() for c in body.data.splitlines()[0].split("|")[1:3]] == [
        "channels / group", "ratio"]
    assert "1.2" in body.data and "1.23" not in body.data
    assert "Provenance: note" in cited.data
    assert markdown_tables.publish_table("tbl-y", table.iloc[:0], empty="Nothing yet.") is None
    assert glued["tbl-y"][0].data.splitlines()[-1] == "| *Nothing yet.* |"


def test_configuration_rows_of_a_setup_and_a_profile(project: Path) -> None:
    rows = dict(configuration_rows(ShortRunSetup(), exclude=("high_lr",)))
    assert rows["seeds (random initialisations or runs)"] == "0, 1, 2"
    assert rows["training images per class"] == "1000"
    assert "high peak learning rate" not in rows
    profile = load_profile("smoke", root=project)
    text = configuration_table(profile, sections=("recipe",)).data
    assert text.splitlines()[0].split("|")[1].strip() == "parameter"
    assert "recipe: peak learning rate" in text and "normalizers" in text


def test_published_figures_are_saved_and_linked_from_the_notebook(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BNNOISE_RESULTS", raising=False)
    profile = load_profile("smoke", root=project)
    csv = profile.results_dir / "x.csv"
    csv.parent.mkdir(parents=True)
    csv.write_text("a\n1\n")
    assert link_path(csv, profile) == "../data/results/smoke/x.csv"
    fig, axes = figure()
    axes[0, 0].plot([0, 1], [0, 1])
    assert publish_figure("fig_x", fig, profile, data_file=csv, provenance="*made here*") is None
    for fmt in ("svg", "pdf"):
        assert (profile.results_dir / "figures" / f"fig_x.{fmt}").stat().st_size > 0
    text = figure_links("fig_x", profile, csv, "*made here*")  # glued as fig_x-links
    assert "{download}`SVG <../data/results/smoke/figures/fig_x.svg>`" in text
    # the provenance is cited under the figure and listed once, as a note, at the page's end
    assert "<../data/results/smoke/x.csv>" in text and "Provenance: note" in text
    from bnnoise.pages.provenance import provenance_notes

    assert "made here" in provenance_notes().data
    # a rerun outside book/ links the tables beside its notebook
    monkeypatch.setenv("BNNOISE_RESULTS", str(project / "out" / "results"))
    assert link_path(load_profile("smoke", root=project).results_dir / "x.csv",
                     profile) == "results/smoke/x.csv"


def test_short_labels_and_header_hyphens_never_wrap() -> None:
    table = pd.DataFrame({"dataset": ["CIFAR-100"], "norm": ["no BN"],
                          "note": ["a sentence long enough to wrap"], "CIFAR-10 acc": [1.5]})
    text = numbered_table(table, "c", "t").data
    assert "CIFAR\u2011100" in text and "no\u00a0BN" in text  # short cells: no break at all
    assert "a sentence long enough to wrap" in text  # long cells wrap at their spaces
    assert "CIFAR\u201110 acc" in text.splitlines()[4]  # headers: at spaces only
    assert "-" not in text.splitlines()[4]


def test_numbered_tables_in_percent_and_distinct_headers() -> None:
    table = pd.DataFrame({"norm": ["gn4"], "dead_fraction": [0.2859],
                          "dead_fraction_ci95": [0.3613], "diverged_a": [0], "diverged_b": [2]})
    text = numbered_table(table, "c", "t", {"dead_fraction": "dead (%)", "diverged_a": "a",
                                            "diverged_b": "b"}, merge_ci=True,
                          percent=("dead_fraction",)).data
    assert "28.6\u00a0±\u00a036" in text and "| gn4" in text
    with pytest.raises(ValueError, match="share the header 'diverged'"):
        numbered_table(table, "c", "t", {"diverged_a": "diverged", "diverged_b": "diverged"})


def test_pilot_choice_takes_the_best_rate_that_did_not_diverge() -> None:
    import math

    import pandas as pd

    from bnnoise.analysis.pilots import pilot_choice, pilot_summary

    runs = pd.DataFrame([
        {"peak_lr": 0.2, "epoch": 1, "test_acc": 0.30, "train_loss": 2.0, "diverged_step": 7},
        {"peak_lr": 0.1, "epoch": 1, "test_acc": 0.20, "train_loss": 2.2,
         "diverged_step": math.nan},
        {"peak_lr": 0.1, "epoch": 2, "test_acc": 0.28, "train_loss": 1.9,
         "diverged_step": math.nan},
        {"peak_lr": 0.05, "epoch": 1, "test_acc": 0.15, "train_loss": 2.2,
         "diverged_step": math.nan},
        {"peak_lr": 0.05, "epoch": 2, "test_acc": 0.25, "train_loss": 2.0,
         "diverged_step": math.nan}])
    summary = pilot_summary(runs)
    assert summary["peak_lr"].tolist() == [0.2, 0.1, 0.05]  # best final test accuracy first
    assert summary["diverged"].tolist() == [True, False, False]
    assert pilot_choice(summary) == 0.1


def test_pilot_table_names_the_choice_and_links_every_epoch(project: Path) -> None:
    from bnnoise.analysis.pilots import pilot_path
    from bnnoise.pages.pilot_tables import pilot_table

    profile = load_profile("smoke", root=project)
    assert "No learning-rate pilot" in pilot_table(profile, "vgg16", "none").data
    path = pilot_path(profile, "vgg16", "none")
    path.parent.mkdir(parents=True)
    pd.DataFrame({"peak_lr": [0.1, 0.05], "grad_clip": [1.0, 1.0], "epoch": [2, 2],
                  "train_loss": [1.8, 1.9], "test_acc": [0.33, 0.31],
                  "diverged_step": [float("nan")] * 2}).to_csv(path, index=False)
    text = pilot_table(profile, "vgg16", "none").data
    assert "Chosen: 0.1;" in text and ":name: tbl-pilot" in text
    assert " 0.10 |" in text and " 0.05 |" in text  # one number of decimals per column
    assert "pilot_vgg16_none_lr.csv" in text


def test_a_network_keeps_its_colour_whichever_networks_a_figure_shows() -> None:
    from bnnoise.figures.colours import model_colors

    every = model_colors(["resnet20", "resnet32", "resnet44", "resnet56", "vgg16"])
    some = model_colors(["resnet56", "resnet32"])
    assert some == {"resnet56": every["resnet56"], "resnet32": every["resnet32"]}
    assert len(set(every.values())) == 5 and "resnet8" in model_colors(["resnet8", "x"])
    # no two alike: the palette's orange and vermillion (0.2 apart in RGB) never meet
    import itertools

    import numpy as np
    gaps = [np.linalg.norm(np.subtract(a, b)) for a, b in itertools.combinations(every.values(), 2)]
    assert min(gaps) > 0.25


def test_accuracy_targets_name_the_networks_that_miss_them_with_their_last_gain() -> None:
    from bnnoise.analysis.results import NoiseResults
    from bnnoise.pages.noise_tables import accuracy_targets_text

    key = {"dataset": "cifar10", "placement": "all", "seed": 0}
    training = pd.DataFrame([{**key, "model": "resnet20", "norm": "bn", "clean_accuracy": 0.86},
                             {**key, "model": "resnet20", "norm": "none",
                              "clean_accuracy": 0.79}])
    history = pd.DataFrame([{**key, "model": "resnet20", "norm": n, "epoch": e, "test_acc": a}
                            for n in ("bn", "none")
                            for e, a in zip((1, 2, 3), (0.70, 0.775, 0.79), strict=True)])
    empty = pd.DataFrame()
    results = NoiseResults([], training, history, empty, empty, empty, empty)
    text = accuracy_targets_text(results).data
    assert "Not reached: resnet20 no BN (seed 0): 79.00 %, +9.0 points" in text
    assert "resnet20 BN" not in text
    results.training["clean_accuracy"] = 0.9
    assert "Every network of this run reaches it." in accuracy_targets_text(results).data


def test_untrained_networks_are_listed_per_grid(project: Path) -> None:
    from bnnoise.analysis.coverage import untrained_by_grid, untrained_text

    profile = load_profile("smoke", root=project)  # a fresh store: nothing is trained
    missing = untrained_by_grid(profile, ("main", "bn_count", "no_such_grid"))
    assert set(missing) == {"main", "bn_count"}
    assert not set(missing["main"]) & set(missing["bn_count"])  # a shared network once
    text = untrained_text(profile, ("main",))
    assert text.startswith("grid `main`, ") and missing["main"][0] in text


def test_claim_table_names_each_rows_interval_when_they_differ() -> None:
    row = {"claim": "BN lowers noise resistance", "target": "all", "scoring": "wrong",
           "estimate": 20.0, "low": 10.0, "high": 30.0, "verdict": "reproduced", "rule": "r",
           "dataset": "cifar10"}
    verdicts = pd.DataFrame([{**row, "subject": "resnet20", "interval": "seeds (3 vs 3)"},
                             {**row, "subject": "vgg16", "interval": "draws and images, one seed"}])
    mixed = claim_table(verdicts, "BN lowers", "tbl-x").data
    assert "Interval: per row" in mixed and "| interval over" in mixed
    assert "| seeds (3 vs 3)" in mixed and "| draws and images, one seed" in mixed
    assert "| dataset" not in mixed  # one dataset: no column for it
    single = claim_table(verdicts.iloc[:1], "BN lowers", "tbl-x").data
    assert "Interval: seeds (3 vs 3)." in single and "interval over" not in single
    both = claim_table(verdicts.assign(dataset=["cifar10", "cifar100"]), "BN lowers",
                       "tbl-x").data
    assert "| dataset" in both and "| CIFAR\u2011100 " in both
    longer = claim_table(verdicts.assign(epochs=[10, 40]), "BN lowers", "tbl-x").data
    assert "| resnet20, 10 epochs" in longer and "| vgg16, 40 epochs" in longer
    assert "| epochs" not in longer and ", 10 epochs" not in mixed  # one length: not named
    unsure = claim_table(verdicts.assign(verdict="inconclusive at this power"), "BN lowers",
                         "tbl-x").data
    assert "| inconclusive " in unsure and "| inconclusive at this power" not in unsure
    folded = claim_table(verdicts, "BN lowers", "tbl-x", fold=True).data
    assert folded.startswith("::::{dropdown} Every comparison: 2 rows (2 reproduced)\n")
    assert ":name: tbl-x" in folded and folded.rstrip().endswith("::::")
    twice = pd.concat([verdicts, verdicts.assign(scoring="argmax")], ignore_index=True)
    merged = claim_table(twice, "BN lowers", "tbl-x", fold=True).data
    assert merged.startswith("::::{dropdown} Every comparison: 2 rows (2 reproduced; 2 rows "
                             "stand for both scorings, so the 4 comparisons counted")
    # a parenthesis every subject ends with goes to the caption once, not into every row
    series = verdicts.assign(subject=["resnet20, first k (k = 0, 3; seed 0)",
                                      "resnet20, last k (k = 0, 3; seed 0)"])
    lifted = claim_table(series, "BN lowers", "tbl-x").data
    assert "In every row: k = 0, 3; seed 0." in lifted
    assert "| resnet20, first k " in lifted and lifted.count("seed 0") == 1
    # a shared number that is no seed (a snapshot's accuracy) stays in its row
    matched = verdicts.assign(subject=["resnet20: BN after epoch 8 (90.2 %)"] * 2,
                              target=["all", "weights"])
    kept = claim_table(matched, "BN lowers", "tbl-x").data
    assert "In every row" not in kept and kept.count("(90.2 %)") == 2


def test_recipe_exceptions_are_named_only_for_the_grids_they_change(project: Path) -> None:
    from bnnoise.analysis.coverage import recipe_exceptions_text

    profile = load_profile("cpu", root=project)
    text = recipe_exceptions_text(profile, ("cifar100",))
    assert text.startswith("resnet44, vgg16 (bn, none) on cifar100: precision fp32, because ")
    assert recipe_exceptions_text(profile, ("main", "seeds", "no_such_grid")) == ""


def test_glance_view_has_one_column_per_target_set_and_both_scorings_in_each_cell() -> None:
    from bnnoise.pages.claim_tables import glance_view
    rows = []
    for dataset in ("cifar10", "cifar100"):
        for target in ("all", "weights"):
            for scoring in ("argmax", "wrong"):
                rows.append({"claim": "BN lowers noise resistance", "dataset": dataset,
                             "target": target, "scoring": scoring, "verdict": "reproduced"})
    rows.append({"claim": "at matched clean accuracy", "dataset": "cifar10", "target": "all",
                 "scoring": "wrong", "verdict": "contradicted"})
    wide = glance_view(pd.DataFrame(rows))
    assert list(wide.columns) == ["claim", "dataset", "all", "weights"]
    assert list(wide["dataset"]) == ["CIFAR-10", "CIFAR-100", "CIFAR-10"]
    assert wide.loc[0, "all"] == "1/0/0 · 1/0/0"
    matched = wide.iloc[2]
    assert matched["all"] == "– · 0/1/0" and matched["weights"] == "– · –"


@pytest.mark.parametrize("accuracies, chosen", [
    ({30: 0.905, 40: 0.912, 60: 0.915}, 40),   # 40 is within 0.5 points of 60
    ({30: 0.911, 40: 0.912, 60: 0.915}, 30),
    ({30: 0.900, 40: 0.909, 60: 0.915}, 60),   # 0.6 points short: only the longest qualifies
    ({30: 0.920, 40: 0.912, 60: 0.915}, 30),   # a shorter run better than the longest
])
def test_the_training_length_rule_takes_the_shortest_run_close_to_the_longest(
        accuracies, chosen) -> None:
    from bnnoise.analysis.pilots import length_choice

    assert length_choice(accuracies) == chosen


def test_the_training_length_rule_needs_a_pilot() -> None:
    from bnnoise.analysis.pilots import length_choice

    with pytest.raises(ValueError, match="no pilot run"):
        length_choice({})


def test_the_length_pilot_reports_what_is_trained_and_chooses_once_all_runs_are(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bnnoise.analysis.pilots import length_choice, length_pilot, length_status
    from bnnoise.pages.pilot_tables import length_pilot_view
    from bnnoise.pipeline.specs import profile_specs
    from bnnoise.pipeline.trained import profile_model

    monkeypatch.setenv("BNNOISE_ROOT", str(project))
    profile = load_profile("smoke", root=project)
    before = length_pilot(profile)  # a fresh store: nothing trained, nothing chosen
    assert not before.runs["trained"].any() and before.choice is None
    assert before.history.empty and "0 of 2 pilot runs" in length_status(before)
    specs = profile_specs(profile, "length_pilot")
    profile_model(profile, specs[0])
    half = length_pilot(profile)
    assert list(half.runs["trained"]) == [True, False] and half.choice is None
    assert set(half.history["epochs"]) == {specs[0].epochs}
    assert list(length_pilot_view(half)["state"]) == ["trained", "in the training queue"]
    profile_model(profile, specs[1])
    done = length_pilot(profile)
    accuracies = dict(zip(done.runs["epochs"], done.runs["clean_accuracy"], strict=True))
    assert done.choice == length_choice(accuracies)
    assert f"chooses {done.choice} epochs" in length_status(done)


def test_a_claim_table_marks_a_post_hoc_rule_in_its_caption() -> None:
    verdicts = pd.DataFrame({
        "claim": ["BN lowers noise resistance"], "dataset": ["cifar10"], "subject": ["resnet20"],
        "target": ["all"], "scoring": ["wrong"], "estimate": [5.0], "low": [3.0], "high": [7.0],
        "interval": ["draws"], "verdict": ["reproduced"], "rule": ["gap above 2 points"],
        "rule_name": ["bn_gap"]})
    late = pd.DataFrame({"rule": ["bn_gap"], "post_hoc": [True]})
    first = pd.DataFrame({"rule": ["bn_gap"], "post_hoc": [False]})
    assert "post hoc" in claim_table(verdicts, "BN lowers", "tbl-x", ledger=late).data
    assert "post hoc" not in claim_table(verdicts, "BN lowers", "tbl-x", ledger=first).data
    assert "post hoc" not in claim_table(verdicts, "BN lowers", "tbl-x").data
    ordered = pd.concat([verdicts.assign(order="data first"),
                         verdicts.assign(order="rule first", subject="resnet44")])
    caption = claim_table(ordered, "BN lowers", "tbl-x", ledger=late).data
    assert "but 1 of these 2 comparisons judge networks trained after it was committed" in caption
    from bnnoise.pages.claim_tables import ledger_view

    shown = ledger_view(pd.DataFrame({
        "rule": ["a", "b", "c", "d"], "decides": "x", "fixed_in": "abc",
        "fixed_at": "2026-12-06 23:26 UTC", "post_hoc": [True, False, False, False],
        "first_data_at": ["2026-11-22 04:00 UTC", "2026-12-07 06:00 UTC",
                          "2026-12-07 06:00 UTC", ""],
        "first_data_dated_by": ["its commit", "its creation", "its commit", ""]}))
    assert list(shown["order"]) == [
        "post hoc: data first", "rule first",
        "rule first by the data's commit date (they may be older)", "no data yet"]


def test_the_claims_page_answers_in_words_from_the_verdicts() -> None:
    from bnnoise.pages.claim_sentences import claims_in_words

    rows = [("BN lowers", "reproduced")] * 3 + [("robust", "contradicted")] * 2 + [
        ("robust", "reproduced"), ("grows", "reproduced"), ("grows", "inconclusive at this power")]
    verdicts = pd.DataFrame(rows, columns=["claim", "verdict"]).assign(rule_name="bn_gap")
    text = claims_in_words(verdicts).data
    assert "**BN lowers**: reproduced in every comparison (3 of 3" in text
    assert "**Robust**: mostly contradicted (1 of 3 comparisons reproduce it, 2 contradict" in text
    assert "**Grows**: mixed" in text and "post hoc" not in text
    late = pd.DataFrame({"rule": ["bn_gap"], "post_hoc": [True]})
    assert "post hoc" in claims_in_words(verdicts, late).data
    mixed = verdicts.assign(order=["rule first"] * 2 + ["data first"] * 6)
    assert ("post hoc ({ref}`ledger <rule-ledger>`); but 2 of the 8 comparisons judge networks "
            "trained after their rule was committed") in claims_in_words(mixed, late).data
    assert "{ref}`details <claim-gap>`" in text  # each claim links to its section
    shares = pd.DataFrame({"claim": ["BN lowers"], "readings": [40], "reproduced": [0.75],
                           "contradicted": [0.1]})
    across = claims_in_words(verdicts, shares=shares).data
    assert "Under every reading of the protocol (40): 75 % reproduce it, 10 % contradict" in across


def test_the_published_claims_page_opens_with_its_answer() -> None:
    import nbformat

    cells = nbformat.read(Path(__file__).resolve().parents[1] / "book" / "00_claims.ipynb",
                          as_version=4).cells
    shown = [c for c in cells if c.cell_type == "markdown" or c.get("outputs")]
    # the title and its introduction, then the answer (not a table of count codes)
    outputs = next(c for c in shown if c.cell_type == "code")["outputs"]
    assert "The answer, claim by claim" in outputs[0]["data"]["text/markdown"]


def test_a_claim_table_merges_the_scorings_only_where_they_give_the_same_row() -> None:
    from bnnoise.pages.claim_tables import claim_table

    row = {"claim": "BN lowers noise resistance", "dataset": "cifar10", "subject": "resnet20",
           "estimate": 5.0, "low": 3.0, "high": 7.0, "interval": "one seed (t)",
           "verdict": "reproduced", "rule": "r"}
    verdicts = pd.DataFrame([
        {**row, "target": "weights", "scoring": "argmax"},
        {**row, "target": "weights", "scoring": "wrong"},
        {**row, "target": "all", "scoring": "argmax"},
        {**row, "target": "all", "scoring": "wrong", "estimate": 9.0, "high": 11.0}])
    text = claim_table(verdicts, "BN lowers", "tbl-x").data
    lines = [line for line in text.splitlines() if line.startswith("| resnet20")]
    assert len(lines) == 3 and sum("| both " in line for line in lines) == 1
    assert "Scoring 'both'" in text


def test_a_growth_claim_answers_per_series_from_its_rows() -> None:
    from bnnoise.pages.claim_sentences import series_in_words

    rows = pd.DataFrame({
        "subject": ["first k"] * 2 + ["last k"] * 2,
        "verdict": ["inconclusive at this power"] * 2 + ["reproduced", "contradicted"],
        "estimate": [0.3, -0.1, 5.3, 1.0], "share_at_smallest": [0.94, 1.02, 0.1, 0.5]})
    text = series_in_words(rows).data
    assert "**first k**: undecided under every reading (2); growth of the harm −0.1 to 0.3" in text
    assert "94 to 102 % of the largest count's harm is already there" in text
    assert "**last k**: reproduced in 1, contradicted in 1" in text


def test_the_protocol_chapter_answers_with_the_best_reading() -> None:
    from bnnoise.pages.noise_tables import fit_in_words

    fit = pd.DataFrame({"family": ["grid", "uniform"], "target": ["all", "weights"],
                        "scoring": ["wrong", "argmax"], "eta_max": [1.0, 0.5],
                        "numbers": [2, 2], "rmse": [9.0, 3.0],
                        "residual resnet44 bn": [1.0, -2.0], "residual vgg16 none": [3.0, 4.0]})
    text = fit_in_words(fit).data
    assert "is a dense uniform grid from 0 to η = 0.5, noise on weights and biases" in text
    assert "misses them by 3.0 points" in text
    assert "resnet44 with BN −2.0, vgg16 without BN +4.0" in text


def test_a_theory_chapter_answers_with_each_checks_verdict() -> None:
    from bnnoise.pages.claim_sentences import checks_in_words
    from bnnoise.stats import Verdict
    from bnnoise.theory.literature import Check

    checks = [Check("small groups propagate more", "similarity", Verdict.REPRODUCED),
              Check("large groups train slower", "loss", Verdict.INCONCLUSIVE)]
    text = checks_in_words(checks, "More below.").data
    assert "* Small groups propagate more: **reproduced**" in text
    assert "* Large groups train slower: **inconclusive at this power**" in text
    assert text.rstrip().endswith("More below.")


def test_the_noise_chapter_opens_with_both_arms_and_the_studys_numbers() -> None:
    from bnnoise.pages.finding_sentences import noise_in_words

    average = pd.DataFrame({"dataset": "cifar10", "model": "resnet44", "seed": 0, "epochs": 10,
                            "placement": "all", "bn_layers": [43, 0],
                            "scoring": "wrong", "target": "weights", "norm": ["bn", "none"],
                            "avg_normalized_accuracy": [0.69, 0.78]})
    text = noise_in_words(average, ("weights",)).data
    assert "BN is below its twin in 1 of 1 pairs by the point estimates" in text
    assert "The study reports" not in text
    shown = noise_in_words(average, ("weights",), published_table="tbl-average").data
    assert ("The study reports, on CIFAR-10: resnet44 41.32 % with BN; resnet44 91.95 % "
            "without BN") in shown and "{numref}`tbl-average`" in shown


def test_results_without_a_date_are_dated_by_their_first_commit(tmp_path: Path) -> None:
    import subprocess

    store = ArtifactStore(tmp_path / "store")
    with store.writer("runs", "old-x", {"slug": "old-x"}) as out:
        (out / "t.csv").write_text("x\n1\n")
    manifest = store.path("runs", "old-x", {"slug": "old-x"}) / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["provenance"]  # an older artifact: nothing recorded
    manifest.write_text(json.dumps(data))
    assert records_under(tmp_path / "store", "runs") == [{}]  # not in git: nothing to add
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@b", "GIT_COMMITTER_DATE": "2026-11-22T12:00:00Z",
           "GIT_AUTHOR_DATE": "2026-11-22T12:00:00Z", "PATH": os.environ["PATH"]}
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "old result"]):
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True, env=env)
    from bnnoise.origin import _first_commits

    _first_commits.cache_clear()
    (record,) = records_under(tmp_path / "store", "runs")
    assert record["committed"].startswith("2026-11-22 ")
    assert store.provenance("runs", "old-x", {"slug": "old-x"}) == record
    line = provenance_line([record], "cpu", [0])
    assert line.endswith("; the undated one first committed on 2026-11-22 "
                         f"({record['committed'].split()[1]}), so computed no later.")
