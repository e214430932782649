"""Stacked MNIST: three bundled digits per RGB image, labelled 100 d_R + 10 d_G + d_B."""

from __future__ import annotations

import torch

from gankit.data import DataConfig, load_dataset


def test_each_channel_is_a_bundled_digit_and_the_label_spells_the_three():
    ds = load_dataset(DataConfig(name="stacked-mnist", limit=200), seed=0)
    digits = load_dataset(DataConfig(name="mnist5k"), seed=0)
    assert ds.x.shape == (200, 3, 28, 28) and ds.x.dtype == torch.uint8
    assert ds.info.shape == (3, 28, 28) and ds.info.num_classes == 1000
    flat = digits.x.flatten(1)  # (5000, 784)
    for i in range(10):
        for c, place in enumerate((100, 10, 1)):
            match = (flat == ds.x[i, c].flatten()).all(1).nonzero()[:, 0]
            assert len(match) >= 1
            assert (ds.y[i] // place) % 10 in digits.y[match].tolist()
    again = load_dataset(DataConfig(name="stacked-mnist", limit=200), seed=0)
    assert torch.equal(again.x, ds.x)  # the seed fixes the triples
