"""FID: pytorch-fid's algorithm against an independent eigenvalue computation and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from gankit.metrics.fid import feature_statistics, fid_from_features, frechet_distance


def fid_by_eigenvalues(a: np.ndarray, b: np.ndarray) -> float:
    """Independent FID: Tr sqrt(S1 S2) = sum sqrt(eig(S1^1/2 S2 S1^1/2)) (symmetric PSD)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr = np.sqrt(np.clip(linalg.eigvalsh(root1 @ s2 @ root1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr)


def test_matches_independent_scipy_computation():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 16)) @ rng.standard_normal((16, 16))
    b = rng.standard_normal((400, 16)) * 1.5 + 0.3
    assert fid_from_features(a, b) == pytest.approx(fid_by_eigenvalues(a, b), rel=1e-8)


def test_closed_form_two_isotropic_gaussians():
    # N(0, I) vs N(mu, s^2 I): ||mu||^2 + Tr(I + s^2 I - 2 s I) = ||mu||^2 + d (1 - s)^2
    d, s = 8, 2.0
    mu = np.arange(d) / 4.0
    expected = float(mu @ mu + d * (1 - s) ** 2)
    exact = frechet_distance(np.zeros(d), np.eye(d), mu, s**2 * np.eye(d))
    assert exact == pytest.approx(expected, rel=1e-10)
    rng = np.random.default_rng(1)
    sampled = fid_from_features(
        rng.standard_normal((20000, d)), mu + s * rng.standard_normal((20000, d))
    )
    assert sampled == pytest.approx(expected, rel=0.03)


def test_identical_sets_and_symmetry():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((300, 10)), rng.standard_normal((300, 10)) + 0.5
    assert abs(fid_from_features(a, a)) < 1e-8
    assert fid_from_features(a, b) == pytest.approx(fid_from_features(b, a), rel=1e-8)


def test_singular_covariance_stays_finite():
    # fewer samples than dimensions: both covariances are singular
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((10, 32)), rng.standard_normal((10, 32)) + 1.0
    value = fid_from_features(a, b)
    assert np.isfinite(value)
    assert value == pytest.approx(fid_by_eigenvalues(a, b), rel=1e-3)


def test_statistics_are_float64_and_unbiased():
    x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]], dtype=np.float32)
    mu, sigma = feature_statistics(x)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False))


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="mismatched"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
