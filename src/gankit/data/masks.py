"""Holes to fill: the masks an inpainting generator trains and is evaluated on.

A mask is uint8 ``(N, 1, H, W)`` with 255 where the image is removed (the hole) and 0 where it is
kept, the convention of ``gankit inpaint``'s mask files (white = remove). Three kinds
(``data.masks``, comma-separated to mix them; each sample then picks one kind at random):

* ``centre``: one square of side ``data.hole`` in the middle (Context Encoders, Pathak et al.
  2016, "central region").
* ``boxes``: 1 to 3 axis-aligned boxes, each side drawn in [hole/2, hole], placed anywhere
  (Pathak et al.'s "random block" masks; Iizuka et al. 2017 train on random rectangles).
* ``strokes``: 1 to 3 free-form brush strokes, each a polyline of 2 to 5 segments with round
  joints and a random brush width (Yu et al. 2019, "Free-Form Image Inpainting with Gated
  Convolution", algorithm 1, scaled to small images).

``data.hole`` defaults to half the image's shorter side. Every draw takes a
``numpy.random.Generator``, so a seed fixes the masks. Training batches draw theirs from a seed
taken from torch's global RNG, which every checkpoint saves and a resume restores (so a resumed
run draws the masks the uninterrupted one drew); the dataset's fixed masks (``fixed_masks``, one
per sample, from ``FIXED_SEED``) are what the held-out bank, the sample grids and ``gankit
eval`` use, identical in every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gankit.errors import DataError

KINDS = ("centre", "boxes", "strokes")
ALIASES = {"center": "centre", "box": "boxes", "stroke": "strokes", "free-form": "strokes"}
FIXED_SEED = 20_160_407  # the fixed masks of every dataset (held-out bank, evaluation)
HOLE_FILL = 128  # the value a masked input image shows in its hole (mid-grey; G ignores it)


def parse_kinds(value: str) -> tuple[str, ...]:
    """``'boxes,strokes'`` -> ('boxes', 'strokes'); an unknown name raises ValueError."""
    kinds = []
    for part in value.split(","):
        name = ALIASES.get(part.strip(), part.strip())
        if name not in KINDS:
            raise ValueError(
                f"data.masks={value!r}: unknown mask kind {part.strip()!r}; allowed: "
                f"{', '.join(KINDS)} (comma-separated to mix them)"
            )
        if name not in kinds:
            kinds.append(name)
    return tuple(kinds)


def default_hole(h: int, w: int) -> int:
    return max(1, min(h, w) // 2)


def centre_square(h: int, w: int, side: int) -> np.ndarray:
    """bool (H, W): a ``side`` square in the middle (the extra pixel of an odd gap goes after)."""
    m = np.zeros((h, w), dtype=bool)
    y0, x0 = (h - side) // 2, (w - side) // 2
    m[y0 : y0 + side, x0 : x0 + side] = True
    return m


def random_boxes(h: int, w: int, hole: int, rng: np.random.Generator) -> np.ndarray:
    """bool (H, W): 1 to 3 boxes, sides in [hole/2, hole], anywhere inside the image."""
    m = np.zeros((h, w), dtype=bool)
    lo = max(1, hole // 2)
    for _ in range(int(rng.integers(1, 4))):
        bh, bw = (int(rng.integers(lo, hole + 1)) for _ in range(2))
        y0 = int(rng.integers(0, h - bh + 1))
        x0 = int(rng.integers(0, w - bw + 1))
        m[y0 : y0 + bh, x0 : x0 + bw] = True
    return m


def stroke(h: int, w: int, points: list[tuple[float, float]], width: int) -> np.ndarray:
    """bool (H, W): a polyline through ``points`` ((x, y) pixel centres) drawn with a round brush
    of ``width`` px (PIL's line with curved joints, a disc at each end)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    draw.line(points, fill=255, width=width, joint="curve")
    r = (width - 1) / 2  # a disc of ``width`` px across, centred on each end
    for x, y in (points[0], points[-1]) if width > 1 else ():
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(img) > 0


def free_form(h: int, w: int, hole: int, rng: np.random.Generator) -> np.ndarray:
    """bool (H, W): 1 to 3 strokes; each starts anywhere and turns 1 to 4 times, its segments
    ``hole``/3 to ``hole`` long, its brush ``hole``/8 to ``hole``/4 wide (at least 1 px)."""
    m = np.zeros((h, w), dtype=bool)
    for _ in range(int(rng.integers(1, 4))):
        x, y = float(rng.uniform(0, w - 1)), float(rng.uniform(0, h - 1))
        points = [(x, y)]
        for _ in range(int(rng.integers(2, 6))):
            angle = float(rng.uniform(0, 2 * np.pi))
            length = float(rng.uniform(hole / 3, hole))
            x = float(np.clip(x + length * np.cos(angle), 0, w - 1))
            y = float(np.clip(y + length * np.sin(angle), 0, h - 1))
            points.append((x, y))
        width = int(rng.integers(max(1, hole // 8), max(1, hole // 4) + 1))
        m |= stroke(h, w, points, width)
    return m


@dataclass(frozen=True)
class MaskSpec:
    """Which masks to draw (``data.masks``) and how large (``data.hole``)."""

    kinds: tuple[str, ...]
    hole: int

    def draw(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` masks, uint8 (N, 1, H, W), 255 = hole; each sample's kind drawn uniformly."""
        out = np.zeros((n, 1, h, w), dtype=np.uint8)
        for i in range(n):
            kind = self.kinds[int(rng.integers(len(self.kinds)))] if len(self.kinds) > 1 else None
            kind = kind or self.kinds[0]
            if kind == "centre":
                m = centre_square(h, w, self.hole)
            elif kind == "boxes":
                m = random_boxes(h, w, self.hole, rng)
            else:
                m = free_form(h, w, self.hole, rng)
            out[i, 0][m] = 255
        return out

    def draw_batch(self, n: int, h: int, w: int) -> torch.Tensor:
        """Masks for one training batch, uint8 (N, 1, H, W): the seed comes from torch's global
        RNG (saved in checkpoints), so a resumed run draws what the uninterrupted one drew."""
        seed = int(torch.randint(0, 2**62, (1,)).item())
        return torch.from_numpy(self.draw(n, h, w, np.random.default_rng(seed)))


def spec_for(masks: str, hole: int | None, shape: tuple[int, ...]) -> MaskSpec:
    """The ``MaskSpec`` of ``data.masks`` / ``data.hole`` on images of ``shape`` (C, H, W)."""
    _, h, w = shape
    side = hole or default_hole(h, w)
    if side > min(h, w):
        raise DataError(
            f"data.hole={side} is larger than the {w}x{h} images; allowed: 1..{min(h, w)}"
        )
    return MaskSpec(parse_kinds(masks), side)


def fixed_masks(spec: MaskSpec, n: int, h: int, w: int) -> np.ndarray:
    """One mask per sample of a dataset, the same in every run (``FIXED_SEED``)."""
    return spec.draw(n, h, w, np.random.default_rng(FIXED_SEED))


def masked(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """uint8 images with their holes (mask > 127) painted ``HOLE_FILL``: what a user sees as the
    input of an inpainting (the generator ignores what is in the hole)."""
    hole = (masks > 127).expand_as(images)
    return torch.where(hole, torch.full_like(images, HOLE_FILL), images)


def with_masks(ds, masks: str, hole: int | None, holdout: int):
    """``ds`` with masks (``data.masks``): its inputs gain ``image`` (the masked image) and
    ``mask`` (255 = hole), fixed per sample (``fixed_masks``); training batches replace them
    with masks drawn per batch (``ArrayDataset.masks``). Digits in the bundled order (mnist5k)
    take the application split that every digit task uses (``digit_split``: the last fifth of
    each class, 100 of 500, held out) unless ``data.holdout`` asks for a random one."""
    from gankit.data.base import ArrayDataset

    if ds.info.kind != "images":
        raise DataError(f"data.masks={masks!r}: dataset {ds.info.name!r} has no images to mask")
    c, h, w = ds.info.shape
    try:
        spec = spec_for(masks, hole, ds.info.shape)
    except ValueError as e:
        raise DataError(str(e)) from None
    m = torch.from_numpy(fixed_masks(spec, len(ds), h, w))
    held = ds.held
    if held is None and holdout == 0 and ds.info.name == "mnist5k" and ds.y is not None:
        from gankit.data.paired import digit_split

        per_class = int(torch.bincount(ds.y).min()) // 5
        held = digit_split(ds.y.numpy(), per_class) if per_class else None
    info = ds.info.model_copy(
        update={"inputs": {**ds.info.inputs, "image": (c, h, w), "mask": (1, h, w)}}
    )
    return ArrayDataset(
        x=ds.x,
        y=ds.y,
        info=info,
        extra=ds.extra,
        inputs={**ds.inputs, "image": masked(ds.x, m), "mask": m},
        held=held,
        augment=ds.augment,
        masks=spec,
    )
