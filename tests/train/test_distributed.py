"""Real `torchrun` with two CPU processes (gloo): replicas stay identical, data is sharded; a
killed worker stops the other with one line, and the run resumes from its last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import TINY_DCGAN, gankit

from gankit.train import checkpoint as ckpt


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


# -- faults: a worker killed ----------------------------------------------------------------
_LONG_RUN = [*TINY_DCGAN, "--steps", "100000", "-q", "--set", "train.checkpoint_every=5"]


def _start_torchrun(tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANKIT_RUNS_DIR": str(tmp_path / "runs")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    return subprocess.Popen(
        [*cmd, "-m", "gankit", "train", *_LONG_RUN],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job is
    )


def _workers(proc: subprocess.Popen) -> dict[int, int]:
    """rank -> pid of torchrun's worker processes (Linux /proc)."""
    out = {}
    for children in Path(f"/proc/{proc.pid}/task").glob("*/children"):
        for pid in children.read_text().split():
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            rank = next((e[5:] for e in env if e.startswith(b"RANK=")), None)
            if rank is not None:
                out[int(rank)] = int(pid)
    return out


def _wait_for_checkpoint(tmp_path: Path, proc: subprocess.Popen) -> Path:
    while proc.poll() is None:
        found = sorted((tmp_path / "runs").glob("*/checkpoints/step_*.pt"))
        if found:
            return found[0].parent.parent
        time.sleep(0.1)
    raise AssertionError(f"torchrun ended before a checkpoint: {proc.communicate()[1][-3000:]}")


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][0] != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="finds torchrun's workers through /proc")
def test_a_killed_worker_stops_the_other_and_resume_continues(tmp_path):
    proc = _start_torchrun(tmp_path)
    run_dir = _wait_for_checkpoint(tmp_path, proc)
    workers = _workers(proc)
    assert sorted(workers) == [0, 1]
    os.kill(workers[1], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)  # the survivor must not hang on its peer
    assert proc.returncode != 0 and not any(_alive(p) for p in workers.values())
    said = [l for l in err.splitlines() if "another process of this run stopped" in l]
    assert said and "gankit resume" in said[0], err[-3000:]
    assert "[rank0]: Traceback" not in err  # one line from the survivor, not gloo's traceback
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "failed" and "another process" in status["error"]
    last_good = ckpt.list_checkpoints(run_dir / "checkpoints")[-1][0]
    res = gankit("resume", str(run_dir), "--steps", str(last_good + 3), "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"


# -- Ctrl-C in a 2-process run ----------------------------------------------------------------
@pytest.mark.skipif(sys.platform != "linux", reason="finds torchrun's workers through /proc")
def test_ctrl_c_ends_both_ranks_at_one_step_with_a_checkpoint(tmp_path):
    """A terminal's Ctrl-C reaches torchrun and both workers (one process group), and torchrun
    forwards it again. Every rank must stop at the same step: a rank that stopped on its own
    would wait at the exit barrier while the other waits for it in the next all_reduce, until
    torchrun's grace period ends and it kills both."""
    proc = _start_torchrun(tmp_path)
    run_dir = _wait_for_checkpoint(tmp_path, proc)
    workers = _workers(proc)
    assert sorted(workers) == [0, 1]
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=240)
    assert not any(_alive(p) for p in workers.values())
    assert "forcefully exiting" not in err, err[-3000:]  # no worker outlived the grace period
    assert "another process of this run stopped" not in err, err[-3000:]
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "interrupted", status
    last_good = ckpt.list_checkpoints(run_dir / "checkpoints")[-1][0]
    assert status["step"] == last_good and f"stopped at step {last_good}" in out
    res = gankit("resume", str(run_dir), "--steps", str(last_good + 3), "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"
