"""tag-gan: tag vectors are drawn by the training frequencies, given tags are set and the rest
still drawn so; bad tags are one clear error; an exported generator samples to order the same
way through names or vectors."""

from __future__ import annotations

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
