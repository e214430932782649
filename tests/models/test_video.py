"""The video family: GDL and sharpness against hand-computed values, the multi-scale networks,
the sample bank of held-out futures, rollouts, and the animated samples a run writes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import DataConfig, load_dataset
from gankit.errors import ConfigError, DataError
from gankit.metrics import video as vm
from gankit.models.video import MultiScaleGenerator, Video, VideoConfig, gdl_loss, rollout
from gankit.presets import resolve
from gankit.train.evaluation import evaluate_run
from gankit.train.trainer import Trainer, write_config


def test_gdl_by_hand():
    y = torch.tensor([[[[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]]])  # (1, 1, 2, 3)
    p = torch.tensor([[[[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]]])
    # along i (rows): |dY| = [0, 1, 0], |dP| = [0, .5, .5] -> |diff| = [0, .5, .5], mean 1/3
    # along j (cols): |dY| = [1, 0; 0, 1], |dP| = [.5, 0; 0, 0] -> |diff| = [.5, 0, 0, 1], mean 3/8
    assert gdl_loss(p, y, alpha=1).item() == pytest.approx(1 / 3 + 3 / 8)
    # alpha 2 squares each difference: (0 + .25 + .25) / 3 + (.25 + 0 + 0 + 1) / 4
    assert gdl_loss(p, y, alpha=2).item() == pytest.approx(0.5 / 3 + 1.25 / 4)
    assert gdl_loss(y, y).item() == 0.0
    # shifting an image changes no gradient magnitude inside it: GDL ignores a constant offset
    assert gdl_loss(y + 0.3, y).item() == pytest.approx(0.0, abs=1e-7)


def test_sharpness_difference_by_hand():
    t = np.array([[[[0, 100, 100], [0, 0, 100], [0, 0, 0]]]], np.uint8)
    p = np.array([[[[0, 50, 50], [0, 0, 50], [0, 0, 0]]]], np.uint8)
    # on pixels (i, j) >= 1: t: gi = |t[i,j]-t[i-1,j]|, gj = |t[i,j]-t[i,j-1]|
    # (1,1): gi 100, gj 0 -> 100; (1,2): gi 0, gj 100 -> 100; (2,1): 0 + 0; (2,2): 100 + 0
    # prediction: 50, 50, 0, 50 -> |diff| = 50, 50, 0, 50, mean 37.5
    want = 10 * math.log10(255**2 / 37.5)
    assert vm.sharpness_difference(p, t) == pytest.approx(want)
    assert vm.sharpness_difference(t, t) == vm.CAP_DB
    mask = np.zeros_like(t, bool)
    mask[..., 2, 2] = True  # only pixel (2, 2): |100 - 50|
    assert vm.sharpness_difference(p, t, mask) == pytest.approx(10 * math.log10(255**2 / 50))
    # PSNR on moving pixels: squared error over the mask only
    m = vm.moving_mask(t, np.zeros_like(t))
    err = ((p.astype(float) - t) ** 2)[m].mean()
    assert vm.psnr(p, t, m) == pytest.approx(10 * math.log10(255**2 / err))
    assert m.sum() == 3


def _data(context=4, size=32):
    return load_dataset(DataConfig(name="moving-mnist", limit=8, context=context, image_size=size))


def test_generator_shapes_scales_and_range():
    G = MultiScaleGenerator(context=4, channels=1, scales=3, width=8)
    x = torch.rand(2, 4, 1, 32, 32) * 2 - 1
    pyr = G.pyramid(x)
    assert [p.shape[-1] for p in pyr] == [8, 16, 32]
    assert pyr[-1].abs().max() <= 1 and torch.equal(G(frames=x), pyr[-1])
    ds = _data()
    with pytest.raises(ConfigError, match="model.scales=4"):
        Video.build_generator(VideoConfig(scales=4), ds.info)  # 32 px / 8 = 4 px: too coarse


def test_family_losses_and_phases():
    ds = _data()
    fam = Video(VideoConfig(g_channels=8, d_channels=8, scales=2), ds.info)
    batch = ds.batch(torch.arange(4), augment=False)
    loss_d, _ = fam.step("D", batch)
    loss_g, logs = fam.step("G", batch)
    assert (
        torch.isfinite(loss_d) and torch.isfinite(loss_g) and {"loss/lp", "loss/gdl"} <= set(logs)
    )
    assert fam.nets["D"](batch["real"], source=batch["frames"]).shape == (4, 2)  # one per scale
    assert [p.name for p in fam.phases()] == ["D", "G"]
    pixel = Video(VideoConfig(adv=0, gdl=0, g_channels=8, scales=2), ds.info)
    assert [p.name for p in pixel.phases()] == ["G"]
    _, logs = pixel.step("G", batch)
    assert "loss/G" not in logs
    with pytest.raises(ConfigError, match="videos"):
        Video.inputs(VideoConfig(), load_dataset(DataConfig(name="digits")).info)


def test_sample_bank_holds_the_true_future():
    ds = _data()
    held = ds.subset(ds.held.nonzero().squeeze(1))
    bank, target = Video.sample_bank(VideoConfig(), ds.info, 4, held)
    assert bank["frames"].shape == (4, 4, 1, 32, 32) and target.shape == (4, 10, 1, 32, 32)
    # the first future frame is the next window's newest context frame, and so on
    start = int((held.extra["offset"] == 0).nonzero()[0])
    b = held.batch(torch.arange(start, start + 10), augment=False)
    assert torch.equal(target[0], b["real"])
    assert torch.equal(target[0, :3], b["frames"][1:4, -1])


def test_future_frames_and_the_rollout_loss():
    """data.future = 3: each training window carries the two frames after its next one (the
    video's own frames), and G's losses follow its own rollout through them."""
    ds = load_dataset(DataConfig(name="moving-mnist", limit=8, image_size=32, future=3))
    assert ds.extra["later"].shape == (len(ds), 2, 1, 32, 32)
    train = (~ds.held).nonzero().squeeze(1)
    assert (ds.extra["later_n"][train] == 2).all()  # training videos are long enough
    held = ds.subset(ds.held.nonzero().squeeze(1))
    start = int((held.extra["offset"] == 0).nonzero()[0])
    # a held-out window's later frames are the next windows' targets; the last has none left
    assert torch.equal(held.extra["later"][start], held.x[start + 1 : start + 3])
    assert held.extra["later_n"][start + 9] == 0
    assert "later" not in _data().extra  # future = 1: nothing extra

    cfg = VideoConfig(g_channels=8, d_channels=8, scales=2, adv=0)
    fam = Video(cfg, ds.info)
    batch = ds.batch(train[:4], augment=False)
    loss, logs = fam.step("G", batch)
    one_step, _ = fam.step("G", {k: v for k, v in batch.items() if not k.startswith("later")})
    lp, gdl = fam.pixel_losses(fam.G.pyramid(batch["frames"]), batch["real"])
    assert one_step.item() == pytest.approx((lp + gdl).item(), rel=1e-5)
    # by hand: the rollout's frames, each fed back clamped, against the video's own frames
    frames, total_lp, total_gdl = batch["frames"], lp, gdl
    nxt = fam.G.pyramid(frames)[-1]
    for k in range(2):
        frames = torch.cat([frames[:, 1:], nxt.clamp(-1, 1).unsqueeze(1)], 1)
        pyr = fam.G.pyramid(frames)
        step_lp, step_gdl = fam.pixel_losses(pyr, batch["later"][:, k].float() / 127.5 - 1)
        total_lp, total_gdl, nxt = total_lp + step_lp, total_gdl + step_gdl, pyr[-1]
    assert loss.item() == pytest.approx(((total_lp + total_gdl) / 3).item(), rel=1e-5)
    assert "loss/lp_rollout" in logs
    # gradients reach G through the fed-back frames
    fam.G.zero_grad()
    loss.backward()
    assert all(p.grad is not None for p in fam.G.parameters())


def test_motion_kernel_moves_the_last_frame():
    """model.motion: a kernel that puts all its weight on one shift moves the last frame by it
    (background fills what comes in from outside); untrained, G predicts the moved frame."""
    torch.manual_seed(0)
    G = MultiScaleGenerator(context=4, channels=1, scales=2, width=8, motion=7, size=32)
    x = torch.rand(2, 4, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        G.motion.head.bias.fill_(-1e4)
        G.motion.head.bias[3 * 7 + 5] = 0.0  # row shift 0, column shift +2 (content moves left)
    out = G(frames=x)
    assert torch.allclose(out[..., :, :30], x[:, -1, :, :, 2:], atol=1e-5)
    assert torch.equal(out[..., :, 30:], torch.full_like(out[..., :, 30:], -1.0))
    with pytest.raises(ValueError, match="must be odd"):
        VideoConfig(motion=4)


def test_rollout_feeds_predictions_back():
    class Last(torch.nn.Module):  # "next frame" = newest frame + 0.1: rollouts accumulate
        def forward(self, frames):
            return frames[:, -1] + 0.1

    x = torch.zeros(2, 3, 1, 4, 4)
    out = rollout(Last(), x, 5)
    assert out.shape == (2, 5, 1, 4, 4)
    assert torch.allclose(out[:, :, 0, 0, 0], torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5]).repeat(2, 1))


def test_training_writes_rollout_animations_and_exports(tmp_path):
    import gankit

    cfg = resolve(
        family="video",
        flags={
            "data": {"name": "moving-mnist", "limit": 8, "image_size": 32},
            "model": {"g_channels": 8, "d_channels": 8, "scales": 2},
            "train": {"steps": 2, "batch_size": 4, "grid_size": 3, "sample_every": 2},
        },
    )
    (tmp_path / "run").mkdir()
    write_config(tmp_path / "run", cfg)
    trainer = Trainer(cfg, run_dir=tmp_path / "run", progress=False)
    trainer.fit()
    png = tmp_path / "run" / "samples" / "step_000000002.png"
    with Image.open(png) as img:
        assert img.n_frames == 4 + 10  # context, then the 10-frame rollout
    bank = np.load(tmp_path / "run" / "samples" / "bank.npz")
    assert bank["frames"].shape == (3, 4, 1, 32, 32) and bank["target"].shape == (3, 10, 1, 32, 32)
    G = gankit.load(tmp_path / "run")
    ctx = bank["frames"]
    out = G.predict(ctx, 3)
    want = rollout(lambda **kw: trainer.generate(kw), torch.from_numpy(ctx).float() / 127.5 - 1, 3)
    assert out.shape == (3, 3, 1, 32, 32) and out.dtype == torch.uint8
    assert (out.int() - ((want + 1) * 127.5).round().clamp(0, 255).int()).abs().max() <= 1
    # the generator is deterministic: the same context gives the same rollout
    assert torch.equal(out, G.predict(ctx, 3))
    with pytest.raises(DataError, match="at least 4"):
        G.predict(ctx[:, :3], 1)
    with pytest.raises(DataError, match="trained on 1x32x32"):
        G.predict(np.zeros((1, 4, 1, 64, 64), np.uint8), 1)
    with pytest.raises(ConfigError, match="predict"):
        G.translate(ctx[:, 0])
    # gankit eval: the next frame of every held-out window, scored like the bench's t+1
    results = {r.name: r.value for r in evaluate_run(tmp_path / "run")}
    assert set(results) == {
        "psnr",
        "ssim",
        "sharpness",
        "psnr_moving",
        "ssim_moving",
        "sharpness_moving",
    }
    held = trainer.heldout
    pred = G.predict(held.inputs["frames"], 1)[:, 0].numpy()
    assert results["psnr"] == pytest.approx(vm.psnr(pred, held.x.numpy()))
