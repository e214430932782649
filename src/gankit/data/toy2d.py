"""2-D toy distributions: the standard mode-collapse tests for GANs.

``ring``: 8 Gaussians on the unit circle, sigma 0.01; ``grid``: 25 Gaussians at
{-4, -2, 0, 2, 4}^2, sigma 0.05 (both as in VEEGAN / PacGAN / Unrolled GAN experiments);
``swissroll``: the 2-D swiss roll of the WGAN-GP toy script (``gan_toy.py``), no modes.
The points are drawn once from a ``torch.Generator`` seeded by ``seed``: float32 ``(N, 2)``.
"""

from __future__ import annotations

import math

import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.registry import register_dataset

DEFAULT_SIZE = 50_000
RING_SIGMA = 0.01
GRID_SIGMA = 0.05
# WGAN-GP gan_toy.py: make_swiss_roll(noise=0.25), keep (x, z), divide by 7.5.
SWISSROLL_NOISE = 0.25
SWISSROLL_SCALE = 7.5


def ring_modes(k: int = 8, radius: float = 1.0) -> torch.Tensor:
    """The ``(k, 2)`` centres of ``k`` modes evenly spaced on a circle, the first at (radius, 0)."""
    angle = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    return (radius * torch.stack([angle.cos(), angle.sin()], dim=1)).float()  # (k, 2)


def grid_modes(values: tuple[float, ...] = (-4.0, -2.0, 0.0, 2.0, 4.0)) -> torch.Tensor:
    """The ``(len(values)**2, 2)`` centres of a square grid, row by row (x varies fastest)."""
    v = torch.tensor(values, dtype=torch.float32)
    gy, gx = torch.meshgrid(v, v, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # (K, 2)


def _mixture(
    name: str, modes: torch.Tensor, sigma: float, cfg: DataConfig, seed: int
) -> ArrayDataset:
    """N points from an equal-weight Gaussian mixture; y = the mode each point came from."""
    n = cfg.limit or DEFAULT_SIZE
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(len(modes), (n,), generator=g)
    x = modes[y] + sigma * torch.randn(n, 2, generator=g)  # (N, 2)
    info = DataInfo(
        name=name,
        kind="points",
        shape=(2,),
        num_classes=len(modes),
        class_names=[f"mode {i}" for i in range(len(modes))],
        modes=[(float(a), float(b)) for a, b in modes.tolist()],
        sigma=sigma,
    )
    return ArrayDataset(x=x.float(), y=y.long(), info=info)


@register_dataset("ring")
def load_ring(cfg: DataConfig, seed: int) -> ArrayDataset:
    """8 Gaussians on the unit circle, sigma 0.01."""
    return _mixture("ring", ring_modes(), RING_SIGMA, cfg, seed)


@register_dataset("grid")
def load_grid(cfg: DataConfig, seed: int) -> ArrayDataset:
    """25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, sigma 0.05."""
    return _mixture("grid", grid_modes(), GRID_SIGMA, cfg, seed)


@register_dataset("swissroll")
def load_swissroll(cfg: DataConfig, seed: int) -> ArrayDataset:
    """The 2-D swiss roll, t in [1.5 pi, 4.5 pi], divided by 7.5 (within about [-1.6, 2]); no modes.

    ``info.sigma`` is the std of the Gaussian noise added around the curve.
    """
    n = cfg.limit or DEFAULT_SIZE
    g = torch.Generator().manual_seed(seed)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g, dtype=torch.float64))
    curve = torch.stack([t * t.cos(), t * t.sin()], dim=1)  # (N, 2)
    x = (curve + SWISSROLL_NOISE * torch.randn(n, 2, generator=g, dtype=torch.float64)).div(
        SWISSROLL_SCALE
    )
    info = DataInfo(
        name="swissroll",
        kind="points",
        shape=(2,),
        modes=None,
        sigma=SWISSROLL_NOISE / SWISSROLL_SCALE,
    )
    return ArrayDataset(x=x.float(), y=None, info=info)
