"""The tables of the chapter "Your own network": a reader's network as trained, its average
normalized accuracy and its collapse probability, from :mod:`bnnoise.pipeline.own_networks` and
:class:`bnnoise.resistance.Resistance`."""

from __future__ import annotations

import pandas as pd
from torch import nn

from bnnoise.labels import BN_LABEL
from bnnoise.lineage import produces


@produces
def own_training_view(trained: dict[str, tuple[nn.Module, pd.DataFrame]]) -> pd.DataFrame:
    """Per version of the network (by its normalization): parameters, epochs, training loss of
    the last epoch and test accuracy (%) after it."""
    return pd.DataFrame([{"BN": BN_LABEL.get(norm, norm),
                          "parameters": sum(p.numel() for p in model.parameters()),
                          "epochs": len(history),
                          "training loss": history["train_loss"].iloc[-1],
                          "test accuracy (%)": 100 * history["test_acc"].iloc[-1]}
                         for norm, (model, history) in trained.items()])


@produces
def own_average_view(average: pd.DataFrame) -> pd.DataFrame:
    """:attr:`bnnoise.resistance.Resistance.average` as the page shows it: per version, target
    set and scoring, the average normalized accuracy (%) with its 95 % interval."""
    return pd.DataFrame({"BN": average["norm"].map(BN_LABEL).fillna(average["norm"]),
                         "target": average["target"], "scoring": average["scoring"],
                         "avg": 100 * average["avg_normalized_accuracy"],
                         "ci_low": 100 * average["low"], "ci_high": 100 * average["high"]})


@produces
def own_collapse_view(collapse: pd.DataFrame) -> pd.DataFrame:
    """:attr:`bnnoise.resistance.Resistance.collapse` as the page shows it: per noise level,
    the collapse probability in percent ("<0.1" below a thousandth), and the network's BN arm
    only where several networks are shown."""
    view = pd.DataFrame({"BN": collapse["norm"].map(BN_LABEL).fillna(collapse["norm"]),
                         "η": collapse["eta"],
                         "collapse_probability": [
                             "<0.1" if p < 1e-3 else f"{100 * p:.1f}"
                             for p in collapse["collapse_probability"]]})
    return view if view["BN"].nunique() > 1 else view.drop(columns="BN")
