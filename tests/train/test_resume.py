"""Resume equality and crash recovery, with real `gankit` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from tests.conftest import TINY_DCGAN

from gankit.train import checkpoint as ckpt


def _final_state(run_dir: Path, step: int) -> dict:
    return ckpt.load_checkpoint(run_dir / "checkpoints" / ckpt.checkpoint_name(step))


def _assert_same_state(a: dict, b: dict) -> None:
    assert a["step"] == b["step"] and a["images_seen"] == b["images_seen"]
    for net in a["nets"]:
        for k, v in a["nets"][net].items():
            assert torch.equal(v, b["nets"][net][k]), f"{net}.{k} differs"
    for name, opt in a["optimizers"].items():
        other = b["optimizers"][name]
        assert opt["param_groups"] == other["param_groups"]
        for i, st in opt["state"].items():
            for k, v in st.items():
                assert torch.equal(v, other["state"][i][k]), f"optimizer {name} state {i}.{k}"
    if a["ema"] is not None:
        for k, v in a["ema"].items():
            assert torch.equal(v, b["ema"][k]), f"ema.{k}"
    assert a["sampler"] == b["sampler"]
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])


def test_resume_equals_uninterrupted(run_gankit, tmp_path):
    n = 12
    common = [*TINY_DCGAN, "--ema", "0.9", "-q", "--set", "train.sample_every=6"]
    common += ["--set", "train.checkpoint_every=6", "--set", "train.log_every=3"]
    straight = run_gankit("train", *common, "--steps", str(2 * n), "--name", "straight")
    assert straight.returncode == 0, straight.stderr
    half = run_gankit("train", *common, "--steps", str(n), "--name", "half")
    assert half.returncode == 0, half.stderr
    runs = tmp_path / "runs"
    half_dir = next(runs.glob("*-half"))
    resumed = run_gankit("resume", str(half_dir), "--steps", str(2 * n), "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    straight_dir = next(runs.glob("*-straight"))
    _assert_same_state(_final_state(straight_dir, 2 * n), _final_state(half_dir, 2 * n))
    # The fixed noise bank gives identical sample grids, byte for byte.
    name = f"step_{2 * n:09d}.png"
    assert (straight_dir / "samples" / name).read_bytes() == (
        half_dir / "samples" / name
    ).read_bytes()
    # The resumed run's stats read like one uninterrupted run: steps strictly increasing.
    steps = [json.loads(l)["step"] for l in (half_dir / "stats.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 2 * n


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "GANKIT_RUNS_DIR": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gankit", "train", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_during_training_resumes_from_last_good(run_gankit, tmp_path):
    proc = _start(
        tmp_path, *TINY_DCGAN, "--steps", "100000", "-q", "--set", "train.checkpoint_every=5"
    )
    ckdir = None
    deadline = time.time() + 120
    while time.time() < deadline:
        found = list((tmp_path / "runs").glob("*/checkpoints/step_*.pt"))
        if len(found) >= 2:
            ckdir = found[0].parent
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckdir is not None, "no checkpoint appeared"
    run_dir = ckdir.parent
    last_step, _ = ckpt.list_checkpoints(ckdir)[-1]
    target = last_step + 10
    res = run_gankit("resume", str(run_dir), "--steps", str(target), "-q")
    assert res.returncode == 0, res.stderr
    assert ckpt.list_checkpoints(ckdir)[-1][0] == target
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"


# Fault injection: run the real `gankit train` in a process whose third torch.save writes half
# the checkpoint's bytes and then fails the way the system would: SIGKILL, or ENOSPC.
_FAULTY_SAVE = """
import errno, io, os, signal, sys
import torch
real_save, calls = torch.save, []
def save(obj, f, *args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        buf = io.BytesIO()
        real_save(obj, buf, *args, **kwargs)
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
        f.flush()
        if sys.argv[1] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_save(obj, f, *args, **kwargs)
torch.save = save
from gankit.cli.main import main
main(sys.argv[2:])
"""
_FAULT_RUN = [*TINY_DCGAN, "-q", "--steps", "10", "--set", "train.checkpoint_every=2"]


def _train_with_faulty_save(tmp_path: Path, fault: str, name: str):
    env = {**os.environ, "GANKIT_RUNS_DIR": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-c", _FAULTY_SAVE, fault, "train", *_FAULT_RUN, "--name", name]
    res = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return res, next((tmp_path / "runs").glob(f"*-{name}"))


def test_sigkill_in_the_middle_of_a_checkpoint_write(run_gankit, tmp_path):
    res, run_dir = _train_with_faulty_save(tmp_path, "kill", "killed")
    assert res.returncode == -signal.SIGKILL, res.stderr
    ckdir = run_dir / "checkpoints"
    assert list(ckdir.glob(".step_000000006.pt.*.tmp"))  # the half-written file is there
    assert [s for s, _ in ckpt.list_checkpoints(ckdir)] == [2, 4]
    res = run_gankit("resume", str(run_dir), "--steps", "10", "-q")
    assert res.returncode == 0, res.stderr
    assert not list(ckdir.glob(".*.tmp"))  # leftovers cleaned
    # From the last good checkpoint, the run ends exactly where an uninterrupted one does.
    straight = run_gankit("train", *_FAULT_RUN, "--name", "straight")
    assert straight.returncode == 0, straight.stderr
    straight_dir = next((tmp_path / "runs").glob("*-straight"))
    _assert_same_state(_final_state(straight_dir, 10), _final_state(run_dir, 10))


def test_full_disk_during_a_checkpoint_stops_with_one_line(run_gankit, tmp_path):
    res, run_dir = _train_with_faulty_save(tmp_path, "enospc", "full")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "cannot write" in lines[0] and "step_000000006.pt" in lines[0]
    assert "No space left on device" in lines[0] and "step_000000004.pt" in lines[0]
    ckdir = run_dir / "checkpoints"
    assert [s for s, _ in ckpt.list_checkpoints(ckdir)] == [2, 4] and not list(ckdir.glob(".*"))
    assert all(ckpt.verify(p) is None for _, p in ckpt.list_checkpoints(ckdir))
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "failed" and "No space left" in status["error"]
    res = run_gankit("resume", str(run_dir), "--steps", "10", "-q")  # space again: go on
    assert res.returncode == 0, res.stderr
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"


def test_corrupt_latest_checkpoint_falls_back(run_gankit, tmp_path):
    res = run_gankit(
        "train", *TINY_DCGAN, "--steps", "10", "-q", "--set", "train.checkpoint_every=5"
    )
    assert res.returncode == 0, res.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    newest = run_dir / "checkpoints" / ckpt.checkpoint_name(10)
    data = bytearray(newest.read_bytes())
    data[len(data) // 3] ^= 0xFF  # one flipped byte
    newest.write_bytes(bytes(data))
    res = run_gankit("resume", str(run_dir), "--steps", "12", "-q")
    assert res.returncode == 0, res.stderr
    assert "step_000000010.pt" in res.stderr and "corrupt" in res.stderr
    assert "resuming from" in res.stdout and "step_000000005.pt" in res.stdout


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(run_gankit, tmp_path):
    proc = _start(tmp_path, *TINY_DCGAN, "--steps", "100000", "-q", "--set", "train.log_every=2")
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "runs").glob("*/stats.jsonl")):
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    (run_dir,) = (tmp_path / "runs").iterdir()
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "interrupted"
    step = status["step"]
    assert ckpt.list_checkpoints(run_dir / "checkpoints")[-1][0] == step
    res = run_gankit("resume", str(run_dir), "--steps", str(step + 4), "-q")
    assert res.returncode == 0, res.stderr
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"


def test_resume_changes_only_train_keys_it_can_continue(run_gankit, tmp_path):
    assert run_gankit("train", *TINY_DCGAN, "--steps", "6", "-q").returncode == 0
    run_dir = next((tmp_path / "runs").iterdir())
    config = run_dir / "config.json"
    before = config.read_bytes()
    for key in ("model.z_dim=4", "train.batch_size=8", "data.name=ring", "train=3"):
        res = run_gankit("resume", str(run_dir), "--steps", "9", "--set", key, "-q")
        assert res.returncode == 2
        line = res.stderr.strip()
        assert f"resume cannot change {key.split('=')[0]!r}" in line and "\n" not in line
    res = run_gankit("resume", str(run_dir), "--set", "train.lr_decay_start=6", "-q")
    assert (
        res.returncode == 2 and "train.lr_decay_start=6 must be below train.steps=6" in res.stderr
    )
    assert config.read_bytes() == before  # refused resumes leave the run as it was
    res = run_gankit(
        "resume", str(run_dir), "--steps", "9", "--set", "train.lr_decay_start=6", "-q"
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(config.read_text())["train"]["lr_decay_start"] == 6
    assert _final_state(run_dir, 9)["step"] == 9
