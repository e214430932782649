"""Memorisation in a feature space (HOG for non-digit images), the leave-one-out baseline when
no images were held out, and the classifier two-sample test."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.data import DataConfig, load_dataset, split_holdout
from gankit.metrics import evaluate
from gankit.metrics.c2st import c2st_accuracy
from gankit.metrics.memorization import hog_features, leave_one_out_distances, memorization_stats


@pytest.fixture(scope="module")
def faces():
    train, held = split_holdout(load_dataset(DataConfig(name="faces")), 0)
    return train.x.numpy(), held.x.numpy()


def test_hog_is_size_independent_and_ignores_brightness(faces):
    train, _ = faces
    assert hog_features(train[:3]).shape == (3, 324)
    big = np.repeat(np.repeat(train[:3], 2, 2), 2, 3)  # 64 px
    assert hog_features(big).shape == (3, 324)
    darker = (train[:3] // 2).astype(np.uint8)
    d_same = np.linalg.norm(hog_features(darker) - hog_features(train[:3]), axis=1)
    d_other = np.linalg.norm(hog_features(train[3:6]) - hog_features(train[:3]), axis=1)
    assert (d_same < d_other).all()


def test_copies_of_faces_flagged_in_pixels_and_hog(faces):
    train, held = faces
    # 10 darkened copies of training faces among 20 samples: not pixel copies, HOG copies
    fake = np.concatenate([(train[:10] * 0.6).astype(np.uint8), held[:10]])
    rows = {r.name: r for r in evaluate(fake, held, ["memorization"], train=train)}
    assert rows["copies-features"].value >= 0.5 > rows["copies"].value
    assert rows["copies-features"].passport["extractor"] == "hog"
    assert "HOG" in rows["copies-features"].note
    exact = {r.name: r for r in evaluate(train[:20], held, ["memorization"], train=train)}
    assert exact["copies"].value == 1.0 and exact["exact-copies"].value == 1.0


def test_leave_one_out_baseline(digits_train):
    x = digits_train[0][::4]  # 1,000 digits
    d = leave_one_out_distances(x, n=200)
    assert len(d) == 200 and (d > 0).all()  # never a digit's distance to itself
    s = memorization_stats(x[:100], x, None)
    assert s.copies == 1.0 and s.exact_copies == 1.0
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (50, 1, 28, 28), dtype=np.uint8)
    assert memorization_stats(noise, x, None).copies == 0.0


def test_digits_use_the_classifier_features(digits_train, digits_heldout):
    train, held = digits_train[0][::4], digits_heldout[0][::4]
    rows = {
        r.name: r
        for r in evaluate(train[:50], held, ["memorization"], train=train, dataset="mnist5k")
    }
    assert rows["copies-features"].passport["extractor"] == "mnist-classifier"
    assert rows["copies-features"].value == 1.0


def test_c2st_chance_for_same_data_and_high_for_different(faces):
    train, _ = faces
    small = train[:, :, ::2, ::2]  # 16 px: the test is about the statistic, not the net
    same = c2st_accuracy(small[:24], small[24:48], folds=2, repeats=1, steps=40)
    assert 0.2 <= same.accuracy <= 0.8 and same.n == 24
    blank = np.full_like(small[:24], 128)
    assert c2st_accuracy(small[:24], blank, folds=2, repeats=1, steps=40).accuracy >= 0.9


def test_the_copy_floor_is_what_new_real_images_score():
    """With few held-out images their 1st percentile is near their minimum, so even new real
    images count as "near-copies" several percent of the time: the floor says how often."""
    rng = np.random.default_rng(0)
    train = rng.normal(size=(300, 16)).astype(np.float32)
    for n_held, low, high in ((25, 0.02, 0.09), (1000, 0.004, 0.02)):
        held = rng.normal(size=(n_held, 16)).astype(np.float32)
        new = rng.normal(size=(4000, 16)).astype(np.float32)  # more real data, same law
        s = memorization_stats(new, train, held)
        assert low <= s.floor <= high, (n_held, s.floor)
        assert abs(s.copies - s.floor) < 0.03  # the floor predicts what new reals score
