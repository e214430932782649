"""Folders of image files: ``folder`` (optionally labelled), ``paired`` and ``unpaired``.

Every image is decoded with Pillow, converted to RGB, cut to its central square and resized
with Lanczos to ``data.image_size`` (default 64). Conversions:

* transparency (RGBA, LA, PA, or a palette / PNG with a transparent colour) is composited on
  **white**, so transparent backgrounds read as paper, not as black;
* 16-bit grayscale (``I;16*``, ``I``) is scaled from 0..65535 to 0..255; float (``F``) is clipped;
* JPEG EXIF orientation is applied.

An image Pillow would have to decode to more than ``Image.MAX_IMAGE_PIXELS`` (89 million) pixels
is refused from its header, before any pixel is decoded (a decompression bomb). Each file is
decoded and resized on its own into one preallocated array, so a folder of large originals never
holds more than one of them in memory. ``data.on_error``: ``stop`` (default) names the first
unreadable file and stops; ``skip`` leaves unreadable files out with a warning naming each.

``data.channels``: 3 = RGB, 1 = grayscale (Pillow's luma weights), None = 1 if every image is
gray (R == G == B after decoding: L, LA, 16-bit and gray palettes), else 3.

Layouts:

* ``folder``: images directly in ``data.path`` (unlabelled), or in its immediate sub-folders,
  whose sorted names are the class names (sub-folders may nest deeper; empty ones are skipped).
* ``paired``: ``data.path_a`` and ``data.path_b``, or ``A/`` and ``B/`` (or ``trainA/``,
  ``trainB/``) in ``data.path``, holding files with the same names (extensions may differ; names
  on one side only are reported and left out), or a folder of A|B side-by-side images. ``x`` is
  B, ``inputs["source"]`` is A (see ``load_paired``).
* ``unpaired``: ``data.path_a`` and ``data.path_b``, or ``A/`` and ``B/`` in ``data.path``, of
  any counts; ``load_unpaired(cfg)`` returns both, with the same channels and size (the
  registered two-domain dataset is in ``data/unpaired.py``).
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.data.transforms import square_resize_pil, stratified_subset, to_grayscale
from gankit.errors import DataError
from gankit.registry import register_dataset

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
DEFAULT_SIZE = 64
# A labelled folder is sorted by class; `limit` takes a class-balanced subset with this seed.
SUBSET_SEED = 0
_A_NAMES, _B_NAMES = ("A", "trainA"), ("B", "trainB")
log = logging.getLogger("gankit")
_ALLOWED = ", ".join(IMAGE_EXTENSIONS)


# ---------------------------------------------------------------------------------------------
# Reading one image


_READ_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


@contextmanager
def _opened(path: Path):
    """``Image.open`` with Pillow's decompression-bomb warning raised as an error: an image
    larger than ``Image.MAX_IMAGE_PIXELS`` is refused from its header, before decoding."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            yield img


