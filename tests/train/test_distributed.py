"""Real `torchrun` with two CPU processes (gloo): replicas stay identical, data is sharded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TINY_DCGAN


def _torchrun(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANKIT_RUNS_DIR": str(cwd / "runs")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_two_ranks_stay_identical_and_shard_data(tmp_path):
    out = tmp_path / "result.json"
    worker = Path(__file__).with_name("ddp_worker.py")
    res = _torchrun(str(worker), str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["world"] == 2 and r["identical"], "replicas diverged"
    a, b = r["batches"]
    assert len(a) == len(b) == 8 and not set(a) & set(b), "ranks drew overlapping samples"
    assert r["step"] == 4 and r["images_seen"] == 4 * 8 * 2


def test_torchrun_gankit_train_writes_one_run(tmp_path):
    res = _torchrun("-m", "gankit", "train", *TINY_DCGAN, "--steps", "6", "-q", cwd=tmp_path)
    assert res.returncode == 0, (res.stdout[-2000:], res.stderr[-4000:])
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1  # rank 0 alone writes files
    stats = [json.loads(l) for l in (runs[0] / "stats.jsonl").read_text().splitlines()]
    assert stats[-1]["step"] == 6 and stats[-1]["images_seen"] == 6 * 16 * 2
