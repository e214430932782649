"""The character drawer is deterministic and every tag can be read back from the drawn pixels;
the held-out tag combinations never reach training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.data import DataConfig, load_dataset, split_holdout
from gankit.data.characters import (
    EYE_COLOURS,
    HAIR_COLOURS,
    HELD_COMBOS,
    PALETTE,
    TAGS,
    character_set,
    draw_character,
    has_held_combo,
    random_character,
)
from gankit.errors import ConfigError


def count(img: np.ndarray, rgb) -> int:
    """Pixels of ``img`` (3, H, W) that are exactly ``rgb``."""
    return int((img == np.array(rgb, np.uint8)[:, None, None]).all(0).sum())


def test_same_seed_same_character_and_pixels():
    a, ta = character_set(30, 0, 32)
    character_set.cache_clear()
    b, tb = character_set(30, 0, 32)
    assert np.array_equal(a, b) and np.array_equal(ta, tb)
    assert random_character(7) == random_character(7)
    assert random_character(7) != random_character(8)
    assert random_character(7, stream=0) != random_character(7, stream=1)
    assert len({a[i].tobytes() for i in range(30)}) == 30  # every character differs


@pytest.mark.parametrize("size", [32, 64])
def test_tags_are_exact_in_the_pixels(size):
    for seed in range(80):
        c = random_character(seed)
        img, parts = draw_character(c, size)
        assert img.shape == (3, size, size) and img.dtype == np.uint8
        px = size // 32  # pixels per canvas unit
        hair = (img == np.array(PALETTE[c.hair], np.uint8)[:, None, None]).all(0)
        # its hair colour and no other; its eye colour (two 3x3 irises less the highlights)
        assert hair.sum() >= 30 * px * px
        for colour in HAIR_COLOURS:
            if f"{colour} hair" != c.hair:
                assert count(img, PALETTE[f"{colour} hair"]) == 0, (seed, colour)
        assert count(img, PALETTE[c.eyes]) == 16 * px * px
        for colour in EYE_COLOURS:
            if f"{colour} eyes" != c.eyes:
                assert count(img, PALETTE[f"{colour} eyes"]) == 0
        # glasses, hat, blush: their colour is there exactly when the tag is
        assert (count(img, PALETTE["glasses"]) > 0) == c.glasses
        assert (count(img, PALETTE["hat"]) > 0) == c.hat
        assert count(img, PALETTE["blush"]) == (6 * px * px if c.blush else 0)
        # smile: an open mouth over two rows (6 px); otherwise one closed 2-px line
        mouth = (img == np.array(PALETTE["mouth"], np.uint8)[:, None, None]).all(0)
        assert mouth.sum() == (6 if c.smile else 2) * px * px
        assert mouth.any(1).sum() == (2 if c.smile else 1) * px
        # hair style, from where the hair is: below the chin near the middle (long), or in two
        # tails well outside the face on both sides (twintails); short hair is neither
        chin, (x0, x1) = parts["chin"], parts["face_x"]
        mid = (x0 + x1) // 2
        below = hair[chin + 1 :, mid - 5 * px : mid + 5 * px + 1].any()
        tails = hair[:, : x0 - 4 * px].any() and hair[:, x1 + 4 * px + 1 :].any()
        assert below == (c.style == "long hair"), seed
        assert tails == (c.style == "twintails"), seed


def test_tag_vector_names_the_drawn_tags():
    c = random_character(3)
    v = c.vector()
    assert [TAGS[i] for i in np.flatnonzero(v)] == c.tags
    assert v.sum() == 3 + c.smile + c.blush + c.glasses + c.hat


def test_held_out_combinations_never_reach_training():
    ds = load_dataset(DataConfig(name="characters", limit=3000))
    assert ds.x.shape[1:] == (3, 32, 32) and ds.extra["tags"].shape[1] == len(TAGS)
    train, held = split_holdout(ds, 0)
    names = [[TAGS[j] for j in torch.nonzero(t).flatten()] for t in train.extra["tags"]]
    assert not any(has_held_combo(t) for t in names)
    held_names = [[TAGS[j] for j in torch.nonzero(t).flatten()] for t in held.extra["tags"]]
    for combo in HELD_COMBOS:  # each combination is there to test on
        assert any(set(combo) <= set(t) for t in held_names), combo
    # the info carries the vocabulary and the training frequencies
    assert ds.info.tags == list(TAGS) and len(ds.info.tag_groups) == 3
    assert np.allclose(ds.info.tag_freq, train.extra["tags"].double().mean(0).numpy(), atol=1e-6)


def test_unsupported_size_is_one_clear_error():
    with pytest.raises(ConfigError, match="characters are drawn at 32, 48, 64 px"):
        load_dataset(DataConfig(name="characters", image_size=40, limit=10))
