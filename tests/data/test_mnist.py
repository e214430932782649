"""IDX files, checksums, the MNIST loaders on files the tests write, mnist5k and digits."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
import torch

from gankit.data import DataConfig, load_dataset
from gankit.data import mnist as mnist_mod
from gankit.data.mnist import (
    default_data_dir,
    download_file,
    read_idx,
    verify_checksum,
    write_idx,
)
from gankit.errors import DataError
from gankit.files import file_digest

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


# ---------------------------------------------------------------------------------------------
# IDX


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.flags.writeable
    np.testing.assert_array_equal(a, b)
    if suffix == ".gz":
        assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_idx_header_is_big_endian(tmp_path):
    path = tmp_path / "labels-idx1"
    write_idx(path, np.array([1, 2, 258], dtype=np.int16))
    raw = path.read_bytes()
    assert raw[:4] == b"\x00\x00\x0b\x01" and raw[4:8] == b"\x00\x00\x00\x03"
    assert raw[8:] == b"\x00\x01\x00\x02\x01\x02"
    # the standard MNIST labels layout: 0x00000801
    write_idx(path, np.zeros(2, dtype=np.uint8))
    assert path.read_bytes()[:4] == bytes.fromhex("00000801")


def test_idx_zero_dims_and_scalar(tmp_path):
    write_idx(tmp_path / "e", np.zeros((0, 28, 28), dtype=np.uint8))
    assert read_idx(tmp_path / "e").shape == (0, 28, 28)
    write_idx(tmp_path / "s", np.array(7.5))  # 0 dimensions: one value
    assert read_idx(tmp_path / "s").shape == () and read_idx(tmp_path / "s") == 7.5


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\x00\x01\x08\x01\x00\x00\x00\x01\x05", "not an IDX file"),  # bad zero bytes
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "not an IDX file"),  # unknown dtype code
        (b"\x00\x00", "shorter than the header"),
        (b"\x00\x00\x08\x03\x00\x00", "header for 3 dimensions is cut short"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated IDX file"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "trailing bytes"),
        (b"", "shorter than the header"),
    ],
)
def test_corrupt_idx_names_the_file(tmp_path, content, match):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_corrupt_gzip_and_missing_idx(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x04abcd")
    path = tmp_path / "cut.gz"
    path.write_bytes(good[:-6])
    with pytest.raises(DataError, match="cannot read IDX file") as err:
        read_idx(path)
    assert str(path) in str(err.value)
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope")


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(DataError, match="allowed: uint8"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# Checksums and downloads (file:// URLs only: tests never use the network)


def test_verify_checksum(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"gankit")
    md5 = hashlib.md5(b"gankit").hexdigest()
    verify_checksum(path, md5)
    verify_checksum(path, md5.upper())
    verify_checksum(path, hashlib.sha256(b"gankit").hexdigest(), "sha256")
    assert file_digest(path) == hashlib.sha256(b"gankit").hexdigest()
    with pytest.raises(DataError, match="checksum mismatch") as err:
        verify_checksum(path, "0" * 32)
    assert str(path) in str(err.value)


def test_download_file_is_atomic(tmp_path):
    src = tmp_path / "src.gz"
    src.write_bytes(b"payload")
    dest = tmp_path / "out" / "file.gz"
    with pytest.raises(DataError, match="checksum mismatch"):
        download_file(src.as_uri(), dest, md5="0" * 32)
    assert not dest.exists() and list(dest.parent.iterdir()) == []  # no temp file left
    download_file(src.as_uri(), dest, md5=hashlib.md5(b"payload").hexdigest())
    assert dest.read_bytes() == b"payload" and list(dest.parent.iterdir()) == [dest]


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_DATA_DIR", str(tmp_path))
    assert default_data_dir("mnist") == tmp_path / "mnist"
    monkeypatch.delenv("GANKIT_DATA_DIR")
    assert default_data_dir("mnist").parts[-3:] == (".cache", "gankit", "mnist")


# ---------------------------------------------------------------------------------------------
# mnist / fashion-mnist from IDX files the test writes


def _fake_mnist(folder, n=12, gz=True):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_folder(tmp_path, gz):
    images, labels = _fake_mnist(tmp_path, gz=gz)
    ds = load_dataset(DataConfig(name="mnist", path=str(tmp_path)), seed=0)
    assert ds.x.shape == (12, 1, 28, 28) and ds.x.dtype == torch.uint8
    assert torch.equal(ds.x[:, 0], torch.from_numpy(images))
    assert ds.y.dtype == torch.int64 and ds.y.tolist() == labels.tolist()
    assert ds.info.num_classes == 10 and ds.info.shape == (1, 28, 28)

    small = load_dataset(DataConfig(name="mnist", path=str(tmp_path), limit=5, image_size=32), 0)
    assert small.x.shape == (5, 1, 32, 32) and small.info.shape == (1, 32, 32)


def test_fashion_mnist_from_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_DATA_DIR", str(tmp_path))
    _fake_mnist(tmp_path / "fashion-mnist")
    ds = load_dataset(DataConfig(name="fashion-mnist", channels=3), seed=0)
    assert ds.x.shape == (12, 3, 28, 28) and ds.info.class_names[9] == "Ankle boot"


def test_mnist_missing_files_message(tmp_path):
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataError) as err:
        load_dataset(DataConfig(name="mnist", path=str(tmp_path)), seed=0)
    msg = str(err.value)
    assert "train-images-idx3-ubyte(.gz)" in msg and "train-labels" not in msg
    assert str(tmp_path) in msg and "--set data.download=true" in msg


def test_mnist_mismatched_files(tmp_path):
    _fake_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError, match="12 images but .* 3 labels"):
        load_dataset(DataConfig(name="mnist", path=str(tmp_path)), seed=0)


def test_mnist_download_from_a_local_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _fake_mnist(mirror)
    sums = {f.name: hashlib.md5(f.read_bytes()).hexdigest() for f in mirror.iterdir()}
    monkeypatch.setitem(
        mnist_mod.MIRRORS, "mnist", [(tmp_path / "down").as_uri() + "/", mirror.as_uri() + "/"]
    )
    monkeypatch.setitem(mnist_mod.CHECKSUMS, "mnist", sums)
    target = tmp_path / "data"
    ds = load_dataset(DataConfig(name="mnist", path=str(target), download=True), seed=0)
    assert len(ds) == 12 and sorted(p.name for p in target.iterdir()) == sorted(sums)

    # a mirror serving the wrong bytes is rejected and nothing is kept
    monkeypatch.setitem(mnist_mod.CHECKSUMS, "mnist", {k: "0" * 32 for k in sums})
    with pytest.raises(DataError, match="could not download .*checksum mismatch"):
        load_dataset(DataConfig(name="mnist", path=str(tmp_path / "d2"), download=True), seed=0)
    assert list((tmp_path / "d2").iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Offline sets


def test_mnist5k():
    ds = load_dataset(DataConfig(name="mnist5k"), seed=0)
    assert ds.x.shape == (5000, 1, 28, 28) and ds.x.dtype == torch.uint8
    assert ds.y.dtype == torch.int64 and torch.bincount(ds.y).tolist() == [500] * 10
    assert ds.info.num_classes == 10 and ds.info.class_names[3] == "3"
    assert ds.x.max() == 255 and 0.05 < ds.x.float().mean() / 255 < 0.25  # ink on black


def test_mnist5k_limit_is_stratified_and_fixed():
    a = load_dataset(DataConfig(name="mnist5k", limit=100), seed=0)
    b = load_dataset(DataConfig(name="mnist5k", limit=100), seed=7)
    assert a.x.shape == (100, 1, 28, 28)
    assert torch.bincount(a.y, minlength=10).tolist() == [10] * 10  # not 100 zeros
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert torch.all(a.y[1:] >= a.y[:-1])  # the natural (sorted) order is kept


def test_mnist5k_resized_rgb():
    ds = load_dataset(DataConfig(name="mnist5k", limit=10, image_size=32, channels=3), seed=0)
    assert ds.x.shape == (10, 3, 32, 32) and ds.info.shape == (3, 32, 32)
    assert torch.equal(ds.x[:, 0], ds.x[:, 2])


def test_digits():
    ds = load_dataset(DataConfig(name="digits"), seed=0)
    assert ds.x.shape == (1797, 1, 8, 8) and ds.x.dtype == torch.uint8
    assert ds.x.max() == 255 and ds.x.min() == 0
    assert ds.y[:10].tolist() == list(range(10)) and ds.info.num_classes == 10
    assert len(load_dataset(DataConfig(name="digits", limit=50), seed=0)) == 50
