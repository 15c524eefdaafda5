#!/usr/bin/env bash
# The compute campaign of a profile, in order of priority: the training-length pilot (the
# `length_pilot` grid, when the profile has one), the mechanism chapter's sweeps on the models
# already trained (minutes), the reproduction's grids (main, bn_count), the mechanism's own
# trainings (noise-aware training) and sweeps, then every other grid of params.yaml in the order
# the profile lists them (normalizers, seeds, CIFAR-100), then the other readings of the noise
# protocol on the main grid's networks (params.yaml's readings). One model at a time, one process at a
# time; every finished model and sweep cell is stored at once, an interrupted training resumes
# from its last epoch checkpoint. Rerun the same command to resume, on this machine or, once
# the store's resume/ folder is committed, on another one.
#
#   PROFILE=cpu scripts/campaign.sh            # or: make campaign PROFILE=cpu
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PROFILE=${PROFILE:-cpu}
if "$PY" -m bnnoise list --profile "$PROFILE" --grid length_pilot >/dev/null 2>&1; then
  "$PY" -m bnnoise sweep --profile "$PROFILE" --grid length_pilot "$@"
fi
"$PY" -m bnnoise mechanism --profile "$PROFILE" --stored-only "$@"
"$PY" -m bnnoise sweep --profile "$PROFILE" --grid main bn_count "$@"
"$PY" -m bnnoise mechanism --profile "$PROFILE" "$@"
"$PY" -m bnnoise sweep --profile "$PROFILE" --grid all "$@"
if "$PY" -c "import sys; from bnnoise.config import load_profile; sys.exit(not load_profile('$PROFILE').readings)"; then
  exec "$PY" -m bnnoise readings --profile "$PROFILE" "$@"
fi
