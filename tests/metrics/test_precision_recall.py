"""Precision/recall (k=3) and density/coverage (k=5) on Gaussian cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.metrics.precision_recall import (
    density_coverage,
    kth_nn_radii,
    prdc,
    precision_recall,
)


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(0)
    return rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8)), rng


def test_identical_distributions(gaussians):
    real, fake, _ = gaussians
    p, r = precision_recall(real, fake)
    d, c = density_coverage(real, fake)
    assert p > 0.8 and r > 0.8
    assert d == pytest.approx(1.0, abs=0.1)  # E[density] = 1 for identical distributions
    # Naeem et al.: E[coverage] = 1 - (1/2)^k for equal sample sizes (k = 5: 0.969)
    assert c == pytest.approx(1 - 0.5**5, abs=0.02)


def test_same_samples_are_perfect(gaussians):
    real, _, _ = gaussians
    assert precision_recall(real, real) == (1.0, 1.0)
    assert density_coverage(real, real)[1] == 1.0


def test_disjoint_distributions(gaussians):
    real, fake, _ = gaussians
    assert precision_recall(real, fake + 100.0) == (0.0, 0.0)
    assert density_coverage(real, fake + 100.0) == (0.0, 0.0)


def test_fake_on_half_the_support():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((1000, 2)), rng.standard_normal((2000, 2))
    fake = fake[fake[:, 0] > 0]  # half of the real support (2-D, so k-NN balls stay small)
    p, r = precision_recall(real, fake)
    _, c = density_coverage(real, fake)
    assert p > 0.8  # fakes lie on the real manifold
    assert 0.4 < r < 0.7 and 0.4 < c < 0.7  # only about half of it is covered


def test_batching_does_not_change_results(gaussians):
    real, fake, _ = gaussians
    small = precision_recall(real[:300], fake[:200], batch_size=7)
    assert small == precision_recall(real[:300], fake[:200], batch_size=4096)
    assert density_coverage(real[:300], fake[:200], batch_size=7) == pytest.approx(
        density_coverage(real[:300], fake[:200], batch_size=4096)
    )


def test_radii_exclude_the_point_itself():
    x = np.array([[0.0], [1.0], [3.0], [6.0]])
    np.testing.assert_allclose(kth_nn_radii(x, 1).numpy(), [1, 1, 2, 3])
    np.testing.assert_allclose(kth_nn_radii(x, 2).numpy(), [3, 2, 3, 5])


def test_matches_reference_formulas_on_small_sets():
    # StyleGAN2-ADA (<=, kth value counting the point itself) and prdc (<) written out in numpy
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((60, 3)), rng.standard_normal((50, 3)) + 0.3

    def dist(a, b):
        return np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))

    def radii(x, k):
        return np.sort(dist(x, x), axis=1)[:, k]

    d_rf = dist(real, fake)  # (60, 50)
    r3, f3, r5 = radii(real, 3), radii(fake, 3), radii(real, 5)
    precision = (d_rf <= r3[:, None]).any(0).mean()
    recall = (d_rf <= f3[None, :]).any(1).mean()
    density = (d_rf < r5[:, None]).sum(0).mean() / 5
    coverage = (d_rf.min(1) < r5).mean()
    out = prdc(real, fake, batch_size=16)
    assert out.precision == pytest.approx(precision) and out.recall == pytest.approx(recall)
    assert out.density == pytest.approx(density) and out.coverage == pytest.approx(coverage)
