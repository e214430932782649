"""The inpaint family: only the hole changes, whatever the hole held; training on masks drawn per
batch resumes bit-exactly; the exported generator loads and fills holes without training state."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import gankit
from gankit.data import load_dataset
from gankit.data.base import DataConfig
from gankit.errors import ConfigError, DataError
from gankit.models.inpaint import Inpaint, InpaintConfig, InpaintGenerator, smooth_fill
from gankit.presets import resolve
from gankit.train.trainer import Trainer, write_config


def _holes(n: int, c: int, h: int, w: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.integers(0, 256, (n, c, h, w), dtype=np.uint8))
    m = torch.zeros(n, 1, h, w, dtype=torch.uint8)
    for i in range(n):
        y0, x0 = int(rng.integers(0, h - 6)), int(rng.integers(0, w - 6))
        m[i, :, y0 : y0 + 6, x0 : x0 + 5] = 255
    return x, m


def _scaled(t: torch.Tensor) -> torch.Tensor:
    return t.float() / 127.5 - 1


@pytest.mark.parametrize(("gated", "coarse"), [(True, False), (False, False), (True, True)])
def test_only_the_hole_changes_and_its_content_is_ignored(gated, coarse):
    torch.manual_seed(0)
    G = InpaintGenerator(3, InpaintConfig(g_channels=8, gated=gated, coarse=coarse)).eval()
    x, m = _holes(4, 3, 21, 30)  # not a multiple of 4: padded and cropped back
    with torch.no_grad():
        out = G(image=_scaled(x), mask=_scaled(m))
        scribbled = torch.where(m > 127, 255 - x, x)  # other pixels in the hole
        again = G(image=_scaled(scribbled), mask=_scaled(m))
    assert out.shape == x.shape
    keep = (m <= 127).expand_as(x)
    assert torch.equal(out[keep], _scaled(x)[keep])  # bit for bit
    assert not torch.equal(out[~keep], _scaled(x)[~keep])  # the hole was filled
    assert torch.equal(out, again)  # nothing of the hole reaches the fill


def test_smooth_fill_keeps_known_pixels_and_interpolates_the_hole():
    """Push-pull: a left-to-right ramp with a hole is filled with values between its edges."""
    ramp = torch.linspace(-1, 1, 16).expand(1, 1, 16, 16).clone()
    hole = torch.zeros(1, 1, 16, 16, dtype=torch.bool)
    hole[..., 4:12, 4:12] = True
    fill = smooth_fill(ramp, hole)
    assert torch.equal(fill[~hole.expand_as(fill)], ramp[~hole.expand_as(ramp)])
    inside = fill[0, 0, 4:12, 4:12]
    assert ramp[0, 0, 0, 3] <= inside.min() and inside.max() <= ramp[0, 0, 0, 12]
    assert inside[:, -1].mean() > inside[:, 0].mean()  # it follows the ramp
    flat = smooth_fill(torch.full((1, 3, 9, 7), 0.25), hole[..., :9, :7])
    assert torch.allclose(flat, torch.full_like(flat, 0.25))


def _trainer(run_dir, steps: int, masks: str = "boxes,strokes", **model) -> Trainer:
    cfg = resolve(
        family="inpaint",
        flags={
            "data": {"name": "mnist5k", "limit": 100, "masks": masks, "hole": 12},
            "train": {
                "steps": steps,
                "batch_size": 8,
                "device": "cpu",
                "log_every": 1,
                "sample_every": 2,
                "checkpoint_every": 2,
                "grid_size": 6,
            },
        },
        overrides=[{"model": {"g_channels": 8, "d_channels": 8, **model}}],
    )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


def test_resume_is_bit_exact_and_export_loads_without_training_state(tmp_path):
    straight = _trainer(None, 4)
    straight.fit()
    first = _trainer(tmp_path / "run", 2)
    first.fit()
    second = _trainer(tmp_path / "run", 4)
    second.resume_from(tmp_path / "run" / "checkpoints")
    second.fit()
    for name, net in straight.family.nets.items():
        other = second.family.nets[name].state_dict()
        for k, v in net.state_dict().items():
            assert torch.equal(v, other[k]), f"{name}.{k} differs after resume"

    # the generator alone: config.json + model.safetensors, nowhere near the run
    alone = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "run" / "generator", alone)
    G = gankit.load(alone)
    assert [s.kind for s in G.inputs] == ["image", "mask"]
    held = second.heldout
    x, m = held.x[:6], held.inputs["mask"][:6]
    filled = G.inpaint(x, m)
    want = second.generate({"image": _scaled(held.inputs["image"][:6]), "mask": _scaled(m)})
    assert torch.equal(filled, gankit.data.to_uint8(want))
    keep = (m <= 127).expand_as(x)
    assert torch.equal(filled[keep], x[keep])
    assert torch.equal(G.translate(x, mask=m), filled)
    big_x, big_m = _holes(2, 1, 45, 37)  # any size: filled at its own size
    assert G.inpaint(big_x, big_m).shape == (2, 1, 45, 37)
    with pytest.raises(DataError, match="a mask .* of each image's size|but the images are"):
        G.inpaint(big_x, big_m[..., :30])
    with pytest.raises(ConfigError, match="give mask="):
        G.translate(x)
    bank = np.load(tmp_path / "run" / "samples" / "bank.npz")
    assert set(bank.files) == {"image", "mask", "target"}


def test_l1_only_baseline_trains_g_alone():
    t = _trainer(None, 2, masks="centre", gan_weight=0)
    assert [p.name for p in t.family.phases()] == ["G"]
    logs = t.train_step()
    assert "loss/L1" in logs and "loss/D" not in logs


def test_without_masks_is_one_clear_error():
    info = load_dataset(DataConfig(name="mnist5k", limit=20)).info
    with pytest.raises(ConfigError, match="add --set data.masks=centre"):
        Inpaint.inputs(InpaintConfig(), info)
    with pytest.raises(ConfigError, match="model.d_layers=5 halves 28x28"):
        Inpaint(InpaintConfig(d_layers=5), _trainer(None, 1).data.info)
