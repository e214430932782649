"""cGAN: label conditioning in G and D, the projection formula, sampling a chosen class."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gankit
from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError
from gankit.presets import resolve
from gankit.train.trainer import Trainer


def test_g_takes_the_label_and_different_labels_give_different_images(tiny_trainer):
    fam = tiny_trainer("cgan").family
    G = fam.G.eval()
    z = torch.randn(1, fam.cfg.z_dim).repeat(10, 1)
    out = G(z=z, label=torch.arange(10))
    assert out.shape == (10, 1, 8, 8)
    assert not torch.allclose(out[0], out[1])


def test_projection_discriminator_is_linear_head_plus_inner_product(tiny_trainer):
    D = tiny_trainer("cgan").family.nets["D"].eval()
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 3, 3, 9])
    h = D.phi(x)  # (4, F)
    expect = D.head(h).squeeze(1) + (D.embed.weight[y] * h).sum(1)
    assert torch.allclose(D(x, y), expect, atol=1e-6)
    # the class term alone differs between labels for the same image
    assert not torch.allclose(D(x[:1], torch.tensor([0])), D(x[:1], torch.tensor([1])))


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_d_and_g_phases_use_the_batch_labels(conditioning, tiny_trainer):
    trainer = tiny_trainer("cgan", conditioning=conditioning, loss="hinge", spectral_norm=True)
    trainer.choose_precision()  # before the hook: precision auto measures a few steps first
    labels = []
    D = trainer.family.nets["D"]
    D.register_forward_pre_hook(
        lambda m, args, kw: labels.append(kw["label"].clone()), with_kwargs=True
    )
    trainer.train_step()
    assert len(labels) == 3  # D: real and fake; G: fake
    assert all(torch.equal(labels[0], lab) for lab in labels)


def test_concat_discriminator_sees_label_planes(tiny_trainer):
    D = tiny_trainer("cgan", conditioning="concat").family.nets["D"]
    first = D.body.net[0]
    assert first.in_channels == 1 + 10


def test_unlabelled_data_and_packing_are_config_errors(tiny_trainer):
    unlabelled = ArrayDataset(
        x=torch.zeros(20, 1, 8, 8, dtype=torch.uint8),
        y=None,
        info=DataInfo(name="blank", kind="images", shape=(1, 8, 8)),
    )
    with pytest.raises(ConfigError, match="labelled dataset"):
        Trainer(resolve(family="cgan"), dataset=unlabelled, progress=False)
    with pytest.raises(ConfigError, match="pack"):
        tiny_trainer("cgan", pack=2)


def test_sample_label_writes_that_class_only(trained_run, cli, tmp_path):
    run = trained_run("cgan")
    G = gankit.load(run)
    assert G.conditional and G.sample(5, seed=0, label=7).shape == (5, 1, 8, 8)
    out = tmp_path / "sevens.npz"
    assert cli("sample", str(run), "--n", "12", "--label", "7", "--out", str(out)) == 0
    data = np.load(out)
    assert data["images"].shape == (12, 1, 8, 8) and (data["labels"] == 7).all()
    assert cli("sample", str(run), "--label", "10", "--out", str(out)) == 2  # out of range
