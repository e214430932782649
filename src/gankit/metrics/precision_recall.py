"""Improved precision/recall and density/coverage from k-nearest-neighbour balls in feature space.

Papers: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
Models" (k = 3); Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
Models" (density and coverage, k = 5). Reference implementations: StyleGAN2-ADA
``metrics/precision_recall.py`` (``kthvalue(k + 1)`` of the distances, the point itself
counted, and ``dist <= radius``) and clovaai/generative-evaluation-prdc ``prdc.py``
(``compute_prdc``, strict ``dist < radius``). Radii are kept in float32 (StyleGAN2-ADA rounds
them to float16). Distances are ``torch.cdist`` on row batches, so memory is
``batch_size x N`` floats, never ``N x N``; ``prdc`` gets all four numbers from one sweep over
real x fake distances plus one k-NN pass per set.

    r_k(x)    = distance from x to its k-th nearest neighbour in its own set (x excluded)
    precision = mean over fakes  y of [ exists real x: ||y - x|| <= r_k(x) ]
    recall    = mean over reals  x of [ exists fake y: ||x - y|| <= r_k(y) ]
    density   = 1/(k M) sum over fakes y of #{ real x: ||y - x|| < r_k(x) }
    coverage  = mean over reals  x of [ nearest fake is closer than r_k(x) ]

Known failure mode (Naeem et al. 2020, section 3): a real outlier has a large k-NN ball, and
fakes far from the data can fall inside it. With gankit's MNIST classifier, uniform noise images
all map to one spot (classified "8") inside a few such balls: precision 0.998 and density 0.81,
while recall 0, coverage 0.02, FID and the classifier score flag the noise. Read precision next
to coverage and FID, never alone (bench/sanity_metrics.py prints these rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(np.require(x, np.float32, ["W"]))  # writable: no torch warning
    if t.ndim != 2:
        raise ValueError(f"need features (N, d), got shape {tuple(t.shape)}")
    return t


def knn_radii(
    feats: np.ndarray | torch.Tensor, ks: Sequence[int], batch_size: int = 1024
) -> dict[int, torch.Tensor]:
    """For each k in ``ks``: distance from each row to its k-th nearest *other* row, ``(N,)``."""
    x = _as_tensor(feats)
    k_max = max(ks)
    if len(x) <= k_max:
        raise ValueError(f"need more than k={k_max} samples for k-NN radii, got {len(x)}")
    out = []
    for rows in x.split(batch_size):
        d = torch.cdist(rows, x)  # (B, N); the row itself is at distance ~0
        out.append(d.topk(k_max + 1, dim=1, largest=False).values)  # (B, k_max + 1), sorted
    nearest = torch.cat(out)  # (N, k_max + 1); column 0 is the point itself
    return {k: nearest[:, k].contiguous() for k in ks}


def kth_nn_radii(feats: np.ndarray | torch.Tensor, k: int, batch_size: int = 1024) -> torch.Tensor:
    """Distance from each row to its k-th nearest *other* row, float32 ``(N,)``."""
    return knn_radii(feats, (k,), batch_size)[k]


@dataclass
class PRDC:
    """Precision and recall (k = ``k_pr``), density and coverage (k = ``k_dc``)."""

    precision: float
    recall: float
    density: float
    coverage: float


def prdc(
    real: np.ndarray | torch.Tensor,
    fake: np.ndarray | torch.Tensor,
    k_pr: int | None = 3,
    k_dc: int | None = 5,
    batch_size: int = 1024,
) -> PRDC:
    """All four metrics from one sweep over real x fake distances (plus the k-NN radii).

    ``k_pr=None`` skips precision/recall (NaN), ``k_dc=None`` skips density/coverage.
    """
    r, f = _as_tensor(real), _as_tensor(fake)
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"real and fake features differ in width: {r.shape[1]} vs {f.shape[1]}")
    ks = tuple(k for k in (k_pr, k_dc) if k is not None)
    if not ks:
        raise ValueError("nothing to compute: k_pr and k_dc are both None")
    r_real = knn_radii(r, ks, batch_size)
    r_fake = knn_radii(f, (k_pr,), batch_size)[k_pr] if k_pr is not None else None
    fake_in_real = torch.zeros(len(f), dtype=torch.bool)  # precision: in some real ball
    density_count = torch.zeros(len(f), dtype=torch.float64)  # real balls holding each fake
    recalled, nearest_fake = [], []
    for start in range(0, len(r), batch_size):
        rows = r[start : start + batch_size]
        d = torch.cdist(rows, f)  # (B, M): these reals x all fakes
        if k_pr is not None:
            rad = r_real[k_pr][start : start + batch_size, None]  # (B, 1)
            fake_in_real |= (d <= rad).any(dim=0)
            recalled.append((d <= r_fake[None, :]).any(dim=1))
        if k_dc is not None:
            rad = r_real[k_dc][start : start + batch_size, None]
            density_count += (d < rad).sum(dim=0)
            nearest_fake.append(d.min(dim=1).values)
    nan = float("nan")
    return PRDC(
        precision=fake_in_real.float().mean().item() if k_pr is not None else nan,
        recall=torch.cat(recalled).float().mean().item() if k_pr is not None else nan,
        density=density_count.sum().item() / (k_dc * len(f)) if k_dc is not None else nan,
        coverage=(torch.cat(nearest_fake) < r_real[k_dc]).float().mean().item()
        if k_dc is not None
        else nan,
    )


def precision_recall(
    real: np.ndarray | torch.Tensor,
    fake: np.ndarray | torch.Tensor,
    k: int = 3,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` against ``real``."""
    out = prdc(real, fake, k_pr=k, k_dc=None, batch_size=batch_size)
    return out.precision, out.recall


def density_coverage(
    real: np.ndarray | torch.Tensor,
    fake: np.ndarray | torch.Tensor,
    k: int = 5,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) of ``fake`` against ``real``."""
    out = prdc(real, fake, k_pr=None, k_dc=k, batch_size=batch_size)
    return out.density, out.coverage
