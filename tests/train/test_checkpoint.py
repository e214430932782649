"""Checkpoints: atomic, SHA-256 verified, weights_only loading, pruning, corrupt-file fallback."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from gankit.errors import CheckpointError
from gankit.files import file_digest
from gankit.train import checkpoint as ckpt


def _state(v: float) -> dict:
    return {"w": torch.full((4,), v), "step": int(v), "meta": {"name": "x", "vals": [1, 2.5]}}


def test_save_load_round_trip(tmp_path):
    path = ckpt.save_checkpoint(tmp_path, 10, _state(10.0))
    assert path.name == "step_000000010.pt"
    assert (tmp_path / "step_000000010.pt.sha256").read_text().split()[0] == file_digest(path)
    state = ckpt.load_checkpoint(path)
    assert torch.equal(state["w"], torch.full((4,), 10.0)) and state["meta"]["vals"] == [1, 2.5]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_keeps_last_k(tmp_path):
    for s in range(1, 6):
        ckpt.save_checkpoint(tmp_path, s, _state(s), keep=2)
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [4, 5]
    assert sorted(p.name for p in tmp_path.glob("*.sha256")) == [
        "step_000000004.pt.sha256",
        "step_000000005.pt.sha256",
    ]


def test_never_deletes_the_only_good_one(tmp_path):
    ckpt.save_checkpoint(tmp_path, 1, _state(1), keep=1)
    p2 = ckpt.save_checkpoint(tmp_path, 2, _state(2), keep=1)
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [2]
    p2.write_bytes(p2.read_bytes()[:-10])  # step 2 is now truncated: the only good one is gone
    ckpt.prune(tmp_path, keep=1)
    assert p2.exists()  # a bad newest file is kept for inspection, nothing good is deleted
    ckpt.save_checkpoint(tmp_path, 3, _state(3), keep=1)
    # step 3 is good; the corrupt step 2 (older than the newest good one) is now pruned
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [3]


@pytest.mark.parametrize("damage", ["truncate", "bitflip", "zero", "no_sha"])
def test_damaged_checkpoint_is_refused_and_previous_used(tmp_path, damage, caplog):
    ckpt.save_checkpoint(tmp_path, 1, _state(1.0))
    bad = ckpt.save_checkpoint(tmp_path, 2, _state(2.0))
    data = bad.read_bytes()
    if damage == "truncate":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "bitflip":
        i = len(data) // 2
        bad.write_bytes(data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :])
    elif damage == "zero":
        bad.write_bytes(b"")
    else:
        os.unlink(f"{bad}.sha256")
    with pytest.raises(CheckpointError, match="step_000000002.pt"):
        ckpt.load_checkpoint(bad)
    path, state = ckpt.load_latest(tmp_path)
    assert path.name == "step_000000001.pt" and state["step"] == 1
    assert "step_000000002.pt" in caplog.text


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    # A malicious checkpoint: unpickling it with weights_only=False would run `touch pwned`.
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "ckpts"
    folder.mkdir()
    evil = folder / "step_000000005.pt"
    torch.save({"w": torch.zeros(1), "payload": _Evil()}, evil)  # malicious
    # Even with a matching digest (an attacker can write one), loading refuses it.
    (folder / "step_000000005.pt.sha256").write_text(file_digest(evil) + "  x\n")
    with pytest.raises(CheckpointError, match="refused"):
        ckpt.load_checkpoint(evil)
    assert not (tmp_path / "pwned").exists()
    # A plain pickle file (not a torch zip) is refused too.
    raw = folder / "step_000000006.pt"
    raw.write_bytes(pickle.dumps(_Evil()))
    (folder / "step_000000006.pt.sha256").write_text(file_digest(raw) + "  x\n")
    with pytest.raises(CheckpointError):
        ckpt.load_latest(folder)
    assert not (tmp_path / "pwned").exists()


def test_interrupted_write_leaves_no_partial_checkpoint(tmp_path, monkeypatch):
    ckpt.save_checkpoint(tmp_path, 1, _state(1.0))

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        ckpt.save_checkpoint(tmp_path, 2, _state(2.0))
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [1]
    assert not list(tmp_path.glob(".*.tmp"))
