"""DCGAN's limited-data options: pixel-norm G, categorical latent, EMA sampling."""

from __future__ import annotations

import pytest
import torch

from gankit.errors import ConfigError


def test_pixel_norm_makes_g_batch_independent(tiny_trainer):
    G = tiny_trainer("dcgan", g_norm="pixel").family.G
    z = torch.randn(6, G.project[0].in_features)
    train_out = G.train()(z)
    assert torch.allclose(train_out, G.eval()(z), atol=1e-6)  # train and eval mode agree
    assert torch.allclose(G(z[:1]), train_out[:1], atol=1e-6)  # a sample ignores its batch


def test_pixel_norm_normalises_each_pixel_over_channels():
    from gankit.models.dcgan import PixelNorm

    x = torch.randn(2, 5, 3, 3) * 7
    y = PixelNorm()(x)
    assert torch.allclose(y.pow(2).mean(1), torch.ones(2, 3, 3), atol=1e-5)


def test_categorical_latent_reaches_g(tiny_trainer):
    fam = tiny_trainer("dcgan", n_components=5).family
    lat = fam.latent(fam.cfg, fam.info, 10, torch.Generator().manual_seed(0))
    assert set(lat) == {"z", "c"} and lat["c"].max() < 5
    G = fam.G.eval()
    z = lat["z"][:1].repeat(5, 1)
    out = G(z=z, c=torch.arange(5))
    assert not torch.allclose(out[0], out[1])
    fam_trainer = tiny_trainer("dcgan", n_components=5)
    fam_trainer.train_step()


@pytest.mark.parametrize("family", ["cgan", "infogan"])
def test_families_with_their_own_codes_reject_n_components(family, tiny_trainer):
    with pytest.raises(ConfigError, match="n_components"):
        tiny_trainer(family, n_components=4)


def test_ema_generator_is_what_gets_sampled_and_exported(tiny_trainer, tmp_path):
    import gankit

    trainer = tiny_trainer(
        "dcgan", tmp_path / "run", steps=3, train={"ema": 0.5, "ema_start": 0}, g_norm="pixel"
    )
    trainer.fit()
    z = trainer.noise_bank
    with torch.no_grad():
        ema_out = trainer.ema.model(**z)
        live_out = trainer.family.G.eval()(**z)
    assert not torch.allclose(ema_out, live_out)
    G = gankit.load(tmp_path / "run")
    assert torch.allclose(G(**z), ema_out, atol=1e-6)
