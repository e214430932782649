"""Training health: a non-finite loss rolls back to the last good state with halved learning
rates, and stops the run with a clear message and a 'failed' status when that keeps failing;
D dominating and a collapsed generator are reported in the logs."""

from __future__ import annotations

import json

import pytest
import torch

from gankit.models.dcgan import DCGAN
from gankit.presets import resolve
from gankit.registry import MODELS
from gankit.train import checkpoint as ckpt
from gankit.train.health import HealthMonitor, TrainingDiverged, diversity_ratio
from gankit.train.trainer import Trainer, write_config

TINY = {
    "data": {"name": "digits", "limit": 200},
    "train": {"steps": 4, "batch_size": 10, "log_every": 1, "device": "cpu"},
}
SMALL = {"model": {"g_channels": 8, "d_channels": 8, "clusters": 0}}


def _trainer(run_dir=None, family="dcgan", **train) -> Trainer:
    cfg = resolve(family=family, flags=TINY, overrides=[SMALL, {"train": train}])
    if run_dir is not None:
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


def test_a_nan_loss_stops_the_run_and_says_failed(tmp_path):
    trainer = _trainer(tmp_path)
    first = next(trainer.family.nets["D"].parameters())
    with torch.no_grad():
        first.fill_(float("nan"))  # a diverged D: every logit is NaN
    # Rolling back cannot help (the state training started from is the diverged one): after
    # train.nan_retries roll-backs the run stops.
    with pytest.raises(TrainingDiverged, match=r"loss of phase 'D' is nan at step 0") as e:
        trainer.fit()
    assert "after 3 roll-back(s)" in str(e.value) and trainer.rollbacks == 3
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "failed" and "training stopped" in status["error"]


@pytest.fixture
def nan_once():
    """A DCGAN whose D loss is NaN the first time step 6 is reached (a transient blow-up)."""
    name = "test-nan-once"

    class NanOnce(DCGAN):
        fired: list[int] = []

        def step(self, phase, batch):
            loss, logs = super().step(phase, batch)
            if phase == "D" and self.at_step == 6 and not NanOnce.fired:
                NanOnce.fired.append(6)
                return loss * float("nan"), logs
            return loss, logs

    NanOnce.name = name
    MODELS.register(name)(NanOnce)
    yield NanOnce
    MODELS.unregister(name)


def test_a_transient_nan_rolls_back_with_halved_rates_and_finishes(tmp_path, nan_once):
    trainer = _trainer(tmp_path, family=nan_once.name, steps=10, checkpoint_every=4)
    trainer.family.at_step = 0
    original = trainer._train_step  # what fit calls each step

    def counted():
        trainer.family.at_step = trainer.step
        return original()

    trainer._train_step = counted
    trainer.fit()
    assert nan_once.fired == [6] and trainer.step == 10 and trainer.rollbacks == 1
    assert trainer.lr_factor == 0.5
    lrs = {g["lr"] for opt in trainer.optimizers.values() for g in opt.param_groups}
    base = {b for bs in trainer.base_lrs.values() for b in bs}
    assert lrs == {b * 0.5 for b in base}
    records = [json.loads(x) for x in (tmp_path / "stats.jsonl").read_text().splitlines()]
    said = [h for r in records for h in r.get("health", [])]
    assert any(
        "rolled back to step 4 with the learning rates halved (x0.5), 1 of 3" in h for h in said
    )
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "finished"
    assert any("rolled back to step 4" in h["warning"] for h in status["health"])
    # The halved rates are part of the training state: a resume keeps them.
    _, state = ckpt.load_latest(tmp_path / "checkpoints")
    assert state["step"] == 10 and state["lr_factor"] == 0.5 and state["rollbacks"] == 1


def test_no_retries_stops_at_the_first_nan(tmp_path, nan_once):
    # fp32: the NaN fires at the first step the family runs, not in precision auto's measurement
    trainer = _trainer(tmp_path, family=nan_once.name, steps=10, nan_retries=0, precision="fp32")
    trainer.family.at_step = 6
    with pytest.raises(TrainingDiverged, match="loss of phase 'D' is nan") as e:
        trainer.fit()
    assert "roll-back" not in str(e.value) and trainer.step == 0


def test_monitor_reports_d_dominating_once_after_patience_ticks():
    monitor = HealthMonitor(patience=3)
    said = [monitor.check({"acc/D": 0.99}) for _ in range(5)]
    assert [bool(w) for w in said] == [False, False, True, False, False]
    assert "D dominating" in said[2][0]
    assert monitor.check({"acc/D": 0.7}) == [] and monitor.d_strong["D"] == 0


def test_each_of_several_discriminators_is_watched_on_its_own():
    monitor = HealthMonitor(patience=2)
    ticks = [{"acc/D_A": 0.99, "acc/D_A_real": 1.0, "acc/D_B": 0.6} for _ in range(2)]
    said = [monitor.check(t) for t in ticks]
    assert said[0] == [] and len(said[1]) == 1 and said[1][0].startswith("D_A dominating")
    said = [monitor.check({"acc/D_A": 0.5, "acc/D_B": 0.995}) for _ in range(2)]
    assert said[0] == [] and said[1][0].startswith("D_B dominating")


def test_collapse_is_measured_and_reported():
    real = torch.randn(64, 1, 8, 8)
    collapsed = real[:1].repeat(64, 1, 1, 1) + 0.01 * torch.randn(64, 1, 8, 8)
    assert diversity_ratio(collapsed, real) < 0.1 < diversity_ratio(real.flip(0), real)
    monitor = HealthMonitor(patience=3)
    said = [monitor.check({"diversity/fake_over_real": r}) for r in (0.02, 0.5, 0.02, 0.03, 0.02)]
    assert said[:4] == [[], [], [], []]  # an early low tick, then a recovery: no warning
    assert len(said[4]) == 1 and "mode collapse" in said[4][0]
    assert monitor.check({"diversity/fake_over_real": 0.02}) == []  # said once, not every tick


def test_trainer_logs_the_diversity_of_its_samples(tmp_path):
    trainer = _trainer(tmp_path)
    trainer.fit()
    records = [json.loads(x) for x in (tmp_path / "stats.jsonl").read_text().splitlines()]
    ratios = [r["diversity/fake_over_real"] for r in records]
    assert len(ratios) == 4 and all(0 < v < 10 for v in ratios)
    # a generator that draws one image whatever its noise: the ratio falls, the warning comes
    nets = [trainer.family.G] + ([trainer.ema.model] if trainer.ema else [])  # grids draw EMA
    with torch.no_grad():
        for p in (p for net in nets for p in net.parameters()):
            p.zero_()
    assert trainer._diversity() < 0.1
    # trained on with frozen rates, it stays collapsed: the warning reaches the logs and status
    trainer.base_lrs = {k: [0.0 for _ in lrs] for k, lrs in trainer.base_lrs.items()}
    trainer.health = HealthMonitor(patience=2)
    trainer.fit(steps=7)
    records = [json.loads(x) for x in (tmp_path / "stats.jsonl").read_text().splitlines()]
    said = {r["step"]: r["health"] for r in records if "health" in r}
    assert list(said) == [6] and any("mode collapse" in w for w in said[6])  # after 2 ticks
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "finished"
    assert any("mode collapse" in h["warning"] for h in status["health"])
