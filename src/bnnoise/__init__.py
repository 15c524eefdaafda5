"""Library of the executable book on BatchNorm and analog-noise resistance.

Modules, one per concept: :mod:`~bnnoise.data`, :mod:`~bnnoise.models`, :mod:`~bnnoise.training`,
:mod:`~bnnoise.noise`, :mod:`~bnnoise.evaluation`, :mod:`~bnnoise.artifacts`,
:mod:`~bnnoise.config` (profiles) and :mod:`~bnnoise.experiments` (the cached pipeline).
"""

__version__ = "0.1.0"
