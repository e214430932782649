"""Divergences for 2-D toys: JSD and KL between histograms, and the discriminator's JSD estimate.

Papers: Goodfellow et al. 2014, "Generative Adversarial Nets" (at the optimal discriminator the
value function is V(D*, G) = -log 4 + 2 JSD(p_data || p_g), Theorem 1); Lin 1991, "Divergence
measures based on the Shannon entropy" (JSD). Reference implementation: ``scipy.spatial.distance
.jensenshannon`` squared (it returns the square root) for the JSD of two probability vectors.

Histogram choices, all arguments:

* grid: ``bins x bins`` equal cells over the real points' bounding box widened by ``margin``
  (10 %) of its span on every side; ``range`` overrides it. The grid is set by the real data
  alone so that scores of different models share one grid.
* fake points outside the grid are clipped into the border cells (not dropped), so junk far
  from the data counts against the model.
* JSD needs no smoothing (0 log 0 = 0). KL does: both histograms get ``eps`` (1e-6) probability
  added to every cell and are renormalised, ``p' = (p + eps) / (1 + eps * bins^2)``.
* natural log by default: JSD in nats lies in [0, log 2]; ``base=2`` gives bits in [0, 1].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _log(x: np.ndarray, base: float | None) -> np.ndarray:
    return np.log(x) if base is None else np.log(x) / math.log(base)


def jensen_shannon(p: np.ndarray, q: np.ndarray, base: float | None = None) -> float:
    """JSD(p, q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2; nats (max log 2) or ``base``."""
    p = np.asarray(p, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64).ravel()
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)
    js = 0.0
    for a in (p, q):
        nz = a > 0  # 0 log 0 = 0, and m > 0 wherever a > 0
        js += 0.5 * float(np.sum(a[nz] * _log(a[nz] / m[nz], base)))
    return max(js, 0.0)


def kl_divergence(
    p: np.ndarray, q: np.ndarray, eps: float = 1e-6, base: float | None = None
) -> float:
    """KL(p || q) = sum p log(p / q) after adding ``eps`` to every cell of both, renormalised."""
    p = np.asarray(p, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64).ravel()
    p = (p / p.sum() + eps) / (1 + eps * p.size)
    q = (q / q.sum() + eps) / (1 + eps * q.size)
    return float(np.sum(p * _log(p / q, base)))


def histogram_grid(
    real: np.ndarray, bins: int = 50, margin: float = 0.1
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The ((xmin, xmax), (ymin, ymax)) grid: real bounding box widened by ``margin`` x span."""
    r = np.asarray(real, dtype=np.float64)
    lo, hi = r.min(axis=0), r.max(axis=0)
    pad = np.maximum(hi - lo, 1e-6) * margin
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    )


def histogram2d(
    points: np.ndarray, bins: int, range: tuple[tuple[float, float], tuple[float, float]]
) -> np.ndarray:
    """Counts ``(bins, bins)`` of ``points (N, 2)``; points outside ``range`` go to border cells."""
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"need points (N, 2), got shape {x.shape}")
    (x0, x1), (y0, y1) = range
    # clip into the grid, just inside the upper edge so the last cell takes it
    xs = np.clip(x[:, 0], x0, np.nextafter(x1, x0))
    ys = np.clip(x[:, 1], y0, np.nextafter(y1, y0))
    counts, _, _ = np.histogram2d(xs, ys, bins=bins, range=[[x0, x1], [y0, y1]])
    return counts


def histogram_divergences(
    real: np.ndarray,
    fake: np.ndarray,
    bins: int = 50,
    range: tuple[tuple[float, float], tuple[float, float]] | None = None,
    eps: float = 1e-6,
    base: float | None = None,
) -> dict[str, float]:
    """JSD, KL(real || fake) and KL(fake || real) between 2-D histograms on one grid."""
    grid = range if range is not None else histogram_grid(real, bins)
    p, q = histogram2d(real, bins, grid), histogram2d(fake, bins, grid)
    return {
        "jsd": jensen_shannon(p, q, base),
        "kl_real_fake": kl_divergence(p, q, eps, base),
        "kl_fake_real": kl_divergence(q, p, eps, base),
    }


def jsd_from_discriminator(
    mean_log_d_real: float, mean_log_1m_d_fake: float
) -> tuple[float, float]:
    """The GAN value V and the JSD it implies if D were optimal, in nats.

    V = E[log D(x)] + E[log(1 - D(G(z)))]; at the optimal D, V = -log 4 + 2 JSD, so
    JSD_est = (V + log 4) / 2. For a D short of optimal this is a lower bound (in expectation).
    """
    v = float(mean_log_d_real) + float(mean_log_1m_d_fake)
    return v, (v + math.log(4.0)) / 2.0


def jsd_from_logits(d_real_logits: Any, d_fake_logits: Any) -> tuple[float, float]:
    """``jsd_from_discriminator`` from raw D logits (D = sigmoid), numerically stable.

    log D(x) = logsigmoid(l), log(1 - D(G(z))) = logsigmoid(-l). Accepts arrays or tensors.
    """
    import torch
    import torch.nn.functional as F

    lr = torch.as_tensor(d_real_logits, dtype=torch.float64)
    lf = torch.as_tensor(d_fake_logits, dtype=torch.float64)
    return jsd_from_discriminator(F.logsigmoid(lr).mean().item(), F.logsigmoid(-lf).mean().item())
