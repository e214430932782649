"""``faces``: the 100 face photographs that ship with scikit-image, a few-shot face set.

``skimage.data.lfw_subset()`` holds 200 grayscale 25×25 crops from Labeled Faces in the Wild:
the first 100 are faces, the other 100 are not (background patches) and are not used. The faces
are resized to ``data.image_size`` (default 32, the smallest size the convolutional families
build above 25) with bicubic interpolation (``skimage.transform.resize(order=3)``).

A fixed set of ``HELD_FACES`` faces (seed 0) is held out (``ds.held``): they never reach the
trainer and are the baseline of the memorisation check (a sample nearer a training face than
held-out faces are is a near-copy) and the real side of the classifier two-sample test.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.errors import DataError
from gankit.registry import register_dataset

N_FACES = 100  # lfw_subset's first 100 images are faces
HELD_FACES = 25  # held out by a fixed seed: 75 faces train
HELD_SEED = 0
DEFAULT_FACE_SIZE = 32


def lfw_faces(size: int = DEFAULT_FACE_SIZE) -> np.ndarray:
    """The 100 LFW faces as uint8 ``(100, 1, size, size)``, bicubic-resized from 25×25."""
    import skimage.data
    from skimage.transform import resize

    faces = skimage.data.lfw_subset()[:N_FACES]  # float64 (100, 25, 25) in [0, 1]
    if size != faces.shape[-1]:
        faces = resize(faces, (N_FACES, size, size), order=3, anti_aliasing=False)
    return np.clip(np.rint(faces * 255.0), 0, 255).astype(np.uint8)[:, None]


def held_faces() -> torch.Tensor:
    """bool ``(100,)``: the faces held out of training (the same for every run)."""
    held = torch.zeros(N_FACES, dtype=torch.bool)
    rng = np.random.default_rng(HELD_SEED)
    held[torch.from_numpy(rng.permutation(N_FACES)[:HELD_FACES])] = True
    return held


@register_dataset("faces")
def load_faces(cfg: DataConfig, seed: int) -> ArrayDataset:
    """The LFW faces of scikit-image, grayscale, ``HELD_FACES`` of them held out."""
    size = cfg.image_size or DEFAULT_FACE_SIZE
    if not 16 <= size <= 128:
        raise DataError(f"data.image_size={size}: faces are 25 px originals; use 16..128")
    x = torch.from_numpy(lfw_faces(size))
    if cfg.channels == 3:
        x = x.expand(-1, 3, -1, -1).contiguous()
    info = DataInfo(name="faces", kind="images", shape=tuple(x.shape[1:]))
    return ArrayDataset(x=x, y=None, info=info, held=held_faces(), augment=(cfg.flip, cfg.jitter))
