"""``train_run``: a new run and its resume as a library call, with what it reports."""

from __future__ import annotations

import json

import pytest

from gankit.errors import GankitError
from gankit.presets import resolve
from gankit.runs import read_jsonl
from gankit.train.session import train_run


def _ring(steps: int, family: str = "mlp-gan", **model):
    train = {"steps": steps, "batch_size": 32, "threads": 1, "log_every": 2, "sample_every": 4}
    return resolve(family=family, flags={"data": {"name": "ring"}, "model": model, "train": train})


def test_new_run_then_resume(tmp_path):
    events = []

    def record(name, **values):
        events.append((name, values))

    cfg = _ring(4, hidden=[16, 16])
    result = train_run(cfg, tmp_path / "runs", progress=False, on_event=record)
    run_dir = result.run_dir
    assert run_dir.parent == tmp_path / "runs" and run_dir.name == "00000-mlp-gan-ring"
    assert [name for name, _ in events] == ["started"]
    started = events[0][1]
    assert started["run_dir"] == run_dir and started["device"] == "cpu" and started["world"] == 1
    assert json.loads((run_dir / "config.json").read_text())["train"]["steps"] == 4
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == result.steps == 4 and summary["last"] == result.last
    assert result.samples == run_dir / "samples" / "step_000000004.png"
    assert not result.distributed

    events.clear()
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"steps": 8})})
    result = train_run(cfg, resume_dir=run_dir, progress=False, on_event=record)
    assert [name for name, _ in events] == ["resumed", "started"]
    assert events[0][1]["step"] == 4 and events[0][1]["checkpoint"].name == "step_000000004.pt"
    assert result.run_dir == run_dir and result.steps == 8
    assert [r["step"] for r in read_jsonl(run_dir / "stats.jsonl")] == [2, 4, 6, 8]
    assert json.loads((run_dir / "summary.json").read_text())["steps"] == 8
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_a_config_that_does_not_fit_the_data_leaves_nothing_on_disk(tmp_path):
    events = []
    with pytest.raises(GankitError, match="ring"):  # cgan needs class labels; the ring has none
        train_run(_ring(4, "cgan"), tmp_path / "runs", progress=False, on_event=events.append)
    assert not (tmp_path / "runs").exists() and events == []
