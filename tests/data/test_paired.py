"""Paired data: the bundled edges2digits / edges2photos, the user's paired folders in each of
their layouts, the reversed direction, and augmentations that keep a pair aligned."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import DataConfig, load_dataset, split_holdout
from gankit.data.base import paired_augment
from gankit.data.paired import HELD_PHOTOS, TRAIN_PHOTOS
from gankit.errors import DataError


def test_edges2digits_split_and_edges():
    ds = load_dataset(DataConfig(name="edges2digits"), seed=0)
    src = ds.inputs["source"]
    assert ds.x.shape == src.shape == (5000, 1, 28, 28)
    assert set(torch.unique(src).tolist()) == {0, 255}
    train, held = split_holdout(ds, 0)
    assert torch.bincount(held.y).tolist() == [100] * 10
    assert torch.bincount(train.y).tolist() == [400] * 10
    # the last 100 of each class (bundled order) are held out
    for k in range(10):
        idx = (ds.y == k).nonzero().squeeze(1)
        assert ds.held[idx[-100:]].all() and not ds.held[idx[:-100]].any()
    # edges lie on the strokes' borders: inside a thick stroke there is ink but no edge
    ink = ds.x > 127
    on_edges = src > 0
    assert (on_edges & ~ink).sum() > 0 and (ink & ~on_edges).sum() > 0
    with pytest.raises(DataError, match="own held-out split"):
        split_holdout(ds, 50)


def test_edges2photos_holds_out_whole_photos():
    ds = load_dataset(DataConfig(name="edges2photos", image_size=32), seed=0)
    assert ds.x.shape[1:] == (3, 32, 32) and ds.inputs["source"].shape[1:] == (1, 32, 32)
    assert ds.info.inputs == {"source": (1, 32, 32)}
    train, held = split_holdout(ds, 0)
    assert len(held) == 32 * len(HELD_PHOTOS) and len(train) == 400 * len(TRAIN_PHOTOS)
    assert not set(HELD_PHOTOS) & set(TRAIN_PHOTOS)
    again = load_dataset(DataConfig(name="edges2photos", image_size=32), seed=5)
    assert torch.equal(again.x, ds.x)  # the crops do not depend on the run's seed
    with pytest.raises(DataError, match="image_size=8"):
        load_dataset(DataConfig(name="edges2photos", image_size=8), seed=0)


def test_photos_are_the_clean_crops_with_the_same_split():
    pairs = load_dataset(DataConfig(name="edges2photos", image_size=32), seed=0)
    photos = load_dataset(DataConfig(name="photos", image_size=32, flip=True), seed=3)
    assert torch.equal(photos.x, pairs.x) and torch.equal(photos.held, pairs.held)
    assert photos.inputs == {} and photos.info.inputs == {} and photos.augment == (True, 0)
    with pytest.raises(DataError, match="photos crops must be 16"):
        load_dataset(DataConfig(name="photos", image_size=300), seed=0)


def _img(path, value, mode="L", size=(12, 12)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def test_paired_folders_by_name_report_unmatched(tmp_path, caplog):
    for i in range(3):
        _img(tmp_path / "a" / f"{i}.png", 10 * i)
        _img(tmp_path / "b" / f"{i}.png", (200, 10 * i, 0), "RGB")
    _img(tmp_path / "a" / "only_here.png", 1)
    cfg = DataConfig(path_a=str(tmp_path / "a"), path_b=str(tmp_path / "b"), image_size=8)
    with caplog.at_level(logging.WARNING, logger="gankit"):
        ds = load_dataset(cfg, seed=0)
    assert "1 image(s) only in" in caplog.text and "only_here" in caplog.text
    assert ds.x.shape == (3, 3, 8, 8) and ds.inputs["source"].shape == (3, 1, 8, 8)
    assert ds.inputs["source"][:, 0, 0, 0].tolist() == [0, 10, 20]
    assert ds.x[:, 1, 0, 0].tolist() == [0, 10, 20]  # B matched to A by name

    rev = load_dataset(cfg.model_copy(update={"direction": "BA"}), seed=0)
    assert torch.equal(rev.x, ds.inputs["source"]) and torch.equal(rev.inputs["source"], ds.x)
    assert rev.info.shape == (1, 8, 8) and rev.info.inputs == {"source": (3, 8, 8)}

    for p in (tmp_path / "b").iterdir():
        p.rename(p.with_name("x" + p.name))
    with pytest.raises(DataError, match="no image names match"):
        load_dataset(cfg, seed=0)


def test_paired_side_by_side_and_subfolders(tmp_path):
    for i in range(2):  # A | B in one file: left half 50, right half 200
        arr = np.zeros((10, 20), np.uint8)
        arr[:, :10], arr[:, 10:] = 50 + i, 200
        (tmp_path / "sbs").mkdir(exist_ok=True)
        Image.fromarray(arr).save(tmp_path / "sbs" / f"{i}.png")
    ds = load_dataset(DataConfig(name="paired", path=str(tmp_path / "sbs"), image_size=8), 0)
    assert ds.inputs["source"][:, 0, 0, 0].tolist() == [50, 51]
    assert (ds.x == 200).all()

    _img(tmp_path / "ab" / "A" / "0.png", 7)
    _img(tmp_path / "ab" / "B" / "0.jpg", 9)
    ds = load_dataset(DataConfig(name="paired", path=str(tmp_path / "ab"), image_size=8), 0)
    assert ds.inputs["source"][0, 0, 0, 0] == 7 and len(ds) == 1

    with pytest.raises(DataError, match="direction=BA reverses paired data"):
        load_dataset(DataConfig(name="digits", direction="BA"), 0)


def test_pairs_flip_and_shift_together():
    torch.manual_seed(0)
    a = torch.randn(16, 1, 12, 12)
    b = torch.cat([a, -a, 2 * a], 1)  # a pair whose parts are tied pixel by pixel
    out_a, out_b = paired_augment([a, b], flip=True, jitter=3)
    assert torch.equal(out_b[:, :1], out_a) and torch.equal(out_b[:, 1:2], -out_a)
    assert not torch.equal(out_a, a)  # something moved
