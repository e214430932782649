"""Datasets: 2-D toys, MNIST-style digits and image folders, all served as in-memory tensors."""

from __future__ import annotations

from pathlib import Path

from gankit.data.base import (
    ArrayDataset,
    BatchSampler,
    DataConfig,
    DataInfo,
    split_holdout,
    to_uint8,
)
from gankit.registry import DATASETS

# Importing a loader module registers its datasets.
from gankit.data import toy2d, mnist, images, stacked, paired  # noqa: E402,F401  isort: skip
from gankit.data import unpaired, textures, captions, video  # noqa: E402,F401  isort: skip
from gankit.data import shapes  # noqa: E402,F401  isort: skip
from gankit.data import characters  # noqa: E402,F401  isort: skip
from gankit.data import faces  # noqa: E402,F401  isort: skip


def load_dataset(cfg: DataConfig, seed: int = 0) -> ArrayDataset:
    """Build the dataset named by ``cfg.name`` (a registered name such as 'mnist5k' or 'folder')."""
    ds = DATASETS.get(cfg.name)(cfg, seed)
    if cfg.direction == "BA":
        from gankit.data.paired import reverse_pairs

        ds = ds.reversed() if hasattr(ds, "reversed") else reverse_pairs(ds)
    if cfg.masks:
        from gankit.data.masks import with_masks

        ds = with_masks(ds, cfg.masks, cfg.hole, cfg.holdout)
    return ds


def data_config_from_arg(value: str) -> dict:
    """Turn ``--data VALUE`` into DataConfig fields: a registered name, or a folder path."""
    if value in DATASETS:
        return {"name": value}
    if "/" in value or "\\" in value or value.startswith(".") or Path(value).exists():
        return {"name": "folder", "path": value}
    DATASETS.get(value)  # raises: unknown dataset, listing the valid names
    raise AssertionError("unreachable")


__all__ = [
    "ArrayDataset",
    "BatchSampler",
    "DataConfig",
    "DataInfo",
    "load_dataset",
    "split_holdout",
    "data_config_from_arg",
    "to_uint8",
]
