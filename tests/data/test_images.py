"""Image folders: modes, sizes, labels, channel detection, errors, paired and unpaired."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import DataConfig, load_dataset
from gankit.data.images import load_unpaired
from gankit.errors import DataError


def _save(path, img, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kw)
    return path


def _gray(value, size=(20, 20)):
    return Image.new("L", size, value)


def _folder(tmp_path, **kw):
    return load_dataset(DataConfig(name="folder", path=str(tmp_path), **kw), seed=0)


def test_mixed_modes_and_sizes_to_rgb(tmp_path):
    _save(tmp_path / "a_gray.png", _gray(100, (40, 30)))
    rgba = Image.new("RGBA", (16, 16), (255, 0, 0, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 16, 8))  # top half fully transparent
    _save(tmp_path / "b_rgba.png", rgba)
    pal = Image.new("P", (12, 12), 1)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # index 1 = blue
    _save(tmp_path / "c_palette.png", pal)
    _save(tmp_path / "d_rgb.JPG", Image.new("RGB", (50, 70), (0, 200, 0)), quality=95)
    _save(tmp_path / "e_la.png", Image.new("LA", (8, 8), (30, 0)))  # transparent -> white
    _save(tmp_path / "f_16bit.png", Image.fromarray(np.full((9, 9), 257 * 40, dtype=np.uint16)))
    _save(tmp_path / "g.bmp", _gray(7))
    (tmp_path / "notes.txt").write_text("not an image")

    ds = _folder(tmp_path, image_size=8)
    assert ds.x.shape == (7, 3, 8, 8) and ds.x.dtype == torch.uint8 and ds.y is None
    assert ds.info.shape == (3, 8, 8) and ds.info.num_classes == 0
    px = ds.x[:, :, 0, 4].tolist()  # a pixel in the top row of every image
    assert px[0] == [100, 100, 100]
    assert px[1] == [255, 255, 255]  # transparent RGBA composited on white
    assert ds.x[1, :, 7, 4].tolist() == [255, 0, 0]  # the opaque bottom half stays red
    assert px[2] == [0, 0, 255]
    assert abs(px[3][1] - 200) <= 3 and max(px[3][0], px[3][2]) <= 3
    assert px[4] == [255, 255, 255]
    assert px[5] == [40, 40, 40]  # 16-bit scaled by 1/257
    assert px[6] == [7, 7, 7]

    gray = _folder(tmp_path, image_size=8, channels=1)
    assert gray.x.shape == (7, 1, 8, 8) and gray.x[0, 0, 1, 4] == 100


def test_all_gray_folder_is_one_channel(tmp_path):
    _save(tmp_path / "1.png", _gray(10))
    _save(tmp_path / "2.png", Image.new("RGB", (20, 20), (50, 50, 50)))  # gray stored as RGB
    ds = _folder(tmp_path)
    assert ds.x.shape == (2, 1, 64, 64)  # default size 64, auto channels
    assert ds.x[:, 0, 0, 0].tolist() == [10, 50]
    assert _folder(tmp_path, channels=3).x.shape == (2, 3, 64, 64)


def test_center_crop_keeps_the_middle(tmp_path):
    img = Image.new("L", (30, 10), 0)
    img.paste(200, (10, 0, 20, 10))  # the central 10x10 square is bright
    _save(tmp_path / "wide.png", img)
    assert (_folder(tmp_path, image_size=10).x == 200).all()


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (10, 20), (255, 0, 0))
    img.paste((0, 0, 255), (0, 10, 10, 20))  # stored: red top, blue bottom
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise: blue left, red right
    _save(tmp_path / "rot.png", img, exif=exif)
    x = _folder(tmp_path, image_size=10).x[0]
    assert x[:, 5, 1].tolist() == [0, 0, 255] and x[:, 5, 8].tolist() == [255, 0, 0]


def test_subfolder_labels_and_limit(tmp_path):
    for name, value, n in [("cat", 10, 4), ("dog", 20, 3), ("emu", 30, 5)]:
        for i in range(n):
            _save(tmp_path / name / f"{i}.png", _gray(value + i))
    _save(tmp_path / "dog" / "deep" / "x.png", _gray(99))  # nested images count for the class
    (tmp_path / "empty").mkdir()  # no images: not a class
    _save(tmp_path / ".hidden" / "h.png", _gray(1))
    ds = _folder(tmp_path, image_size=4)
    assert ds.info.class_names == ["cat", "dog", "emu"] and ds.info.num_classes == 3
    assert ds.y.dtype == torch.int64 and torch.bincount(ds.y).tolist() == [4, 4, 5]
    assert ds.x[:, 0, 0, 0].tolist()[:4] == [10, 11, 12, 13]

    small = _folder(tmp_path, image_size=4, limit=6)
    assert torch.bincount(small.y).tolist() == [2, 2, 2]  # balanced, not the first 6 files


def test_root_images_with_class_folders_is_an_error(tmp_path):
    _save(tmp_path / "loose.png", _gray(1))
    _save(tmp_path / "cls" / "a.png", _gray(1))
    with pytest.raises(DataError, match="both directly inside and in sub-folders"):
        _folder(tmp_path)


def test_same_seed_same_tensors(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        _save(tmp_path / f"{i}.png", Image.fromarray(rng.integers(0, 256, (24, 17, 3), np.uint8)))
    a, b = _folder(tmp_path, image_size=16), _folder(tmp_path, image_size=16)
    assert torch.equal(a.x, b.x) and a.x.shape == (3, 3, 16, 16)


def test_folder_errors_name_the_path(tmp_path):
    with pytest.raises(DataError, match="needs data.path"):
        load_dataset(DataConfig(name="folder"), seed=0)
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match=f"image folder not found: {missing}"):
        _folder(missing)
    a_file = _save(tmp_path / "f.png", _gray(1))
    with pytest.raises(DataError, match=f"not a folder: {a_file}"):
        _folder(a_file)
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "readme.txt").write_text("x")
    with pytest.raises(DataError, match=r"no images found in .*empty.*\.png, \.jpg"):
        _folder(empty)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty image file"),
        (b"this is not a png", "cannot read image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "cannot read image"),  # cut short
    ],
)
def test_bad_image_names_the_file(tmp_path, content, match):
    _save(tmp_path / "good.png", _gray(1))
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    with pytest.raises(DataError, match=match) as err:
        _folder(tmp_path)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_truncated_image_data(tmp_path):
    rng = np.random.default_rng(0)
    path = _save(tmp_path / "t.png", Image.fromarray(rng.integers(0, 256, (64, 64), np.uint8)))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match="cannot read image") as err:
        _folder(tmp_path)
    assert str(path) in str(err.value)


def test_paired_needs_a_and_b(tmp_path):
    _save(tmp_path / "A" / "0.png", _gray(1))
    with pytest.raises(DataError, match="missing B/"):
        load_dataset(DataConfig(name="paired", path=str(tmp_path)), seed=0)


def test_unpaired(tmp_path):
    for i in range(4):
        _save(tmp_path / "trainA" / f"a{i}.png", _gray(i))
    for i in range(2):
        _save(tmp_path / "trainB" / f"b{i}.png", Image.new("RGB", (9, 9), (0, 9, 0)))
    cfg = DataConfig(name="unpaired", path=str(tmp_path), image_size=8)
    ds_a, ds_b = load_unpaired(cfg)
    assert ds_a.x.shape == (4, 3, 8, 8) and ds_b.x.shape == (2, 3, 8, 8)  # shared channels
    assert ds_a.y is None and ds_b.y is None
    reg = load_dataset(cfg, seed=0)  # the registered dataset: both domains, drawn apart
    assert torch.equal(reg.a.x, ds_a.x) and torch.equal(reg.b.x, ds_b.x)
    assert reg.info.inputs == {"source": (3, 8, 8)} and reg.info.shape == (3, 8, 8)
    assert len(load_unpaired(cfg.model_copy(update={"limit": 1}))[0]) == 1


def test_on_error_skip_leaves_unreadable_files_out(tmp_path, caplog):
    for name, value in [("cat", 10), ("dog", 20)]:
        for i in range(3):
            _save(tmp_path / name / f"{i}.png", _gray(value + i))
    bad = tmp_path / "cat" / "1.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="cannot read image") as err:
        _folder(tmp_path, image_size=4)  # the default stops at the first unreadable file
    assert str(bad) in str(err.value)
    with caplog.at_level("WARNING", logger="gankit"):
        ds = _folder(tmp_path, image_size=4, on_error="skip")
    assert ds.x[:, 0, 0, 0].tolist() == [10, 12, 20, 21, 22]
    assert ds.y.tolist() == [0, 0, 1, 1, 1]  # labels stay with their images
    said = caplog.text
    assert str(bad) in said and "skipped 1 of 6 images" in said
    for f in tmp_path.rglob("*.png"):
        f.write_bytes(b"nothing readable")
    with pytest.raises(DataError, match="none of the 6 images could be read"):
        _folder(tmp_path, image_size=4, on_error="skip")


def test_on_error_skip_drops_a_pair_with_an_unreadable_side(tmp_path):
    for side in "AB":
        for i in range(3):
            _save(tmp_path / side / f"{i}.png", _gray(10 * i + (side == "B")))
    (tmp_path / "B" / "1.png").write_bytes(b"broken")
    ds = load_dataset(
        DataConfig(name="paired", path=str(tmp_path), image_size=4, on_error="skip"), seed=0
    )
    assert ds.inputs["source"][:, 0, 0, 0].tolist() == [0, 20]
    assert ds.x[:, 0, 0, 0].tolist() == [1, 21]


def _png_header_only(path, width, height):
    """A PNG that declares ``width`` x ``height`` gray pixels but carries almost no data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("side", [10_000, 40_000])  # 100 M pixels (Pillow warns), 1.6 G (errors)
