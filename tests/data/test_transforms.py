"""Batch transforms on uint8 tensors, and the class-balanced subset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data.transforms import (
    center_crop,
    fit_images,
    resize,
    square_resize_pil,
    stratified_subset,
    to_grayscale,
    to_rgb,
)
from gankit.errors import DataError


def test_resize_keeps_constant_images_and_dtype():
    x = torch.full((3, 2, 28, 28), 77, dtype=torch.uint8)
    for size in (8, 32, 64):
        y = resize(x, size)
        assert y.shape == (3, 2, size, size) and y.dtype == torch.uint8
        assert (y == 77).all()
    assert resize(x, 28) is x


def test_resize_down_averages():
    # a 2x2 checkerboard of 0/255 tiles shrinks to mid-grey with antialiasing, not to 0 or 255
    x = torch.zeros(1, 1, 32, 32, dtype=torch.uint8)
    x[..., ::2, ::2] = 255
    x[..., 1::2, 1::2] = 255
    y = resize(x, 8)
    assert (y.float() - 127.5).abs().max() < 5


def test_center_crop_and_channels():
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.int64).remainder(256).to(torch.uint8)
    x = x.view(2, 3, 4, 6)
    c = center_crop(x)
    assert c.shape == (2, 3, 4, 4) and torch.equal(c, x[..., :, 1:5])
    with pytest.raises(DataError, match="size must be <= 4"):
        center_crop(x, 5)
    g = to_grayscale(x)
    assert g.shape == (2, 1, 4, 6)
    rgb = to_rgb(g)
    assert rgb.shape == (2, 3, 4, 6) and torch.equal(rgb[:, 0], rgb[:, 2])
    assert to_grayscale(g) is g and to_rgb(x) is x


def test_grayscale_matches_pillow():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    want = np.asarray(Image.fromarray(a).convert("L")).astype(int)
    got = to_grayscale(torch.from_numpy(a).permute(2, 0, 1)[None])[0, 0].numpy().astype(int)
    assert np.abs(got - want).max() <= 1


def test_fit_images():
    x = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)
    assert fit_images(x, 32, 3).shape == (4, 3, 32, 32)
    assert fit_images(x, None, None) is x


def test_square_resize_pil():
    img = Image.new("RGB", (30, 10), (10, 20, 30))
    out = square_resize_pil(img, 8)
    assert out.size == (8, 8) and out.getpixel((4, 4)) == (10, 20, 30)


def test_stratified_subset_is_balanced_sorted_and_fixed():
    labels = np.repeat(np.arange(10), 50)  # sorted by class, like mnist5k
    idx = stratified_subset(labels, 30, seed=0)
    assert len(idx) == 30 and np.all(np.diff(idx) > 0)
    assert np.bincount(labels[idx], minlength=10).tolist() == [3] * 10
    assert np.array_equal(idx, stratified_subset(labels, 30, seed=0))
    assert not np.array_equal(idx, stratified_subset(labels, 30, seed=1))
    assert np.array_equal(stratified_subset(labels, 10_000), np.arange(500))
    # uneven classes: the small class runs out and the rest fill up
    uneven = np.array([0] * 2 + [1] * 20)
    assert np.bincount(uneven[stratified_subset(uneven, 10)]).tolist() == [2, 8]
