"""The learning-rate schedule: ``train.lr_decay_start`` decays every rate linearly to 0."""

from __future__ import annotations

import pytest
import torch

from gankit.config import TrainConfig
from gankit.presets import resolve
from gankit.train.trainer import Trainer, write_config


def _trainer(run_dir=None, steps: int = 8, start: int | None = 4) -> Trainer:
    cfg = resolve(
        family="dcgan",
        flags={
            "data": {"name": "digits", "limit": 200},
            "model": {"g_channels": 8, "d_channels": 8, "z_dim": 8, "clusters": 0},
            "train": {
                "steps": steps,
                "batch_size": 10,
                "device": "cpu",
                "lr_decay_start": start,
                "checkpoint_every": 100,
                "sample_every": 100,
            },
        },
        overrides=[{"model": {"lr": {"G": 1e-3, "D": 4e-3}}}],
    )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


def test_scale_is_one_then_linear_towards_zero():
    tc = TrainConfig(steps=10, lr_decay_start=6)
    assert [tc.lr_scale(s) for s in range(10)] == [1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25]
    assert [TrainConfig(steps=3).lr_scale(s) for s in range(3)] == [1, 1, 1]


def test_a_fraction_starts_the_decay_at_that_share_of_the_steps():
    for steps, start in [(10, 6), (6000, 2000), (300, 100)]:
        tc = TrainConfig(steps=steps, lr_decay_start=start / steps)
        assert tc.decay_start_step == start
        assert [tc.lr_scale(s) for s in range(steps)] == [
            TrainConfig(steps=steps, lr_decay_start=start).lr_scale(s) for s in range(steps)
        ]


def test_a_fraction_that_rounds_to_the_last_step_decays_there():
    # a preset's fraction on a tiny run (0.6875 of 1 step): no division by zero, lr 0 past the end
    tc = TrainConfig(steps=1, lr_decay_start=0.6875)
    assert tc.decay_start_step == 1
    assert [tc.lr_scale(s) for s in range(3)] == [1, 0, 0]


def test_every_optimizer_follows_the_schedule():
    trainer = _trainer(steps=8, start=4)
    seen = []
    logged = []
    for _ in range(8):
        logged.append(trainer.train_step()["lr_scale"])
        seen.append({k: [g["lr"] for g in o.param_groups] for k, o in trainer.optimizers.items()})
    for step, lrs in enumerate(seen):
        scale = 1.0 if step < 4 else (8 - step) / 4
        assert lrs["G"] == [pytest.approx(1e-3 * scale)]
        assert lrs["D"] == [pytest.approx(4e-3 * scale)]
        assert logged[step] == pytest.approx(scale)


def test_resume_inside_the_decay_equals_an_uninterrupted_run(tmp_path):
    straight = _trainer(tmp_path / "straight")
    straight.fit()
    half = _trainer(tmp_path / "half")
    half.fit(6)  # stops (and saves) two steps into the decay
    resumed = _trainer(tmp_path / "half")
    resumed.resume_from(tmp_path / "half" / "checkpoints")
    assert resumed.step == 6
    resumed.fit()
    for name, net in straight.family.nets.items():
        for k, v in net.state_dict().items():
            assert torch.equal(v, resumed.family.nets[name].state_dict()[k]), f"{name}.{k}"
