"""pix2pix: the U-Net takes any size, the PatchGAN's receptive field is what the config says, the
ablation switches change the objective, and bad settings fail before a run directory exists."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.pix2pix import PATCH_FIELDS, PatchDiscriminator, Pix2Pix, Pix2PixConfig, UNet
from gankit.presets import resolve
from gankit.train.trainer import Trainer


def _info(c_in=1, c_out=1, size=28):
    return DataInfo(
        name="t", kind="images", shape=(c_out, size, size), inputs={"source": (c_in, size, size)}
    )


@pytest.mark.parametrize("size", [(28, 28), (37, 50), (64, 64)])
def test_unet_keeps_any_size_and_skips_reach_the_output(size):
    cfg = Pix2PixConfig(g_channels=8, depth=4)
    net = UNet(1, 3, cfg, size).eval()
    x = torch.randn(2, 1, *size)
    y = net(x)
    assert y.shape == (2, 3, *size) and y.abs().max() <= 1
    # the outermost skip carries each pixel's neighbourhood straight to the decoder's last layer
    x2 = x.clone()
    x2[:, :, size[0] // 2, size[1] // 2] += 5.0
    diff = (net(x2) - y).abs().sum(1)[0]
    assert diff[size[0] // 2, size[1] // 2] > 0


def _field(D: PatchDiscriminator, c: int, size: int) -> int:
    """Measured receptive field: how many input pixels in a row move the centre logit."""
    x = torch.zeros(1, c, size, size, requires_grad=True)
    D.eval()
    out = D.net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    cols = (x.grad.abs().sum((0, 1, 2)) > 0).nonzero()
    return int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize("field", [1, 16, 34, 70])
def test_patchgan_receptive_field_is_the_configured_one(field):
    cfg = Pix2PixConfig(d_channels=8, receptive_field=field, conditional_d=False)
    D = PatchDiscriminator(1, cfg, (160, 160))
    measured = _field(D, 1, 160)
    # padding cuts the field at the border only; at the centre it is whole (or one tap less)
    assert field - 3 <= measured <= field


def test_field_too_large_for_the_image_and_unknown_fields_are_clear():
    with pytest.raises(ValueError, match="allowed: 1, 16, 34, 70, 142, 286"):
        Pix2PixConfig(receptive_field=50)
    with pytest.raises(
        ConfigError,
        match=r"receptive_field=142 leaves no patch on 28x28 images; choose one of 1, 16, 34, 70 ",
    ):
        Pix2Pix(Pix2PixConfig(receptive_field=142, g_channels=8, d_channels=8), _info())
    assert set(PATCH_FIELDS) == {1, 16, 34, 70, 142, 286}


def test_pix2pix_needs_paired_data_and_says_which():
    with pytest.raises(ConfigError, match="edges2digits, edges2photos"):
        resolve_and_build(data={"name": "digits"})


def resolve_and_build(data, **model):
    cfg = resolve(
        family="pix2pix",
        flags={"data": data, "train": {"batch_size": 8, "device": "cpu"}},
        overrides=[{"model": {"g_channels": 8, "d_channels": 8, "depth": 3, **model}}],
    )
    return Trainer(cfg, progress=False)


def test_l1_only_trains_g_alone_and_cgan_only_has_no_l1_term():
    l1_only = resolve_and_build({"name": "edges2digits", "limit": 100}, gan_weight=0)
    assert [p.name for p in l1_only.phases] == ["G"]
    D0 = [p.detach().clone() for p in l1_only.family.nets["D"].parameters()]
    logs = l1_only.train_step()
    assert "loss/D" not in logs and "loss/L1" in logs
    assert all(
        torch.equal(a, b) for a, b in zip(D0, l1_only.family.nets["D"].parameters(), strict=True)
    )
    # L1 only: G's loss is exactly the L1 term times lambda
    batch = l1_only.data.batch(torch.arange(8))
    loss, out = l1_only.family.step("G", batch)
    assert torch.allclose(loss, l1_only.family.cfg.l1 * out["loss/L1"])

    cgan_only = resolve_and_build({"name": "edges2digits", "limit": 100}, l1=0)
    loss, out = cgan_only.family.step("G", batch)
    assert torch.allclose(loss, out["loss/G"])
    assert [p.name for p in cgan_only.phases] == ["D", "G"]


def test_pack_and_diffaugment_are_refused():
    with pytest.raises(ConfigError, match="aligned"):
        resolve_and_build({"name": "edges2digits", "limit": 100}, pack=2)


def test_folder_means_pairs_for_pix2pix(tmp_path):
    from PIL import Image

    for i in range(4):
        arr = np.zeros((8, 16, 3), np.uint8)
        arr[:, 8:] = 40 * i
        Image.fromarray(arr).save(tmp_path / f"{i}.png")
    cfg = resolve(family="pix2pix", flags={"data": {"name": "folder", "path": str(tmp_path)}})
    assert cfg.data.name == "paired" and cfg.preset == "pix2pix-pairs"
    two = resolve(
        family="pix2pix",
        overrides=[{"data": {"path_a": str(tmp_path / "a"), "path_b": str(tmp_path / "bb")}}],
    )
    assert two.data.name == "paired" and two.preset == "pix2pix-pairs"
    assert two.run_name() == "pix2pix-a2bb"
    dcgan = resolve(family="dcgan", flags={"data": {"name": "folder", "path": str(tmp_path)}})
    assert dcgan.data.name == "folder"


def test_eval_reports_translation_metrics(tmp_path):
    from gankit.train.evaluation import evaluate_run
    from gankit.train.trainer import write_config

    cfg = resolve(
        family="pix2pix",
        flags={
            "data": {"name": "edges2digits", "limit": 100},
            "train": {"steps": 2, "batch_size": 8, "device": "cpu"},
        },
        overrides=[{"model": {"g_channels": 8, "d_channels": 8, "depth": 3}}],
    )
    write_config(tmp_path, cfg)
    Trainer(cfg, run_dir=tmp_path, progress=False).fit()
    results = {r.name: r for r in evaluate_run(tmp_path, n=50)}
    assert {"l1", "psnr", "ssim", "sharpness", "sharpness_ratio", "accuracy", "fid"} <= set(results)
    assert 0 <= results["l1"].value <= 1 and 0 <= results["accuracy"].value <= 1
    assert results["l1"].passport["n_fake"] == 50
    assert "heldout" in results["l1"].passport["reference"]
