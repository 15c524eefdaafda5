"""The conclusions page in words and one table, every number read from
:mod:`bnnoise.analysis.conclusions` (nothing typed by hand)."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from bnnoise.config import Profile
from bnnoise.labels import TARGET_LABEL, dataset_label
from bnnoise.lineage import produces
from bnnoise.pages.claim_sentences import section_link
from bnnoise.pages.mechanism_tables import remedy_label
from bnnoise.pages.number_format import interval_text

CLAIM_WORDS = {"reproduced": "holds", "contradicted": "does not hold",
               "inconclusive at this power": "is undecided"}


def standing_in_words(standing: pd.DataFrame) -> Markdown:
    """Per claim, one bullet: how many of its comparisons on the book's reading reproduce and
    contradict it, and the share of every reading of the protocol that does, with a link to
    the claims page's section."""
    lines = []
    for r in standing.itertuples():
        across = (f"; over all {r.readings} readings of the protocol, "
                  f"{100 * r.readings_reproduced:.0f} % reproduce it and "
                  f"{100 * r.readings_contradicted:.0f} % contradict it" if r.readings else "")
        lines.append(f"* **{r.claim[0].upper()}{r.claim[1:]}**: {r.reproduced} of "
                     f"{r.comparisons} comparisons on the book's reading reproduce it, "
                     f"{r.contradicted} contradict it{across}.{section_link(r.claim, 'evidence')}")
    return Markdown("\n".join(lines) + "\n")


def _best(r) -> str:
    return remedy_label(r.best, r.best_images, r.best_train_noise)


@produces
def deployment_view(choice: pd.DataFrame) -> pd.DataFrame:
    """:func:`bnnoise.analysis.conclusions.deployment_choice` as the page shows it."""
    return pd.DataFrame({
        "noise on": choice["target"].map(lambda t: TARGET_LABEL.get(t, t).split(" (")[0]),
        "BN as trained (%)": [interval_text(v, lo, hi) for v, lo, hi in zip(
            choice["as_trained"], choice["as_trained_low"], choice["as_trained_high"],
            strict=True)],
        "best deployment of BN": [_best(r) for r in choice.itertuples()],
        "its average (%)": [interval_text(v, lo, hi) for v, lo, hi in zip(
            choice["best_average"], choice["best_low"], choice["best_high"], strict=True)],
        "without BN (%)": [interval_text(v, lo, hi) for v, lo, hi in zip(
            choice["no_bn"], choice["no_bn_low"], choice["no_bn_high"], strict=True)],
        "no BN minus best (points)": [interval_text(v, lo, hi) for v, lo, hi in zip(
            choice["gap"], choice["gap_low"], choice["gap_high"], strict=True)],
        "BN still loses?": choice["verdict"].map(
            {"reproduced": "yes", "contradicted": "no",
             "inconclusive at this power": "undecided"})})


def advice_in_words(choice: pd.DataFrame) -> Markdown:
    """What the table says a designer should do, per target set, in one bullet each."""
    lines = []
    for r in choice.itertuples():
        where = TARGET_LABEL.get(r.target, r.target).split(" (")[0]
        if r.verdict == "contradicted" and r.gap_high < 0:
            outcome = "so with this deployment the BN network is more robust than its twin"
        elif r.verdict == "contradicted":
            outcome = "so with this deployment the BN network loses less than 2 points"
        elif r.verdict == "reproduced":
            outcome = "so even with it BN costs noise resistance"
        else:
            outcome = "and the comparison with the twin without BN is undecided at this power"
        lines.append(
            f"* **Noise on {where}** ({r.model}): deploy it as *{_best(r)}*: "
            f"{r.best_average:.1f} % against {r.as_trained:.1f} % as trained and {r.no_bn:.1f} % "
            f"for the twin without BN (trained {r.no_bn_trained}); {outcome} "
            f"({{numref}}`tbl-deployment`).")
    return Markdown("\n".join(lines) + "\n")


