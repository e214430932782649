"""Label accuracy of conditioned samples and train-on-synthetic / test-on-real."""

from __future__ import annotations

import numpy as np

from gankit.metrics.conditional import label_accuracy, tstr_accuracy


def test_label_accuracy(digits_heldout):
    x, y = digits_heldout
    assert label_accuracy(x, y) >= 0.97
    assert label_accuracy(x, (y + 1) % 10) < 0.05


def test_tstr_real_digits_teach_and_random_labels_do_not(digits_train, digits_heldout):
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(digits_train[0]))[:1000]
    x, y = digits_train[0][idx], digits_train[1][idx]
    xh, yh = digits_heldout
    good = tstr_accuracy(x, y, xh, yh, epochs=3, seed=0)
    assert good > 0.75
    bad = tstr_accuracy(x, rng.integers(0, 10, len(y)), xh, yh, epochs=1, seed=0)
    assert bad < 0.3
