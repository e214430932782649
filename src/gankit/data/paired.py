"""Paired datasets built from the bundled real data: an input image for every target image.

* ``edges2digits``: A = Canny edges of a bundled MNIST digit (``skimage.feature.canny``, σ 1.0,
  uint8 {0, 255}), B = the digit; 28×28, one channel; labels kept (the source digit's class).
* ``edges2photos``: random 64×64 crops (``data.image_size``) of the bundled colour photos,
  A = their Canny edges (σ 2 on the luminance of the whole photo) drawn as dark lines on white,
  as a user's pencil sketch is, B = the colour crop; held out by whole photo, not by crop.
* ``photos``: the same colour crops alone (the clean images that restoration families degrade
  on the fly); the same photos held out.

Every application dataset built from the bundled digits uses one split (``digit_split``): the
first 400 of each class (in the bundled order) train, the last 100 of each class are held out.
The held-out samples are what the sample grids, ``gankit eval`` and the model cards use.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.data.mnist import DIGIT_NAMES, _mnist5k_arrays
from gankit.errors import DataError
from gankit.registry import register_dataset

HELD_PER_CLASS = 100  # the last 100 digits of each class are held out
CROP_SEED = 0  # the photo crops are the same for every run
TRAIN_PHOTOS = ("astronaut", "chelsea", "rocket", "motorcycle", "china", "grace_hopper")
HELD_PHOTOS = ("coffee", "flower")
CROPS_PER_TRAIN_PHOTO, CROPS_PER_HELD_PHOTO = 400, 32
PHOTO_SHORT_SIDE = 256  # photos are resized to this short side before cropping


def digit_split(labels: np.ndarray, held_per_class: int = HELD_PER_CLASS) -> torch.Tensor:
    """bool mask: True for the last ``held_per_class`` samples of each class (bundled order)."""
    held = np.zeros(len(labels), dtype=bool)
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        held[idx[-held_per_class:]] = True
    return torch.from_numpy(held)


def canny_edges(gray: np.ndarray, sigma: float) -> np.ndarray:
    """Canny edges of a float image in [0, 1] as uint8 {0, 255}."""
    from skimage.feature import canny

    return canny(gray, sigma=sigma).astype(np.uint8) * 255


@register_dataset("edges2digits")
def load_edges2digits(cfg: DataConfig, seed: int) -> ArrayDataset:
    """The 5,000 bundled digits as (edges, digit) pairs, 28×28, with the digit split."""
    x, y = _mnist5k_arrays()
    edges = np.stack([canny_edges(d / 255.0, sigma=1.0) for d in x])
    info = DataInfo(
        name="edges2digits",
        kind="images",
        shape=(1, 28, 28),
        num_classes=10,
        class_names=list(DIGIT_NAMES),
        inputs={"source": (1, 28, 28)},
    )
    ds = ArrayDataset(
        x=torch.from_numpy(x.copy()).unsqueeze(1),
        y=torch.from_numpy(y.copy()),
        info=info,
        inputs={"source": torch.from_numpy(edges).unsqueeze(1)},
        held=digit_split(y),
        augment=(cfg.flip, cfg.jitter),
    )
    return limit_classes(ds, cfg.limit)


def limit_classes(ds: ArrayDataset, limit: int | None) -> ArrayDataset:
    """The first ``limit`` // 10 train and held-out samples of each class (a quick subset)."""
    if limit is None:
        return ds
    keep = torch.zeros(len(ds), dtype=torch.bool)
    per = max(1, limit // max(ds.info.num_classes, 1))
    for k in range(ds.info.num_classes):
        for side in (ds.held, ~ds.held):
            idx = ((ds.y == k) & side).nonzero().squeeze(1)
            keep[idx[:per]] = True
    sub = ds.subset(keep.nonzero().squeeze(1))
    sub.held = ds.held[keep]
    return sub


def bundled_photo(name: str) -> np.ndarray:
    """A bundled colour photo as uint8 (H, W, 3)."""
    if name == "china" or name == "flower":
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(f"{name}.jpg"))
    if name == "grace_hopper":
        import matplotlib.cbook
        from PIL import Image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            return np.asarray(Image.open(f).convert("RGB"))
    import skimage.data

    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    return np.asarray(getattr(skimage.data, name)())[..., :3]


