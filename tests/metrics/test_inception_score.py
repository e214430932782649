"""Inception / classifier score on probability tables with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.metrics.inception_score import inception_score


def test_uniform_predictions_score_one():
    mean, std = inception_score(np.full((100, 10), 0.1))
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.0, abs=1e-12)


def test_confident_and_balanced_scores_k():
    probs = np.eye(10)[np.arange(1000) % 10]  # one-hot, every class 100 times
    assert inception_score(probs, shuffle=False)[0] == pytest.approx(10.0)
    assert inception_score(probs)[0] == pytest.approx(10.0, abs=0.5)  # shuffled splits


def test_collapsed_scores_one_and_sorted_input_is_shuffled():
    assert inception_score(np.eye(10)[np.zeros(500, int)])[0] == pytest.approx(1.0)
    sorted_probs = np.eye(10)[np.repeat(np.arange(10), 100)]  # class-sorted, e.g. conditional
    assert inception_score(sorted_probs, shuffle=False)[0] == pytest.approx(1.0)  # the trap
    assert inception_score(sorted_probs)[0] > 9.0


def test_formula_one_split():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=200)
    py = p.mean(0)
    expected = np.exp(np.mean(np.sum(p * (np.log(p) - np.log(py)), axis=1)))
    assert inception_score(p, splits=1)[0] == pytest.approx(expected, rel=1e-12)
