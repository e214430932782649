"""The trainer's speed settings keep runs exact: the generator phase reusing the discriminator
phase's samples, channels_last, and ``precision=auto`` (measured once, stored, never re-measured
on resume)."""

from __future__ import annotations

import copy
import json
import re

import pytest
import torch
from tests.conftest import TINY_DCGAN

from gankit.config import RunConfig
from gankit.models.convnets import ConvGANConfig, TextbookGenerator, upsample_conv
from gankit.presets import resolve
from gankit.train.trainer import Trainer


def tiny(precision: str = "fp32", **model) -> RunConfig:
    flags = {
        "data": {"name": "digits"},
        "model": {"g_channels": 8, "d_channels": 8, "z_dim": 16, **model},
        "train": {"batch_size": 16, "device": "cpu", "precision": precision, "ema": 0.9},
    }
    return resolve(family="dcgan", flags=flags)


def g_forwards(trainer: Trainer, steps: int) -> int:
    """How many times G ran (forward) during ``steps`` training steps."""
    calls = []
    handle = trainer.family.G.register_forward_hook(lambda *_: calls.append(1))
    try:
        for _ in range(steps):
            trainer.train_step()
    finally:
        handle.remove()
    return len(calls)


def test_generator_phase_reuses_the_discriminator_phase_samples():
    trainer = Trainer(tiny(), progress=False)
    assert trainer.family.reuse_fakes
    assert g_forwards(trainer, 3) == 3  # one G forward a step
    trainer.family.reuse_fakes = False
    assert g_forwards(trainer, 3) == 6  # fresh samples for the G phase: two


def test_mode_seeking_draws_fresh_samples_for_the_generator_phase():
    trainer = Trainer(tiny(clusters=4, mode_seeking=0.5), progress=False)
    assert not trainer.family.reuse_fakes
    assert g_forwards(trainer, 2) == 4


def test_resume_with_reused_samples_is_bit_exact():
    straight = Trainer(tiny(), progress=False)
    for _ in range(6):
        straight.train_step()
    first = Trainer(tiny(), progress=False)
    for _ in range(3):
        first.train_step()
    state = copy.deepcopy(first.state_dict())
    resumed = Trainer(tiny(), progress=False)
    resumed.load_state_dict(state)
    for _ in range(3):
        resumed.train_step()
    for name, net in straight.family.nets.items():
        for k, v in net.state_dict().items():
            assert torch.equal(v, resumed.family.nets[name].state_dict()[k]), f"{name}.{k}"
    for k, v in straight.ema.model.state_dict().items():
        assert torch.equal(v, resumed.ema.model.state_dict()[k]), f"ema.{k}"


def test_conv_networks_train_channels_last():
    trainer = Trainer(tiny(), progress=False)
    assert trainer.channels_last
    conv = next(m for m in trainer.family.nets.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)


class NeverBF16(Trainer):
    BF16_MARGIN = float("inf")  # measures, then always keeps fp32


class AlwaysBF16(Trainer):
    BF16_MARGIN = 0.0  # measures, then always takes bf16


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """A machine that has measured nothing yet."""
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "precision.json"


def test_auto_precision_measures_without_changing_the_run(fresh_cache):
    """The measurement trains a few steps, then restores weights, optimizer and random streams:
    the run goes on exactly as an fp32 one."""
    runs = {}
    for name, cls in (("auto", NeverBF16), ("fp32", Trainer)):
        runs[name] = cls(tiny(name), progress=False)  # each seeds the global RNG anew
        for _ in range(3):
            runs[name].train_step()
    auto = runs["auto"]
    assert auto.precision == "fp32" and auto.precision_note.startswith("auto: bf16 autocast ran")
    for k, v in runs["fp32"].family.nets.state_dict().items():
        assert torch.equal(v, auto.family.nets.state_dict()[k]), k


def test_auto_precision_is_measured_once_per_machine_and_model(fresh_cache):
    """A second run of one config on one machine takes the first's choice (runs train alike),
    without measuring; another model is measured on its own."""
    first = AlwaysBF16(tiny("auto"), progress=False)
    assert first.choose_precision() == "bf16" and fresh_cache.is_file()
    again = NeverBF16(tiny("auto"), progress=False)  # would pick fp32 if it measured
    assert again.choose_precision() == "bf16" and "remembered" in again.precision_note
    other = NeverBF16(tiny("auto", g_channels=4), progress=False)
    assert other.choose_precision() == "fp32" and "remembered" not in other.precision_note
    assert len(json.loads(fresh_cache.read_text())) == 2


def test_auto_precision_is_recorded_and_kept_on_resume(tmp_path, fresh_cache):
    cfg = tiny("auto").model_copy(deep=True)
    cfg.train.steps, cfg.train.checkpoint_every, cfg.train.log_every = 4, 4, 2
    run = tmp_path / "run"
    run.mkdir()
    trainer = AlwaysBF16(cfg, run_dir=run, progress=False)
    trainer.fit()
    assert trainer.precision == "bf16"
    status = json.loads((run / "status.json").read_text())
    assert status["precision"] == "bf16" and status["precision_note"].startswith("auto: ")
    # Resumed, the choice comes from the checkpoint: a new measurement would pick fp32 here.
    cfg.train.steps = 6
    resumed = NeverBF16(cfg, run_dir=run, progress=False)
    resumed.resume_from(run / "checkpoints")
    resumed.fit()
    assert resumed.precision == "bf16"
    assert json.loads((run / "status.json").read_text())["precision"] == "bf16"


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_explicit_precision_is_not_measured(precision):
    trainer = AlwaysBF16(tiny(precision), progress=False)
    assert trainer.choose_precision() == precision
    assert trainer.precision_note == "set in the config"


@pytest.mark.parametrize("k", [3, 5, 7])
def test_upsample_conv_is_upsample_then_conv(k):
    """The textbook G's Upsample -> Conv2d pairs run as one smaller convolution: the same outputs
    and the same gradients for the input and the parameters."""
    torch.manual_seed(k)
    conv = torch.nn.Conv2d(6, 4, k, padding=k // 2)
    x = torch.randn(3, 6, 5, 5, requires_grad=True)
    ref = conv(torch.nn.functional.interpolate(x, scale_factor=2))
    out = upsample_conv(x, conv)
    assert out.shape == ref.shape == (3, 4, 10, 10)
    assert torch.allclose(out, ref, atol=1e-5)
    weights = torch.randn_like(ref)
    g_ref = torch.autograd.grad((ref * weights).sum(), [x, conv.weight, conv.bias])
    g_out = torch.autograd.grad((out * weights).sum(), [x, conv.weight, conv.bias])
    for a, b in zip(g_ref, g_out, strict=True):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-5)


def test_textbook_generator_computes_its_sequential():
    G = TextbookGenerator(ConvGANConfig(arch="textbook", z_dim=16), (1, 28, 28)).eval()
    z = torch.randn(4, 16)
    assert torch.allclose(G(z), G.net(z), atol=1e-5)


def test_gankit_train_says_which_precision_auto_chose(run_gankit, tmp_path):
    res = run_gankit("train", *TINY_DCGAN, "--steps", "2", "-q")
    assert res.returncode == 0, res.stderr
    line = next(x for x in res.stdout.splitlines() if "precision" in x)
    assert re.search(r"precision (fp32|bf16) \(auto: bf16 autocast ran at \d+\.\d+x", line), line
    status = json.loads(next((tmp_path / "runs").glob("*/status.json")).read_text())
    assert status["precision"] in line and status["precision_note"] in line
