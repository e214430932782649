"""Tag-conditioned generators: are the tags asked for in the picture, and the others as often as
in training?

A multi-label CNN trained by gankit on the procedural characters (``gankit.data.characters``;
``scripts/train_tag_classifier.py``, shipped as ``weights/tag_classifier.safetensors`` with its
held-out accuracy in the JSON beside it) reads the tags of generated images. For samples drawn
to order (Jin et al. 2017 measure their generator the same way, with a tag estimator):

    requested   = for each tag t, over samples asked for t: mean[ classifier says t ]
                  (per tag, then averaged over tags)
    free gap    = for each tag t, over samples that did *not* request t's group (or t itself,
                  for an independent tag): | mean[ classifier says t ] - training share of t |
    combination = over samples asked for a combination: mean[ every tag of it found ]

A tag of an exclusive group counts as found when it is the group's most probable tag; an
independent tag when its probability is above 0.5.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import GankitError
from gankit.metrics.features import WEIGHTS_DIR, as_tensor

TAG_CLASSIFIER_PATH = WEIGHTS_DIR / "tag_classifier.safetensors"
INPUT_SIZE = 32


class TagClassifier(nn.Module):
    """Three 3x3 conv blocks (32, 64, 128 channels, max-pool after each) -> 128 -> T tag logits.

    Input: float ``(N, 3, 32, 32)`` in [-1, 1] (``to_tag_input``). ~370k parameters.
    """

    def __init__(self, num_tags: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.fc1 = nn.Linear(128 * 4 * 4, 128)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(128, num_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, 32, 16, 16)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, 64, 8, 8)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)  # (N, 128, 4, 4)
        return self.fc2(self.dropout(F.relu(self.fc1(x.flatten(1)))))


def to_tag_input(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 RGB ``(N, 3, H, W)`` -> float ``(N, 3, 32, 32)`` in [-1, 1] (other sizes resized,
    antialiased)."""
    x = as_tensor(images)
    if x.ndim != 4 or x.shape[1] != 3 or x.dtype != torch.uint8:
        raise GankitError(f"expected uint8 RGB images (N, 3, H, W), got {x.dtype} {tuple(x.shape)}")
    x = x.float()
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True)
    return x.div(127.5).sub(1.0)


def tag_classifier_info(path: str | Path | None = None) -> dict:
    """The JSON written beside the weights: tags, held-out accuracy, seed, sha256, ..."""
    p = Path(path) if path is not None else TAG_CLASSIFIER_PATH
    return json.loads(p.with_suffix(".json").read_text())


@lru_cache(maxsize=2)
def _load(path: str) -> TagClassifier:
    from safetensors.torch import load_file

    tags = json.loads(Path(path).with_suffix(".json").read_text())["tags"]
    model = TagClassifier(len(tags))
    model.load_state_dict(load_file(path))
    return model.eval().requires_grad_(False)


def tag_classifier(path: str | Path | None = None) -> TagClassifier:
    """gankit's character tag classifier in eval mode (loaded once per path)."""
    p = Path(path) if path is not None else TAG_CLASSIFIER_PATH
    if not p.is_file():
        raise GankitError(
            f"tag classifier weights {str(p)!r} are missing; "
            "run `python scripts/train_tag_classifier.py` to create them"
        )
    return _load(str(p.resolve()))


@torch.no_grad()
def tag_probs(
    images: torch.Tensor | np.ndarray, model: TagClassifier | None = None, batch_size: int = 500
) -> np.ndarray:
    """Per-tag probabilities float64 ``(N, T)`` of uint8 RGB images."""
    model = model if model is not None else tag_classifier()
    x = as_tensor(images)
    out = [
        torch.sigmoid(model(to_tag_input(x[i : i + batch_size])))
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(out).double().numpy() if out else np.zeros((0, model.fc2.out_features))


def decide(probs: np.ndarray, tags: list[str], groups: list[list[str]]) -> np.ndarray:
    """Probabilities ``(N, T)`` -> multi-hot bool ``(N, T)``: the most probable tag of each
    exclusive group, and each independent tag above 0.5."""
    out = probs > 0.5
    for g in groups:
        idx = [tags.index(t) for t in g]
        out[:, idx] = False
        out[np.arange(len(probs)), np.array(idx)[probs[:, idx].argmax(1)]] = True
    return out


def tag_accuracy(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-tag accuracy ``(T,)`` of decided tags against the true multi-hot ``(N, T)``."""
    return (np.asarray(found, bool) == np.asarray(truth, bool)).mean(0)
