"""DiffAugment: shapes, the exact effect of each operation, differentiability, policy names."""

from __future__ import annotations

import pytest
import torch

from gankit.errors import ConfigError
from gankit.models import augment


def test_empty_policy_is_identity():
    x = torch.randn(4, 1, 8, 8)
    assert augment.diff_augment(x, "") is x


def test_translation_shifts_by_whole_pixels_and_fills_with_zero():
    torch.manual_seed(0)
    x = torch.rand(16, 2, 8, 8) + 1.0  # strictly positive: zeros can only come from the fill
    y = augment.rand_translation(x)  # shift in [-1, 1] for 8 px (8 * 0.125)
    assert y.shape == x.shape
    for i in range(len(x)):
        matches = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if torch.equal(y[i], _shift(x[i], dy, dx))
        ]
        assert len(matches) == 1, f"sample {i} is not a whole-pixel shift"


def _shift(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    out = torch.zeros_like(img)
    h, w = img.shape[1:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = img[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_cutout_zeroes_one_square_of_half_the_size_at_most():
    torch.manual_seed(0)
    x = torch.ones(64, 3, 8, 8)
    y = augment.rand_cutout(x)
    zeros = (y == 0).all(dim=1)  # (B, H, W): the cut is the same in every channel
    assert ((y == 0) | (y == 1)).all()
    per_image = zeros.flatten(1).sum(1)
    assert per_image.max() == 16 and per_image.min() >= 4  # a 4x4 square, clipped at borders
    for i in range(len(x)):
        rows, cols = zeros[i].any(1).nonzero(), zeros[i].any(0).nonzero()
        assert len(rows) * len(cols) == per_image[i]  # a rectangle


def test_color_keeps_shape_and_gradients_flow_through_every_policy():
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    y = augment.diff_augment(x, "color,translation,cutout")
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unknown_policy_is_a_config_error_naming_the_allowed_ones():
    with pytest.raises(ConfigError, match="allowed: color, translation, cutout"):
        augment.parse_policy("translation,flip")
