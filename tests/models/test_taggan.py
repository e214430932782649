"""tag-gan: tag vectors are drawn by the training frequencies, given tags are set and the rest
still drawn so; bad tags are one clear error; an exported generator samples to order the same
way through names or vectors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import gankit
from gankit.data import DataConfig, load_dataset
from gankit.errors import ConfigError
from gankit.models.taggan import condition_tags, draw_tags, parse_tags
from gankit.presets import resolve
from gankit.train.trainer import Trainer, write_config


@pytest.fixture(scope="module")
def info():
    return load_dataset(DataConfig(name="characters", limit=400)).info


def test_drawn_tags_follow_the_training_frequencies(info):
    t = draw_tags(info, 20000, torch.Generator().manual_seed(0))
    for group in info.tag_groups:  # exactly one tag of each exclusive group
        idx = [info.tags.index(g) for g in group]
        assert torch.equal(t[:, idx].sum(1), torch.ones(len(t)))
    assert np.allclose(t.mean(0).numpy(), info.tag_freq, atol=0.015)
    same = draw_tags(info, 20000, torch.Generator().manual_seed(0))
    assert torch.equal(t, same)


def test_given_tags_are_set_and_the_others_keep_their_frequencies(info):
    drawn = draw_tags(info, 20000, torch.Generator().manual_seed(1))
    t = condition_tags(info, drawn, parse_tags(info, "Blue  Hair, glasses"))
    tags = info.tags
    hair = [tags.index(h) for h in info.tag_groups[0]]
    assert torch.all(t[:, tags.index("blue hair")] == 1) and torch.all(t[:, hair].sum(1) == 1)
    assert torch.all(t[:, tags.index("glasses")] == 1)
    free = [i for i, name in enumerate(tags) if i not in hair and name != "glasses"]
    assert torch.equal(t[:, free], drawn[:, free])  # untouched: drawn by frequency
    assert np.allclose(t[:, free].mean(0).numpy(), np.array(info.tag_freq)[free], atol=0.015)


@pytest.mark.parametrize(
    "tags, message",
    [
        ("purple hair", "unknown tag 'purple hair'; allowed: black hair, blonde hair"),
        ("glasses, sunglasses", "unknown tag 'sunglasses'; allowed: "),
        ("blue hair, red hair", "tags 'red hair' and 'blue hair' conflict"),
        ("short hair, twintails", "conflict: a character has one of short hair, long hair"),
    ],
)
def test_bad_tags_are_one_clear_error(info, tags, message):
    with pytest.raises(ConfigError, match=message) as e:
        parse_tags(info, tags)
    assert "\n" not in str(e.value)


@pytest.fixture(scope="module")
def G(tmp_path_factory):
    run = tmp_path_factory.mktemp("tag-gan") / "run"
    cfg = resolve(
        family="tag-gan",
        flags={
            "data": {"name": "characters", "limit": 100},
            "train": {"steps": 2, "batch_size": 8, "device": "cpu", "sample_every": 2},
        },
        overrides=[{"model": {"g_channels": 8, "d_channels": 8, "z_dim": 8}}],
    )
    run.mkdir(parents=True)
    write_config(run, cfg)
    Trainer(cfg, run_dir=run, progress=False).fit()
    G = gankit.load(run)
    # fp32: the tests compare samples drawn through different paths bit for bit, and bf16
    # autocast (the default where the CPU has it) may round them differently
    G.precision = "fp32"
    return G


def test_generator_samples_to_order_by_names_or_vectors(G):
    assert G.tags[:2] == ["black hair", "blonde hair"] and len(G.tag_groups) == 3
    by_name = G.sample(6, seed=3, tags="blue hair, glasses")
    vectors = G.tag_vectors(6, ["blue hair", "glasses"], seed=3)
    assert torch.all(vectors[:, G.tags.index("blue hair")] == 1)
    assert torch.equal(by_name, G.sample(6, seed=3, tags=vectors))
    # without tags every tag is drawn: the vectors are latent()'s
    assert torch.equal(G.sample(6, seed=4), G.sample(6, seed=4, tags=G.latent(6, 4)["tags"]))
    assert not torch.equal(by_name, G.sample(6, seed=3, tags="pink hair, glasses"))
    with pytest.raises(ConfigError, match=r"tag vectors of shape \(6, 3\) given"):
        G.sample(6, tags=torch.zeros(6, 3))
    with pytest.raises(ConfigError, match="unknown tag 'bald'; allowed: black hair"):
        G.sample(2, tags="bald")


def _tiny_trainer(tmp_path, **model):
    cfg = resolve(
        family="tag-gan",
        flags={
            "data": {"name": "characters", "limit": 64},
            "train": {"steps": 3, "batch_size": 8, "device": "cpu", "sample_every": 3},
        },
        overrides=[{"model": {"g_channels": 8, "d_channels": 8, "z_dim": 8, **model}}],
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_config(tmp_path, cfg)
    return Trainer(cfg, run_dir=tmp_path, progress=False)


def test_film_sets_every_block_of_g_from_the_tags(tmp_path):
    trainer = _tiny_trainer(tmp_path, tag_inject="film")
    G = trainer.family.nets["G"]
    # one FiLM after each of DCGAN G's normalisations (the 4x4 projection, 8 and 16 px at 32 px),
    # zero at the start: the generator begins as the input-only one
    assert [f.affine.out_features // 2 for f in G.film] == [64, 32, 16]
    assert all(torch.count_nonzero(f.affine.weight) == 0 for f in G.film)
    trainer.fit()
    info = trainer.data.info
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    a = condition_tags(info, draw_tags(info, 4, torch.Generator().manual_seed(1)), ["hat"])
    b = condition_tags(info, a, ["blue hair", "glasses"])
    seen: dict[int, list[torch.Tensor]] = {}
    hooks = [
        f.register_forward_hook(lambda m, i, o, k=k: seen.setdefault(k, []).append(o))
        for k, f in enumerate(G.film)
    ]
    G.eval()
    with torch.no_grad():
        out_a, out_b = G(z, a), G(z, b)
    for h in hooks:
        h.remove()
    # training reached every block's conditioning, and each block's output moves with the tags
    for k, f in enumerate(G.film):
        assert torch.count_nonzero(f.affine.weight) > 0, k
        assert not torch.allclose(seen[k][0], seen[k][1]), k
        gamma_beta = f.affine(a) - f.affine(b)
        assert gamma_beta.abs().max() > 0, k
    assert not torch.allclose(out_a, out_b)


def test_film_is_off_by_default_and_old_generators_load(tmp_path):
    trainer = _tiny_trainer(tmp_path / "run")
    assert trainer.family.nets["G"].film is None
    trainer.fit()
    # a generator exported before model.tag_inject existed: its config lacks the key
    old = tmp_path / "old"
    shutil.copytree(tmp_path / "run" / "generator", old)
    meta = json.loads((old / "config.json").read_text())
    assert meta["model"].pop("tag_inject") == "input"
    (old / "config.json").write_text(json.dumps(meta))
    new, loaded = gankit.load(tmp_path / "run"), gankit.load(old)
    new.precision = loaded.precision = "fp32"
    assert torch.equal(loaded.sample(4, seed=2, tags="hat"), new.sample(4, seed=2, tags="hat"))
    with pytest.raises(ConfigError, match="tag_inject=film needs model.arch=standard"):
        _tiny_trainer(tmp_path / "b", tag_inject="film", arch="textbook")
