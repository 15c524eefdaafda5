#!/usr/bin/env bash
# The compute campaign of a profile: the mechanism chapter's sweeps on the models it names
# (trained first if missing), then train and sweep every grid of params.yaml, in the order the
# profile lists them (main grid first, then its series). One model at a time, one process at a
# time; every finished model and sweep cell is stored at once, an interrupted training resumes
# from its last epoch checkpoint. Rerun the same command to resume.
#
#   PROFILE=cpu scripts/campaign.sh            # or: make campaign PROFILE=cpu
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PROFILE=${PROFILE:-cpu}
"$PY" -m bnnoise mechanism --profile "$PROFILE" "$@"
exec "$PY" -m bnnoise sweep --profile "$PROFILE" --grid all "$@"
