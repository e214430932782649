"""Conditional GANs: do samples show the class they were asked for, and do they teach a classifier?

Papers: Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs"
(accuracy of a pretrained classifier on class-conditioned samples); Esteban et al. 2017,
"Real-valued (Medical) Time Series Generation with Recurrent Conditional GANs" and Shmelkov et
al. 2018, "How good is my GAN?" (train on synthetic, test on real: TSTR / GAN-train).
Reference implementation: none standard; the protocol is written out here.

    label accuracy = mean[ argmax classifier(fake_i) == c_i ]    (c_i: the conditioning label)
    TSTR accuracy  = accuracy on held-out real images of a fresh MnistClassifier trained, with a
                     fixed seed, on the labelled synthetic images only
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from gankit.metrics.features import MnistClassifier, predict, to_digit_input


def label_accuracy(
    images: np.ndarray, labels: np.ndarray, model: MnistClassifier | None = None
) -> float:
    """Fraction of uint8 ``images (N, C, H, W)`` that the classifier assigns to ``labels (N,)``."""
    y = np.asarray(labels, dtype=np.int64)
    if len(y) != len(images):
        raise ValueError(f"{len(images)} images but {len(y)} labels")
    return float(np.mean(predict(images, model) == y))


def tstr_accuracy(
    fake: np.ndarray,
    fake_labels: np.ndarray,
    real: np.ndarray,
    real_labels: np.ndarray,
    num_classes: int = 10,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    max_train: int = 10_000,
) -> float:
    """Train on synthetic, test on real: held-out real accuracy of a classifier fit to ``fake``.

    Images are uint8 ``(N, C, H, W)`` (any size, RGB averaged to gray, resized to 28 px). The
    classifier is gankit's MnistClassifier architecture, freshly initialised from ``seed``; at most
    ``max_train`` synthetic images are used. The global torch RNG is left untouched.
    """
    yf = torch.as_tensor(np.asarray(fake_labels, dtype=np.int64))
    yr = torch.as_tensor(np.asarray(real_labels, dtype=np.int64))
    if len(yf) != len(fake) or len(yr) != len(real):
        raise ValueError(
            f"labels do not match images: {len(fake)}/{len(yf)}, {len(real)}/{len(yr)}"
        )
    xf = to_digit_input(np.asarray(fake)[:max_train])  # (N, 1, 28, 28)
    yf = yf[:max_train]
    xr = to_digit_input(np.asarray(real))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        model = MnistClassifier(num_classes=num_classes)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(len(xf), generator=g)
            for i in range(0, len(xf), batch_size):
                idx = perm[i : i + batch_size]
                loss = F.cross_entropy(model(xf[idx]), yf[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(b).argmax(1) for b in xr.split(1000)])
    return float((pred == yr).float().mean())
