"""Memorisation: exact copies of training images are flagged; new digits are not."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.metrics.memorization import flatten_images, memorization_stats, nn_distances


def test_nn_distances_match_brute_force():
    rng = np.random.default_rng(0)
    q, r = rng.random((30, 5)), rng.random((40, 5))
    brute = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(nn_distances(q, r, batch_size=7), brute, rtol=1e-5)


def shuffled(x: np.ndarray, seed: int = 0) -> np.ndarray:
    return x[np.random.default_rng(seed).permutation(len(x))]  # the digits are sorted by label


def test_exact_copies_are_flagged(digits_train, digits_heldout):
    train, held = shuffled(digits_train[0])[:1500], shuffled(digits_heldout[0])
    fake = np.concatenate([train[:100], held[:300]])  # 100 copies among 400 samples
    s = memorization_stats(fake, train, held[300:])
    assert s.exact_copies == pytest.approx(0.25)
    assert s.copies >= 0.25
    assert s.median_fake > 0 and s.threshold > 0


def test_new_digits_are_not_copies(digits_train, digits_heldout):
    train, held = shuffled(digits_train[0])[:1500], shuffled(digits_heldout[0])
    s = memorization_stats(held[:500], train, held[500:])
    assert s.exact_copies == 0.0 and s.copies < 0.05
    assert s.ratio == pytest.approx(1.0, abs=0.15)


def test_flatten_scales_uint8():
    x = np.full((2, 1, 2, 2), 255, np.uint8)
    assert flatten_images(x).shape == (2, 4) and flatten_images(x).max() == 1.0


def test_overlapping_heldout_set_is_reported(digits_train):
    from gankit.metrics import evaluate

    train = shuffled(digits_train[0])[:600]
    (row, *_) = evaluate(train[:100], train[:200], metrics=["memorization"], train=train)
    assert "WARNING" in row.note and "100.0%" in row.note
