"""Images with captions: ``digit-captions`` (the bundled digits, described in English and Korean
from what is measured on each image) and ``captioned`` (a user's folder of images + captions).

Each (image, caption) pair is one sample: ``x`` holds the image once per caption, ``extra["text"]``
the caption as symbol ids (``gankit.models.text``), ``captions`` the strings.

**What the captions say** (``measure`` / ``describe``), measured on the image itself:

- the digit (its label), as a numeral or a word: "7", "seven", "칠";
- stroke thickness: ink area (pixels > 127) / skeleton length (``skimage.morphology.skeletonize``)
  is the mean stroke width in px; thin / regular / thick by the terciles of the training digits
  (``THICKNESS_CUTS``);
- slant: the shear of the ink's second moments, ``-mu11 / mu02`` (x to the right, y down: positive
  leans right; the quantity deskewing removes); leaning left below -0.05 (3 degrees), leaning
  right above 0.25 (14 degrees), upright between (``SLANT_CUTS``; not terciles, which would call
  a vertical stroke "leaning left" since most MNIST digits lean right: 24 / 40 / 36 % of the
  training digits);
- size: the ink's bounding-box area, small / large by the training median (``SIZE_CUT``).

Each digit gets ``EN_PER_IMAGE`` English and ``KO_PER_IMAGE`` Korean captions, phrasings drawn
from ``EN_TEMPLATES`` / ``KO_TEMPLATES`` by a generator seeded with the digit's index, so the same
digit always has the same captions. Not every phrasing names every attribute ("small 3").

**Held out** (never trained on): the last 100 digits of each class (``digit_split``), and every
digit whose (digit, thickness, slant) is one of ``HELD_COMBOS`` — thick 3 leaning left, thin 7
upright, regular 9 leaning right — so those combinations are never seen in training.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.data.images import DEFAULT_SIZE, _channels, _folder, _read_all, _to_tensor, list_images
from gankit.data.mnist import DIGIT_NAMES, _mnist5k_arrays
from gankit.data.paired import digit_split
from gankit.errors import ConfigError, DataError
from gankit.registry import register_dataset

THICKNESS = ("thin", "regular", "thick")
SLANT = ("left", "upright", "right")
SIZE = ("small", "large")
# Terciles of the training digits' stroke width, the median of their size, and slant cuts that
# keep a vertical stroke upright; fixed here so a caption never depends on which digits loaded.
THICKNESS_CUTS = (2.54, 3.18)  # px of mean stroke width
SLANT_CUTS = (-0.05, 0.25)  # shear dx/dy
SIZE_CUT = 300.0  # px^2 of bounding box
HELD_COMBOS = ((3, "thick", "left"), (7, "thin", "upright"), (9, "regular", "right"))
CAPTION_SEED = 0
EN_PER_IMAGE, KO_PER_IMAGE = 4, 4

EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
KO_DIGITS = ("영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
EN_WORDS = {
    "thin": "thin",
    "regular": "regular",
    "thick": "thick",
    "left": "leaning left",
    "upright": "upright",
    "right": "leaning right",
    "small": "small",
    "large": "large",
}
KO_WORDS = {
    "thin": "얇은",
    "regular": "보통 굵기의",
    "thick": "굵은",
    "left": "왼쪽으로 기운",
    "upright": "똑바로 선",
    "right": "오른쪽으로 기운",
    "small": "작은",
    "large": "큰",
}
# {d}: the digit, {t}: thickness, {s}: slant, {z}: size.
EN_TEMPLATES = (
    "a {t} {d} {s}",
    "{d}, {t} and {s}",
    "a {z} {d}",
    "a {z}, {t} {d}",
    "{t} {d}",
    "{d} {s}",
    "a {z} {t} {d} {s}",
    "the digit {d}, {t}, {s}",
)
KO_TEMPLATES = (
    "{s} {t} {d}",
    "{t} {d}",
    "{z} {d}",
    "{s} {d}",
    "{z} {t} 숫자 {d}",
    "{s} {z} {t} {d}",
    "{t} 숫자 {d}, {s}",
)


# ---------------------------------------------------------------------------------------------
# Measuring a digit


def measure(images: np.ndarray) -> dict[str, np.ndarray]:
    """Stroke thickness (px), slant (shear) and size (px^2) of uint8 digits ``(N, H, W)`` or
    ``(N, 1, H, W)``, white ink on black. An image without ink measures 0 everywhere."""
    from skimage.morphology import skeletonize

    x = np.asarray(images)
    if x.ndim == 4:
        x = x[:, 0]
    ink = x > 127
    area = ink.sum((1, 2)).astype(np.float64)
    skeleton = np.array([skeletonize(b).sum() for b in ink], dtype=np.float64)
    thickness = np.where(skeleton > 0, area / np.maximum(skeleton, 1.0), 0.0)
    w = x.astype(np.float64)
    mass = w.sum((1, 2))
    safe = np.maximum(mass, 1e-9)
    yy, xx = np.mgrid[: x.shape[1], : x.shape[2]]
    cx = (w * xx).sum((1, 2)) / safe
    cy = (w * yy).sum((1, 2)) / safe
    dx, dy = xx[None] - cx[:, None, None], yy[None] - cy[:, None, None]
    mu11 = (w * dx * dy).sum((1, 2)) / safe
    mu02 = (w * dy * dy).sum((1, 2)) / safe
    slant = np.where(mu02 > 0, -mu11 / np.maximum(mu02, 1e-9), 0.0)
    rows, cols = ink.any(2), ink.any(1)
    size = np.array([_span(r) * _span(c) for r, c in zip(rows, cols, strict=True)], np.float64)
    return {"thickness": thickness, "slant": slant, "size": size}


def _span(a: np.ndarray) -> int:
    idx = np.flatnonzero(a)
    return int(idx[-1] - idx[0] + 1) if len(idx) else 0


def attributes(m: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """Measures -> words: thickness (thin/regular/thick), slant (left/upright/right), size."""
    t = np.digitize(m["thickness"], THICKNESS_CUTS)
    s = np.digitize(m["slant"], SLANT_CUTS)
    z = (m["size"] >= SIZE_CUT).astype(int)
    return {
        "thickness": [THICKNESS[i] for i in t],
        "slant": [SLANT[i] for i in s],
        "size": [SIZE[i] for i in z],
    }


# ---------------------------------------------------------------------------------------------
# Writing captions


def describe(
    digit: int, thickness: str, slant: str, size: str, index: int
) -> list[tuple[str, str, dict[str, str]]]:
    """The captions of digit number ``index``: ``(language, caption, what it names)`` tuples,
    ``EN_PER_IMAGE`` English then ``KO_PER_IMAGE`` Korean, the same for the same arguments."""
    rng = np.random.default_rng([CAPTION_SEED, index])
    attrs = {"t": thickness, "s": slant, "z": size}
    out = []
    for lang, templates, words, per in (
        ("en", EN_TEMPLATES, EN_WORDS, EN_PER_IMAGE),
        ("ko", KO_TEMPLATES, KO_WORDS, KO_PER_IMAGE),
    ):
        picks = rng.choice(len(templates), size=per, replace=False)
        for p in picks:
            template = templates[int(p)]
            spelled = EN_DIGITS if lang == "en" else KO_DIGITS
            d = spelled[digit] if rng.random() < 0.5 else str(digit)
            text = template.format(d=d, **{k: words[v] for k, v in attrs.items()})
            named = {"digit": str(digit)}
            named.update(
                {
                    key: attrs[slot]
                    for slot, key in (("t", "thickness"), ("s", "slant"), ("z", "size"))
                    if "{" + slot + "}" in template
                }
            )
            out.append((lang, text, named))
    return out


def digit_captions(
    x: np.ndarray, y: np.ndarray, ids: np.ndarray | None = None
) -> tuple[list[int], list[str], list[str], list[dict[str, str]]]:
    """Every caption of the digits ``x`` (N, 28, 28) with labels ``y``: (image position, language,
    caption, attributes named) lists, in image order. ``ids`` are the digits' numbers in the
    bundled order (default 0..N-1), which seed their phrasings."""
    words = attributes(measure(x))
    ids = np.arange(len(y)) if ids is None else ids
    index, langs, texts, named = [], [], [], []
    for i, digit in enumerate(y.tolist()):
        caps = describe(
            int(digit), words["thickness"][i], words["slant"][i], words["size"][i], int(ids[i])
        )
        for lang, text, what in caps:
            index.append(i)
            langs.append(lang)
            texts.append(text)
            named.append(what)
    return index, langs, texts, named


def held_combos(y: np.ndarray, words: dict[str, list[str]]) -> np.ndarray:
    """bool (N,): digits whose (digit, thickness, slant) is one of ``HELD_COMBOS``."""
    combos = set(HELD_COMBOS)
    return np.array(
        [
            (int(d), t, s) in combos
            for d, t, s in zip(y.tolist(), words["thickness"], words["slant"], strict=True)
        ]
    )


class CaptionedDataset(ArrayDataset):
    """An ArrayDataset whose samples also carry their caption strings (and, for digit-captions,
    the language and the attributes each caption names)."""

    captions: list[str]
    meta: list[dict[str, str]]

    def subset(self, idx: torch.Tensor) -> CaptionedDataset:
        sub = super().subset(idx)
        out = CaptionedDataset(**{f: getattr(sub, f) for f in sub.__dataclass_fields__})
        keep = idx.tolist()
        out.captions = [self.captions[i] for i in keep]
        out.meta = [self.meta[i] for i in keep]
        return out


def _pairs_dataset(
    images: torch.Tensor,
    image_of: list[int],
    texts: list[str],
    meta: list[dict[str, str]],
    info: DataInfo,
    labels: torch.Tensor | None,
    held: torch.Tensor | None,
) -> CaptionedDataset:
    from gankit.models.text import encode_texts

    at = torch.tensor(image_of, dtype=torch.long)
    ds = CaptionedDataset(
        x=images[at].contiguous(),
        y=None if labels is None else labels[at],
        info=info,
        extra={"text": encode_texts(texts)},
        held=None if held is None else held[at],
    )
    ds.captions, ds.meta = list(texts), list(meta)
    return ds


@lru_cache(maxsize=1)
def _bundled_words() -> dict[str, list[str]]:
    """The attribute words of the 5,000 bundled digits (measured once a process)."""
    return attributes(measure(_mnist5k_arrays()[0]))


@register_dataset("digit-captions")
def load_digit_captions(cfg: DataConfig, seed: int) -> CaptionedDataset:
    """The 5,000 bundled digits, each with 4 English and 4 Korean captions (40,000 pairs, 28x28,
    labels kept); held out: the last 100 of each class and the ``HELD_COMBOS`` digits."""
    x, y = _mnist5k_arrays()
    if cfg.limit is not None:  # the first limit // 10 of each class, train and held-out
        per = max(1, cfg.limit // 10)
        held0 = digit_split(y).numpy()
        keep = np.concatenate(
            [np.flatnonzero((y == k) & side)[:per] for k in range(10) for side in (held0, ~held0)]
        )
        keep.sort()
    else:
        keep = np.arange(len(y))
    held = digit_split(y).numpy() | held_combos(y, _bundled_words())
    image_of, langs, texts, named = digit_captions(x[keep], y[keep], keep)
    meta = [
        {"lang": lang, "index": str(int(keep[i])), **what}
        for i, lang, what in zip(image_of, langs, named, strict=True)
    ]
    info = DataInfo(
        name="digit-captions",
        kind="images",
        shape=(1, 28, 28),
        num_classes=10,
        class_names=list(DIGIT_NAMES),
    )
    return _pairs_dataset(
        torch.from_numpy(x[keep].copy()).unsqueeze(1),
        image_of,
        texts,
        meta,
        info,
        torch.from_numpy(y[keep].copy()),
        torch.from_numpy(held[keep]),
    )


# ---------------------------------------------------------------------------------------------
# A user's captioned folder


def read_captions(root: Path, files: list[Path]) -> list[list[str]]:
    """Each image's captions: lines of ``captions.jsonl`` (``{"file": "a.png", "text": "..."}``;
    ``image`` and ``caption`` are accepted for the keys; several lines may name one file), else
    the lines of a same-name ``.txt`` beside the image (``a.png`` -> ``a.txt``)."""
    from gankit.models.text import tokenize

    by_file: dict[str, list[str]] = {}
    jsonl = root / "captions.jsonl"
    if jsonl.is_file():
        for n, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                name = row.get("file", row.get("image"))
                text = row.get("text", row.get("caption"))
            except (json.JSONDecodeError, AttributeError):
                row, name, text = None, None, None
            if not isinstance(name, str) or not isinstance(text, str):
                raise DataError(
                    f"{jsonl} line {n}: expected a JSON object with 'file' and 'text' strings, "
                    f'e.g. {{"file": "a.png", "text": "a thick seven"}}'
                )
            by_file.setdefault(name.replace("\\", "/"), []).append(text)
    out, missing = [], []
    for f in files:
        rel = f.relative_to(root).as_posix()
        caps = list(by_file.get(rel, []))
        txt = f.with_suffix(".txt")
        if not caps and txt.is_file():
            caps = [ln for ln in txt.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if not caps:
            missing.append(rel)
        for c in caps:
            try:
                tokenize(c)
            except ConfigError as e:
                raise DataError(f"caption of {rel}: {e}") from None
        out.append(caps)
    if missing:
        raise DataError(
            f"{len(missing)} image(s) in {root} have no caption ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}): add lines to captions.jsonl or a same-name "
            ".txt beside each image"
        )
    return out


@register_dataset("captioned")
def load_captioned(cfg: DataConfig, seed: int) -> CaptionedDataset:
    """A folder of images with captions (``captions.jsonl`` or same-name ``.txt`` files), read at
    ``data.image_size`` (default 64); one sample per (image, caption) pair."""
    root = _folder(cfg.path, "captioned")
    files = list_images(root, recursive=True)
    if not files:
        raise DataError(f"no images found in {root}")
    if cfg.limit is not None:
        files = files[: cfg.limit]
    captions = read_captions(root, files)
    rgb = _read_all(files, cfg.image_size or DEFAULT_SIZE)
    x = _to_tensor(rgb, _channels(cfg.channels, rgb))
    image_of = [i for i, caps in enumerate(captions) for _ in caps]
    texts = [c for caps in captions for c in caps]
    meta = [{"file": files[i].relative_to(root).as_posix()} for i in image_of]
    info = DataInfo(name="captioned", kind="images", shape=tuple(x.shape[1:]))
    return _pairs_dataset(x, image_of, texts, meta, info, None, None)
