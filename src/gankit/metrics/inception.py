"""The FID Inception-v3 network, rebuilt without torchvision, for the standard FID weights.

Paper: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium" (FID); network: Szegedy et al. 2016, Inception-v3 (TF graph 2015-12-05).
Reference implementation: pytorch-fid ``src/pytorch_fid/inception.py`` (``fid_inception_v3`` with
``FIDInceptionA/C/E_1/E_2``) on top of torchvision's ``Inception3``. The modules, their names
and their order are transcribed from those two files so that the weights file
``pt_inception-2015-12-05-6726825d.pth`` loads with ``strict=True`` (a missing, extra or
mis-shaped tensor is an error, not a silent mismatch). Input pipeline as in pytorch-fid:
uint8 -> [0, 1] -> bilinear resize to 299x299 (``align_corners=False``) -> [-1, 1]; grayscale
is repeated to 3 channels.

Honest limits: the weights are not bundled and cannot be fetched here, so numerical parity with
pytorch-fid has not been checked in gankit's test-suite (the tests run this network with random
weights for shapes only). The weights file's SHA-256 must start with ``6726825d`` (the hash
prefix in its official name); any other file is refused.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import GankitError

FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FID_WEIGHTS_NAME
)
FID_WEIGHTS_SHA256_PREFIX = "6726825d"


class BasicConv2d(nn.Module):
    """Conv (no bias) -> BatchNorm (eps 0.001) -> ReLU, as torchvision's ``BasicConv2d``."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_tf(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's average pool does not count the zero padding (pytorch-fid's patch)
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    """Mixed_5b/c/d: torchvision ``InceptionA`` with the TF average pool."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg_pool_tf(x))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    """Mixed_6a: torchvision ``InceptionB`` (unchanged in the FID network)."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, bd, bp], 1)


class FIDInceptionC(nn.Module):
    """Mixed_6b/c/d/e: torchvision ``InceptionC`` with the TF average pool."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        bd = self.branch7x7dbl_3(self.branch7x7dbl_2(bd))
        bd = self.branch7x7dbl_5(self.branch7x7dbl_4(bd))
        bp = self.branch_pool(_avg_pool_tf(x))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    """Mixed_7a: torchvision ``InceptionD`` (unchanged in the FID network)."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_2(self.branch7x7x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(b7))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], 1)


class FIDInceptionE(nn.Module):
    """Mixed_7b (TF average pool) and Mixed_7c (max pool: a quirk of the TF graph kept for FID)."""

    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__()
        assert pool in ("avg", "max")
        self.pool = pool
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.pool == "avg":
            bp = _avg_pool_tf(x)
        else:
            bp = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return torch.cat([b1, b3, bd, self.branch_pool(bp)], 1)


class FIDInceptionV3(nn.Module):
    """Inception-v3 as in pytorch-fid's ``fid_inception_v3()`` (1008 classes, no aux head).

    ``forward`` takes float images ``(N, 3, H, W)`` in [0, 1] and returns the 2048-d pool3
    features and the 1008 logits.
    """

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, pool="avg")
        self.Mixed_7c = FIDInceptionE(2048, pool="max")
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1  # [0, 1] -> [-1, 1]
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))  # (N, 64, 147, 147)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (N, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))  # (N, 192, 71, 71)
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # (N, 192, 35, 35)
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))  # (N, 288, 35, 35)
        x = self.Mixed_6a(x)  # (N, 768, 17, 17)
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))  # (N, 768, 17, 17)
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))  # (N, 2048, 8, 8)
        pool3 = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)  # (N, 2048)
        return pool3, self.fc(pool3)  # (N, 2048), (N, 1008)


@lru_cache(maxsize=2)
def load_fid_inception(path: str) -> FIDInceptionV3:
    """Load the FID weights (``torch.load(weights_only=True)``, strict) after checking the hash."""
    from gankit.metrics.features import weights_sha256

    sha = weights_sha256(path)
    if not sha.startswith(FID_WEIGHTS_SHA256_PREFIX):
        raise GankitError(
            f"{path!r} is not {FID_WEIGHTS_NAME}: its SHA-256 starts with {sha[:8]!r}, "
            f"expected {FID_WEIGHTS_SHA256_PREFIX!r} (download it from {FID_WEIGHTS_URL})"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = FIDInceptionV3()
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False)


@torch.no_grad()
def inception_outputs(
    images: torch.Tensor | np.ndarray,
    weights: str | os.PathLike | FIDInceptionV3,
    batch_size: int = 50,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Pool3 features float64 ``(N, 2048)`` and softmax over the 1008 logits ``(N, 1008)``.

    ``images`` are uint8 ``(N, 1 or 3, H, W)``; ``weights`` a path to the FID weights or a model.
    """
    model = weights if isinstance(weights, nn.Module) else load_fid_inception(str(weights))
    model = model.to(device)
    from gankit.metrics.features import as_tensor

    x_all = as_tensor(images)
    if x_all.ndim != 4 or x_all.shape[1] not in (1, 3) or x_all.dtype != torch.uint8:
        raise GankitError(
            f"expected uint8 images (N, 1 or 3, H, W), got {x_all.dtype} {tuple(x_all.shape)}"
        )
    feats, probs = [], []
    for i in range(0, len(x_all), batch_size):
        x = x_all[i : i + batch_size].to(device).float().div(255.0)  # (B, C, H, W) in [0, 1]
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # grayscale -> RGB
        f, logits = model(x)
        feats.append(f.double().cpu())
        probs.append(torch.softmax(logits.double(), 1).cpu())
    if not feats:
        return np.zeros((0, 2048)), np.zeros((0, 1008))
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()