def test_decompression_bomb_refused_before_decoding(tmp_path, side):
    from gankit.data.images import read_rgb

    bomb = _png_header_only(tmp_path / "bomb.png", side, side)
    with pytest.raises(DataError, match="decompression bomb") as err:
        _folder(tmp_path, image_size=8)
    assert str(bomb) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DataError, match="decompression bomb"):
        read_rgb(bomb)


_MEASURE = """
import resource, sys
from gankit.data import DataConfig, load_dataset
load_dataset(DataConfig(name="folder", path=sys.argv[1], image_size=16), seed=0)  # warm up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ds = load_dataset(DataConfig(name="folder", path=sys.argv[2], image_size=16), seed=0)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(ds), (after - before) // 1024)
"""


def test_a_folder_of_large_originals_is_decoded_one_at_a_time(tmp_path):
    small, big = tmp_path / "small", tmp_path / "big"
    _save(small / "0.png", Image.new("RGB", (32, 32), (1, 2, 3)))
    first = _save(big / "00.png", Image.new("RGB", (1500, 1500), (9, 8, 7)), compress_level=1)
    for i in range(1, 16):  # 16 x 1500 x 1500 RGB = 108 MB if all were held decoded at once
        (big / f"{i:02d}.png").write_bytes(first.read_bytes())
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(small), str(big)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    ).stdout.split()
    n, grew_mb = int(out[0]), int(out[1])
    assert n == 16 and grew_mb < 60, f"peak memory grew by {grew_mb} MB"
