"""Mode coverage: the toy 2-D protocol of VEEGAN/PacGAN and Stacked MNIST's 1,000 modes.

Papers: Srivastava et al. 2017, "VEEGAN" (ring of 8 / grid of 25 Gaussians; 2,500 samples; a
sample is high quality within 3 sigma of its nearest mode; modes covered); Lin et al. 2018,
"PacGAN" (the same protocol, plus the "reverse KL" between the generated mode distribution and
the uniform one); Metz et al. 2017, "Unrolled GANs" (Stacked MNIST: three digits as the RGB
channels, 1,000 modes, counted with a pretrained digit classifier). Reference implementations:
PacGAN's and VEEGAN's evaluation scripts follow these definitions; this module writes them out
so that every choice is visible:

* high quality (HQ): ``min_i ||x - m_i|| <= n_std * sigma`` (n_std = 3);
* a mode is covered if it is the nearest mode of at least ``min_count`` HQ samples (1);
* ``q`` = histogram of the nearest modes of the HQ samples, normalised over HQ samples only;
* ``reverse_kl`` = KL(q || uniform over K modes) = sum_i q_i log(K q_i), natural log, 0 log 0 = 0.
  It is 0 when HQ samples spread evenly over the modes and log K when they all sit on one mode.
  It is NaN when there is no HQ sample (nothing to histogram).

Stacked MNIST uses the same KL with q the histogram of the 1,000 classes (all samples; the
classifier always gives a digit, there is no quality filter). Because the uniform distribution
over 1,000 classes is the product of three uniform digits, that KL splits exactly into the three
channels' own digit-frequency KLs plus the dependence between channels (``stacked_mnist_kl_parts``);
1,000 classes drawn N times give a dependence of about 999 / (2N) by chance (0.019 at 26,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOY_NUM_SAMPLES = 2500  # the protocol's sample count


@dataclass
class ModeStats:
    """Mode statistics of a set of samples."""

    num_modes: int  # K
    modes_covered: int  # modes that are the nearest mode of >= min_count HQ samples
    high_quality: float  # fraction of samples within n_std * sigma of their nearest mode
    reverse_kl: float  # KL(q || uniform), nats; NaN without HQ samples
    counts: np.ndarray  # (K,) int64, HQ samples per mode
    num_samples: int


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(q || uniform) in nats for ``q = counts / counts.sum()`` over ``len(counts)`` bins."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return float("nan")
    q = c / total
    nz = q > 0
    return float(np.sum(q[nz] * np.log(len(c) * q[nz])))  # sum q log(q / (1/K))


def toy_mode_stats(
    points: np.ndarray,
    modes: np.ndarray,
    sigma: float,
    n_std: float = 3.0,
    min_count: int = 1,
) -> ModeStats:
    """VEEGAN/PacGAN statistics of ``points (N, 2)`` for mode centres ``modes (K, 2)``."""
    x = np.asarray(points, dtype=np.float64)
    m = np.asarray(modes, dtype=np.float64)
    if x.ndim != 2 or m.ndim != 2 or x.shape[1] != m.shape[1] or len(m) == 0:
        raise ValueError(f"need points (N, d) and modes (K, d), got {x.shape} and {m.shape}")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    d = np.linalg.norm(x[:, None, :] - m[None, :, :], axis=2)  # (N, K)
    nearest = d.argmin(axis=1)  # (N,)
    hq = d[np.arange(len(x)), nearest] <= n_std * sigma  # (N,)
    counts = np.bincount(nearest[hq], minlength=len(m)).astype(np.int64)  # (K,)
    return ModeStats(
        num_modes=len(m),
        modes_covered=int((counts >= min_count).sum()),
        high_quality=float(hq.mean()) if len(x) else float("nan"),
        reverse_kl=kl_to_uniform(counts),
        counts=counts,
        num_samples=len(x),
    )


# --------------------------------------------------------------------------------------------
# Stacked MNIST
# --------------------------------------------------------------------------------------------


def stacked_mnist(
    x: np.ndarray,
    n: int,
    seed: int = 0,
    y: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked MNIST: ``n`` images ``(n, 3, 28, 28)`` uint8 made of three random digits.

    ``x`` is uint8 ``(N, 1, 28, 28)``. Channel c holds digit ``x[idx[:, c]]`` (idx drawn with
    replacement, ``numpy.random.default_rng(seed)``). Label = 100 d_R + 10 d_G + d_B in 0..999,
    from ``y`` (the digits' labels) or, without ``y``, from gankit's classifier.
    """
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1] != 1 or x.dtype != np.uint8:
        raise ValueError(f"need uint8 digits (N, 1, H, W), got {x.dtype} {x.shape}")
    if y is None:
        from gankit.metrics.features import predict

        y = predict(x)
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n, 3))  # (n, 3)
    images = x[idx, 0]  # (n, 3, H, W): one digit per channel
    labels = y[idx] @ np.array([100, 10, 1], dtype=np.int64)  # (n,)
    return np.ascontiguousarray(images), labels


def stacked_mnist_labels(images: np.ndarray, model: Any = None) -> np.ndarray:
    """Classify each channel of ``(N, 3, H, W)`` uint8 images -> labels 100 d_R + 10 d_G + d_B."""
    from gankit.metrics.features import predict

    x = np.asarray(images)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"need Stacked MNIST images (N, 3, H, W), got shape {x.shape}")
    n = len(x)
    channels = x.transpose(1, 0, 2, 3).reshape(3 * n, 1, *x.shape[2:])  # (3N, 1, H, W), R then G
    digits = predict(channels, model).reshape(3, n)  # (3, N)
    return 100 * digits[0] + 10 * digits[1] + digits[2]


def stacked_mnist_kl_parts(counts: np.ndarray) -> tuple[list[float], float]:
    """KL(q || uniform) of a ``(1000,)`` class histogram, split into its exact parts.

    Returns ``([KL_R, KL_G, KL_B], dependence)``: each channel's digit frequencies against a
    uniform digit, and KL(q || q_R q_G q_B), the mutual information between the channels. They
    sum to ``kl_to_uniform(counts)``.
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.shape != (1000,):
        raise ValueError(f"need a (1000,) class histogram, got shape {c.shape}")
    cube = c.reshape(10, 10, 10)  # [d_R, d_G, d_B]: label = 100 d_R + 10 d_G + d_B
    channels = [
        kl_to_uniform(cube.sum(axis=tuple(a for a in range(3) if a != k))) for k in range(3)
    ]
    return channels, kl_to_uniform(c) - sum(channels)


def stacked_mnist_mode_stats(
    images: np.ndarray, model: Any = None, num_modes: int = 1000
) -> tuple[int, float, np.ndarray]:
    """Modes covered (of 1,000), KL(q || uniform) in nats, and the ``(1000,)`` class counts."""
    labels = stacked_mnist_labels(images, model)
    counts = np.bincount(labels, minlength=num_modes)
    return int((counts > 0).sum()), kl_to_uniform(counts), counts
