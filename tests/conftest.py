"""Shared helpers: run the real `gankit` command in a subprocess, tiny configs for fast runs."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Machine-level caches (the ``auto`` precision measured per machine and model) live in a folder
# of this test session, never the user's: every run and subprocess here reads the same one.
os.environ["GANKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="gankit-test-cache-")

# Tiny, fast settings: 8x8 digits and a narrow DCGAN train in well under a second per 10 steps.
TINY_DCGAN = [
    "dcgan",
    "--data",
    "digits",
    "--batch-size",
    "16",
    "--set",
    "model.g_channels=8",
    "--set",
    "model.d_channels=8",
    "--set",
    "model.z_dim=16",
]


def gankit(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300):
    """Run ``python -m gankit ARGS`` and return the CompletedProcess (text mode)."""
    full_env = {**os.environ, "GANKIT_RUNS_DIR": str(cwd / "runs") if cwd else "runs"}
    full_env.update(env or {})
    full_env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run(
        [sys.executable, "-m", "gankit", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def run_gankit(tmp_path):
    def _run(*args: str, **kw):
        return gankit(*args, cwd=tmp_path, **kw)

    return _run
