"""The README's main command runs end to end (shortened with --steps)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import gankit

ROOT = Path(__file__).resolve().parents[1]


def test_readme_names_the_scripts_that_exist():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^bash (scripts/\S+\.sh)", readme, flags=re.M)
    assert commands[:2] == ["scripts/train.sh", "scripts/test.sh"]
    assert all((ROOT / c).is_file() for c in commands)
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_default_train_command_end_to_end(tmp_path):
    env = {**os.environ, "GANKIT_RUNS_DIR": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        ["bash", str(ROOT / "scripts" / "train.sh"), "--steps", "4", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("dcgan-mnist5k")
    assert "samples:" in res.stdout and str(run_dir) in res.stdout  # says where to look
    assert (run_dir / "samples" / "step_000000004.png").is_file()
    G = gankit.load(run_dir)
    assert G.sample(2, seed=0).shape == (2, 1, 28, 28)
