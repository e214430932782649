"""Presets for a user's folder of images, chosen by how many images it holds and how large.

A user's folder is small (tens to thousands of images), which is where a GAN either collapses or
learns the training set by heart. The MNIST preset (50 k-means clusters of self-conditioning,
tuned for 5,000 digits) is the wrong start there. The folder presets use the limited-data levers
measured in ``bench/quality/faces.py`` (docs/models/folder.md):

* differentiable augmentation of D's inputs (Zhao et al. 2020), ``translation,color,cutout`` at
  every size (``translation`` alone let G collapse on 2,400 photo crops);
* an EMA of G's weights (Yazıcı et al. 2019);
* the R1 penalty on D (Mescheder et al. 2018), a pixel-norm G and no clusters;
* widths by resolution: 16 channels at full resolution at 32 and 64 px (``widths`` in
  ``models/convnets.py`` doubles them per level down, up to 8x), 8 at 128 px, which has one
  level more; at 32 px width 16 costs a third of width 32 per step (0.07 vs 0.22 CPU-s).

The folder is read for the choice without decoding a pixel: the files are counted
(``scan_folder``) and up to ``SIZE_PROBE`` of them have their size read from the header.
``data.holdout`` keeps a tenth of the images (at least 2, at most 500) out of training as the
baseline of the memorisation check; a folder of fewer than 20 images keeps them all (the check
then uses its leave-one-out baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.errors import DataError

# Image-count tiers: (upper bound exclusive, tier name, preset name).
TIERS = (
    (100, "tens", "dcgan-folder-tens"),
    (1000, "hundreds", "dcgan-folder-hundreds"),
    (None, "thousands", "dcgan-folder-thousands"),
)
SIZES = (32, 64, 128)  # the sizes a folder is trained at: the smallest that holds its images
# G's and D's width at full resolution, by training size: about one cost per step at each size.
WIDTH_BY_SIZE = {32: 16, 64: 16, 128: 8}
SIZE_PROBE = 200  # files whose header is read to find the folder's typical image size
# Below this many images none is held out (memorisation then uses the leave-one-out baseline).
MIN_HOLDOUT_FOLDER = 20


@dataclass(frozen=True)
class FolderChoice:
    """Which folder preset a folder gets, and why."""

    preset: str
    tier: str
    count: int
    median_side: int  # median short side of the probed images, px
    size: int  # training size, px
    given_size: bool  # True if data.image_size was given rather than chosen
    holdout: int
    width: int

    def overrides(self) -> dict[str, Any]:
        """The config keys the choice sets on top of the preset."""
        return {
            "data": {"image_size": self.size, "holdout": self.holdout},
            "model": {"g_channels": self.width, "d_channels": self.width},
        }

    def reason(self) -> str:
        """One line for ``--dry-run``: the preset, the count and the size that chose it."""
        bound = {"tens": "fewer than 100", "hundreds": "100 to 999", "thousands": "1,000 or more"}
        size = (
            f"data.image_size {self.size} px as given"
            if self.given_size
            else f"trained at {self.size} px (the smallest of 32/64/128 that holds them)"
        )
        held = (
            f"{self.holdout} held out for the memorisation check"
            if self.holdout
            else f"none held out (fewer than {MIN_HOLDOUT_FOLDER} images)"
        )
        return (
            f"preset {self.preset}: {self.count} images ({bound[self.tier]}: {self.tier}), "
            f"median short side {self.median_side} px, {size}; width {self.width}; {held}"
        )


def _short_side(path: Path) -> int | None:
    from PIL import Image

    try:
        with Image.open(path) as img:  # the header only: no pixel is decoded
            return min(img.size)
    except (OSError, ValueError, SyntaxError):
        return None  # unreadable files are reported when the data is loaded


def choose_folder_preset(path: str | Path, image_size: int | None = None) -> FolderChoice:
    """The folder preset for the images in ``path`` (a DataError naming the folder if it has
    none), by their count and median short side; ``image_size`` (given) wins over the latter."""
    import numpy as np

    from gankit.data.images import _folder, scan_folder

    root = _folder(path, "folder")
    files, _, _ = scan_folder(root)
    count = len(files)
    step = max(1, count // SIZE_PROBE)
    sides = [s for f in files[::step][:SIZE_PROBE] if (s := _short_side(f)) is not None]
    if not sides:
        raise DataError(f"none of the images in {root} could be read")
    median = int(np.median(sides))
    if image_size is not None:
        size = image_size
    else:
        size = next((s for s in SIZES if s >= median), SIZES[-1])
    width = WIDTH_BY_SIZE[min(SIZES, key=lambda s: abs(s - size))]
    tier, preset = next((t, p) for bound, t, p in TIERS if bound is None or count < bound)
    holdout = 0 if count < MIN_HOLDOUT_FOLDER else min(500, max(2, count // 10))
    return FolderChoice(preset, tier, count, median, size, image_size is not None, holdout, width)
