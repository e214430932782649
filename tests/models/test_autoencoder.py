"""Autoencoder and VAE: the loss formulas, one phase for encoder + decoder, sampling, export."""

from __future__ import annotations

import math

import pytest
import torch

import gankit
from gankit.models.autoencoder import kl_to_standard_normal, reconstruction_loss


def test_reconstruction_loss_is_bernoulli_nll_summed_over_pixels():
    logits = torch.tensor([[[[0.0, 2.0]]], [[[-1.0, 0.5]]]])  # (2, 1, 1, 2)
    real = torch.tensor([[[[1.0, -1.0]]], [[[0.0, 1.0]]]])  # targets (x+1)/2: [1, 0], [0.5, 1]

    def bce(t, logit):
        p = 1 / (1 + math.exp(-logit))
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    expect = (bce(1, 0) + bce(0, 2) + bce(0.5, -1) + bce(1, 0.5)) / 2
    assert reconstruction_loss(logits, real).item() == pytest.approx(expect, rel=1e-6)


def test_kl_matches_closed_form():
    mu = torch.tensor([[1.0, 0.0], [0.0, -2.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]])
    # 1/2 sum(sigma^2 + mu^2 - 1 - log sigma^2) per row: [0.5 + (4 - 1 - log 4)/2, 2]
    expect = ((0.5 + (3 - math.log(4)) / 2) + 2.0) / 2
    assert kl_to_standard_normal(mu, logvar).item() == pytest.approx(expect, rel=1e-6)
    assert kl_to_standard_normal(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0


@pytest.mark.parametrize("family", ["autoencoder", "vae"])
def test_single_phase_trains_encoder_and_decoder(family, tiny_trainer):
    trainer = tiny_trainer(family)
    assert [(p.name, p.updates) for p in trainer.phases] == [("AE", ("E", "G"))]
    nets = trainer.family.nets
    snap = {n: [p.detach().clone() for p in nets[n].parameters()] for n in nets}
    logs = trainer.train_step()
    for n in ("E", "G"):
        assert any(
            not torch.equal(a, b) for a, b in zip(snap[n], nets[n].parameters(), strict=True)
        )
    assert "loss/recon" in logs and ("loss/KL" in logs) == (family == "vae")


def test_reconstruction_improves_with_training(tiny_trainer):
    trainer = tiny_trainer("autoencoder", steps=40)
    first = trainer.train_step()["loss/recon"]
    trainer.fit()
    assert trainer.train_step()["loss/recon"] < 0.8 * first


def test_fitted_prior_maps_standard_normal_onto_the_codes_gaussian(tiny_trainer):
    G = tiny_trainer("autoencoder", z_dim=3).family.G
    codes = torch.randn(4000, 3) @ torch.tensor([[2.0, 0, 0], [1.0, 0.5, 0], [0, 0, 0.1]]).T + 3
    for _ in range(300):  # the running moments converge to the codes' moments
        G.observe(codes, momentum=0.05)
    L = G.fitted_scale()
    mapped = G.z_mean + torch.randn(20000, 3) @ L.T
    assert torch.allclose(mapped.mean(0), codes.mean(0), atol=0.05)
    assert torch.allclose(torch.cov(mapped.T), torch.cov(codes.T), atol=0.1)


@pytest.mark.parametrize("family", ["autoencoder", "vae"])
def test_exported_decoder_samples_from_noise(family, trained_run):
    G = gankit.load(trained_run(family))
    assert set(G.latent(3, seed=0)) == {"z"}
    x = G.sample(6, seed=1)
    assert x.dtype == torch.uint8 and x.shape == (6, 1, 8, 8)
    assert torch.equal(x, G.sample(6, seed=1))
