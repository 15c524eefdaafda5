"""A network of the reader's own (any :class:`torch.nn.Module`), trained once with the book's
training loop and kept in the artifact store, and its measurement under a noise protocol
(:func:`bnnoise.resistance.noise_resistance`) kept beside it: a chapter that shows them reruns
without training or measuring again, and gives the same numbers on every machine.

The network's key holds its name, its architecture as PyTorch prints it, the recipe and the
fingerprint of the data it trains on; the measurement's key adds the noise protocol. A change
to any of them computes anew, and a stored result is never overwritten.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pandas as pd
import torch
from torch import nn

from bnnoise.config.setups import NoiseProtocol, Recipe
from bnnoise.data import Dataset, DataSource
from bnnoise.image_selection import fingerprint, source_fingerprint
from bnnoise.resistance import Resistance, from_tables
from bnnoise.store import NO_COMPUTE, ArtifactStore
from bnnoise.training import TrainingHooks, train

KIND, MEASURED = "own_models", "own_sweeps"
"""The store's folders of readers' own networks and of their measurements (beside the book's
``models`` and ``sweeps``)."""


def own_network_config(name: str, build: Callable[[], nn.Module], recipe: Recipe,
                       data: Dataset | DataSource) -> dict:
    """The key of a reader's network: name, printed architecture, recipe, data fingerprint
    (a :class:`~bnnoise.data.DataSource` of a standard dataset gives it without the data)."""
    data_print = (fingerprint(data) if isinstance(data, Dataset)
                  else source_fingerprint(data))
    return {"name": name, "architecture": str(build()), "recipe": recipe.as_dict(),
            "dataset": data.name, "data_fingerprint": data_print}


def _no_compute(what: str) -> None:
    if os.environ.get("BNNOISE_NO_TRAINING") or os.environ.get(NO_COMPUTE):
        raise FileNotFoundError(f"{what} is not stored yet (BNNOISE_NO_TRAINING or "
                                f"{NO_COMPUTE} is set)")


def trained_network(store: ArtifactStore, name: str, build: Callable[[], nn.Module],
                    recipe: Recipe, data: Dataset | DataSource, progress: bool = False
                    ) -> tuple[nn.Module, pd.DataFrame]:
    """``build()``'s network trained on ``data`` with ``recipe`` (seeded with
    ``recipe.seed`` before it is built), in evaluation mode, with its per-epoch history: from
    the store, or trained now and stored (a :class:`~bnnoise.data.DataSource` is loaded only
    then).

    Raises:
        FileNotFoundError: it is not stored and ``BNNOISE_NO_COMPUTE`` or
            ``BNNOISE_NO_TRAINING`` is set.
    """
    config = own_network_config(name, build, recipe, data)
    path = store.load(KIND, name, config)
    if path is None:
        _no_compute(f"network {name}")
        torch.manual_seed(recipe.seed)
        model = build()
        hooks = TrainingHooks(progress=print if progress else None)
        dataset = data if isinstance(data, Dataset) else data.load()
        history = pd.DataFrame(train(model, dataset, recipe, hooks=hooks))
        with store.writer(KIND, name, config) as out:
            torch.save(model.state_dict(), out / "weights.pt")
            history.to_csv(out / "history.csv", index=False)
        path = store.load(KIND, name, config)
    model = build()
    model.load_state_dict(torch.load(path / "weights.pt", weights_only=True))
    return model.eval(), pd.read_csv(path / "history.csv")


def measured_resistance(store: ArtifactStore, name: str, network: dict,
                        protocol: NoiseProtocol, measure: Callable[[], Resistance]
                        ) -> Resistance:
    """``measure()`` (a call of :func:`bnnoise.resistance.noise_resistance` under
    ``protocol``) from the store, or measured now and stored: its draws and collapse tables,
    keyed by the network's key ``network`` (:func:`own_network_config`) and the protocol.

    Raises:
        FileNotFoundError: it is not stored and ``BNNOISE_NO_COMPUTE`` or
            ``BNNOISE_NO_TRAINING`` is set.
    """
    config = {"network": network, "protocol": protocol.as_dict()}
    path = store.load(MEASURED, name, config)
    if path is None:
        _no_compute(f"the measurement of {name}")
        result = measure()
        if result.protocol != protocol:
            raise ValueError("measure() ran another protocol than the one its key names")
        with store.writer(MEASURED, name, config) as out:
            result.draws.to_csv(out / "draws.csv", index=False)
            result.collapse.to_csv(out / "collapse.csv", index=False)
        path = store.load(MEASURED, name, config)
    return from_tables(pd.read_csv(path / "draws.csv"), pd.read_csv(path / "collapse.csv"),
                       protocol)


def own_records(store: ArtifactStore, name: str, network: dict, protocol: NoiseProtocol
                ) -> list[dict]:
    """The provenance records of a stored network and its measurement
    (:func:`bnnoise.pages.provenance.provenance_markdown` writes them as a sentence)."""
    return [store.provenance(KIND, name, network),
            store.provenance(MEASURED, name, {"network": network,
                                              "protocol": protocol.as_dict()})]
