"""DCGAN's limited-data options: pixel-norm G, categorical latent, self-conditioning on
clusters, EMA sampling."""

from __future__ import annotations

import pytest
import torch

import gankit
from gankit.errors import ConfigError


def test_pixel_norm_makes_g_batch_independent(tiny_trainer):
    G = tiny_trainer("dcgan", g_norm="pixel").family.G
    z = torch.randn(6, G.project[0].in_features)
    train_out = G.train()(z)
    assert torch.allclose(train_out, G.eval()(z), atol=1e-6)  # train and eval mode agree
    assert torch.allclose(G(z[:1]), train_out[:1], atol=1e-6)  # a sample ignores its batch


def test_pixel_norm_normalises_each_pixel_over_channels():
    from gankit.models.convnets import PixelNorm

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


def test_cluster_of_draws_with_the_prior():
    from gankit.models.selfcond import cluster_of

    prior = torch.tensor([0.5, 0.0, 0.25, 0.25])
    u = (torch.arange(1000) + 0.5) / 1000  # evenly spaced in (0, 1)
    counts = torch.bincount(cluster_of(u, prior), minlength=4)
    assert counts.tolist() == [500, 0, 250, 250]
    assert cluster_of(torch.tensor([0.0, 1.0]), prior).tolist() == [0, 3]  # the ends stay in range


def test_image_clusters_separate_distinct_images_deterministically():
    from gankit.models.selfcond import image_clusters

    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 40, (60, 1, 8, 8), generator=g, dtype=torch.uint8)
    x[::3, :, :4] += 200  # a bright top half on every third image
    ids = image_clusters(x, 2)
    bright = torch.zeros(60, dtype=torch.bool)
    bright[::3] = True
    assert len(set(ids[bright].tolist())) == 1 and len(set(ids[~bright].tolist())) == 1
    assert ids[0] != ids[1]
    assert torch.equal(image_clusters(x, 2), ids)


def test_clusters_condition_g_and_d_on_the_data_clusters(tiny_trainer):
    from gankit.models.convnets import ProjectionDiscriminator
    from gankit.models.selfcond import cluster_of

    trainer = tiny_trainer("dcgan", clusters=4)
    assert "cluster" not in trainer.data.extra  # clustering waits for the first step
    trainer.prepare()
    fam, data = trainer.family, trainer.data
    ids = data.extra["cluster"]
    assert ids.shape == (len(data),) and ids.max() < 4
    assert torch.allclose(fam.G.prior, torch.bincount(ids, minlength=4).float() / len(ids))
    assert isinstance(fam.nets["D"], ProjectionDiscriminator)
    batch = data.batch(torch.arange(5))
    assert torch.equal(batch["cluster"], ids[:5])

    lat = fam.latent(fam.cfg, fam.info, 8, torch.Generator().manual_seed(0))
    assert set(lat) == {"z", "u"}
    G = fam.G.eval()
    expected = G(z=lat["z"], c=cluster_of(lat["u"], G.prior))
    assert torch.equal(G(**lat), expected)  # u picks a cluster with the data's frequencies
    z = lat["z"][:1].repeat(2, 1)
    out = G(z=z, c=torch.tensor([0, 1]))
    assert not torch.allclose(out[0], out[1])
    trainer.train_step()


def test_clusters_prior_travels_with_the_exported_generator(tiny_trainer, tmp_path):
    import gankit

    trainer = tiny_trainer("dcgan", tmp_path / "run", clusters=3)
    trainer.fit()
    G = gankit.load(tmp_path / "run")
    assert torch.allclose(G.module.prior, trainer.family.G.prior)
    assert G.sample(4, seed=0).shape == (4, 1, 8, 8)


@pytest.mark.parametrize(
    "model, match",
    [
        ({"clusters": 3, "n_components": 3}, "does not combine with model.n_components"),
        ({"clusters": 500}, "model.clusters=500 is more than the 200 training images"),
        ({"clusters": 3, "pack": 2}, "model.pack=2"),
    ],
)
def test_bad_clusters_settings_are_one_line_errors(model, match, tiny_trainer):
    with pytest.raises(ConfigError, match=match) as err:
        tiny_trainer("dcgan", **model)
    assert "\n" not in str(err.value)


def test_cluster_traversal_sweeps_the_clusters_with_z_fixed_along_a_row(tiny_trainer):
    fam = tiny_trainer("dcgan", clusters=4).family
    inputs = fam.traversal(fam.cfg, fam.info, "cluster", rows=3, generator=torch.Generator())
    assert inputs["c"].tolist() == [0, 1, 2, 3] * 3
    z = inputs["z"].view(3, 4, -1)
    assert torch.equal(z[:, :1].expand_as(z), z) and not torch.equal(z[0], z[1])
    assert fam.G.eval()(**inputs).shape == (12, 1, 8, 8)
    with pytest.raises(ConfigError, match="allowed: cluster"):
        fam.traversal(fam.cfg, fam.info, "c", rows=2)
    plain = tiny_trainer("dcgan").family
    with pytest.raises(ConfigError, match="model.clusters=K"):
        plain.traversal(plain.cfg, plain.info, "cluster", rows=2)


