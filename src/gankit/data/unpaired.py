"""Two-domain (unpaired) datasets: two collections of images that are never matched one to one.

A ``TwoDomainDataset`` holds domain A and domain B as two ``ArrayDataset``s of any sizes; each
batch is ``{"source": A images, "real": B images}`` drawn by two independent samplers (their
positions are saved in every checkpoint, so a resume continues both exactly). Each domain keeps
its own held-out split.

* ``digits2mnist``: A = scikit-learn's 1,797 8×8 digits (values 0..16 scaled to 0..255), framed
  as MNIST frames its digits: resized to 18×18 and centred in 28×28 with a 5-px black margin
  (``transforms.frame``; ``gankit translate`` frames an 8×8 input the same way). An 8×8 digit fills
  its frame, an MNIST digit sits inside a margin; CycleGAN's convolutional generators restyle
  strokes but cannot move or rescale content (Zhu et al. 2017, §5.2), so stretched to the full
  28×28 the digits lose their labels in translation. 18 px also matches MNIST's mean ink.
  B = the 5,000 bundled MNIST digits. The last 297 8×8 digits and the last 100 MNIST digits of each
  class are held out. Labels are kept for scoring only; training never sees them.
* ``photo2cartoon``: A = crops of three of the bundled training photos, B = crops of the three
  *other* training photos passed through ``cartoon`` (edge-preserving smoothing, colour
  quantisation, dark edges). The held-out photos' crops are A, and their filtered versions, in the
  same order, are B: ``held.a.x[i]`` should become ``held.b.x[i]``, a ground truth the benches use
  and training never sees.
* ``unpaired``: the user's two folders (``data.path_a`` + ``data.path_b``, or ``A/`` + ``B/`` in
  ``data.path``) of any counts, read at one size and channel count (``images.load_unpaired``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gankit.data.base import ArrayDataset, BatchSampler, DataConfig, DataInfo
from gankit.data.mnist import DIGIT_NAMES, _digits_arrays, _mnist5k_arrays
from gankit.data.paired import (
    CROPS_PER_TRAIN_PHOTO,
    TRAIN_PHOTOS,
    _photo_size,
    _split_crops,
    digit_split,
)
from gankit.data.transforms import frame
from gankit.errors import DataError
from gankit.registry import register_dataset

DIGITS_HELD = 297  # the last 297 of scikit-learn's 1,797 digits are held out (1,500 train)
DIGITS_MARGIN = 5  # domain A's 8×8 digits become 18×18 inside a 28×28 frame
CARTOON_LEVELS = 5  # colour levels per channel after quantisation
B_SEED_OFFSET = 7_919  # domain B's sampler seed is the run's seed plus this


class TwoDomainSampler:
    """Two ``BatchSampler``s, one per domain, with their own seeds and epochs: a batch pairs
    whatever images each draws. ``next()`` gives a (2, batch) index tensor: row 0 into A, 1 into B."""

    def __init__(self, n_a: int, n_b: int, batch_size: int, seed: int, rank: int, world: int):
        self.a = BatchSampler(n_a, batch_size, seed, rank, world)
        self.b = BatchSampler(n_b, batch_size, seed + B_SEED_OFFSET, rank, world)

    @property
    def epoch(self) -> int:
        """Epochs of domain A (the domain translated by the exported generator)."""
        return self.a.epoch

    def next(self) -> torch.Tensor:
        return torch.stack([self.a.next(), self.b.next()])

    def state_dict(self) -> dict:
        return {"A": self.a.state_dict(), "B": self.b.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.a.load_state_dict(state["A"])
        self.b.load_state_dict(state["B"])


@dataclass
class TwoDomainDataset:
    """Domain A (``a``) and domain B (``b``). ``info`` describes B as the data (``shape``) and A
    as the generator's ``source`` input, as for paired data."""

    a: ArrayDataset
    b: ArrayDataset
    info: DataInfo
    held_aligned: bool = False  # the held-out B images are the true translations of held-out A

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def sampler(self, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        return TwoDomainSampler(len(self.a), len(self.b), batch_size, seed, rank, world)

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu", augment: bool = True):
        """``idx`` (2, B) from ``TwoDomainSampler``: A images as ``source``, B images as
        ``real``, each augmented on its own (``data.flip`` / ``data.jitter``)."""
        a = self.a.batch(idx[0], device, augment)["real"]
        return {"source": a, "real": self.b.batch(idx[1], device, augment)["real"]}

    def split_holdout(self, n: int, seed: int) -> tuple[TwoDomainDataset, TwoDomainDataset | None]:
        """Each domain split on its own: its ``held`` mask, or ``n`` random samples of each."""
        from gankit.data.base import split_holdout

        (a, held_a), (b, held_b) = (split_holdout(d, n, seed) for d in (self.a, self.b))
        train = TwoDomainDataset(a, b, self.info)
        if held_a is None or held_b is None:
            return train, None
        return train, TwoDomainDataset(held_a, held_b, self.info, self.held_aligned)

    def as_pairs(self) -> ArrayDataset:
        """Held-out data whose B images are the true translations of its A images, as pairs
        (``gankit eval`` scores translations against them); one clear line otherwise."""
        if not self.held_aligned or len(self.a) != len(self.b):
            raise DataError(
                f"dataset {self.info.name!r} has no true translations of its held-out images "
                "to score against (its domains are unpaired); for digits2mnist run "
                "bench/quality/cyclegan.py (label preservation, FID, cycle error)"
            )
        return ArrayDataset(self.b.x, self.a.y, self.info, inputs={"source": self.a.x}, held=None)

    def reversed(self) -> TwoDomainDataset:
        """``data.direction=BA``: B becomes the source domain and A the target."""
        info = self.info.model_copy(
            update={"shape": self.info.inputs["source"], "inputs": {"source": self.info.shape}}
        )
        return TwoDomainDataset(self.b, self.a, info, self.held_aligned)


def domain_info(
    name: str, a: ArrayDataset, b: ArrayDataset, margin_a: int = 0, **labels
) -> DataInfo:
    return DataInfo(
        name=name,
        kind="images",
        shape=tuple(b.x.shape[1:]),
        inputs={"source": tuple(a.x.shape[1:])},
        margins={"source": margin_a} if margin_a else {},
        **labels,
    )


def limit_each(ds: ArrayDataset, limit: int | None) -> ArrayDataset:
    """The first ``limit`` training and held-out samples of a domain (a quick subset)."""
    if limit is None:
        return ds
    held = ds.held if ds.held is not None else torch.zeros(len(ds), dtype=torch.bool)
    keep = torch.zeros(len(ds), dtype=torch.bool)
    for side in (held, ~held):
        keep[side.nonzero().squeeze(1)[:limit]] = True
    sub = ds.subset(keep.nonzero().squeeze(1))
    sub.held = None if ds.held is None else ds.held[keep]
    return sub


@register_dataset("digits2mnist")
def load_digits2mnist(cfg: DataConfig, seed: int) -> TwoDomainDataset:
    """A: scikit-learn's 8×8 digits framed in 28×28 as MNIST frames its digits; B: the bundled
    MNIST digits."""
    v, ya = _digits_arrays()
    a8 = np.clip(np.rint(v * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    xa = frame(torch.from_numpy(a8).unsqueeze(1), 28, DIGITS_MARGIN)
    held_a = torch.zeros(len(xa), dtype=torch.bool)
    held_a[-DIGITS_HELD:] = True
    xb, yb = _mnist5k_arrays()
    augment = (cfg.flip, cfg.jitter)
    a = ArrayDataset(
        xa, torch.from_numpy(ya.copy()), _digit_info("A"), held=held_a, augment=augment
    )
    b = ArrayDataset(
        torch.from_numpy(xb.copy()).unsqueeze(1),
        torch.from_numpy(yb.copy()),
        _digit_info("B"),
        held=digit_split(yb),
        augment=augment,
    )
    a, b = limit_each(a, cfg.limit), limit_each(b, cfg.limit)
    names = {"num_classes": 10, "class_names": list(DIGIT_NAMES)}
    return TwoDomainDataset(
        a, b, domain_info("digits2mnist", a, b, margin_a=DIGITS_MARGIN, **names)
    )


def _digit_info(domain: str) -> DataInfo:
    return DataInfo(
        name=f"digits2mnist {domain}",
        kind="images",
        shape=(1, 28, 28),
        num_classes=10,
        class_names=DIGIT_NAMES,
    )


def cartoon(rgb: np.ndarray) -> np.ndarray:
    """A fixed cartoon filter of one uint8 (H, W, 3) image: total-variation smoothing (flattens
    texture, keeps edges), ``CARTOON_LEVELS`` levels per channel, and dark Canny edges of the
    smoothed luminance. Deterministic: the same crop always gives the same cartoon."""
    from skimage.color import rgb2gray
    from skimage.feature import canny
    from skimage.restoration import denoise_tv_chambolle

    smooth = denoise_tv_chambolle(rgb / 255.0, weight=0.08, channel_axis=-1)
    q = np.round(np.clip(smooth, 0, 1) * (CARTOON_LEVELS - 1)) / (CARTOON_LEVELS - 1)
    edges = canny(rgb2gray(smooth), sigma=1.5)
    q[edges] = 0.08
    return np.clip(np.rint(q * 255), 0, 255).astype(np.uint8)


def cartoon_batch(x: np.ndarray) -> np.ndarray:
    """``cartoon`` of every image of uint8 (N, 3, H, W)."""
    return np.stack([cartoon(img.transpose(1, 2, 0)).transpose(2, 0, 1) for img in x])


def _photo_info(domain: str, size: int) -> DataInfo:
    return DataInfo(name=f"photo2cartoon {domain}", kind="images", shape=(3, size, size))


@register_dataset("photo2cartoon")
def load_photo2cartoon(cfg: DataConfig, seed: int) -> TwoDomainDataset:
    """A: crops of astronaut, chelsea, rocket; B: cartoons of crops of motorcycle, china,
    grace_hopper; held out: coffee and flower crops (A) and their cartoons (B), aligned."""
    size = _photo_size(cfg, "photo2cartoon")
    _, colour, held = _split_crops(size)
    half = CROPS_PER_TRAIN_PHOTO * (len(TRAIN_PHOTOS) // 2)
    train = (~held).nonzero().squeeze(1)
    held_idx = held.nonzero().squeeze(1).numpy()
    xa = np.concatenate([colour[train[:half].numpy()], colour[held_idx]])
    xb_photo = np.concatenate([colour[train[half:].numpy()], colour[held_idx]])
    held_a = torch.zeros(len(xa), dtype=torch.bool)
    held_a[half:] = True
    held_b = torch.zeros(len(xb_photo), dtype=torch.bool)
    held_b[len(train) - half :] = True
    augment = (cfg.flip, cfg.jitter)
    a = ArrayDataset(
        torch.from_numpy(xa), None, _photo_info("A", size), held=held_a, augment=augment
    )
    b = ArrayDataset(
        torch.from_numpy(xb_photo), None, _photo_info("B", size), held=held_b, augment=augment
    )
    a, b = limit_each(a, cfg.limit), limit_each(b, cfg.limit)
    b.x = torch.from_numpy(cartoon_batch(b.x.numpy()))  # filtered after ``limit``: quicker
    return TwoDomainDataset(a, b, domain_info("photo2cartoon", a, b), held_aligned=True)


@register_dataset("unpaired")
def load_two_folders(cfg: DataConfig, seed: int) -> TwoDomainDataset:
    """The user's two folders of any counts, one size and channel count; no own split
    (``data.holdout`` holds out that many images of each domain)."""
    from gankit.data.images import load_unpaired

    a, b = load_unpaired(cfg, seed)
    for d in (a, b):
        d.augment = (cfg.flip, cfg.jitter)
    return TwoDomainDataset(a, b, domain_info("unpaired", a, b))


def check_two_domains(data, family: str) -> TwoDomainDataset:
    """``data`` as a TwoDomainDataset, or one line saying which datasets ``family`` takes."""
    if not isinstance(data, TwoDomainDataset):
        raise DataError(
            f"{family} learns from two unpaired domains; dataset {data.info.name!r} is one. Use "
            "--data digits2mnist, photo2cartoon, a folder with A/ and B/, or "
            "--set data.path_a=DIR_A --set data.path_b=DIR_B"
        )
    return data
