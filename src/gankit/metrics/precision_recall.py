"""Improved precision/recall and density/coverage from k-nearest-neighbour balls in feature space.

Papers: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative
Models" (k = 3); Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
Models" (density and coverage, k = 5). Reference implementations: StyleGAN2-ADA
``metrics/precision_recall.py`` (``kthvalue(k + 1)`` of the distances, the point itself
counted, and ``dist <= radius``) and clovaai/generative-evaluation-prdc ``prdc.py``
(``compute_prdc``, strict ``dist < radius``). Radii are kept in float32 (StyleGAN2-ADA rounds
them to float16). Distances are ``torch.cdist`` on row batches, so memory is
``batch_size x N`` floats, never ``N x N``.

    r_k(x)    = distance from x to its k-th nearest neighbour in its own set (x excluded)
    precision = mean over fakes  y of [ exists real x: ||y - x|| <= r_k(x) ]
    recall    = mean over reals  x of [ exists fake y: ||x - y|| <= r_k(y) ]
    density   = 1/(k M) sum over fakes y of #{ real x: ||y - x|| < r_k(x) }
    coverage  = mean over reals  x of [ nearest fake is closer than r_k(x) ]
"""

from __future__ import annotations

import numpy as np
import torch


def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if t.ndim != 2:
        raise ValueError(f"need features (N, d), got shape {tuple(t.shape)}")
    return t


def kth_nn_radii(feats: np.ndarray | torch.Tensor, k: int, batch_size: int = 1024) -> torch.Tensor:
    """Distance from each row to its k-th nearest *other* row, float32 ``(N,)``."""
    x = _as_tensor(feats)
    if len(x) <= k:
        raise ValueError(f"need more than k={k} samples for k-NN radii, got {len(x)}")
    out = []
    for rows in x.split(batch_size):
        d = torch.cdist(rows, x)  # (B, N); the row itself is at distance ~0
        out.append(d.kthvalue(k + 1, dim=1).values)
    return torch.cat(out)


def _ball_counts(
    probes: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, strict: bool, batch_size: int
) -> torch.Tensor:
    """For each probe, how many balls B(centre, radius) contain it, int64 ``(len(probes),)``."""
    out = []
    for rows in probes.split(batch_size):
        d = torch.cdist(rows, centres)  # (B, N)
        inside = d < radii[None, :] if strict else d <= radii[None, :]
        out.append(inside.sum(dim=1))
    return torch.cat(out)


def precision_recall(
    real: np.ndarray | torch.Tensor,
    fake: np.ndarray | torch.Tensor,
    k: int = 3,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` against ``real``."""
    r, f = _as_tensor(real), _as_tensor(fake)
    r_real, r_fake = kth_nn_radii(r, k, batch_size), kth_nn_radii(f, k, batch_size)
    precision = (_ball_counts(f, r, r_real, False, batch_size) > 0).float().mean().item()
    recall = (_ball_counts(r, f, r_fake, False, batch_size) > 0).float().mean().item()
    return precision, recall


def density_coverage(
    real: np.ndarray | torch.Tensor,
    fake: np.ndarray | torch.Tensor,
    k: int = 5,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) of ``fake`` against ``real``."""
    r, f = _as_tensor(real), _as_tensor(fake)
    r_real = kth_nn_radii(r, k, batch_size)
    density = _ball_counts(f, r, r_real, True, batch_size).double().sum().item() / (k * len(f))
    nearest_fake = torch.cat(
        [torch.cdist(rows, f).min(dim=1).values for rows in r.split(batch_size)]
    )
    coverage = (nearest_fake < r_real).float().mean().item()
    return density, coverage
