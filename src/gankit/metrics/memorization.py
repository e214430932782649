"""Memorisation: how close generated samples come to the training set, next to held-out reals.

Papers: the nearest-neighbour check of generated images against the training set used since
Goodfellow et al. 2014 and Radford et al. 2016 (DCGAN); the held-out baseline and the "copy"
threshold follow Meehan et al. 2020, "A Non-Parametric Test to Detect Data-Copying in
Generative Models" (compare generated-to-train distances with held-out-to-train distances).
Reference implementation: none standard; everything is written out here.

    d_fake(i) = min_j ||fake_i - train_j||,  d_held(i) = min_j ||held_i - train_j||
    threshold = 1st percentile of d_held
    copies    = fraction of fakes with d_fake < threshold  (held-out reals score ~1 % by design)
    floor     = what a new real image scores under the same rule: each held-out image against
                the threshold of the others (~1 % with many held-out images; with 25 of them
                the 1st percentile is near their minimum and the floor is ~4-5 %)
    exact     = fraction of fakes identical to a training sample (d_fake == 0)
    ratio     = median d_fake / median d_held  (< 1: closer to the training set than new data)

Pixel space: uint8 images are flattened and scaled to [0, 1] (distances in those units, L2).
Distances use ``torch.cdist`` in float32 on row batches.

Feature space: the same rule on features. Digits use gankit's MNIST classifier features
(``metrics/features.py``); any other images use HOG (Dalal & Triggs 2005,
``skimage.feature.hog``: 9 orientations, a 4×4 grid of cells, 2×2 blocks, L2-Hys), which needs
no weights and no download, ignores a shift of brightness and compares edge layout: a sample
that copies a training image's structure in other tones is still found.

Without held-out images (a run trained on all its data) the baseline is leave-one-out: each of
up to ``LOO_MAX`` training images against the other training images, which is what a new image
from the same distribution would see against a training set one smaller.
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
    floor: float = 0.0  # the copy share a new real image would have (held-out leave-one-out)


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


def nearest(
    query: np.ndarray | torch.Tensor, reference: np.ndarray | torch.Tensor, batch_size: int = 512
) -> np.ndarray:
    """Index of the nearest ``reference`` row (L2) of each ``query`` row, int64 ``(N,)``."""
    q = torch.as_tensor(np.require(flatten_images(query), np.float32, ["W"]))
    r = torch.as_tensor(np.require(flatten_images(reference), np.float32, ["W"]))
    r2 = (r * r).sum(1)
    out = [
        ((rows * rows).sum(1, keepdim=True) + r2[None, :] - 2.0 * rows @ r.T).argmin(dim=1)
        for rows in q.split(batch_size)
    ]
    return torch.cat(out).numpy().astype(np.int64)


LOO_MAX = 1000  # training images whose leave-one-out distance is the baseline without held-out


def leave_one_out_distances(train: np.ndarray, n: int = LOO_MAX, seed: int = 0) -> np.ndarray:
    """Nearest-other-training-row distance of up to ``n`` training rows (chosen by ``seed``)."""
    t = flatten_images(train)
    pick = np.random.default_rng(seed).permutation(len(t))[:n]
    order = np.concatenate([pick, np.setdiff1d(np.arange(len(t)), pick)])
    t = t[order]  # the picked rows first: their own column is excluded by position
    q = torch.as_tensor(np.require(t, np.float32, ["W"]))
    r2 = (q * q).sum(1)
    out = []
    for start in range(0, len(pick), 512):
        rows = q[start : min(start + 512, len(pick))]
        d2 = (rows * rows).sum(1, keepdim=True) + r2[None, :] - 2.0 * rows @ q.T
        d2[torch.arange(len(rows)), torch.arange(start, start + len(rows))] = float("inf")
        out.append((rows - q[d2.argmin(dim=1)]).norm(dim=1))
    return torch.cat(out).numpy().astype(np.float64)


def hog_features(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """HOG descriptors, float32 ``(N, 324)``, of uint8 images ``(N, C, H, W)`` (grey by the mean
    over channels): 9 orientations on a 4×4 grid of cells, whatever the image size."""
    from skimage.feature import hog

    x = np.asarray(images)
    gray = x.astype(np.float32).mean(axis=1) / 255.0  # (N, H, W)
    h, w = gray.shape[1:]
    cell = (max(1, h // 4), max(1, w // 4))
    return np.stack(
        [
            hog(
                g, orientations=9, pixels_per_cell=cell, cells_per_block=(2, 2), block_norm="L2-Hys"
            )
            for g in gray
        ]
    ).astype(np.float32)


def memorization_stats(
    fake: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray | None,
    batch_size: int = 512,
    seed: int = 0,
) -> MemorizationStats:
    """Nearest-neighbour distances of ``fake`` and ``heldout`` to ``train`` (same feature space);
    ``heldout`` None: the leave-one-out baseline of the training set.

    Inputs are uint8 images (compared in pixel space, [0, 1]) or float features ``(N, d)``.
    """
    f, t = flatten_images(fake), flatten_images(train)
    d_fake = nn_distances(f, t, batch_size)
    if heldout is None:
        d_held = leave_one_out_distances(t, seed=seed)
    else:
        d_held = nn_distances(flatten_images(heldout), t, batch_size)
    threshold = float(np.percentile(d_held, 1))
    floor = copy_share_floor(d_held)
    med_f, med_h = float(np.median(d_fake)), float(np.median(d_held))
    return MemorizationStats(
        median_fake=med_f,
        median_heldout=med_h,
        ratio=med_f / med_h if med_h > 0 else float("inf"),
        threshold=threshold,
        copies=float(np.mean(d_fake < threshold)),
        exact_copies=float(np.mean(d_fake == 0.0)),
        heldout_in_train=float(np.mean(d_held == 0.0)),
        floor=floor,
    )


def copy_share_floor(d_held: np.ndarray) -> float:
    """The near-copy share a new real image would score: each reference distance judged by the
    1st percentile of the others. The bar "copies <= x" is only meaningful above this floor,
    which is ~1 % for hundreds of held-out images but several percent for a few dozen."""
    d = np.asarray(d_held, dtype=np.float64)
    if len(d) < 2:
        return float("nan")
    order = np.sort(d)
    hits = 0
    for v in d:
        others = np.delete(order, np.searchsorted(order, v))  # the sorted rest
        hits += v < np.percentile(others, 1)
    return hits / len(d)
