"""Fréchet distance between Gaussian fits of two feature sets (FID with Inception features).

Paper: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium". Reference implementation: pytorch-fid ``calculate_frechet_distance``
(``src/pytorch_fid/fid_score.py``, "stable version by Dougal J. Sutherland"), matched step by
step: ``scipy.linalg.sqrtm`` of the product, an ``eps * I`` offset on both covariances when
that square root is not finite, and an error when the diagonal of the square root has an
imaginary part above 1e-3. Statistics as in pytorch-fid: float64 mean and ``np.cov`` (N - 1).

    d^2 = ||mu_1 - mu_2||^2 + Tr(C_1 + C_2 - 2 (C_1 C_2)^(1/2))
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg


def feature_statistics(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` of features ``(N, d)``, in float64."""
    x = np.asarray(feats, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need features (N >= 2, d), got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), as pytorch-fid computes it."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(
            f"mismatched statistics: means {mu1.shape} vs {mu2.shape}, "
            f"covariances {sigma1.shape} vs {sigma2.shape}"
        )
    diff = mu1 - mu2

    # Product might be almost singular. (pytorch-fid passes disp=False, deprecated in SciPy 1.16;
    # the default call returns the same square root, and its LinAlgWarning is silenced here.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1.dot(sigma2))
        if not np.isfinite(covmean).all():
            warnings.warn(
                f"fid calculation produces singular product; adding {eps} to diagonal of cov "
                "estimates",
                RuntimeWarning,
                stacklevel=2,
            )
            offset = np.eye(sigma1.shape[0]) * eps
            covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))

    # Numerical error might give a slight imaginary component
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            m = np.max(np.abs(covmean.imag))
            raise ValueError(f"Imaginary component {m}")
        covmean = covmean.real

    tr_covmean = np.trace(covmean)
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def fid_from_features(feat_a: np.ndarray, feat_b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussian fits (float64 mean / covariance) of ``(N, d)`` features."""
    mu1, sigma1 = feature_statistics(feat_a)
    mu2, sigma2 = feature_statistics(feat_b)
    return frechet_distance(mu1, sigma1, mu2, sigma2, eps=eps)