def _resize_short(rgb: np.ndarray, short: int) -> np.ndarray:
    from PIL import Image

    h, w = rgb.shape[:2]
    s = short / min(h, w)
    size = (max(short, round(w * s)), max(short, round(h * s)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def photo_crops(
    names: tuple[str, ...], per_photo: int, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``per_photo`` random ``size`` crops of each photo: (edges (N, 1, s, s), colour (N, 3, s, s))."""
    from skimage.color import rgb2gray

    edges, colour = [], []
    for name in names:
        rgb = _resize_short(bundled_photo(name), PHOTO_SHORT_SIDE)
        e = 255 - canny_edges(rgb2gray(rgb), sigma=2.0)  # dark lines on white, like a sketch
        h, w = e.shape
        ys = rng.integers(0, h - size + 1, per_photo)
        xs = rng.integers(0, w - size + 1, per_photo)
        for y0, x0 in zip(ys, xs, strict=True):
            edges.append(e[y0 : y0 + size, x0 : x0 + size][None])
            colour.append(rgb[y0 : y0 + size, x0 : x0 + size].transpose(2, 0, 1))
    return np.stack(edges), np.stack(colour)


def _photo_size(cfg: DataConfig, dataset: str) -> int:
    size = cfg.image_size or 64
    if not 16 <= size <= PHOTO_SHORT_SIDE:
        raise DataError(
            f"data.image_size={size}: {dataset} crops must be 16..{PHOTO_SHORT_SIDE} px"
        )
    return size


def _split_crops(size: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """(edges, colour, held) for the training photos' crops followed by the held-out photos'."""
    rng = np.random.default_rng(CROP_SEED)
    parts = [
        photo_crops(TRAIN_PHOTOS, CROPS_PER_TRAIN_PHOTO, size, rng),
        photo_crops(HELD_PHOTOS, CROPS_PER_HELD_PHOTO, size, rng),
    ]
    held = torch.zeros(sum(len(p[0]) for p in parts), dtype=torch.bool)
    held[len(parts[0][0]) :] = True
    edges = np.concatenate([p[0] for p in parts])
    colour = np.concatenate([p[1] for p in parts])
    return edges, colour, held


@register_dataset("edges2photos")
def load_edges2photos(cfg: DataConfig, seed: int) -> ArrayDataset:
    """(edges, photo) crops of the bundled colour photos; coffee and flower are held out."""
    size = _photo_size(cfg, "edges2photos")
    edges, colour, held = _split_crops(size)
    info = DataInfo(
        name="edges2photos",
        kind="images",
        shape=(3, size, size),
        inputs={"source": (1, size, size)},
    )
    return ArrayDataset(
        x=torch.from_numpy(colour),
        y=None,
        info=info,
        inputs={"source": torch.from_numpy(edges)},
        held=held,
        augment=(cfg.flip, cfg.jitter),
    )


@register_dataset("photos")
def load_photos(cfg: DataConfig, seed: int) -> ArrayDataset:
    """Colour crops of the bundled photos (the crops of edges2photos); coffee and flower are
    held out, by whole photo."""
    size = _photo_size(cfg, "photos")
    _, colour, held = _split_crops(size)
    info = DataInfo(name="photos", kind="images", shape=(3, size, size))
    return ArrayDataset(
        x=torch.from_numpy(colour), y=None, info=info, held=held, augment=(cfg.flip, cfg.jitter)
    )


def reverse_pairs(ds: ArrayDataset) -> ArrayDataset:
    """``data.direction=BA``: the target becomes the input and the input the target."""
    if "source" not in ds.inputs:
        raise DataError(
            f"data.direction=BA reverses paired data; dataset {ds.info.name!r} is not paired"
        )
    info = ds.info.model_copy(
        update={"shape": ds.info.inputs["source"], "inputs": {"source": ds.info.shape}}
    )
    return ArrayDataset(
        x=ds.inputs["source"],
        y=ds.y,
        info=info,
        extra=ds.extra,
        inputs={"source": ds.x},
        held=ds.held,
        augment=ds.augment,
    )
