"""Toy mode coverage (VEEGAN/PacGAN protocol) and Stacked MNIST."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gankit.metrics.modes import (
    kl_to_uniform,
    stacked_mnist,
    stacked_mnist_kl_parts,
    stacked_mnist_labels,
    stacked_mnist_mode_stats,
    toy_mode_stats,
)

RING = np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1)
GRID = np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], dtype=float)


def sample(modes: np.ndarray, sigma: float, n: int = 2500, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return modes[rng.integers(0, len(modes), n)] + sigma * rng.standard_normal((n, 2))


def test_exact_samples_ring():
    s = toy_mode_stats(sample(RING, 0.01), RING, 0.01)
    assert s.modes_covered == 8 and s.num_modes == 8
    assert s.high_quality > 0.98  # in 2-D, P(r <= 3 sigma) = 1 - exp(-4.5) = 0.989
    assert s.reverse_kl < 0.01


def test_exact_samples_grid():
    s = toy_mode_stats(sample(GRID, 0.05), GRID, 0.05)
    assert s.modes_covered == 25 and s.high_quality > 0.98 and s.reverse_kl < 0.02


def test_collapsed_samples():
    pts = RING[3] + 0.005 * np.random.default_rng(1).standard_normal((2500, 2))
    s = toy_mode_stats(pts, RING, 0.01)
    assert s.modes_covered == 1 and s.high_quality == 1.0
    assert s.reverse_kl == pytest.approx(math.log(8))
    assert s.counts[3] == 2500


def test_noise_is_low_quality():
    pts = np.random.default_rng(2).uniform(-1.5, 1.5, (2500, 2))
    s = toy_mode_stats(pts, RING, 0.01)
    assert s.high_quality < 0.02


def test_no_high_quality_samples_gives_nan_kl():
    s = toy_mode_stats(np.full((10, 2), 50.0), RING, 0.01)
    assert s.modes_covered == 0 and s.high_quality == 0.0 and math.isnan(s.reverse_kl)


def test_kl_to_uniform():
    assert kl_to_uniform(np.full(8, 5)) == pytest.approx(0.0)
    assert kl_to_uniform(np.array([4, 4, 0, 0])) == pytest.approx(math.log(2))


def test_stacked_kl_splits_into_channels_and_dependence():
    # Independent channels: red digits 0 and 1 only (KL log 5), green and blue uniform.
    red = np.array([0.5, 0.5] + [0.0] * 8)
    q = np.einsum("r,g,b->rgb", red, np.full(10, 0.1), np.full(10, 0.1)).ravel() * 1e6
    channels, dep = stacked_mnist_kl_parts(q)
    assert channels == pytest.approx([math.log(5), 0, 0]) and dep == pytest.approx(0, abs=1e-12)
    # All three channels equal (000, 111, ..., 999): every marginal uniform, all KL dependence.
    same = np.zeros(1000)
    same[[111 * d for d in range(10)]] = 7
    channels, dep = stacked_mnist_kl_parts(same)
    assert channels == pytest.approx([0, 0, 0], abs=1e-12) and dep == pytest.approx(math.log(100))
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 50, 1000)
    channels, dep = stacked_mnist_kl_parts(counts)
    assert sum(channels) + dep == pytest.approx(kl_to_uniform(counts))
    with pytest.raises(ValueError, match=r"\(1000,\) class histogram"):
        stacked_mnist_kl_parts(np.ones(999))


def test_stacked_mnist_builder(digits_heldout):
    x, y = digits_heldout
    images, labels = stacked_mnist(x, 10_000, seed=0, y=y)
    assert images.shape == (10_000, 3, 28, 28) and images.dtype == np.uint8
    assert labels.min() >= 0 and labels.max() <= 999
    assert len(np.unique(labels)) >= 995  # 10k draws cover nearly all 1,000 modes
    again, labels2 = stacked_mnist(x, 10_000, seed=0, y=y)
    assert np.array_equal(again, images) and np.array_equal(labels, labels2)
    # each channel is a whole digit, and the label spells the three digits
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(x), size=(10_000, 3))
    assert np.array_equal(images[5, 1], x[idx[5, 1], 0])
    assert labels[5] == 100 * y[idx[5, 0]] + 10 * y[idx[5, 1]] + y[idx[5, 2]]


def test_stacked_mnist_classifier_counts(digits_heldout):
    x, y = digits_heldout
    images, labels = stacked_mnist(x, 1000, seed=1, y=y)
    assert np.mean(stacked_mnist_labels(images) == labels) > 0.9  # ~0.99^3
    covered, kl, counts = stacked_mnist_mode_stats(images)
    assert counts.sum() == 1000 and 500 < covered <= 1000 and kl < 1.0
    collapsed = np.repeat(images[:1], 200, axis=0)
    covered, kl, _ = stacked_mnist_mode_stats(collapsed)
    assert covered == 1 and kl == pytest.approx(math.log(1000))
