"""Library of the executable book on BatchNorm and analog-noise resistance.

The packages follow the path of a result, from data to the page that shows it:

* :mod:`~bnnoise.data` (CIFAR, subsets, fingerprints) ->
  :mod:`~bnnoise.nets` (networks, normalizers, BN folding) ->
  :mod:`~bnnoise.training` ->
  :mod:`~bnnoise.noise` (target sets and seeding, injection, collapse probability) ->
  :mod:`~bnnoise.evaluation` -> :mod:`~bnnoise.sampling` (precision over draws and images) ->
  :mod:`~bnnoise.stats` (intervals, differences, verdict rules)
* :mod:`~bnnoise.store` (content-addressed artifacts) and :mod:`~bnnoise.pipeline` (one cached,
  resumable step per kind of result: trained models, sweep cells, theory runs);
* :mod:`~bnnoise.theory` (signal propagation, elimination singularities);
* :mod:`~bnnoise.report` (published numbers, tables, figures, the chapter runner);
* :mod:`~bnnoise.config` (profiles of ``params.yaml`` and every parameter class),
  :mod:`~bnnoise.hardware` (what a result ran on) and :mod:`~bnnoise.cli`.
"""

__version__ = "0.1.0"