def read_image(path: str | Path, size: int) -> np.ndarray:
    """One image file -> uint8 RGB ``(size, size, 3)``: converted, center-cropped, resized."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise DataError(f"empty image file (0 bytes): {path}")
        with _opened(path) as img:
            img.draft(img.mode, (size, size))  # JPEG: decode at 1/2, 1/4 or 1/8 if still >= size
            img.load()
            if img.getexif().get(0x0112, 1) != 1:  # EXIF orientation tag
                img = ImageOps.exif_transpose(img)
            rgb = to_rgb(img)
        return np.asarray(square_resize_pil(rgb, size), dtype=np.uint8)  # (size, size, 3)
    except DataError:
        raise
    except _READ_ERRORS as e:
        # UnidentifiedImageError and truncated-file errors are OSErrors.
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"cannot read image {path}: {msg}") from None


def read_rgb(path: str | Path) -> np.ndarray:
    """One image file at its own size -> uint8 RGB ``(H, W, 3)`` (transparency on white, EXIF
    orientation applied); a file that is not a readable image is a one-line DataError."""
    path = Path(path)
    try:
        with _opened(path) as img:
            img.load()
            if img.getexif().get(0x0112, 1) != 1:
                img = ImageOps.exif_transpose(img)
            return np.asarray(to_rgb(img), dtype=np.uint8)
    except _READ_ERRORS as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"cannot read image {path}: {msg}") from None


def rgb_to_channels(rgb: np.ndarray, channels: int, what: str) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` -> ``(C, H, W)``: one channel only from a gray image (a colour
    image given to a grayscale input is an error naming ``what``), three from any image."""
    if channels == 3:
        return rgb.transpose(2, 0, 1)
    if not _is_gray(rgb[None]):
        raise DataError(f"{what} is a colour image; this generator takes 1 channel (grayscale)")
    return rgb[None, :, :, 0]


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB, with transparency composited on white."""
    mode = img.mode
    if mode.startswith("I"):  # 16-bit PNG grayscale ("I;16", or "I" in older Pillow)
        a = np.asarray(img, dtype=np.float64) / 257.0
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), mode="L")
    elif mode == "F":
        img = Image.fromarray(np.clip(np.rint(np.asarray(img)), 0, 255).astype(np.uint8), "L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _read_all(paths: list[Path], size: int) -> np.ndarray:
    """Decode every file into one preallocated uint8 ``(N, size, size, 3)`` array."""
    return read_images(paths, size)[0]


def read_images(
    paths: list[Path], size: int, on_error: str = "stop"
) -> tuple[np.ndarray, list[int]]:
    """Decode files one at a time into a preallocated uint8 ``(N, size, size, 3)`` array; with
    ``on_error="skip"`` unreadable files are left out (a warning names each, then a count).
    Returns the array and the indices into ``paths`` it holds."""
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    kept: list[int] = []
    for i, p in enumerate(paths):
        try:
            out[len(kept)] = read_image(p, size)
        except DataError as e:
            if on_error != "skip":
                raise
            log.warning("skipped: %s", e)
            continue
        kept.append(i)
    if len(kept) < len(paths):
        if not kept:
            raise DataError(f"none of the {len(paths)} images could be read (data.on_error=skip)")
        log.warning(
            "skipped %d of %d images that could not be read", len(paths) - len(kept), len(paths)
        )
    return out[: len(kept)], kept


def _is_gray(rgb: np.ndarray) -> bool:
    """True if every pixel of the ``(N, H, W, 3)`` array has R == G == B."""
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _channels(requested: int | None, *rgbs: np.ndarray) -> int:
    if requested is not None:
        return requested
    return 1 if all(_is_gray(a) for a in rgbs) else 3


def _to_tensor(rgb: np.ndarray, channels: int) -> torch.Tensor:
    """uint8 ``(N, H, W, 3)`` -> ``(N, C, H, W)`` with C = ``channels``."""
    x = torch.from_numpy(rgb).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)
    if channels == 1:
        x = x[:, :1].contiguous() if _is_gray(rgb) else to_grayscale(x)
    return x


# ---------------------------------------------------------------------------------------------
# Finding files


def _folder(path: str | Path | None, dataset: str) -> Path:
    if path is None:
        raise DataError(f"dataset {dataset!r} needs data.path: a folder of images")
    root = Path(path).expanduser()
    if not root.exists():
        raise DataError(f"image folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"not a folder: {root}; data.path must be a folder of images")
    return root


def _is_image(p: Path) -> bool:
    return p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()


def list_images(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files (by extension, hidden files skipped) in ``folder``, sorted by path."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p for p in found if _is_image(p) and not _hidden(p.relative_to(folder).parts[:-1])
    )


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") for part in parts)


def scan_folder(root: Path) -> tuple[list[Path], np.ndarray | None, list[str]]:
    """The image files under ``root``, their labels (or None) and the class names."""
    top = list_images(root)
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    classes = [(d.name, files) for d in subdirs if (files := list_images(d, recursive=True))]
    if classes and top:
        raise DataError(
            f"{root} has images both directly inside and in sub-folders "
            f"({', '.join(n for n, _ in classes[:5])}); put every image in a class sub-folder, "
            "or all of them directly in the folder"
        )
    if classes:
        files = [f for _, fs in classes for f in fs]
        labels = np.concatenate(
            [np.full(len(fs), i, dtype=np.int64) for i, (_, fs) in enumerate(classes)]
        )
        return files, labels, [n for n, _ in classes]
    if top:
        return top, None, []
    raise DataError(f"no images found in {root} or its sub-folders; allowed extensions: {_ALLOWED}")


# ---------------------------------------------------------------------------------------------
# Datasets


@register_dataset("folder")
def load_folder(cfg: DataConfig, seed: int) -> ArrayDataset:
    """A folder of images, labelled by sub-folder when it has them; uint8 ``(N, C, S, S)``."""
    root = _folder(cfg.path, "folder")
    files, labels, class_names = scan_folder(root)
    if cfg.limit is not None and labels is not None:
        keep = stratified_subset(labels, cfg.limit, SUBSET_SEED)
        files, labels = [files[i] for i in keep], labels[keep]
    elif cfg.limit is not None:
        files = files[: cfg.limit]
    rgb, kept = read_images(files, cfg.image_size or DEFAULT_SIZE, cfg.on_error)
    if labels is not None:
        labels = labels[kept]
    x = _to_tensor(rgb, _channels(cfg.channels, rgb))
    info = DataInfo(
        name="folder",
        kind="images",
        shape=tuple(x.shape[1:]),
        num_classes=len(class_names),
        class_names=class_names,
    )
    y = None if labels is None else torch.from_numpy(labels)
    return ArrayDataset(x=x, y=y, info=info)


def _ab_dirs(cfg: DataConfig, dataset: str) -> tuple[Path, Path]:
    root = _folder(cfg.path, dataset)
    found = []
    for names in (_A_NAMES, _B_NAMES):
        d = next((root / n for n in names if (root / n).is_dir()), None)
        if d is None:
            raise DataError(
                f"dataset {dataset!r} needs sub-folders A/ and B/ (or trainA/, trainB/) in {root}; "
                f"missing {names[0]}/"
            )
        found.append(d)
    return found[0], found[1]


def _images_or_error(folder: Path) -> list[Path]:
    files = list_images(folder, recursive=True)
    if not files:
        raise DataError(f"no images found in {folder}; allowed extensions: {_ALLOWED}")
    return files


def _by_stem(folder: Path) -> dict[str, Path]:
    table: dict[str, Path] = {}
    for f in _images_or_error(folder):
        key = f.relative_to(folder).with_suffix("").as_posix()
        if key in table:
            raise DataError(f"two images named {key} in {folder}: {table[key].name}, {f.name}")
        table[key] = f
    return table


def _matched_pairs(dir_a: Path, dir_b: Path) -> list[tuple[Path, Path]]:
    """Files of ``dir_a`` and ``dir_b`` matched by name (extensions may differ); names found on
    one side only are reported and left out."""
    a, b = _by_stem(dir_a), _by_stem(dir_b)
    only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
    keys = sorted(a.keys() & b.keys())
    if not keys:
        raise DataError(
            f"no image names match between {dir_a} and {dir_b}: paired files need the same "
            f"names (e.g. {next(iter(sorted(a)))} in both)"
        )
    for side, names, d in (("A", only_a, dir_a), ("B", only_b, dir_b)):
        if names:
            shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            log.warning("%d image(s) only in %s (%s), left out: %s", len(names), d, side, shown)
    return [(a[k], b[k]) for k in keys]


def _read_side_by_side(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One A|B image (the pix2pix convention: A on the left half, B on the right) -> two uint8
    RGB ``(size, size, 3)`` arrays."""
    rgb = read_rgb(path)
    w = rgb.shape[1]
    if w < 2:
        raise DataError(f"{path} is {w} px wide: an A|B pair needs A and B side by side")
    halves = rgb[:, : w // 2], rgb[:, w // 2 : 2 * (w // 2)]
    return tuple(
        np.asarray(square_resize_pil(Image.fromarray(x), size), dtype=np.uint8) for x in halves
    )


@register_dataset("paired")
def load_paired(cfg: DataConfig, seed: int) -> ArrayDataset:
    """Paired images, in any of three layouts: ``data.path_a`` and ``data.path_b`` (files matched
    by name), ``data.path`` with ``A/`` and ``B/`` (or ``trainA/``, ``trainB/``), or ``data.path``
    holding A|B side-by-side images. ``x`` is B (the target), ``inputs["source"]`` A; each side
    has its own channel count (a grayscale sketch may pair with a colour photo)."""
    size = cfg.image_size or DEFAULT_SIZE
    if cfg.path_a or cfg.path_b:
        if not (cfg.path_a and cfg.path_b):
            raise DataError("paired folders need both data.path_a and data.path_b")
        pairs = _matched_pairs(_folder(cfg.path_a, "paired"), _folder(cfg.path_b, "paired"))
    else:
        root = _folder(cfg.path, "paired")
        has_ab = any((root / n).is_dir() for n in _A_NAMES + _B_NAMES)
        pairs = _matched_pairs(*_ab_dirs(cfg, "paired")) if has_ab else None
    if pairs is not None:
        pairs = pairs[: cfg.limit]
        rgb_a, kept_a = read_images([a for a, _ in pairs], size, cfg.on_error)
        rgb_b, kept_b = read_images([b for _, b in pairs], size, cfg.on_error)
        # A pair with an unreadable side is left out.
        row_a = {i: r for r, i in enumerate(kept_a)}
        row_b = {i: r for r, i in enumerate(kept_b)}
        both = [i for i in kept_a if i in row_b]
        rgb_a, rgb_b = rgb_a[[row_a[i] for i in both]], rgb_b[[row_b[i] for i in both]]
    else:
        files = _images_or_error(root)[: cfg.limit]
        rgb_a = np.empty((len(files), size, size, 3), dtype=np.uint8)
        rgb_b = np.empty_like(rgb_a)
        for i, f in enumerate(files):
            rgb_a[i], rgb_b[i] = _read_side_by_side(f, size)
    a = _to_tensor(rgb_a, _channels(cfg.channels, rgb_a))
    b = _to_tensor(rgb_b, _channels(cfg.channels, rgb_b))
    info = DataInfo(
        name="paired",
        kind="images",
        shape=tuple(b.shape[1:]),
        inputs={"source": tuple(a.shape[1:])},
    )
    return ArrayDataset(
        x=b, y=None, info=info, inputs={"source": a}, augment=(cfg.flip, cfg.jitter)
    )


def load_unpaired(cfg: DataConfig, seed: int = 0) -> tuple[ArrayDataset, ArrayDataset]:
    """The images of ``data.path_a`` and ``data.path_b``, or of A/ and B/ in ``data.path`` (any
    counts; ``limit`` applies to each), at one channel count and size."""
    if cfg.path_a or cfg.path_b:
        if not (cfg.path_a and cfg.path_b):
            raise DataError("unpaired folders need both data.path_a and data.path_b")
        dir_a, dir_b = _folder(cfg.path_a, "unpaired"), _folder(cfg.path_b, "unpaired")
    else:
        dir_a, dir_b = _ab_dirs(cfg, "unpaired")
    size = cfg.image_size or DEFAULT_SIZE
    rgbs = [_read_all(_images_or_error(d)[: cfg.limit], size) for d in (dir_a, dir_b)]
    c = _channels(cfg.channels, *rgbs)
    out = []
    for rgb in rgbs:
        x = _to_tensor(rgb, c)
        info = DataInfo(name="unpaired", kind="images", shape=tuple(x.shape[1:]))
        out.append(ArrayDataset(x=x, y=None, info=info))
    return out[0], out[1]
