"""``textures``: crops of the bundled texture photographs (scikit-image's brick, grass and gravel,
512×512 grey), the game-texture case of super-resolution.

Random ``data.image_size`` crops (64 px by default, a fixed seed, the same for every run) of
brick and grass train; gravel is held out whole, so the held-out figures measure a texture the
model never saw, not other crops of the same photograph.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.errors import DataError
from gankit.registry import register_dataset

TRAIN_TEXTURES = ("brick", "grass")
HELD_TEXTURES = ("gravel",)
CROPS_PER_TRAIN_TEXTURE, CROPS_PER_HELD_TEXTURE = 600, 64
CROP_SEED = 0
TEXTURE_SIDE = 512


def bundled_texture(name: str) -> np.ndarray:
    """A bundled texture as uint8 (H, W)."""
    import skimage.data

    return np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)


def texture_crops(names: tuple[str, ...], per: int, size: int, rng) -> np.ndarray:
    """``per`` random ``size`` crops of each texture: uint8 (N, 1, size, size)."""
    crops = []
    for name in names:
        img = bundled_texture(name)
        h, w = img.shape
        ys = rng.integers(0, h - size + 1, per)
        xs = rng.integers(0, w - size + 1, per)
        crops += [img[y : y + size, x : x + size][None] for y, x in zip(ys, xs, strict=True)]
    return np.stack(crops)


@register_dataset("textures")
def load_textures(cfg: DataConfig, seed: int) -> ArrayDataset:
    """Grey crops of brick and grass for training, of gravel held out."""
    size = cfg.image_size or 64
    if not 8 <= size <= TEXTURE_SIDE:
        raise DataError(f"data.image_size={size}: textures crops must be 8..{TEXTURE_SIDE} px")
    rng = np.random.default_rng(CROP_SEED)
    train = texture_crops(TRAIN_TEXTURES, CROPS_PER_TRAIN_TEXTURE, size, rng)
    held = texture_crops(HELD_TEXTURES, CROPS_PER_HELD_TEXTURE, size, rng)
    x = torch.from_numpy(np.concatenate([train, held]))
    is_held = torch.zeros(len(x), dtype=torch.bool)
    is_held[len(train) :] = True
    info = DataInfo(name="textures", kind="images", shape=(1, size, size))
    return ArrayDataset(x=x, y=None, info=info, held=is_held, augment=(cfg.flip, cfg.jitter))
