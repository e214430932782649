"""InfoGAN: codes in the latent, Q on D's body trained with G, the MI loss, code traversal."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import gankit
from gankit.errors import ConfigError


def test_latent_holds_noise_and_both_codes(tiny_trainer):
    fam = tiny_trainer("infogan").family
    lat = fam.latent(fam.cfg, fam.info, 500, torch.Generator().manual_seed(0))
    assert set(lat) == {"z", "c_cat", "c_cont"}
    assert lat["z"].shape == (500, fam.cfg.z_dim) and lat["c_cont"].shape == (500, 2)
    assert lat["c_cat"].dtype == torch.long and set(lat["c_cat"].tolist()) == set(range(10))
    assert lat["c_cont"].min() >= -1 and lat["c_cont"].max() <= 1
    assert fam.G(**lat).shape == (500, 1, 8, 8)


def test_q_shares_d_body_and_is_trained_with_g_not_d(tiny_trainer):
    trainer = tiny_trainer("infogan")
    phases = {p.name: p.updates for p in trainer.phases}
    assert phases == {"D": ("D",), "G": ("G", "Q")}
    nets = trainer.family.nets
    snap = {n: [p.detach().clone() for p in nets[n].parameters()] for n in nets}
    trainer.phases = [p for p in trainer.phases if p.name == "G"]  # the G/Q phase alone
    trainer.train_step()

    def changed(n):
        return any(
            not torch.equal(a, b) for a, b in zip(snap[n], nets[n].parameters(), strict=True)
        )

    assert changed("G") and changed("Q") and not changed("D")


def test_g_phase_loss_is_adversarial_plus_weighted_information_terms(tiny_trainer):
    fam = tiny_trainer("infogan", lambda_cat=1.0, lambda_cont=0.5, diffaugment="").family
    batch = {"real": torch.zeros(10, 1, 8, 8)}
    torch.manual_seed(3)
    loss, logs = fam.step("G", batch)
    # recompute with the same noise
    torch.manual_seed(3)
    inputs = fam.noise_like(batch)
    h = fam.nets["D"].phi(fam.G(**inputs))
    cat_logits, mu = fam.nets["Q"](h)
    adv = F.softplus(-fam.nets["D"].head(h).squeeze(1)).mean()  # non-saturating G loss
    ce = F.cross_entropy(cat_logits, inputs["c_cat"])
    gauss = 0.5 * (mu - inputs["c_cont"]).pow(2).sum(1).mean()
    assert loss.item() == pytest.approx((adv + ce + 0.5 * gauss).item(), rel=1e-5)
    assert logs["loss/Q_cat"].item() == pytest.approx(ce.item(), rel=1e-5)
    # an untrained Q is near chance: cross-entropy about log 10
    assert abs(logs["loss/Q_cat"].item() - math.log(10)) < 1.0


def test_mi_body_trains_d_body_and_q_on_the_information_term_in_d_phase(tiny_trainer):
    trainer = tiny_trainer("infogan", mi_body=True, diffaugment="")
    assert {p.name: p.updates for p in trainer.phases}["D"] == ("D", "Q")
    fam = trainer.family
    batch = {"real": torch.zeros(10, 1, 8, 8)}
    torch.manual_seed(5)
    loss, logs = fam.step("D", batch)
    torch.manual_seed(5)
    inputs = fam.noise_like(batch)
    fake = fam.G(**inputs)
    D = fam.nets["D"]
    d_loss = F.softplus(-D(batch["real"])).mean() + F.softplus(D(fake)).mean()
    cat_logits, mu = fam.nets["Q"](D.phi(fake))
    mi = (
        F.cross_entropy(cat_logits, inputs["c_cat"])
        + 0.1 * 0.5 * (mu - inputs["c_cont"]).pow(2).sum(1).mean()
    )
    assert loss.item() == pytest.approx((d_loss + mi).item(), rel=1e-5)
    assert "loss/Q_cat/D" in logs


def test_paper_architecture_shares_a_1024_unit_layer_with_q(tiny_trainer, trained_run):
    trainer = tiny_trainer("infogan", arch="infogan")
    fam = trainer.family
    lat = fam.latent(fam.cfg, fam.info, 6, torch.Generator().manual_seed(0))
    fake = fam.G(**lat)
    assert fake.shape == (6, 1, 8, 8) and fake.abs().max() <= 1  # tanh output
    h = fam.nets["D"].phi(fake)
    assert h.shape == (6, 1024)  # the paper's FC 1024 features, read by D's head and by Q
    cat_logits, mu = fam.nets["Q"](h)
    assert cat_logits.shape == (6, 10) and mu.shape == (6, 2)
    assert math.isfinite(trainer.train_step()["loss/Q_cat"])
    assert gankit.load(trained_run("infogan", arch="infogan")).sample(3).shape == (3, 1, 8, 8)


def test_paper_architecture_needs_a_size_divisible_by_4():
    from gankit.presets import resolve
    from gankit.train.trainer import Trainer

    cfg = resolve(
        family="infogan",
        flags={"data": {"name": "digits", "limit": 50, "image_size": 10}},
        overrides=[{"model": {"arch": "infogan"}, "train": {"device": "cpu"}}],
    )
    with pytest.raises(ConfigError, match="model.arch=infogan needs an image size divisible by 4"):
        Trainer(cfg, progress=False)


def test_traversal_sweeps_one_code_per_column(tiny_trainer):
    fam = tiny_trainer("infogan").family
    cat = fam.traversal(fam.cfg, fam.info, "cat", rows=3)
    assert cat["c_cat"].view(3, 10).tolist() == [list(range(10))] * 3
    assert torch.equal(cat["z"].view(3, 10, -1)[:, 0], cat["z"].view(3, 10, -1)[:, 9])  # same z
    c2 = fam.traversal(fam.cfg, fam.info, "c2", rows=4, cols=5)
    grid = c2["c_cont"].view(4, 5, 2)
    assert torch.allclose(grid[:, :, 1], torch.linspace(-2, 2, 5).repeat(4, 1))
    assert (grid[:, :, 0] == grid[:, :1, 0]).all()  # the other code stays fixed along a row
    assert (c2["c_cat"].view(4, 5) == c2["c_cat"].view(4, 5)[:, :1]).all()
    with pytest.raises(ConfigError, match="allowed: cat, c1, c2"):
        fam.traversal(fam.cfg, fam.info, "c3", rows=2)


def test_loaded_generator_gives_codes_and_cli_draws_a_traversal(trained_run, cli, tmp_path):
    run = trained_run("infogan")
    G = gankit.load(run)
    assert set(G.latent(4, seed=0)) == {"z", "c_cat", "c_cont"}
    assert G.sample(4, seed=0).shape == (4, 1, 8, 8)
    out, png = tmp_path / "c2.npz", tmp_path / "c2.png"
    assert (
        cli(
            "sample",
            str(run),
            "--traverse",
            "c2",
            "--n",
            "3",
            "--out",
            str(out),
            "--grid",
            str(png),
        )
        == 0
    )
    assert np.load(out)["images"].shape == (30, 1, 8, 8) and png.stat().st_size > 0
    assert cli("sample", str(run), "--traverse", "c9", "--out", str(out)) == 2


def test_traverse_on_a_family_without_codes_is_a_user_error(trained_run, cli, tmp_path):
    run = trained_run("dcgan")
    assert cli("sample", str(run), "--traverse", "c1", "--out", str(tmp_path / "x.npz")) == 2
