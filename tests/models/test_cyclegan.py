"""CycleGAN: four networks on two independently drawn domains, history pools, cycle and identity
losses, bit-exact resume, both directions exported and used (library and CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import gankit
from gankit.config import RunConfig
from gankit.data import DataConfig, load_dataset
from gankit.data.transforms import frame
from gankit.errors import DataError, RunError
from gankit.models.cyclegan import CycleGAN, CycleGANConfig, ImagePool
from gankit.presets import resolve
from gankit.train import checkpoint as ckpt
from gankit.train.trainer import Trainer, write_config

TINY = {"g_channels": 4, "n_blocks": 1, "d_channels": 4, "receptive_field": 16, "pool_size": 3}
NETS = {"G_AB", "G_BA", "D_A", "D_B"}


def cyc_trainer(run_dir: Path | None = None, steps: int = 2, data=None, train=None, **model):
    """A CycleGAN trainer with 4-channel networks on 12 + 12 digits of each domain, on CPU."""
    cfg = resolve(
        family="cyclegan",
        flags={
            "data": data or {"name": "digits2mnist", "limit": 12},
            "train": {
                "steps": steps,
                "batch_size": 4,
                "device": "cpu",
                "log_every": 1,
                "sample_every": 2,
                "checkpoint_every": 2,
                "grid_size": 4,
                **(train or {}),
            },
        },
        overrides=[{"model": {**TINY, **model}}],
    )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("cyclegan") / "00001-cyclegan-digits2mnist"
    cyc_trainer(run_dir, steps=2).fit()
    return run_dir


def test_four_networks_train_and_every_loss_is_logged(tmp_path):
    trainer = cyc_trainer(tmp_path / "run", steps=2, identity=0.5)  # the reference's identity
    assert set(trainer.family.nets) == NETS and [p.name for p in trainer.phases] == [
        "G",
        "D_A",
        "D_B",
    ]
    before = {k: [p.clone() for p in n.parameters()] for k, n in trainer.family.nets.items()}
    trainer.fit()
    for name, net in trainer.family.nets.items():
        moved = any(
            not torch.equal(a, b) for a, b in zip(before[name], net.parameters(), strict=True)
        )
        assert moved, f"{name} did not train"
    lines = (tmp_path / "run" / "stats.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    for key in ("loss/G_AB", "loss/G_BA", "loss/D_A", "loss/D_B", "acc/D_A", "acc/D_B"):
        assert np.isfinite(record[key]), key
    for key in ("loss/cycle_A", "loss/cycle_B", "loss/idt_A", "loss/idt_B"):
        assert record[key] > 0, key
    bar = trainer._bar_fields(record)["stats"]
    for net in NETS:
        assert f"loss/{net} {record[f'loss/{net}']:.3f}" in bar
    assert f"acc/D_B {record['acc/D_B']:.3f}" in bar
    # the sample grid: one cell per bank image of each domain, input | translation | round trip
    grid = Image.open(tmp_path / "run" / "samples" / "step_000000002.png")
    assert grid.size[0] > 3 * 28
    assert (tmp_path / "run" / "generator_BA" / "model.safetensors").is_file()
    # the dashboard's held-out inputs: A images, and B images for B -> A, not as "targets"
    # (they are not matches)
    with np.load(tmp_path / "run" / "samples" / "bank.npz") as bank:
        assert set(bank.files) == {"source", "domain_b"}
        assert bank["source"].shape == bank["domain_b"].shape == (4, 1, 28, 28)


def test_gankit_list_shows_each_network(run, cli, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert cli("list", "runs", "--runs-dir", str(run.parent)) == 0
    out = capsys.readouterr().out
    latest = json.loads((run / "stats.jsonl").read_text().splitlines()[-1])
    assert f"D_A {latest['loss/D_A']:.3f} D_B {latest['loss/D_B']:.3f}" in out
    assert f"G_AB {latest['loss/G_AB']:.3f} G_BA {latest['loss/G_BA']:.3f}" in out


class Shift(nn.Module):
    """G(x) = x + c: a generator whose losses can be computed by hand."""

    def __init__(self, c: float):
        super().__init__()
        self.c = nn.Parameter(torch.tensor(c))

    def forward(self, source):
        return source + self.c


class MeanD(nn.Module):
    """D(x) = mean of x, per sample, as one patch."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        return self.w * x.mean((1, 2, 3), keepdim=True)