def test_mode_seeking_loss_matches_its_definition():
    from gankit.models.dcgan import mode_seeking_loss

    fake = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    z = torch.tensor([[0.0], [0.0], [1.0], [2.0]])
    # pairs (0, 2), (1, 3): mean |dG| = (2 + 2 + 0 + 2) / 4 = 1.5, mean |dz| = (1 + 2) / 2 = 1.5
    assert torch.allclose(mode_seeking_loss(fake, z), torch.tensor(1.0), atol=1e-4)
    assert mode_seeking_loss(fake * 2, z) < mode_seeking_loss(fake, z)  # more spread: lower


def test_mode_seeking_pairs_share_a_cluster_and_add_to_g_loss(tiny_trainer):
    trainer = tiny_trainer("dcgan", clusters=4, mode_seeking=1.0)
    trainer.prepare()
    fam = trainer.family
    batch = trainer.data.batch(torch.arange(10))
    seen = []
    hook = fam.G.register_forward_pre_hook(
        lambda m, args, kw: seen.append(kw["c"]), with_kwargs=True
    )
    torch.manual_seed(0)
    loss, logs = fam.step("G", batch)
    hook.remove()
    c = seen[0]
    assert torch.equal(c[:5], c[5:]) and torch.equal(c[:5], batch["cluster"][:5])
    assert "loss/mode_seeking" in logs
    assert torch.allclose(loss, logs["loss/G"] + logs["loss/mode_seeking"])


@pytest.mark.parametrize("family", ["cgan", "infogan"])
@pytest.mark.parametrize("model", [{"clusters": 3}, {"mode_seeking": 1.0}, {"n_components": 4}])
def test_dcgan_options_are_unknown_keys_of_the_other_conv_families(family, model, tiny_trainer):
    """cgan's and infogan's configs extend DCGAN's networks' config, not DCGAN's own options."""
    key = next(iter(model))
    with pytest.raises(ConfigError, match=f"unknown config key 'model.{key}'; allowed: ") as err:
        tiny_trainer(family, **model)
    assert "\n" not in str(err.value) and "d_channels" in str(err.value)


@pytest.mark.parametrize("family", ["cgan", "infogan"])
def test_generators_exported_with_dcgans_options_off_still_load(family, trained_run):
    """Before cgan and infogan had their own configs, their exports held DCGAN's options at 0."""
    import json

    folder = trained_run(family) / "generator"
    meta = json.loads((folder / "config.json").read_text())
    meta["model"].update({"n_components": 0, "clusters": 0, "mode_seeking": 0.0})
    (folder / "config.json").write_text(json.dumps(meta))
    g = gankit.load(folder)
    assert "clusters" not in g.cfg.model_dump()
    assert g.sample(4, seed=0).shape == (4, 1, 8, 8)


def test_d_extra_layers_let_each_feature_see_the_whole_image(tiny_trainer):
    """On 8x8 digits D's last feature map is 4x4; one 4x4 stride-2 convolution sees 4x4 pixels,
    and an extra 3x3 layer at that resolution widens it to the whole 8x8 image."""

    def reach(D: torch.nn.Module) -> torch.Tensor:
        features = D.net[:-2].eval()  # up to the Flatten: (B, C, 4, 4)
        x = torch.zeros(1, 1, 8, 8, requires_grad=True)
        features(x)[0, :, 0, 0].sum().backward()  # the top-left feature
        return x.grad[0, 0] != 0  # (8, 8): the pixels it depends on

    plain = tiny_trainer("dcgan").family.nets["D"]
    deep = tiny_trainer("dcgan", d_extra_layers=1).family.nets["D"]
    convs = [m for m in deep.net if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 and convs[-1].kernel_size == (3, 3) and convs[-1].stride == (1, 1)
    assert reach(plain)[:4, :4].any() and not reach(plain)[4:, 4:].any()
    assert reach(deep)[4:, 4:].any()


@pytest.mark.parametrize("family, arch", [("dcgan", "textbook"), ("infogan", "infogan")])
def test_d_extra_layers_outside_the_standard_d_are_one_line_errors(family, arch, tiny_trainer):
    with pytest.raises(ConfigError, match=f"model.arch={arch} has its own") as err:
        tiny_trainer(family, arch=arch, d_extra_layers=2)
    assert "\n" not in str(err.value)
