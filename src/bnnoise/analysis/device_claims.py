"""Verdicts on the PCM-like analog device (:mod:`bnnoise.noise.analog_device`), by rules of
:data:`bnnoise.rules.RULES` committed before any device sweep of the published profile existed.

A network's device reading is its normalized accuracy (over its clean accuracy on the same
images) averaged over the times after programming of the profile (1 s to 10 years), as the
Gaussian reading averages over the noise levels: the draw ``d`` of every time is one
replicate, and the interval covers the programmed devices.

* ``device_bn_gap``: claim 1 on the device, no-BN minus BN with BN kept digital and exact (the
  standard deployment), points, with the Gaussian claim's margin of 2 points on both sides.
* ``device_parity``: whether a deployment of the BN network (kept digital, folded into the
  analog weights, recalibrated on the chip) makes it at least as robust as its twin without
  BN: BN's deployment minus no-BN, points, a non-inferiority test with a margin of 2 points
  (reproduced: the whole interval above -2; contradicted: the whole interval below -2).
"""

from __future__ import annotations

import pandas as pd

from bnnoise.analysis.claim_rows import (
    COLUMNS,
    ONE_SEED,
    arm_difference,
    claim_row,
    fully_normalized,
)
from bnnoise.analysis.claims import bn_lowers_resistance
from bnnoise.analysis.summaries import average_normalized_accuracy, summarize_sweep
from bnnoise.config.devices import DEFAULT_DEVICE
from bnnoise.pipeline.sweeps import RUN_COLUMNS
from bnnoise.rules import RULES

DEVICES = "one seed, programmed devices (t)"
"""The interval of a one-seed device comparison: Student's t over the programmed devices (the
test images are the same for every device and network)."""

KEYS = [*RUN_COLUMNS, "device", "deployment", "target"]
"""What one device average is per: the network, the device variant, the deployment and the
target set."""


def device_average(draws: pd.DataFrame) -> pd.DataFrame:
    """Average normalized accuracy over the times after programming, per :data:`KEYS` and
    scoring, with its 95 % interval over the programmed devices (``times``: the times
    averaged, in seconds). ``draws`` is the per-draw table of
    :func:`bnnoise.pipeline.device_sweeps.device_sweep`."""
    table = average_normalized_accuracy(
        draws.rename(columns={"t_inference": "eta"}).assign(collapsed=False), KEYS)
    own_first = table["device"].ne(DEFAULT_DEVICE)  # the study's own device, then variants
    return (table.iloc[own_first.argsort(kind="stable")].reset_index(drop=True)
            .rename(columns={"eta_grid": "times"}))


def device_summary(draws: pd.DataFrame) -> pd.DataFrame:
    """Per :data:`KEYS`, scoring and time after programming (``t_inference``): the mean
    accuracy and normalized accuracy with their 95 % intervals over the programmed devices."""
    table = summarize_sweep(draws.rename(columns={"t_inference": "eta"}).assign(collapsed=False),
                            KEYS)
    return table.drop(columns="collapsed_draws").rename(columns={"eta": "t_inference"})


def device_bn_gap(average: pd.DataFrame) -> pd.DataFrame:
    """Claim 1 on the device per (dataset, model, device variant, target, scoring): no-BN
    minus BN with BN kept digital (the ``standard`` deployment), points
    (:func:`bnnoise.analysis.claims.bn_lowers_resistance` under the rule ``device_bn_gap``);
    the subject names a variant other than the study's own device."""
    standard = average[average["deployment"] == "standard"]
    variant = standard["device"] != DEFAULT_DEVICE
    named = standard.assign(model=standard["model"].where(
        ~variant, standard["model"] + ", " + standard["device"] + " device"))
    verdicts = bn_lowers_resistance(named, "device_bn_gap",
                                    "BN lowers noise resistance on the device")
    return verdicts.assign(interval=verdicts["interval"].map(_device_interval))


def device_parity(average: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, model, deployment of the BN network, target, scoring) on the study's own
    device: the BN network so deployed minus its twin without BN (standard), points;
    ``subject`` names the deployment."""
    rule = RULES["device_parity"].rule
    assert rule is not None
    rows = []
    full = fully_normalized(average[average["device"] == DEFAULT_DEVICE])
    for (dataset, model, target, scoring), part in full.groupby(
            ["dataset", "model", "target", "scoring"]):
        none = part[(part["norm"] == "none") & (part["deployment"] == "standard")]
        for deployment, bn in part[part["norm"] == "bn"].groupby("deployment", sort=False):
            if len(none):
                d, interval = arm_difference(bn, none)
                rows.append(claim_row("a BN deployment is as robust as no BN", dataset,
                                      f"{model}, BN {deployment}", target, scoring, d,
                                      _device_interval(interval), rule))
    return pd.DataFrame(rows, columns=COLUMNS).assign(rule_name="device_parity")


def _device_interval(interval: str) -> str:
    return DEVICES if interval == ONE_SEED else interval
