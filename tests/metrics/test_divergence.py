"""JSD / KL of 2-D histograms and the discriminator-based JSD estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.spatial.distance import jensenshannon

from gankit.metrics.divergence import (
    histogram_divergences,
    jensen_shannon,
    jsd_from_discriminator,
    jsd_from_logits,
    kl_divergence,
)


def test_jsd_identical_and_disjoint():
    p = np.array([1.0, 2.0, 3.0, 0.0])
    assert jensen_shannon(p, p) == pytest.approx(0.0, abs=1e-15)
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(math.log(2))
    assert jensen_shannon([1, 0], [0, 1], base=2) == pytest.approx(1.0)


def test_jsd_matches_scipy():
    rng = np.random.default_rng(0)
    p, q = rng.random(20), rng.random(20)
    assert jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-10)


def test_kl_smoothing_keeps_it_finite():
    assert kl_divergence([1, 1], [1, 1]) == pytest.approx(0.0)
    value = kl_divergence([1, 0], [0, 1], eps=1e-6)
    assert np.isfinite(value) and value > 10


def test_histograms_of_points():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((2000, 2))
    same = histogram_divergences(real, real)
    assert same["jsd"] == pytest.approx(0.0, abs=1e-12) and same["kl_real_fake"] < 1e-9
    far = histogram_divergences(real, real + 100.0)  # clipped into border cells, still disjoint
    assert far["jsd"] == pytest.approx(math.log(2))
    other = histogram_divergences(real, rng.standard_normal((2000, 2)), bins=20)
    assert 0 < other["jsd"] < 0.1


def test_discriminator_formula():
    # D = 1/2 everywhere: V = 2 log(1/2) = -log 4, so the JSD estimate is 0
    v, jsd = jsd_from_discriminator(math.log(0.5), math.log(0.5))
    assert v == pytest.approx(-math.log(4)) and jsd == pytest.approx(0.0)
    assert jsd_from_logits(np.zeros(10), np.zeros(10))[1] == pytest.approx(0.0)


def test_optimal_discriminator_recovers_jsd():
    # p = N(0, 1), q = N(2, 1); D* = p / (p + q); (V(D*) + log 4) / 2 = JSD(p || q)
    p, q = stats.norm(0, 1), stats.norm(2, 1)

    def integrand(x: float) -> float:
        m = 0.5 * (p.pdf(x) + q.pdf(x))
        return 0.5 * (p.pdf(x) * np.log(p.pdf(x) / m) + q.pdf(x) * np.log(q.pdf(x) / m))

    true_jsd = integrate.quad(integrand, -12, 14)[0]
    rng = np.random.default_rng(2)
    xr, xf = rng.normal(0, 1, 200_000), rng.normal(2, 1, 200_000)
    logit = lambda x: p.logpdf(x) - q.logpdf(x)  # noqa: E731  D* = sigmoid(log p - log q)
    _, est = jsd_from_logits(logit(xr), logit(xf))
    assert est == pytest.approx(true_jsd, abs=0.005)
