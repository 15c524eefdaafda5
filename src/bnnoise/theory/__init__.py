"""Normalization theory: signal propagation at initialisation (measured by
:mod:`.propagation_measures`, tested in :mod:`.propagation`), elimination singularities
(:mod:`.singularity`), claims about short training runs (:mod:`.runs`) and the machinery that
tests every claim with a rule and a three-way verdict (:mod:`.claims`)."""
