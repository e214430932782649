"""Classifier two-sample test: can a small CNN tell generated images from real ones?

Paper: Lopez-Paz & Oquab 2017, "Revisiting Classifier Two-Sample Tests". A classifier is
trained to separate real (label 1) from generated (label 0) images and scored on images it did
not train on; accuracy near 50 % means it cannot tell them apart, near 100 % that the samples
are easy to spot. Unlike FID it needs no pretrained network, so it works on any images (faces,
photos) offline.

With few real images (a few-shot set's held-out faces) one split is too noisy, so the score is
``folds``-fold cross-validated: every real and fake image is tested once, by a classifier that
did not see it, and the folds are repeated ``repeats`` times with new shuffles. The two sets are
cut to the same size first, so chance is exactly 50 %. Held-out real images are the real side:
training images would reward a generator that copies them.

The classifier: two 3×3 conv layers (16, 32 channels, ReLU, 2×2 max-pool), global average
pooling, a linear layer; Adam 2e-3, ``steps`` updates on batches of 32 drawn from the training
folds (a fixed number, so a small test set is not under-trained), inputs in [-1, 1] at their own
size (gray or RGB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class C2STResult:
    accuracy: float  # mean held-out-fold accuracy over the repeats
    std: float  # std of the accuracy over the repeats
    n: int  # images per side


class _Net(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.mean(dim=(2, 3))).squeeze(1)  # (B,) logits


def _fit_predict(x_tr, y_tr, x_te, steps: int, seed: int) -> np.ndarray:
    with torch.random.fork_rng(devices=[]):  # the caller's RNG stays untouched
        torch.manual_seed(seed)
        net = _Net(x_tr.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(x_tr), (min(32, len(x_tr)),), generator=g)
        loss = F.binary_cross_entropy_with_logits(net(x_tr[idx]), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return (net(x_te) > 0).float().numpy()


def c2st_accuracy(
    real: np.ndarray,
    fake: np.ndarray,
    folds: int = 5,
    repeats: int = 3,
    steps: int = 300,
    seed: int = 0,
) -> C2STResult:
    """Cross-validated accuracy of a small CNN telling ``real`` from ``fake`` uint8 images
    ``(N, C, H, W)`` (0.5 = indistinguishable, lower is better down to 0.5)."""
    n = min(len(real), len(fake))
    if n < folds:
        raise ValueError(f"a {folds}-fold two-sample test needs >= {folds} images a side, got {n}")
    rng = np.random.default_rng(seed)
    r = np.asarray(real)[rng.permutation(len(real))[:n]]
    f = np.asarray(fake)[rng.permutation(len(fake))[:n]]
    x = torch.from_numpy(np.concatenate([r, f])).float().div(127.5).sub(1.0)
    y = torch.cat([torch.ones(n), torch.zeros(n)])
    accs = []
    for rep in range(repeats):
        order = rng.permutation(n)  # folds pair each real with a fake: balanced test folds
        correct = 0.0
        for k in range(folds):
            test = order[k::folds]
            train = np.setdiff1d(order, test)
            te = np.concatenate([test, test + n])
            tr = np.concatenate([train, train + n])
            pred = _fit_predict(x[tr], y[tr], x[te], steps, seed * 1000 + rep * folds + k)
            correct += float((pred == y[te].numpy()).sum())
        accs.append(correct / (2 * n))
    return C2STResult(float(np.mean(accs)), float(np.std(accs)), n)
