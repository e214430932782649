"""Memorisation: how close generated samples come to the training set, next to held-out reals.

Papers: the nearest-neighbour check of generated images against the training set used since
Goodfellow et al. 2014 and Radford et al. 2016 (DCGAN); the held-out baseline and the "copy"
threshold follow Meehan et al. 2020, "A Non-Parametric Test to Detect Data-Copying in
Generative Models" (compare generated-to-train distances with held-out-to-train distances).
Reference implementation: none standard; everything is written out here.

    d_fake(i) = min_j ||fake_i - train_j||,  d_held(i) = min_j ||held_i - train_j||
    threshold = 1st percentile of d_held
    copies    = fraction of fakes with d_fake < threshold  (held-out reals score ~1 % by design)
    exact     = fraction of fakes identical to a training sample (d_fake == 0)
    ratio     = median d_fake / median d_held  (< 1: closer to the training set than new data)

Pixel space: uint8 images are flattened and scaled to [0, 1] (distances in those units, L2).
Distances use ``torch.cdist`` in float32 on row batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class MemorizationStats:
    """Nearest-training-sample distances of generated and held-out samples."""

    median_fake: float
    median_heldout: float
    ratio: float  # median_fake / median_heldout
    threshold: float  # 1st percentile of held-out NN distances
    copies: float  # fraction of fakes closer to a training sample than the threshold
    exact_copies: float  # fraction of fakes identical to a training sample
    heldout_in_train: float  # fraction of "held-out" samples identical to a training sample


def flatten_images(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """uint8 ``(N, C, H, W)`` -> float32 ``(N, C*H*W)`` in [0, 1]; floats are only flattened."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return x.reshape(len(x), -1).astype(np.float32) / 255.0
    return x.reshape(len(x), -1).astype(np.float32)


def nn_distances(
    query: np.ndarray | torch.Tensor, reference: np.ndarray | torch.Tensor, batch_size: int = 512
) -> np.ndarray:
    """L2 distance from each query row ``(N, d)`` to its nearest reference row ``(M, d)``."""
    q = torch.as_tensor(np.require(query, np.float32, ["W"]))  # writable: no torch warning
    r = torch.as_tensor(np.require(reference, np.float32, ["W"]))
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1]:
        raise ValueError(
            f"need (N, d) and (M, d) of one width, got {tuple(q.shape)}, {tuple(r.shape)}"
        )
    # Find the neighbour with ||a-b||^2 = |a|^2 + |b|^2 - 2 a.b (a matmul), then measure
    # ||a - b|| directly, so that an exact copy is at distance exactly 0.
    r2 = (r * r).sum(1)
    out = []
    for rows in q.split(batch_size):
        d2 = (rows * rows).sum(1, keepdim=True) + r2[None, :] - 2.0 * rows @ r.T  # (B, M)
        nearest = d2.argmin(dim=1)  # (B,)
        out.append((rows - r[nearest]).norm(dim=1))
    return torch.cat(out).numpy().astype(np.float64)


def memorization_stats(
    fake: np.ndarray, train: np.ndarray, heldout: np.ndarray, batch_size: int = 512
) -> MemorizationStats:
    """Nearest-neighbour distances of ``fake`` and ``heldout`` to ``train`` (same feature space).

    Inputs are uint8 images (compared in pixel space, [0, 1]) or float features ``(N, d)``.
    """
    f, t, h = flatten_images(fake), flatten_images(train), flatten_images(heldout)
    d_fake = nn_distances(f, t, batch_size)
    d_held = nn_distances(h, t, batch_size)
    threshold = float(np.percentile(d_held, 1))
    med_f, med_h = float(np.median(d_fake)), float(np.median(d_held))
    return MemorizationStats(
        median_fake=med_f,
        median_heldout=med_h,
        ratio=med_f / med_h if med_h > 0 else float("inf"),
        threshold=threshold,
        copies=float(np.mean(d_fake < threshold)),
        exact_copies=float(np.mean(d_fake == 0.0)),
        heldout_in_train=float(np.mean(d_held == 0.0)),
    )
