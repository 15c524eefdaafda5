"""Library of the executable book on BatchNorm and analog-noise resistance.

The packages follow the path of a result, from data to the page that shows it:

* :mod:`~bnnoise.data` (CIFAR, subsets, fingerprints) ->
  :mod:`~bnnoise.nets` (networks, normalizers, BN folding) ->
  :mod:`~bnnoise.training` (with :mod:`~bnnoise.checkpoints`) ->
  :mod:`~bnnoise.noise` (target sets and seeding, injection, collapse probability) ->
  :mod:`~bnnoise.evaluation` -> :mod:`~bnnoise.sampling` (precision over draws and images) ->
  :mod:`~bnnoise.stats` (intervals, differences, the interval rule) and
  :mod:`~bnnoise.rules` (every decision rule of the book, once);
* :mod:`~bnnoise.store` (content-addressed artifacts) and :mod:`~bnnoise.pipeline` (one cached,
  resumable step per kind of result: trained models, sweep cells, theory runs);
* :mod:`~bnnoise.analysis` (numbers and verdicts from tidy tables: no Markdown, no figures) ->
  :mod:`~bnnoise.figures` (every figure) and :mod:`~bnnoise.pages` (tables as Markdown, saved
  results, provenance), with :mod:`~bnnoise.labels` (how pages name things) ->
  :mod:`~bnnoise.build` (chapter runner, data page, re-derivation check);
* :mod:`~bnnoise.resistance`: the public API that puts any trained network under the book's
  noise protocol in one call (see the chapter "Your own network");
* :mod:`~bnnoise.theory` (signal propagation, elimination singularities, the literature's claims);
* :mod:`~bnnoise.config` (profiles of ``params.yaml`` and every parameter class),
  :mod:`~bnnoise.hardware` (what a result ran on) and :mod:`~bnnoise.cli`.
"""

__version__ = "0.1.0"
