"""Inception Score on class probabilities; the "classifier score" with gankit's MNIST classifier.

Paper: Salimans et al. 2016, "Improved Techniques for Training GANs". Reference implementation:
openai/improved-gan ``inception_score/model.py`` ``get_inception_score`` and torch-fidelity
``isc_features_to_metric``: split the samples into ``splits`` equal parts, score each part and
report the mean and std (ddof 0) over parts. Like torch-fidelity (and unlike openai) the
samples are shuffled first (``numpy.random.default_rng(seed)``; torch-fidelity uses its own RNG
with seed 2020), so that class-sorted samples (a conditional model's) do not make each part
one class; ``shuffle=False`` keeps the caller's order, as openai does.

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = mean over the part of p(y|x)

It ranges from 1 (every sample gets the same class distribution) to K (confident, with all K
classes equally often). With gankit's 10-class MNIST classifier the maximum is 10.
"""

from __future__ import annotations

import numpy as np


def inception_score(
    probs: np.ndarray, splits: int = 10, shuffle: bool = True, seed: int = 0
) -> tuple[float, float]:
    """Mean and std of exp(E KL(p(y|x) || p(y))) over ``splits`` parts of ``probs (N, K)``."""
    p = np.asarray(probs, dtype=np.float64)
    n = len(p)
    if p.ndim != 2 or n < splits or splits < 1:
        raise ValueError(f"need probabilities (N >= splits={splits}, K), got shape {p.shape}")
    if shuffle:
        p = p[np.random.default_rng(seed).permutation(n)]
    scores = []
    for i in range(splits):
        part = p[i * n // splits : (i + 1) * n // splits]  # (n / splits, K)
        py = part.mean(axis=0, keepdims=True)  # (1, K), marginal p(y)
        # p log(p / p(y)) with 0 log 0 = 0 (p(y) > 0 wherever p > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(py)), 0.0)
        scores.append(np.exp(kl.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
