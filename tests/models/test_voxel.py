"""3D-GAN and 3D-VAE-GAN on tiny procedural shapes: training, the adaptive D update,
self-conditioning on clusters of the grids, an exact resume, export and load, and the CLI's
grids, meshes and turntables."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import DataConfig, load_dataset, split_holdout
from gankit.data.shapes import render
from gankit.errors import ConfigError
from gankit.generator import load
from gankit.mesh import read_obj, voxel_mesh
from gankit.models.selfcond import image_clusters
from gankit.models.voxel import SHOW, occupancy
from gankit.presets import resolve
from gankit.train import checkpoint as ckpt
from gankit.train.trainer import Trainer, write_config

TINY = {"z_dim": 8, "g_channels": 4, "d_channels": 4}


def voxel_trainer(family, run_dir=None, steps=2, **model):
    # 12 training grids: the self-conditioned voxel-gan gets 3 clusters of them
    extra = {"e_channels": 4} if family == "voxel-vae-gan" else {"clusters": 3}
    cfg = resolve(
        family=family,
        flags={
            "data": {"name": "shapes", "limit": 2},
            "train": {
                "steps": steps,
                "lr_decay_start": None,  # constant rates: tests step past train.steps
                "batch_size": 4,
                "device": "cpu",
                "log_every": 1,
                "sample_every": 2,
                "grid_size": 4,
            },
        },
        overrides=[{"model": {**TINY, **extra, **model}}],
    )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


@pytest.mark.parametrize("family", ["voxel-gan", "voxel-vae-gan"])
def test_two_halves_equal_one_run_and_the_export_loads(family, tmp_path):
    straight = voxel_trainer(family, steps=4)
    straight.fit()
    first = voxel_trainer(family, tmp_path / "half", steps=2)
    first.fit()
    second = voxel_trainer(family, steps=4)
    second.resume_from(tmp_path / "half" / "checkpoints")
    assert second.step == 2
    second.fit()
    for name, net in straight.family.nets.items():
        other = second.family.nets[name].state_dict()
        for k, v in net.state_dict().items():
            assert torch.equal(v, other[k]), f"{name}.{k} differs after resume"
    assert ckpt.list_checkpoints(tmp_path / "half" / "checkpoints")
    # the sample grid is rendered views (grey pictures), not 32-channel voxel slices
    png = Image.open(tmp_path / "half" / "samples" / "step_000000002.png")
    assert png.size[0] > 32 and png.mode in ("L", "RGB")
    G = load(tmp_path / "half")
    trained = first._sampling_G().eval()
    if family == "voxel-gan":
        inputs = G.latent(3, seed=1)  # z and the quantile u that picks each grid's cluster
        assert set(inputs) == {"z", "u"}
        with torch.no_grad():
            assert torch.allclose(G(**inputs), trained(**inputs))
        out = G.sample(3, seed=1)
    else:
        views = first.heldout.inputs["image"][:3]
        out = G.translate(views)
        with torch.no_grad():
            ref = trained(image=views.float().div(127.5).sub(1.0))
        assert torch.allclose(G(image=views.float().div(127.5).sub(1.0)), ref)
    assert out.shape == (3, 32, 32, 32) and out.dtype == torch.uint8
    shown = G.pictures(out)  # what the dashboard shows: rendered views
    assert shown.shape == (3, 1, 32, 32) and shown.dtype == torch.uint8
    grids = occupancy(out)  # the renderer's view of the thresholded grid
    assert np.array_equal(shown[1, 0].numpy(), render(grids[1], *SHOW))
    if family == "voxel-vae-gan":  # the Translate tab's held-out targets are pictures too
        with np.load(tmp_path / "half" / "samples" / "bank.npz") as z:
            assert z["image"].shape[1:] == z["target"].shape[1:] == (1, 32, 32)


def test_the_adaptive_update_skips_a_winning_discriminator():
    trainer = voxel_trainer("voxel-gan", d_threshold=0.01)  # D "wins" at any accuracy >= 1%
    trainer.family.nets["D"].head.bias.data.fill_(-50.0)  # says "fake" to all: accuracy 0.5
    D0 = [p.detach().clone() for p in trainer.family.nets["D"].parameters()]
    logs = trainer.train_step()
    assert logs["D_updated"] == 0.0 and logs["acc/D"] >= 0.01
    assert all(
        torch.equal(a, b) for a, b in zip(D0, trainer.family.nets["D"].parameters(), strict=True)
    )
    always = voxel_trainer("voxel-gan", d_threshold=1.0)
    D1 = [p.detach().clone() for p in always.family.nets["D"].parameters()]
    assert always.train_step()["D_updated"] == 1.0
    assert any(
        not torch.equal(a, b) for a, b in zip(D1, always.family.nets["D"].parameters(), strict=True)
    )


def test_clusters_of_grids_follow_the_shape_classes():
    train, _ = split_holdout(load_dataset(DataConfig(name="shapes", limit=20)), 0)
    labels = train.y.numpy()

    def purity(k: int) -> float:  # the share of grids in their cluster's most common class
        table = np.zeros((k, 6), int)
        np.add.at(table, (image_clusters(train.x, k).numpy(), labels), 1)
        return table.max(1).sum() / len(labels)

    # one cluster per class merges some classes; the preset's overclustering (24) keeps them apart
    assert purity(24) >= 0.9 and purity(24) > purity(6)


def test_self_conditioning_ties_each_cluster_to_its_code():
    trainer = voxel_trainer("voxel-gan", steps=3, clusters=3, d_threshold=1.0)
    trainer.fit()
    family = trainer.family
    ids = family.extra_state()["cluster_ids"].long()
    assert len(ids) == 12 and set(ids.tolist()) <= {0, 1, 2}
    share = torch.bincount(ids, minlength=3).float() / 12
    assert torch.allclose(family.G.prior, share)  # G draws the clusters as often as the data
    D, G = family.nets["D"].eval(), family.G.eval()
    x = trainer.data.x[:4].float().div(127.5).sub(1)
    with torch.no_grad():  # a projection D: the same grid scores differently under each cluster
        scores = torch.stack([D(x, torch.full((4,), k)) for k in range(3)])
        assert not torch.allclose(scores[0], scores[1])
        z = torch.randn(3, 8)
        by_code = [G(z, c=torch.full((3,), k)) for k in range(3)]
        assert not torch.allclose(by_code[0], by_code[1])
        # u picks the cluster through the prior's cumulative shares: 0, 1, 2 here
        drawn = G(z, u=torch.tensor([0.0, float(share[0]) + 1e-3, 0.999]))
        for k in range(3):
            assert torch.allclose(drawn[k], by_code[k][k])


def test_vae_gan_refuses_clusters():
    with pytest.raises(ConfigError, match="model.clusters"):
        voxel_trainer("voxel-vae-gan", clusters=3)


def test_vae_gan_learns_to_reconstruct_from_views():
    trainer = voxel_trainer("voxel-vae-gan", steps=1, adv=0.0)  # reconstruction alone: E, G
    assert [p.name for p in trainer.phases] == ["G"]
    first = trainer.train_step()["loss/recon"]  # G starts at the shapes' mean occupancy
    for _ in range(60):
        last = trainer.train_step()["loss/recon"]
    assert last < 0.75 * first  # below the best constant guess: the views say where voxels are


def test_voxel_families_refuse_other_data():
    with pytest.raises(ConfigError, match="--data shapes"):
        Trainer(resolve(family="voxel-gan", flags={"data": {"name": "digits"}}), progress=False)


def test_cli_sample_writes_grids_meshes_and_a_turntable(tmp_path, cli):
    run = tmp_path / "run"
    voxel_trainer("voxel-gan", run).fit()
    out, meshes = tmp_path / "shapes.npz", tmp_path / "meshes"
    assert cli("sample", str(run), "--n", "3", "--out", str(out), "--mesh", str(meshes)) == 0
    with np.load(out) as z:
        vox, thr = z["voxels"], float(z["threshold"])
    assert vox.shape == (3, 32, 32, 32) and vox.dtype == np.uint8 and thr == 0.5
    assert set(np.unique(vox)) <= {0, 1}
    probs = load(run).sample_many(3, 0)[0].numpy()
    assert np.array_equal(vox, (probs / 255.0 > 0.5).astype(np.uint8))
    for i in range(3):
        v, f = read_obj(meshes / f"{i:05d}.obj")
        ref_v, ref_f = voxel_mesh(vox[i])
        assert v.shape == ref_v.shape and np.array_equal(f, ref_f)
    turn = Image.open(meshes / "turntable.png")
    assert turn.size[0] > 8 * 48 and turn.size[1] > 3 * 48  # 8 views of each of 3 shapes
    strict = tmp_path / "strict.npz"
    assert cli("sample", str(run), "--n", "3", "--out", str(strict), "--threshold", "0.9") == 0
    with np.load(strict) as z:
        assert z["voxels"].sum() <= vox.sum() and float(z["threshold"]) == pytest.approx(0.9)
    assert cli("sample", str(run), "--n", "3", "--out", str(strict), "--threshold", "1.5") == 2


def test_cli_translate_turns_a_picture_into_a_shape(tmp_path, cli):
    run = tmp_path / "run"
    trainer = voxel_trainer("voxel-vae-gan", run)
    trainer.fit()
    view = tmp_path / "view.png"
    Image.fromarray(trainer.heldout.inputs["image"][0, 0].numpy()).resize((64, 64)).save(view)
    meshes, out = tmp_path / "mesh", tmp_path / "shape.npz"
    assert cli("translate", str(run), "--input", str(view), "--mesh", str(meshes)) == 0
    assert (meshes / "view.obj").is_file() and (meshes / "turntable.png").is_file()
    assert cli("translate", str(run), "--input", str(view), "--out", str(out)) == 0
    with np.load(out) as z:
        vox, names = z["voxels"], list(z["names"])
    assert vox.shape == (1, 32, 32, 32) and names == ["view"]
    v, f = read_obj(meshes / "view.obj")
    ref_v, ref_f = voxel_mesh(vox[0])
    assert v.shape == ref_v.shape and np.array_equal(f, ref_f)
    assert cli("translate", str(run), "--input", str(view)) == 2  # nothing to write
