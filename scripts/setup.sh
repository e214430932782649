#!/usr/bin/env bash
# Idempotent set-up: torch (CPU build pinned first, so no CUDA wheels are pulled), then gankit.
# Usage: bash scripts/setup.sh [--test]   (--test also installs what the test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "[setup] installing torch==2.13.0 (CPU)"
  "$PY" -m pip install -q "torch==2.13.0"
fi

extra=""
[ "$want_test" = 1 ] && extra="[test]"
stamp=".setup-stamp$extra"
digest=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ] || ! "$PY" -c "import gankit.cli.main" 2>/dev/null; then
  echo "[setup] installing gankit$extra"
  "$PY" -m pip install -q -e ".$extra"
  echo "$digest" > "$stamp"
fi

if [ "$want_test" = 1 ]; then
  # Headless Chromium for the dashboard's browser tests (Debian's package; no browser download).
  if ! command -v chromium >/dev/null 2>&1; then
    echo "[setup] installing chromium (apt)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
  fi
fi
