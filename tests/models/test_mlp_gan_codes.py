"""mlp-gan's categorical latent (K weight-sharing generators) and the MGAN diversity term."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import gankit
from gankit.errors import ConfigError
from gankit.models.selfcond import cluster_of
from gankit.presets import resolve
from gankit.train.trainer import Trainer, write_config


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


# -- self-conditioning (model.clusters) ---------------------------------------------------------


def clustered_trainer(run_dir=None, steps: int = 2, data: str = "grid", **model) -> Trainer:
    overrides = {
        "data": {"name": data, "limit": 500},
        "model": {
            "hidden": [16, 16],
            "d_hidden": [16, 16],
            "clusters": 25 if data == "grid" else 8,
            **model,
        },
        "train": {
            "batch_size": 20,
            "steps": steps,
            "device": "cpu",
            "log_every": 1,
            "lr_decay_start": None,
        },
    }
    cfg = resolve(preset="selfcond-grid", overrides=[overrides])
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


def test_kmeans_finds_the_toy_modes_and_the_prior_is_their_share():
    trainer = clustered_trainer(steps=1)
    trainer.fit()
    data, fam = trainer.data, trainer.family
    ids, modes = data.extra["cluster"], data.y
    # 25 well-separated Gaussians: every cluster is exactly one mode, every mode one cluster
    pairs = set(zip(ids.tolist(), modes.tolist(), strict=True))
    assert len(pairs) == 25 == len({c for c, _ in pairs}) == len({m for _, m in pairs})
    share = torch.bincount(ids, minlength=25).float() / len(ids)
    assert torch.allclose(fam.G.prior, share)
    lat = fam.latent(fam.cfg, fam.info, 4000, torch.Generator().manual_seed(0))
    drawn = torch.bincount(cluster_of(lat["u"], fam.G.prior), minlength=25).float() / 4000
    assert (drawn - share).abs().max() < 0.02  # u draws clusters as often as the data has them


def test_g_and_the_projection_d_see_the_batch_clusters():
    trainer = clustered_trainer(steps=1, data="ring")
    trainer.fit()
    fam = trainer.family
    batch = trainer.data.batch(torch.arange(20))
    torch.manual_seed(3)
    loss, _ = fam.step("D", batch)
    torch.manual_seed(3)
    z = fam.noise_like(batch)["z"]
    D, c = fam.nets["D"], batch["cluster"]
    fake = fam.G(z=z, c=c)
    h_real, h_fake = D.features(batch["real"]), D.features(fake)
    real_logit = D.net[-1](h_real).squeeze(1) + (D.embed(c) * h_real).sum(1)
    fake_logit = D.net[-1](h_fake).squeeze(1) + (D.embed(c) * h_fake).sum(1)
    expected = F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    x = batch["real"][:1].repeat(8, 1)
    assert len(set(D(x, torch.arange(8)).tolist())) == 8  # the same point judged per cluster


def test_critic_judges_each_point_with_its_nearest_cluster():
    trainer = clustered_trainer(steps=1, data="ring")
    assert trainer.family.critic(torch.zeros(3, 2)) is None  # no clusters yet, no surface
    trainer.fit()
    fam, data = trainer.family, trainer.data
    modes = torch.tensor(data.info.modes)  # (8, 2)
    pairs = zip(data.extra["cluster"].tolist(), data.y.tolist(), strict=True)
    cluster_of_mode = {m: c for c, m in pairs}
    pts = modes + 0.01 * torch.randn(8, 2)
    with torch.no_grad():
        out = fam.critic(pts)
        labels = torch.tensor([cluster_of_mode[m] for m in range(8)])
        expected = torch.sigmoid(fam.nets["D"](pts, labels))
    assert out.shape == (8,) and torch.allclose(out, expected)


def test_clusters_travel_with_the_exported_generator(tmp_path):
    trainer = clustered_trainer(tmp_path / "run")
    trainer.fit()
    G = gankit.load(tmp_path / "run")
    assert set(G.latent(5, seed=0)) == {"z", "u"}
    assert G.sample(5, seed=0).shape == (5, 2)
    assert torch.equal(G.module.prior, trainer.family.G.prior)
    # all 25 cluster codes of one z give 25 different points
    inputs = trainer.family.traversal(trainer.family.cfg, trainer.family.info, "cluster", rows=1)
    assert inputs["c"].tolist() == list(range(25))
    assert len({tuple(p) for p in trainer.family.G(**inputs).tolist()}) == 25


@pytest.mark.parametrize(
    "model, match",
    [
        ({"n_components": 25}, "does not combine with model.n_components"),
        ({"diversity": 2.0}, "does not combine with model.diversity=2.0"),
        ({"pack": 2}, "does not combine with model.pack=2"),
        ({"clusters": 600}, "model.clusters=600 is more than the 500 training images"),
    ],
)
def test_bad_clusters_settings_are_one_line_errors(model, match):
    with pytest.raises(ConfigError, match=match) as e:
        clustered_trainer(**model)
    assert "\n" not in str(e.value)


def test_resume_with_clusters_is_exact(tmp_path):
    straight = clustered_trainer(steps=6)
    straight.fit()
    clustered_trainer(tmp_path / "half", steps=3).fit()
    second = clustered_trainer(steps=6)
    second.resume_from(tmp_path / "half" / "checkpoints")
    second.fit()
    for name, net in straight.family.nets.items():
        other = second.family.nets[name].state_dict()
        for k, v in net.state_dict().items():
            assert torch.equal(v, other[k]), f"{name}.{k} differs after resume"


def test_clusters_on_images_use_the_image_clustering():
    from gankit.models.selfcond import image_clusters

    cfg = resolve(
        family="mlp-gan",
        flags={
            "data": {"name": "digits", "limit": 200},
            "train": {"steps": 2, "batch_size": 10, "device": "cpu"},
        },
        overrides=[{"model": {"hidden": [16], "z_dim": 4, "clusters": 3}}],
    )
    trainer = Trainer(cfg, progress=False)
    trainer.fit()
    ids = trainer.data.extra["cluster"]
    assert torch.equal(ids, image_clusters(trainer.data.x, 3))
    assert trainer.family.critic(torch.zeros(2, 64)) is None  # no decision surface for images
    assert trainer.family.G(z=torch.randn(3, 4), c=torch.arange(3)).shape == (3, 1, 8, 8)
