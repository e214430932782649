"""The holes an inpainting trains on: each mask kind checked against hand-made examples and
deterministic for a seed; training batches draw fresh masks from the checkpointed RNG, held-out
samples keep fixed ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from gankit.data import DataConfig, load_dataset
from gankit.data.masks import (
    HOLE_FILL,
    MaskSpec,
    centre_square,
    free_form,
    random_boxes,
    stroke,
)
from gankit.errors import DataError


def _grid(rows: str) -> np.ndarray:
    """A hand-drawn mask: '#' = hole, '.' = kept."""
    return np.array([[c == "#" for c in r] for r in rows.split()], dtype=bool)


def test_centre_square_by_hand():
    assert np.array_equal(
        centre_square(6, 6, 2), _grid("...... ...... ..##.. ..##.. ...... ......")
    )
    # an odd gap puts the extra pixel after the square
    assert np.array_equal(
        centre_square(7, 7, 4),
        _grid("....... .####.. .####.. .####.. .####.. ....... ......."),
    )
    spec = MaskSpec(("centre",), 14)
    m = spec.draw(3, 28, 28, np.random.default_rng(0))
    assert m.shape == (3, 1, 28, 28) and m.dtype == np.uint8
    assert set(np.unique(m)) == {0, 255}
    assert (m[:, 0, 7:21, 7:21] == 255).all() and m.sum() == 3 * 14 * 14 * 255


def test_stroke_by_hand():
    """A round brush: a 3 px line from x=1 to x=7 with round caps; a 1 px bent polyline."""
    assert np.array_equal(
        stroke(9, 9, [(1, 4), (7, 4)], 3),
        _grid(
            "......... ......... ......... .#######. ######### .#######. "
            "......... ......... ........."
        ),
    )
    assert np.array_equal(
        stroke(9, 9, [(2, 2), (2, 6), (6, 6)], 1),
        _grid(
            "......... ......... ..#...... ..#...... ..#...... ..#...... "
            "..#####.. ......... ........."
        ),
    )


def test_boxes_by_hand():
    """Boxes draw, in order: how many (1..3), then per box its height, width, top, left."""
    rng = np.random.default_rng(7)
    got = random_boxes(12, 10, 6, np.random.default_rng(7))
    want = np.zeros((12, 10), dtype=bool)
    for _ in range(int(rng.integers(1, 4))):
        bh, bw = int(rng.integers(3, 7)), int(rng.integers(3, 7))
        y0, x0 = int(rng.integers(0, 12 - bh + 1)), int(rng.integers(0, 10 - bw + 1))
        want[y0 : y0 + bh, x0 : x0 + bw] = True
    assert np.array_equal(got, want)
    for seed in range(30):  # every box fits and is hole/2..hole on a side
        m = random_boxes(12, 10, 6, np.random.default_rng(seed))
        ys, xs = np.nonzero(m)
        assert 9 <= m.sum() <= 3 * 36 and len(ys)


@pytest.mark.parametrize("kinds", [("centre",), ("boxes",), ("strokes",), ("boxes", "strokes")])
def test_each_kind_is_deterministic_for_a_seed(kinds):
    spec = MaskSpec(kinds, 12)
    a = spec.draw(16, 32, 24, np.random.default_rng(3))
    b = spec.draw(16, 32, 24, np.random.default_rng(3))
    assert np.array_equal(a, b)
    assert ((a == 0) | (a == 255)).all() and (a.reshape(16, -1).max(1) == 255).all()
    if kinds != ("centre",):
        c = spec.draw(16, 32, 24, np.random.default_rng(4))
        assert not np.array_equal(a, c)
        assert len({m.tobytes() for m in a}) > 8  # the masks of one batch differ


def test_strokes_are_thin_and_boxes_are_rectangles():
    rng = np.random.default_rng(0)
    for _ in range(10):
        m = free_form(64, 64, 24, rng)
        assert 0 < m.mean() < 0.5  # strokes, not a filled image
    spec = MaskSpec(("boxes", "strokes"), 16)
    kinds = [
        "boxes" if _is_union_of_rectangles(m[0] > 0) else "strokes"
        for m in spec.draw(40, 48, 48, np.random.default_rng(1))
    ]
    assert 8 < kinds.count("boxes") < 32  # each sample picks a kind


def _is_union_of_rectangles(m: np.ndarray) -> bool:
    """Every 2x2 window of a union of axis-aligned boxes has 0, 2, or >= 3 hole pixels but never
    a lone diagonal pair: a drawn stroke's slanted edge has them."""
    a, b, c, d = m[:-1, :-1], m[:-1, 1:], m[1:, :-1], m[1:, 1:]
    diagonal = (a & d & ~b & ~c) | (b & c & ~a & ~d)
    single = (a.astype(int) + b + c + d) == 1
    corners = single.sum()
    return not diagonal.any() and corners <= 4 * 3 * 2


def test_dataset_masks_fixed_per_sample_and_fresh_per_training_batch():
    ds = load_dataset(DataConfig(name="mnist5k", limit=200, masks="boxes,strokes", hole=12))
    assert ds.info.inputs == {"image": (1, 28, 28), "mask": (1, 28, 28)}
    hole = ds.inputs["mask"] > 127
    assert (ds.inputs["image"][hole] == HOLE_FILL).all()
    assert torch.equal(ds.inputs["image"][~hole], ds.x[~hole])
    idx = torch.arange(8)
    fixed = ds.batch(idx, augment=False)
    assert torch.equal(fixed["mask"], ds.inputs["mask"][idx].float() / 127.5 - 1)
    assert torch.equal(ds.batch(idx, augment=False)["mask"], fixed["mask"])

    torch.manual_seed(5)
    state = torch.get_rng_state()
    first, second = ds.batch(idx), ds.batch(idx)
    assert not torch.equal(first["mask"], second["mask"])  # fresh holes every batch
    torch.set_rng_state(state)  # what a resume restores
    assert torch.equal(ds.batch(idx)["mask"], first["mask"])
    m = first["mask"] > 0
    assert (first["image"][m] == 128 / 127.5 - 1).all()
    assert torch.equal(first["image"][~m], first["real"][~m])
    # the same fixed masks in every load
    again = load_dataset(DataConfig(name="mnist5k", limit=200, masks="boxes,strokes", hole=12))
    assert torch.equal(again.inputs["mask"], ds.inputs["mask"])


def test_mnist5k_with_masks_takes_the_digit_split():
    ds = load_dataset(DataConfig(name="mnist5k", masks="centre", hole=14))
    assert int(ds.held.sum()) == 1000
    held_labels = ds.y[ds.held]
    assert torch.equal(torch.bincount(held_labels), torch.full((10,), 100))
    for k in range(10):  # the last 100 of each class, in the bundled order
        idx = (ds.y == k).nonzero().squeeze(1)
        assert ds.held[idx[-100:]].all() and not ds.held[idx[:-100]].any()


def test_bad_mask_settings_are_one_clear_error():
    with pytest.raises(ValidationError, match="unknown mask kind 'circles'; allowed: centre"):
        DataConfig(masks="boxes,circles")
    assert DataConfig(masks="center, strokes").masks == "centre,strokes"
    with pytest.raises(DataError, match=r"data.hole=40 is larger than the 28x28 images"):
        load_dataset(DataConfig(name="mnist5k", limit=20, masks="centre", hole=40))
    with pytest.raises(DataError, match="has no images to mask"):
        load_dataset(DataConfig(name="ring", masks="centre"))