def test_cycle_identity_and_adversarial_losses_match_hand_computed_values():
    from gankit.data.base import DataInfo

    info = DataInfo(name="t", kind="images", shape=(1, 16, 16), inputs={"source": (1, 16, 16)})
    fam = CycleGAN(CycleGANConfig(**{**TINY, "pool_size": 0}), info)
    fam.nets["G_AB"], fam.nets["G_BA"] = Shift(0.3), Shift(-0.1)
    fam.nets["D_A"], fam.nets["D_B"] = MeanD(), MeanD()
    a, b = torch.zeros(2, 1, 16, 16), torch.full((2, 1, 16, 16), 0.5)
    loss, logs = fam.step("G", {"source": a, "real": b})
    # round trips shift by 0.3 - 0.1 = 0.2; identity: |G_BA(a) - a| = 0.1, |G_AB(b) - b| = 0.3
    assert logs["loss/cycle_A"].item() == pytest.approx(0.2)
    assert logs["loss/cycle_B"].item() == pytest.approx(0.2)
    assert logs["loss/idt_A"].item() == pytest.approx(0.1)
    assert logs["loss/idt_B"].item() == pytest.approx(0.3)
    # least squares: D_B(G_AB(a)) = 0.3, D_A(G_BA(b)) = 0.4; G's loss is 1/2 (D - 1)^2
    assert logs["loss/G_AB"].item() == pytest.approx(0.5 * 0.7**2)
    assert logs["loss/G_BA"].item() == pytest.approx(0.5 * 0.6**2)
    adv = 0.5 * 0.7**2 + 0.5 * 0.6**2
    assert loss.item() == pytest.approx(adv + 10 * (0.2 + 0.2) + 0.5 * 10 * (0.1 + 0.3))
    # D_A: real a scores 0, G_BA(b) scores 0.4: 1/2 ((0 - 1)^2 + 0.4^2)
    d_loss, d_logs = fam.step("D_A", {"source": a, "real": b})
    assert d_loss.item() == pytest.approx(0.5 * (1 + 0.4**2))
    assert set(d_logs) >= {"loss/D_A", "acc/D_A", "acc/D_A_real"}
    # without the identity loss, the total drops exactly its share
    fam.cfg = CycleGANConfig(**{**TINY, "pool_size": 0, "identity": 0})
    loss0, logs0 = fam.step("G", {"source": a, "real": b})
    assert loss0.item() == pytest.approx(adv + 10 * 0.4) and "loss/idt_A" not in logs0


