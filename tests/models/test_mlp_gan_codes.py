"""mlp-gan's categorical latent (K weight-sharing generators) and the MGAN diversity term."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import gankit
from gankit.errors import ConfigError
from gankit.presets import resolve
from gankit.train.trainer import Trainer


def ring_trainer(**model) -> Trainer:
    overrides = {
        "data": {"limit": 256},
        "model": {"hidden": [16, 16], **model},
        "train": {"batch_size": 16, "device": "cpu"},
    }
    return Trainer(resolve(preset="mgan-ring", overrides=[overrides]), progress=False)


def test_latent_has_a_code_and_g_jumps_with_it():
    fam = ring_trainer().family
    lat = fam.latent(fam.cfg, fam.info, 64, torch.Generator().manual_seed(0))
    assert set(lat) == {"z", "c"} and lat["c"].max() < 8
    z = lat["z"][:1].repeat(8, 1)
    out = fam.G(z=z, c=torch.arange(8))  # same z, every code
    assert out.shape == (8, 2) and len({tuple(p) for p in out.tolist()}) == 8


def test_code_classifier_is_trained_with_g_and_adds_its_loss():
    trainer = ring_trainer()
    assert [(p.name, p.updates) for p in trainer.phases] == [("D", ("D",)), ("G", ("G", "C"))]
    fam = trainer.family
    batch = {"real": torch.zeros(16, 2)}
    torch.manual_seed(1)
    loss, logs = fam.step("G", batch)
    torch.manual_seed(1)
    inputs = fam.noise_like(batch)
    fake = fam.G(**inputs)
    adv = F.softplus(-fam.nets["D"](fake)).mean()
    ce = F.cross_entropy(fam.nets["C"](fam.nets["D"].features(fake)), inputs["c"])
    assert loss.item() == pytest.approx((adv + fam.cfg.diversity * ce).item(), rel=1e-5)
    assert logs["loss/C"].item() == pytest.approx(ce.item(), rel=1e-5)
    C0 = [p.detach().clone() for p in fam.nets["C"].parameters()]
    trainer.train_step()
    assert any(not torch.equal(a, b) for a, b in zip(C0, fam.nets["C"].parameters(), strict=True))


def test_diversity_needs_codes_and_no_packing():
    with pytest.raises(ConfigError, match="n_components"):
        ring_trainer(n_components=0)
    with pytest.raises(ConfigError, match="pack"):
        ring_trainer(pack=2)


def test_exported_generator_samples_points_with_codes(tmp_path):
    trainer = ring_trainer()
    trainer.run_dir = tmp_path
    trainer.fit(2)
    G = gankit.load(tmp_path)
    assert set(G.latent(5, seed=0)) == {"z", "c"}
    assert G.sample(5, seed=0).shape == (5, 2)
