"""A user's folder gets the folder preset of its image count and size; ``--dry-run`` says why."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from gankit.folder_presets import choose_folder_preset
from gankit.presets import resolve


def write_pngs(folder, n: int, w: int, h: int | None = None, seed: int = 0):
    """``n`` real PNG files of w x h random colour pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        px = rng.integers(0, 256, (h or w, w, 3), dtype=np.uint8)
        Image.fromarray(px).save(folder / f"img{i:05d}.png")
    return folder


@pytest.mark.parametrize(
    ("n", "tier", "holdout"),
    [
        (8, "tens", 0),
        (30, "tens", 3),
        (99, "tens", 9),
        (100, "hundreds", 10),
        (1000, "thousands", 100),
    ],
)
def test_tier_by_image_count(tmp_path, n, tier, holdout):
    c = choose_folder_preset(write_pngs(tmp_path / "f", n, 6))
    assert (c.count, c.tier, c.preset, c.holdout) == (n, tier, f"dcgan-folder-{tier}", holdout)


@pytest.mark.parametrize(("side", "size"), [(20, 32), (32, 32), (48, 64), (100, 128), (300, 128)])
def test_training_size_by_image_size(tmp_path, side, size):
    c = choose_folder_preset(write_pngs(tmp_path / "f", 12, side + 7, side))  # short side: side
    assert (c.median_side, c.size) == (side, size)
    assert c.width == (8 if size == 128 else 16)


def test_class_subfolders_count_and_given_size_wins(tmp_path):
    write_pngs(tmp_path / "f" / "cats", 70, 40)
    write_pngs(tmp_path / "f" / "dogs", 60, 40, seed=1)
    c = choose_folder_preset(tmp_path / "f", image_size=32)
    assert (c.count, c.tier, c.size, c.given_size) == (130, "hundreds", 32, True)


def test_resolve_applies_the_choice_for_dcgan_and_no_family(tmp_path):
    folder = write_pngs(tmp_path / "f", 150, 60)
    for family in (None, "dcgan"):
        notes: list[str] = []
        cfg = resolve(
            family=family, flags={"data": {"name": "folder", "path": str(folder)}}, notes=notes
        )
        assert cfg.preset == "dcgan-folder-hundreds" and cfg.family == "dcgan"
        assert (cfg.data.image_size, cfg.data.holdout) == (64, 15)
        assert cfg.model["clusters"] == 0 and cfg.model["diffaugment"] and cfg.model["r1"] > 0
        assert cfg.train.ema is not None
        assert "150 images" in notes[0]
    # flags still win over the choice, and other families keep their own presets
    cfg = resolve(flags={"data": {"name": "folder", "path": str(folder)}, "train": {"steps": 7}})
    assert cfg.train.steps == 7
    assert resolve(
        family="cgan", flags={"data": {"name": "folder", "path": str(folder)}}
    ).preset == ("cgan-mnist")


def test_dry_run_explains_the_choice(run_gankit, tmp_path):
    write_pngs(tmp_path / "my_images", 30, 60, 48)
    res = run_gankit("train", "--data", "./my_images", "--dry-run")
    assert res.returncode == 0, res.stderr
    why = res.stdout.splitlines()[0]
    assert why.startswith("preset dcgan-folder-tens: 30 images (fewer than 100: tens)")
    assert "median short side 48 px" in why and "trained at 64 px" in why
    assert "3 held out" in why
    cfg = json.loads(res.stdout[res.stdout.index("{") :])
    assert cfg["preset"] == "dcgan-folder-tens" and cfg["data"]["image_size"] == 64
    assert not (tmp_path / "runs").exists()
    res = run_gankit("train", "dcgan", "--data", "./my_images", "--image-size", "32", "--dry-run")
    assert "data.image_size 32 px as given" in res.stdout.splitlines()[0]