def test_image_pool_stores_then_swaps_half_the_time():
    pool = ImagePool(2)
    first = torch.arange(2.0).view(2, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 2
    new = torch.arange(2.0, 8.0).view(6, 1, 1, 1)
    torch.manual_seed(0)
    out = pool.query(new)
    # by hand: the same draws, in the same order, from the same seed
    torch.manual_seed(0)
    stored, expected = [0.0, 1.0], []
    for v in range(2, 8):
        if torch.rand(()).item() > 0.5:
            i = int(torch.randint(0, 2, ()).item())
            expected.append(stored[i])
            stored[i] = float(v)
        else:
            expected.append(float(v))
    assert out.flatten().tolist() == expected
    assert pool.images.flatten().tolist() == stored
    # nothing is lost or made up: what came back plus what is stored is what went in
    assert sorted(expected + stored) == [float(v) for v in range(8)]
    assert expected != list(range(2, 8))  # some were swapped for older fakes
    assert torch.equal(ImagePool(0).query(new), new)


def test_resume_is_bit_exact_pools_and_both_samplers_included(tmp_path):
    straight = cyc_trainer(steps=6, train={"checkpoint_every": 3})
    straight.fit()
    first = cyc_trainer(tmp_path / "half", steps=3, train={"checkpoint_every": 3})
    first.fit()
    _, state = ckpt.load_latest(tmp_path / "half" / "checkpoints")
    assert set(state["nets"]) == NETS and set(state["optimizers"]) == {"G", "D_A", "D_B"}
    assert set(state["sampler"]) == {"A", "B"} and len(state["family"]["pool_A"]) == 3
    second = cyc_trainer(steps=6, train={"checkpoint_every": 3})
    second.resume_from(tmp_path / "half" / "checkpoints")
    assert second.step == 3
    second.fit()
    for name, net in straight.family.nets.items():
        other = second.family.nets[name].state_dict()
        for k, v in net.state_dict().items():
            assert torch.equal(v, other[k]), f"{name}.{k} differs after resume"
    for d in ("A", "B"):
        assert torch.equal(straight.family.pools[d].images, second.family.pools[d].images)
    assert straight.sampler.state_dict() == second.sampler.state_dict()


def test_two_domains_are_drawn_independently():
    from gankit.data.unpaired import TwoDomainSampler

    s = TwoDomainSampler(10, 7, 4, seed=0, rank=0, world=1)
    batches = [s.next() for _ in range(5)]
    a = torch.cat([b[0] for b in batches])
    assert sorted(a[:10].tolist()) == list(range(10))
    assert sorted(torch.cat([b[1] for b in batches])[:7].tolist()) == list(range(7))
    state = s.state_dict()
    assert state["A"] != state["B"]  # different sizes: each domain keeps its own epoch
    ahead = [s.next() for _ in range(3)]
    t = TwoDomainSampler(10, 7, 4, seed=0, rank=0, world=1)
    t.load_state_dict(state)
    assert all(torch.equal(x, t.next()) for x in ahead)


def test_both_directions_export_load_and_translate(run):
    from gankit.data import DataConfig, load_dataset

    held = load_dataset(DataConfig(name="digits2mnist", limit=12)).split_holdout(0, 0)[1]
    G_AB, G_BA = gankit.load(run), gankit.load(run, direction="BA")
    assert G_AB.family == G_BA.family == "cyclegan"
    assert G_AB.image_inputs()[0].shape == G_BA.image_inputs()[0].shape == (1, 28, 28)
    fake_b, fake_a = G_AB.translate(held.a.x), G_BA.translate(held.b.x)
    assert fake_b.shape == held.a.x.shape and fake_a.shape == held.b.x.shape
    assert not torch.equal(G_AB.translate(held.b.x), fake_a)  # two different networks
    # the checkpoint's G_BA and the export agree
    _, state = ckpt.load_latest(run / "checkpoints")
    net = CycleGAN.build_generator(G_BA.cfg, G_BA.info)
    net.load_state_dict(state["nets"]["G_BA"])
    with torch.no_grad():
        ref = net.eval()(source=held.b.x.float() / 127.5 - 1)
    assert torch.equal(fake_a, gankit.data.to_uint8(ref))
    with pytest.raises(gankit.errors.ConfigError, match="direction 'CD' is not one of: AB, BA"):
        gankit.load(run, direction="CD")


def test_translate_cli_both_directions_and_8x8_digits_resized_as_the_dataset_does(
    run, cli, tmp_path, capsys
):
    from gankit.data.mnist import _digits_arrays

    v, _ = _digits_arrays()
    small = np.clip(np.rint(v[:5] * (255 / 16)), 0, 255).astype(np.uint8)[:, None]
    np.savez(tmp_path / "small.npz", images=small)
    assert (
        cli("translate", str(run), "-i", str(tmp_path / "small.npz"), "-o", str(tmp_path / "b.npz"))
        == 0
    )
    assert "resized 8x8 input to 18x18 and centred it in 28x28" in capsys.readouterr().out
    out = np.load(tmp_path / "b.npz")["images"]
    as_trained = frame(torch.from_numpy(small), 28, 5)  # how digits2mnist makes domain A
    ds = load_dataset(DataConfig(name="digits2mnist"))
    assert torch.equal(as_trained, ds.a.x[:5])
    assert as_trained[..., :5, :].max() == 0 and as_trained[..., 5:23, 5:23].max() > 0
    assert np.array_equal(out, gankit.load(run).translate(as_trained).numpy())
    mnist = np.zeros((3, 1, 28, 28), np.uint8)
    mnist[:, :, 6:22, 13:15] = 255
    np.savez(tmp_path / "mnist.npz", images=mnist)
    args = ["-i", str(tmp_path / "mnist.npz"), "-o", str(tmp_path / "a.npz")]
    assert cli("translate", str(run), *args, "--direction", "BA") == 0
    back = np.load(tmp_path / "a.npz")["images"]
    assert np.array_equal(back, gankit.load(run, direction="BA").translate(mnist).numpy())


def test_eval_of_unpaired_digits_says_where_the_figures_are(run, cli, capsys):
    assert cli("eval", str(run)) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "no true translations of its held-out images" in err[0]


def test_a_run_without_the_other_direction_says_so(run, tmp_path):
    import shutil

    one_way = tmp_path / "one-way"
    shutil.copytree(run / "generator", one_way / "generator")
    with pytest.raises(RunError, match=r"no B -> A generator in .*only families"):
        gankit.load(one_way, direction="BA")


def _images(folder: Path, n: int, size: tuple[int, int], seed: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        rgb = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(rgb).save(folder / f"img{i}.png")


def test_two_user_folders_of_different_counts_train(tmp_path):
    _images(tmp_path / "horses", 5, (20, 14), 0)
    _images(tmp_path / "zebras", 3, (9, 12), 1)
    overrides = [
        {"data": {"path_a": str(tmp_path / "horses"), "path_b": str(tmp_path / "zebras")}},
        {"data": {"image_size": 16}, "train": {"steps": 2, "batch_size": 2, "device": "cpu"}},
        {"model": TINY},
    ]
    cfg = resolve(family="cyclegan", overrides=overrides)
    assert cfg.data.name == "unpaired" and cfg.preset == "cyclegan-folders"
    # the saved config reads back as two unpaired folders (a resume validates it again)
    assert RunConfig.model_validate_json(cfg.model_dump_json()).data.name == "unpaired"
    trainer = Trainer(cfg, progress=False)
    assert (len(trainer.data.a), len(trainer.data.b)) == (5, 3)
    assert trainer.data.info.shape == (3, 16, 16)
    trainer.fit()
    # pix2pix still reads the same two folders as pairs
    assert resolve(family="pix2pix", overrides=overrides[:1]).data.name == "paired"


@pytest.mark.parametrize("problem", ["missing", "empty"])
def test_a_missing_or_empty_folder_is_one_clear_error(problem, tmp_path, cli, capsys):
    _images(tmp_path / "A", 2, (8, 8), 0)
    if problem == "empty":
        (tmp_path / "B").mkdir()
    code = cli(
        "train",
        "cyclegan",
        "--set",
        f"data.path_a={tmp_path / 'A'}",
        "--set",
        f"data.path_b={tmp_path / 'B'}",
        "--runs-dir",
        str(tmp_path / "runs"),
    )
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1, err
    expected = "image folder not found" if problem == "missing" else "no images found in"
    assert expected in err[0] and str(tmp_path / "B") in err[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_one_domain_data_is_refused_clearly():
    with pytest.raises(gankit.errors.ConfigError, match="cyclegan translates between two image"):
        cyc_trainer(data={"name": "digits", "limit": 20})


def test_photo2cartoon_holds_out_whole_photos_with_their_cartoons():
    from gankit.data import DataConfig, load_dataset
    from gankit.data.unpaired import cartoon_batch

    ds = load_dataset(DataConfig(name="photo2cartoon", limit=3))
    train, held = ds.split_holdout(0, 0)
    assert len(held.a) == len(held.b) == 3 and len(train.a) == len(train.b) == 3
    # held-out B is the filtered held-out A, aligned: the ground truth of the bench
    assert torch.equal(held.b.x, torch.from_numpy(cartoon_batch(held.a.x.numpy())))
    # training A photos and B photos are different photos: no crop of A is a cartoon's source
    assert not torch.equal(train.b.x, torch.from_numpy(cartoon_batch(train.a.x.numpy())))
    pairs = held.as_pairs()  # what `gankit eval` scores a photo2cartoon run's translations on
    assert torch.equal(pairs.inputs["source"], held.a.x) and torch.equal(pairs.x, held.b.x)
    with pytest.raises(DataError, match="data.holdout=2: dataset 'digits2mnist A' has its own"):
        load_dataset(DataConfig(name="digits2mnist", limit=4)).split_holdout(2, 0)
