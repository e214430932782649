"""Tiny runs of the new families, written to a temporary run directory in a second or two."""

from __future__ import annotations

from pathlib import Path

import pytest

from gankit.presets import resolve
from gankit.train.trainer import Trainer, write_config


def _tiny_trainer(
    family: str, run_dir: Path | None = None, steps: int = 2, train: dict | None = None, **model
) -> Trainer:
    """A trainer on scikit-learn's 8x8 digits with 8-channel networks, on CPU."""
    d_key = "e_channels" if family in ("autoencoder", "vae") else "d_channels"
    size_keys = {"g_channels": 8, d_key: 8}
    if family == "dcgan":  # the preset self-conditions on 50 clusters; tests opt in with clusters=K
        size_keys["clusters"] = 0
    cfg = resolve(
        family=family,
        flags={
            "data": {"name": "digits", "limit": 200},
            "train": {
                "steps": steps,
                "batch_size": 10,
                "device": "cpu",
                "log_every": 1,
                **(train or {}),
            },
        },
        overrides=[{"model": {**size_keys, **model}}],
    )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


@pytest.fixture
def tiny_trainer():
    """``tiny_trainer(family, run_dir=None, steps=2, train=None, **model)``: a Trainer on 8x8
    digits (``train``: TrainConfig overrides, ``model``: the family's config)."""
    return _tiny_trainer


@pytest.fixture
def trained_run(tmp_path):
    """``trained_run(family, **model)`` -> the run directory of a finished 2-step run."""

    def make(family: str, **model) -> Path:
        run_dir = tmp_path / f"run-{family}"
        _tiny_trainer(family, run_dir, **model).fit()
        return run_dir

    return make


def _cli(*args: str) -> int:
    from gankit.cli.main import main

    try:
        main(list(args))
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture
def cli():
    """``cli(*args)``: run the ``gankit`` command in this process and return its exit code."""
    return _cli
