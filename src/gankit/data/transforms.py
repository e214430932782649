"""The few image transforms gankit needs, on whole uint8 batches or single Pillow images.

Batches are uint8 tensors ``(N, C, H, W)`` and are transformed in one vectorised call (chunked
only to bound memory). Single images of different sizes (the ``folder`` loader) are squared
and resized with Pillow as they are read. No torchvision.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.errors import DataError

# ITU-R 601-2 luma, the weights Pillow uses for convert("L").
_LUMA = (0.299, 0.587, 0.114)

# Images per interpolate call: 4096 float images of 3x256x256 are ~3 GB, so shrink with size.
_CHUNK_PIXELS = 2**27


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 ``(N, C, H, W)`` to ``(N, C, size, size)``: bilinear with antialiasing.

    Antialiasing makes downscaling average the covered pixels (like Pillow) instead of
    sampling them; upscaling is plain bilinear. Non-square input is stretched: crop first.
    """
    _check_batch(x)
    n, c, h, w = x.shape
    if (h, w) == (size, size):
        return x
    out = torch.empty((n, c, size, size), dtype=torch.uint8)
    step = max(1, _CHUNK_PIXELS // max(1, c * max(h * w, size * size)))
    for i in range(0, n, step):
        chunk = x[i : i + step].float()
        chunk = F.interpolate(
            chunk, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
        out[i : i + step] = chunk.round_().clamp_(0, 255).to(torch.uint8)
    return out


def frame(x: torch.Tensor, size: int, margin: int) -> torch.Tensor:
    """Resize uint8 ``(N, C, H, W)`` into the centre of a black ``size`` x ``size`` canvas,
    leaving ``margin`` px on each side (``resize`` to ``size - 2 * margin``, then pad)."""
    inner = resize(x, size - 2 * margin)
    if margin == 0:
        return inner
    out = torch.zeros((x.shape[0], x.shape[1], size, size), dtype=torch.uint8)
    out[..., margin : margin + inner.shape[-2], margin : margin + inner.shape[-1]] = inner
    return out


def center_crop(x: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """Crop uint8 ``(N, C, H, W)`` to the central ``size`` square (default: the shorter side)."""
    _check_batch(x)
    h, w = x.shape[-2:]
    size = min(h, w) if size is None else size
    if size > min(h, w):
        raise DataError(f"cannot crop {h}x{w} images to {size}x{size}; size must be <= {min(h, w)}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size]


def to_grayscale(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 3, H, W)`` -> ``(N, 1, H, W)`` with Pillow's luma weights; 1 channel passes."""
    _check_batch(x)
    if x.shape[1] == 1:
        return x
    if x.shape[1] != 3:
        raise DataError(f"to_grayscale needs 1 or 3 channels, got {x.shape[1]}")
    w = torch.tensor(_LUMA, dtype=torch.float32).view(1, 3, 1, 1)
    gray = (x.float() * w).sum(dim=1, keepdim=True)  # (N, 1, H, W)
    return gray.round_().clamp_(0, 255).to(torch.uint8)


def to_rgb(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 1, H, W)`` -> ``(N, 3, H, W)`` by repeating the channel; 3 channels pass."""
    _check_batch(x)
    if x.shape[1] == 3:
        return x
    if x.shape[1] != 1:
        raise DataError(f"to_rgb needs 1 or 3 channels, got {x.shape[1]}")
    return x.repeat(1, 3, 1, 1).contiguous()


def set_channels(x: torch.Tensor, channels: int | None) -> torch.Tensor:
    """Convert a uint8 batch to ``channels`` (1 or 3); None keeps what it has."""
    if channels is None:
        return x
    if channels == 1:
        return to_grayscale(x)
    if channels == 3:
        return to_rgb(x)
    raise DataError(f"channels must be 1, 3 or None, got {channels!r}")


def fit_images(x: torch.Tensor, image_size: int | None, channels: int | None) -> torch.Tensor:
    """Apply ``data.image_size`` (square resize; None keeps) and ``data.channels`` to a batch."""
    if image_size is not None:
        x = resize(center_crop(x), image_size)
    return set_channels(x, channels)


def square_resize_pil(img: Image.Image, size: int) -> Image.Image:
    """One Pillow image -> its central square, resized to ``size`` x ``size`` with Lanczos.

    Lanczos on the full-resolution image antialiases when shrinking (as in stylegan2-ada's
    ``dataset_tool.py`` center-crop).
    """
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    img = img.crop((left, top, left + s, top + s))
    if s != size:
        img = img.resize((size, size), Image.Resampling.LANCZOS)
    return img


def stratified_subset(labels: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``limit`` samples with the classes as balanced as possible.

    Each class is shuffled with a generator seeded by ``seed``; samples are then taken
    round-robin over the classes (first of each class, then second of each ...), so
    ``limit=10`` on ten classes gives one of each. The result keeps the data's order.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if limit >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    shuffled = labels[perm]
    # rank of each shuffled sample within its class: 0 for the first of a class, 1 for the next ...
    order = np.argsort(shuffled, kind="stable")
    sorted_labels = shuffled[order]
    starts = np.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts
    # round-robin: by rank, then by class
    pick = np.lexsort((shuffled, rank))[:limit]
    return np.sort(perm[pick])


def _check_batch(x: torch.Tensor) -> None:
    assert x.dtype == torch.uint8 and x.ndim == 4, (x.dtype, tuple(x.shape))
