"""srgan: the bicubic degradation against hand-computed filter weights, the generator's sizes and
starting point, tiling that equals the whole image, the pixel-loss warm-up that is SRResNet bit
for bit, exact resume, and the export that loads without training state."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.errors import ConfigError
from gankit.metrics.paired import high_frequency_ratio, psnr_y
from gankit.models.srgan import (
    SRGANConfig,
    SRResNet,
    bicubic_down,
    bicubic_up_uint8,
    degrade,
    degrade_uint8,
    tiled_forward,
    upscale,
)
from gankit.presets import resolve
from gankit.train import checkpoint as ckpt
from gankit.train.trainer import Trainer, write_config

# Keys' cubic with a = -0.5 at |x| = 0.25, 0.75, 1.25, 1.75 (the taps of a x2 reduction: input
# pixel centres sit 0.5, 1.5, 2.5, 3.5 px from an output centre, divided by the scale 2):
# 1.5|x|^3 - 2.5|x|^2 + 1 inside 1, -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2 from 1 to 2.
CUBIC = {0.25: 0.8671875, 0.75: 0.2265625, 1.25: -0.0703125, 1.75: -0.0234375}
# The 8 taps of one output pixel, left to right; they sum to 2, so each weight is halved.
TAPS_X2 = np.array([CUBIC[d] for d in (1.75, 1.25, 0.75, 0.25, 0.25, 0.75, 1.25, 1.75)]) / 2.0


def test_bicubic_down_matches_the_hand_computed_filter():
    assert TAPS_X2.sum() == pytest.approx(1.0)
    img = torch.zeros(1, 1, 16, 16, dtype=torch.float64)
    img[0, 0, 8, 8] = 1.0  # an impulse: each output pixel reads back its weight for pixel 8
    lr = bicubic_down(img, 2)[0, 0].numpy()
    assert lr.shape == (8, 8)
    # output j's taps are input pixels 2j-3 .. 2j+4; for j = 2..5 all lie inside the image and
    # pixel 8 is tap 7, 5, 3, 1 of them
    w = TAPS_X2[[7, 5, 3, 1]]
    np.testing.assert_allclose(lr[2:6, 2:6], np.outer(w, w), atol=1e-12)
    assert np.abs(lr).sum() > 0 and lr[0, 0] == 0.0  # nothing reaches 7+ px away


def test_degradation_hand_made_examples_and_determinism():
    # a constant image stays constant at every scale (the weights are normalised)
    flat = np.full((1, 3, 20, 12), 77, np.uint8)
    for s in (2, 4):
        assert (degrade_uint8(flat, s) == 77).all() and degrade_uint8(flat, s).shape == (
            1,
            3,
            20 // s,
            12 // s,
        )
    # a 1 px checkerboard is above the low-resolution Nyquist frequency: antialiasing turns it
    # into mid-grey instead of aliasing it into a pattern
    cb = ((np.indices((32, 32)).sum(0) % 2) * 255).astype(np.uint8)[None, None]
    lr = degrade_uint8(cb, 4)[0, 0]
    assert np.abs(lr[1:-1, 1:-1].astype(int) - 128).max() <= 1
    # bands of one value, 24 px tall: an output pixel reads input rows up to 7.5 px from its
    # centre (2 x 4 px of the stretched kernel), so the output rows whose reach stays inside a
    # band hold exactly its value, and the rows that reach the next band ring (bicubic's lobes)
    bands = np.zeros((1, 1, 72, 40), np.uint8)
    for i, v in enumerate((40, 200, 120)):
        bands[0, 0, 24 * i : 24 * i + 24, :] = v
    lr = degrade_uint8(bands, 4)[0, 0]
    assert (lr[0:4] == 40).all() and (lr[8:10] == 200).all() and (lr[14:18] == 120).all()
    assert lr[4, 0] < 40 and lr[7, 0] > 200  # the undershoot / overshoot beside an edge
    # the same as Pillow's bicubic reduction (within its fixed-point rounding), every run alike
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (2, 3, 36, 44), dtype=np.uint8)
    a, b = degrade_uint8(img, 4), degrade_uint8(img, 4)
    assert np.array_equal(a, b)
    pil = np.stack(
        [
            np.asarray(Image.fromarray(img[0, k]).resize((11, 9), Image.Resampling.BICUBIC))
            for k in range(3)
        ]
    )
    assert np.abs(pil.astype(int) - a[0]).max() <= 1
    # training sees exactly these uint8 levels
    x = torch.from_numpy(img).float().div(127.5).sub(1)
    assert torch.equal(degrade(x, 4), torch.from_numpy(a).float().div(127.5).sub(1))


def test_generator_sizes_bicubic_start_and_icnr():
    cfg = SRGANConfig(g_channels=8, blocks=2)
    G = SRResNet(3, cfg).eval()
    x = torch.rand(2, 3, 7, 11) * 2 - 1  # odd and not square
    with torch.no_grad():
        y = G(source=x)
    assert y.shape == (2, 3, 28, 44)
    # with the residual path the correction starts at zero: G begins as bicubic upsampling
    bic = torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(y, bic)
    # ICNR: the sub-pixel stage starts as nearest-neighbour upsampling (no checkerboard)
    with torch.no_grad():
        h = G.up[:2](G.head(x))  # conv + PixelShuffle
    assert torch.equal(h[..., 0::2, 0::2], h[..., 1::2, 1::2])
    assert torch.equal(h[..., 0::2, 0::2], h[..., 0::2, 1::2])
    G2 = SRResNet(1, SRGANConfig(g_channels=8, blocks=1, scale=2, upsample="resize"))
    assert G2(source=torch.zeros(1, 1, 5, 9)).shape == (1, 1, 10, 18)


def test_tiles_give_the_whole_image_result():
    torch.manual_seed(0)
    G = SRResNet(1, SRGANConfig(g_channels=8, blocks=2, residual=True)).eval()
    for p in G.parameters():  # a trained-looking generator: the correction is not zero
        torch.nn.init.normal_(p, 0, 0.05)
    x = torch.rand(1, 1, 45, 38) * 2 - 1
    with torch.no_grad():
        whole = G(source=x)
        tiled = tiled_forward(G, x, tile=16)
    assert tiled.shape == whole.shape
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=1e-5)


def test_bad_scale_and_sizes_are_clear():
    with pytest.raises(ValueError, match="scale=3; allowed: 2, 4"):
        SRGANConfig(scale=3)
    with pytest.raises(ConfigError, match=r"multiples of 4.*30x30"):
        cfg = resolve(
            family="srgan",
            flags={"data": {"name": "digits", "image_size": 30}},
            overrides=[{"model": {"receptive_field": 16}}],
        )
        Trainer(cfg, progress=False)


def test_metrics_y_psnr_and_high_frequencies():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    noisy = np.clip(hr.astype(int) + 5, 0, 255).astype(np.uint8)
    assert psnr_y(hr, hr) == 100.0
    assert 30 < psnr_y(noisy, hr, border=4) < 40
    up = bicubic_up_uint8(degrade_uint8(hr, 4), 4)
    assert up.shape == hr.shape
    assert high_frequency_ratio(up, hr, 1 / 8) < 0.2 < high_frequency_ratio(hr, hr, 1 / 8)


def _cfg(steps: int, **model):
    return resolve(
        family="srgan",
        flags={
            "data": {"name": "digits", "image_size": 8, "limit": 120},
            "train": {"steps": steps, "batch_size": 8, "device": "cpu", "log_every": 1},
        },
        overrides=[
            {
                "model": {
                    "g_channels": 8,
                    "blocks": 1,
                    "d_channels": 8,
                    "receptive_field": 16,
                    **model,
                }
            }
        ],
    )


def _trainer(steps, run_dir=None, **model) -> Trainer:
    cfg = _cfg(steps, **model)
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


def _equal_nets(a: Trainer, b: Trainer, names=("G", "D")) -> None:
    for name in names:
        other = b.family.nets[name].state_dict()
        for k, v in a.family.nets[name].state_dict().items():
            assert torch.equal(v, other[k]), f"{name}.{k} differs"


def test_warmup_is_srresnet_then_the_adversarial_steps_change_g():
    srresnet = _trainer(3, gan_weight=0.0)
    srresnet.fit()
    srgan = _trainer(5, gan_weight=0.1, warmup_steps=3)
    srgan.fit(3)
    _equal_nets(srresnet, srgan, ("G",))
    d0 = {k: v.clone() for k, v in srgan.family.nets["D"].state_dict().items()}
    fresh = _trainer(5, gan_weight=0.1, warmup_steps=3)
    for k, v in fresh.family.nets["D"].state_dict().items():
        assert torch.equal(v, d0[k])  # D waited during the warm-up
    logs = srgan.train_step()
    assert "loss/G" in logs and "loss/content" in logs and "loss/D" in logs
    assert any(not torch.equal(v, d0[k]) for k, v in srgan.family.nets["D"].state_dict().items())


def test_resume_across_the_warmup_is_bit_exact(tmp_path):
    model = {"gan_weight": 0.1, "warmup_steps": 2}
    straight = _trainer(5, **model)
    straight.fit()
    first = _trainer(3, tmp_path / "half", **model)
    first.fit()  # checkpoint at step 3: one adversarial step done
    second = _trainer(5, **model)
    second.resume_from(tmp_path / "half" / "checkpoints")
    assert second.step == 3 and second.family.g_updates == 3
    second.fit()
    _equal_nets(straight, second)
    assert ckpt.list_checkpoints(tmp_path / "half" / "checkpoints")


def test_export_loads_without_training_state_and_upscales(tmp_path):
    run = tmp_path / "run"
    trainer = _trainer(2, run, gan_weight=0.1, warmup_steps=1)
    trainer.fit()
    assert (run / "samples" / "bank.npz").is_file()
    bank = np.load(run / "samples" / "bank.npz")
    assert bank["source"].shape[2:] == (2, 2) and bank["target"].shape[2:] == (8, 8)
    shutil.rmtree(run / "checkpoints")
    G = gankit.load(run)
    assert [s.to_dict()["shape"] for s in G.inputs] == [[1, 2, 2]]
    held = trainer.heldout if trainer.heldout is not None else trainer.data
    lr = degrade_uint8(held.x[:4].numpy(), 4)
    want = (
        trainer.generate({"source": torch.from_numpy(lr).float().div(127.5).sub(1)})
        .add(1)
        .mul(127.5)
        .round()
        .clamp(0, 255)
        .to(torch.uint8)
    )
    assert torch.equal(G.translate(lr), want)
    # any size, not only the trained 2x2: fully convolutional, no resizing
    big = np.random.default_rng(0).integers(0, 256, (1, 13, 9), dtype=np.uint8)
    out = upscale(G, big, tile=8)
    assert out.shape == (1, 52, 36) and out.dtype == np.uint8
    assert G.translate(big[None]).shape == (1, 1, 52, 36)
    rgb = np.random.default_rng(1).integers(0, 256, (3, 5, 7), dtype=np.uint8)
    assert upscale(G, rgb).shape == (3, 20, 28)  # a grey model upscales each colour channel
    # gankit eval: the originals are degraded as in training and the outputs scored against them
    from gankit.train.evaluation import evaluate_run

    results = {r.name: r.value for r in evaluate_run(run, n=40)}
    assert 0 < results["psnr"] < 100 and 0 < results["sharpness_ratio"]
