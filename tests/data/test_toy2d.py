"""2-D toys: mode centres, samples around them, determinism."""

from __future__ import annotations

import math

import pytest
import torch

from gankit.data import DataConfig, load_dataset
from gankit.data.toy2d import grid_modes, ring_modes


def test_ring_modes_on_unit_circle():
    m = ring_modes()
    assert m.shape == (8, 2) and m.dtype == torch.float32
    torch.testing.assert_close(m.norm(dim=1), torch.ones(8))
    torch.testing.assert_close(m[0], torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(m[2], torch.tensor([0.0, 1.0]), atol=1e-6, rtol=0)


def test_grid_modes():
    m = grid_modes()
    assert m.shape == (25, 2)
    assert set(m[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert len({tuple(p) for p in m.tolist()}) == 25


@pytest.mark.parametrize(("name", "modes", "sigma"), [("ring", 8, 0.01), ("grid", 25, 0.05)])
def test_mixture_samples_lie_near_their_modes(name, modes, sigma):
    ds = load_dataset(DataConfig(name=name, limit=20_000), seed=1)
    assert ds.x.shape == (20_000, 2) and ds.x.dtype == torch.float32
    assert ds.y.dtype == torch.int64 and ds.info.kind == "points" and ds.info.shape == (2,)
    assert ds.info.num_classes == modes and len(ds.info.modes) == modes
    assert ds.info.sigma == sigma
    centres = torch.tensor(ds.info.modes)
    resid = ds.x - centres[ds.y]  # (N, 2): Gaussian noise around each point's mode
    assert abs(resid.std().item() - sigma) < 0.05 * sigma
    assert resid.mean(0).abs().max().item() < 0.05 * sigma
    # every point's nearest centre is its own mode, and all modes are used about equally
    assert torch.equal(torch.cdist(ds.x, centres).argmin(1), ds.y)
    counts = torch.bincount(ds.y, minlength=modes).float()
    assert counts.min() > 0.8 * counts.mean()


def test_default_size_and_swissroll():
    ds = load_dataset(DataConfig(name="swissroll"), seed=0)
    assert ds.x.shape == (50_000, 2) and ds.y is None and ds.info.modes is None
    r = ds.x.norm(dim=1) * 7.5  # radius ~ t in [1.5 pi, 4.5 pi], blurred by the noise
    assert r.min() > 1.5 * math.pi - 1.5 and r.max() < 4.5 * math.pi + 1.5


@pytest.mark.parametrize("name", ["ring", "grid", "swissroll"])
def test_same_seed_same_points(name):
    a = load_dataset(DataConfig(name=name, limit=1000), seed=3)
    b = load_dataset(DataConfig(name=name, limit=1000), seed=3)
    c = load_dataset(DataConfig(name=name, limit=1000), seed=4)
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
