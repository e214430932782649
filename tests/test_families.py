"""Every registered family trains a few steps on tiny data, on CPU, in seconds."""

from __future__ import annotations

import pytest
import torch

from gankit.presets import resolve
from gankit.registry import MODELS
from gankit.train.trainer import Trainer

# Tiny settings per family; a family missing here trains on 8x8 digits with its defaults.
TINY = {
    "mlp-gan": {"data": {"name": "ring", "limit": 512}, "model": {"hidden": [16, 16]}},
    "dcgan": {"data": {"name": "digits"}, "model": {"g_channels": 8, "d_channels": 8}},
    "cgan": {"data": {"name": "digits"}, "model": {"g_channels": 8, "d_channels": 8}},
    "infogan": {"data": {"name": "digits"}, "model": {"g_channels": 8, "d_channels": 8}},
    "autoencoder": {"data": {"name": "digits"}, "model": {"g_channels": 8, "e_channels": 8}},
    "vae": {"data": {"name": "digits"}, "model": {"g_channels": 8, "e_channels": 8}},
    "pix2pix": {
        "data": {"name": "edges2digits", "limit": 100},
        "model": {"g_channels": 8, "d_channels": 8, "depth": 3},
    },
    "cyclegan": {
        "data": {"name": "digits2mnist", "limit": 20},
        "model": {"g_channels": 4, "n_blocks": 1, "d_channels": 8, "receptive_field": 16},
    },
    "text2image": {
        "data": {"name": "digit-captions", "limit": 20},
        "model": {"g_channels": 8, "d_channels": 8, "encoder_steps": 3, "encoder_channels": 16},
    },
    "video": {
        "data": {"name": "moving-mnist", "limit": 16, "image_size": 32},
        "model": {"g_channels": 8, "d_channels": 8, "scales": 2},
    },
    "tag-gan": {
        "data": {"name": "characters", "limit": 100},
        "model": {"g_channels": 8, "d_channels": 8},
    },
    "inpaint": {
        "data": {"name": "mnist5k", "limit": 100, "masks": "boxes,strokes", "hole": 12},
        "model": {"g_channels": 8, "d_channels": 8},
    },
    "voxel-gan": {
        "data": {"name": "shapes", "limit": 2},
        "model": {"z_dim": 8, "g_channels": 4, "d_channels": 4, "clusters": 4},
    },
    "voxel-vae-gan": {
        "data": {"name": "shapes", "limit": 2},
        "model": {"z_dim": 8, "g_channels": 4, "d_channels": 4, "e_channels": 4},
    },
}


@pytest.mark.parametrize("family", MODELS.names())
def test_family_trains_a_few_steps(family):
    flags = TINY.get(family, {"data": {"name": "digits"}})
    flags = {**flags, "train": {"steps": 3, "batch_size": 8, "log_every": 1, "device": "cpu"}}
    cfg = resolve(family=family, flags=flags)
    trainer = Trainer(cfg, progress=False)
    before = {k: v.detach().clone() for k, v in trainer.family.G.state_dict().items()}
    last = trainer.fit()
    assert trainer.step == 3 and all(
        torch.isfinite(torch.tensor(v)) for v in last.values() if isinstance(v, float)
    )
    after = trainer.family.G.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "G did not change"
    out = trainer.generate(trainer.noise_bank)
    assert out.shape[1:] == torch.Size(trainer.data.info.shape)


def test_phase_only_updates_its_networks():
    cfg = resolve(family="dcgan", flags={**TINY["dcgan"], "train": {"batch_size": 8}})
    trainer = Trainer(cfg, progress=False)
    G0 = [p.detach().clone() for p in trainer.family.G.parameters()]
    D0 = [p.detach().clone() for p in trainer.family.nets["D"].parameters()]
    trainer.phases = [p for p in trainer.phases if p.name == "D"]  # run the D phase alone
    trainer.train_step()
    assert all(torch.equal(a, b) for a, b in zip(G0, trainer.family.G.parameters(), strict=True))
    assert any(
        not torch.equal(a, b)
        for a, b in zip(D0, trainer.family.nets["D"].parameters(), strict=True)
    )


def test_wgan_gp_runs_n_critic_steps_per_g_step():
    cfg = resolve(
        family="mlp-gan",
        flags={**TINY["mlp-gan"], "train": {"batch_size": 8}},
        overrides=[{"model": {"loss": "wgan-gp", "n_critic": 5}}],
    )
    trainer = Trainer(cfg, progress=False)
    trainer.train_step()
    assert trainer.sampler.position == 5 * 8  # five fresh batches for D, G reuses the last
    assert trainer.optimizers["D"].state_dict()["state"][0]["step"].item() == 5
    assert trainer.optimizers["G"].state_dict()["state"][0]["step"].item() == 1


def test_pacgan_packs_samples_for_d():
    cfg = resolve(
        family="dcgan",
        flags={**TINY["dcgan"], "train": {"batch_size": 8}},
        overrides=[{"model": {"pack": 2, "clusters": 0}}],  # the preset's clusters: one per image
    )
    trainer = Trainer(cfg, progress=False)
    assert trainer.family.nets["D"].net[0].in_channels == 2
    trainer.train_step()
