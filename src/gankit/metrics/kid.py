"""Kernel distance: unbiased MMD^2 with a cubic polynomial kernel (KID for Inception features).

Paper: Bińkowski et al. 2018, "Demystifying MMD GANs" (Kernel Inception Distance). Reference
implementations: torch-fidelity ``kid_features_to_metric`` / ``mmd2`` (unbiased estimator, mean
and std over subsets, ``kid_subsets=100``, ``kid_subset_size=1000``) and clean-fid
``kernel_distance`` (the same estimator, from StyleGAN2-ADA). Subsets are drawn without
replacement with ``numpy.random.default_rng(seed)``; the subset size is
``min(subset_size, n_fake, n_real)`` rather than an error when a set is small.

    k(x, y) = (x . y / d + 1)^3
    MMD^2_u = sum_{i!=j} k(x_i, x_j) / (m (m-1)) + sum_{i!=j} k(y_i, y_j) / (m (m-1))
              - 2 sum_{i,j} k(x_i, y_j) / m^2
"""

from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x . y / d + 1)^3 for rows of ``x (m, d)`` and ``y (n, d)`` -> ``(m, n)``."""
    k = x @ y.T / x.shape[1] + 1.0
    return k * k * k  # faster than ** 3 on float64


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between equal-size samples ``x (m, d)`` and ``y (m, d)``, cubic kernel."""
    m = x.shape[0]
    if y.shape[0] != m or m < 2:
        raise ValueError(f"need two samples of equal size >= 2, got {x.shape[0]} and {y.shape[0]}")
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    sum_xx = k_xx.sum() - np.trace(k_xx)  # off-diagonal sums
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kid_from_features(
    feat_fake: np.ndarray,
    feat_real: np.ndarray,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and std (ddof 0) of unbiased MMD^2 over ``num_subsets`` random subsets."""
    x = np.asarray(feat_fake, dtype=np.float64)
    y = np.asarray(feat_real, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need features (N, d) of one width, got {x.shape} and {y.shape}")
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    scores = np.empty(num_subsets)
    for i in range(num_subsets):
        xs = x[rng.choice(len(x), m, replace=False)]
        ys = y[rng.choice(len(y), m, replace=False)]
        scores[i] = mmd2_unbiased(xs, ys)
    return float(scores.mean()), float(scores.std())
