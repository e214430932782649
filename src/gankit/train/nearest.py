"""After an image run with held-out images: samples beside their nearest training images, and
the share of near-copies (``nearest.png`` and ``memorization.json`` in the run).

A GAN trained on tens of images can learn them by heart; a grid of its samples alone does not
show that, a grid of each sample beside the training image nearest to it does. The near-copy
share is the memorisation metric's (``metrics/memorization.py``): samples closer to a training
image than 99 % of held-out images are, in pixel space and in a feature space.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.data import to_uint8
from gankit.files import atomic_write_bytes, atomic_write_json

N_SAMPLES = 500  # samples whose nearest training images are measured
N_SHOWN = 24  # pairs in the grid


def sample_images(trainer, n: int, seed: int = 0) -> np.ndarray:
    """``n`` samples of the trainer's sampling generator (EMA when on), uint8 ``(n, C, H, W)``."""
    fam, info = trainer.family, trainer.data.info
    g = torch.Generator().manual_seed(seed + 4242)
    inputs = fam.latent(fam.cfg, info, n, generator=g)
    if fam.conditional:
        inputs["label"] = torch.arange(n) % max(info.num_classes, 1)
    return to_uint8(trainer.generate(inputs)).numpy()


def nearest_grid_png(fake: np.ndarray, train: np.ndarray, n: int = N_SHOWN) -> bytes:
    """PNG of ``n`` (sample | nearest training image in pixels) pairs."""
    from gankit.metrics.memorization import nearest
    from gankit.viz import png_bytes, translation_grid

    idx = nearest(fake[:n], train)
    return png_bytes(translation_grid([fake[:n], train[idx]]))


def near_copy_report(
    fake: np.ndarray, train: np.ndarray, heldout: np.ndarray, seed: int = 0
) -> dict[str, Any]:
    """Near-copy shares (pixels and features) of ``fake`` against ``train``, held-out baseline."""
    from gankit.metrics.evaluate import evaluate

    rows = evaluate(fake, heldout, ["memorization"], train=train, seed=seed)
    by_name = {r.name: r for r in rows}
    return {
        "n_samples": len(fake),
        "n_train": len(train),
        "n_heldout": len(heldout),
        "copies_pixels": by_name["copies"].value,
        "copies_features": by_name["copies-features"].value,
        "feature_space": by_name["copies-features"].passport["params"]["space"],
        "nn_ratio_pixels": by_name["nn-ratio"].value,
        "nn_ratio_features": by_name["nn-ratio-features"].value,
        # the share a new real image would score: the floor under the copy shares above
        "floor_pixels": by_name["copies-floor"].value,
        "floor_features": by_name["copies-floor-features"].value,
    }


def write_near_copies(trainer, run_dir: Path, n: int = N_SAMPLES) -> dict[str, Any] | None:
    """``nearest.png`` and ``memorization.json`` for an image run with held-out images (else
    None): ``n`` samples of the final generator against the training and held-out images."""
    data, held, fam = trainer.data, trainer.heldout, trainer.family
    # generators drawn from noise, a class label and codes only: one that takes text, tags or
    # images is measured by its own family's metrics, and a voxel grid is not an image
    drawn = all(s.kind in ("noise", "label", "code") for s in fam.inputs(fam.cfg, data.info))
    voxels = getattr(fam, "voxels", False)
    if data.info.kind != "images" or held is None or len(held) < 2 or not drawn or voxels:
        return None
    fake = sample_images(trainer, n, trainer.cfg.train.seed)
    train = data.x.numpy()
    report = near_copy_report(fake, train, held.x.numpy(), trainer.cfg.train.seed)
    atomic_write_bytes(run_dir / "nearest.png", nearest_grid_png(fake, train))
    atomic_write_json(run_dir / "memorization.json", report)
    return report
