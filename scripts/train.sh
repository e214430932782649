#!/usr/bin/env bash
# Set up (idempotent) and run the main job: `gankit train` with any arguments passed through.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${PYTHON:-python3}" -m gankit train "$@"