def _length_in_words(profile: Profile, training: pd.DataFrame,
                     verdicts: pd.DataFrame | None) -> str:
    """The training-length limit: the main networks' length and clean accuracies, and the
    verdicts that judge networks of another training length, if any (named by model)."""
    longer_networks = pd.DataFrame()
    if "epochs" in training:
        longer_networks = training[training["epochs"] != profile.recipe.epochs]
        training = training[training["epochs"] == profile.recipe.epochs]
    ranges = [f"{100 * part.min():.1f}–{100 * part.max():.1f} % on {dataset_label(dataset)}"
              for dataset, part in training.groupby("dataset")["clean_accuracy"]]
    main = (f"{profile.recipe.epochs} epochs on two CPU cores, ending at "
            f"{' and '.join(ranges)} in clean accuracy; the study's networks were trained "
            f"longer." if ranges else f"{profile.recipe.epochs} epochs on two CPU cores.")
    other_lengths = (verdicts[verdicts["epochs"].notna()
                              & (verdicts["epochs"] != profile.recipe.epochs)]
                     if verdicts is not None and "epochs" in verdicts else pd.DataFrame())
    if other_lengths.empty:
        return (f"* **Training length.** Every network of the verdicts trains for {main} The "
                f"converged tier is in training (the [training chapter](01_training.ipynb)).")
    lengths = " and ".join(str(int(e)) for e in sorted(other_lengths["epochs"].unique()))
    subjects = ", ".join(sorted(
        {f"{r.model} {'with' if r.norm == 'bn' else 'without'} BN"
         for r in longer_networks.itertuples()} if len(longer_networks)
        else {s.split(" (")[0] for s in other_lengths["subject"]}))
    return (f"* **Training length.** The main networks of the verdicts train for {main} "
            f"{len(other_lengths)} of {len(verdicts)} verdicts judge networks trained for "
            f"{lengths} epochs instead ({subjects}); the [training-length chapter]"
            f"(12_training_length.ipynb) shows that tier and what of it is still in training.")


def _rule_first(verdicts: pd.DataFrame | None) -> str:
    """``, except the k of n comparisons …``: the comparisons whose networks were trained after
    their rule was committed (column ``order``), where there are any."""
    if verdicts is None or "order" not in verdicts:
        return ""
    first = int((verdicts["order"] == "rule first").sum())
    return (f", except the {first} of {len(verdicts)} comparisons whose networks were trained "
            f"after their rule was committed" if first else "")


def limits_in_words(profile: Profile, ledger: pd.DataFrame, training: pd.DataFrame,
                    verdicts: pd.DataFrame | None = None) -> Markdown:
    """The limits of the evidence, from the profile, the rule ledger, the trained networks
    and (for the training length) the verdicts with their ``epochs``."""
    post_hoc = int(ledger["post_hoc"].astype(bool).sum())
    network = [k for k in ("dataset", "model", "norm", "epochs") if k in training]
    seeds = training.groupby(network)["seed"].nunique()
    one_seed = int((seeds == 1).sum())
    datasets = " and ".join(dataset_label(d) for d in sorted(training["dataset"].unique()))
    lines = [
        _length_in_words(profile, training, verdicts),
        f"* **Training seeds.** {one_seed} of {len(seeds)} networks have one training seed: "
        f"their intervals cover the noise draws and test images, not the variation between "
        f"trainings.",
        f"* **Rules after data.** {post_hoc} of {len(ledger)} rules were committed after the "
        f"first data they judge ({{ref}}`ledger <rule-ledger>`); their verdicts carry less "
        f"weight" + _rule_first(verdicts) + ".",
        "* **Noise model.** Gaussian noise drawn once per tensor, scaled by the tensor's "
        "spread; no conductance-dependent programming noise, drift or read noise of a real "
        "device.",
        f"* **Data.** {datasets} only; the noise is "
        f"evaluated on a fixed class-stratified subset of "
        f"{profile.noise.eval_per_class or 'all the'} test images per class.",
    ]
    return Markdown("\n".join(lines) + "\n")
