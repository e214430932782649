"""Differentiable augmentation of D's inputs, for GANs trained on little data.

Paper: Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training".
Reference implementation: mit-han-lab/data-efficient-gans ``DiffAugment_pytorch.py``. The same
random transform family is applied to real and to generated images every time D looks at them
(in D's step *and* in G's step), and every operation is differentiable in the pixels, so G's
gradient flows through the augmentation. D then cannot memorise the 5,000 training digits, and
since real and fake are augmented alike, G is not pushed to produce augmented-looking images.

Policies (names as in the reference):

- ``color``: random brightness (+U(-0.5, 0.5)), saturation (x U(0, 2)) and contrast (x U(0.5, 1.5));
- ``translation``: shift by up to 1/8 of the image size in x and y, filling with 0;
- ``cutout``: zero a square of half the image size at a random centre.

Fill value 0 is the reference's (mid-grey in [-1, 1] images). Randomness comes from the global
torch RNG, which the trainer saves in checkpoints, so resumed runs stay bit-exact.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gankit.errors import ConfigError


def rand_brightness(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)


def rand_saturation(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)  # (B, 1, H, W): the grey image
    return (x - mean) * (torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + mean


def rand_contrast(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return (x - mean) * (
        torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5
    ) + mean


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by integers in [-s, s] (s = ratio * size, rounded), filling with 0."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)  # (B, 1, 1)
    dx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) - dy + sh  # (B, H, 1) in padded coords
    cols = torch.arange(w, device=x.device).view(1, 1, w) - dx + sw  # (B, 1, W)
    padded = torch.nn.functional.pad(x, (sw, sw, sh, sh))  # (B, C, H + 2sh, W + 2sw), zeros
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)  # (B, C, H, W)


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a (ratio*H, ratio*W) square centred at a random pixel (clipped at the borders)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)  # (B, 1, 1)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (
        (ys >= cy - ch // 2)
        & (ys < cy - ch // 2 + ch)
        & (xs >= cx - cw // 2)
        & (xs < cx - cw // 2 + cw)
    )  # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, list[Callable[[torch.Tensor], torch.Tensor]]] = {
    "color": [rand_brightness, rand_saturation, rand_contrast],
    "translation": [rand_translation],
    "cutout": [rand_cutout],
}


def parse_policy(policy: str) -> list[str]:
    """``"translation,cutout"`` -> ["translation", "cutout"]; "" -> []; unknown names raise."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    bad = [p for p in names if p not in POLICIES]
    if bad:
        raise ConfigError(
            f"unknown DiffAugment policy {', '.join(bad)!r}; allowed: {', '.join(POLICIES)}"
        )
    return names


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """Apply the comma-separated ``policy`` to images ``(B, C, H, W)``; "" returns ``x``."""
    for name in parse_policy(policy):
        for fn in POLICIES[name]:
            x = fn(x)
    return x
