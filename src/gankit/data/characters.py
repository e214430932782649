"""``characters``: cartoon characters drawn procedurally, each with the tags that describe it.

The multi-label set of Jin et al. 2017 ("Towards the Automatic Anime Characters Creation with
Generative Adversarial Networks", arXiv 1708.05509: hair and eye colour, hair style, smile,
blush, glasses, hat) without its crawled images: every character is drawn here from a seed, so
its tags are exact by construction and nothing is downloaded.

**Drawing** (``draw_character``): flat colours, no antialiasing, on a 32-unit canvas evaluated at
pixel centres (so 32 px is pixel-exact and 48 or 64 px are the same drawing finer). Every part
has its own RGB in ``PALETTE`` and no two parts share one, so a tag can be read back from the
pixels (``tests/data/test_characters.py`` does). What varies beyond the tags: skin tone, face
width and size, position (whole pixels), shirt and background colour.

**Tags** (``TAGS``): one of each exclusive group in ``TAG_GROUPS`` (hair colour, eye colour, hair
style) plus four independent ones (smile, blush, glasses, hat), drawn with the frequencies of
``GROUP_PROBS`` / ``FLAG_PROBS`` (uneven on purpose, so "unrequested tags keep their training
frequencies" is a real test).

**Held out**: every character whose tags include one of ``HELD_COMBOS`` (blue hair with glasses,
pink hair with a hat, white hair in twintails, red hair with green eyes) never reaches training,
so a generator drawing those combinations has never seen them; and ``HELD_PER_SET`` characters
drawn from a separate seed stream (``HELD_STREAM``) are held out whatever their tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.errors import ConfigError, DataError
from gankit.registry import register_dataset

HAIR_COLOURS = ("black", "blonde", "brown", "red", "blue", "pink", "green", "white")
EYE_COLOURS = ("blue", "green", "brown", "red", "purple", "yellow")
HAIR_STYLES = ("short hair", "long hair", "twintails")
FLAGS = ("smile", "blush", "glasses", "hat")

TAG_GROUPS: tuple[tuple[str, ...], ...] = (
    tuple(f"{c} hair" for c in HAIR_COLOURS),
    tuple(f"{c} eyes" for c in EYE_COLOURS),
    HAIR_STYLES,
)
TAGS: tuple[str, ...] = (*(t for g in TAG_GROUPS for t in g), *FLAGS)
GROUP_PROBS = (
    (0.20, 0.15, 0.20, 0.10, 0.10, 0.10, 0.07, 0.08),
    (0.25, 0.15, 0.25, 0.12, 0.12, 0.11),
    (0.45, 0.35, 0.20),
)
FLAG_PROBS = (0.50, 0.25, 0.20, 0.20)
HELD_COMBOS: tuple[tuple[str, ...], ...] = (
    ("blue hair", "glasses"),
    ("pink hair", "hat"),
    ("white hair", "twintails"),
    ("red hair", "green eyes"),
)

DEFAULT_SIZE = 32
SIZES = (32, 48, 64)
TRAIN_PER_SET = 8000  # characters of the training stream (those with a held combo leave it)
HELD_PER_SET = 1000  # characters of the held-out stream
TRAIN_STREAM, HELD_STREAM = 0, 1
CLASSIFIER_STREAM = 2  # the tag classifier's own characters (gankit.metrics.tags)

PALETTE: dict[str, tuple[int, int, int]] = {
    "black hair": (34, 32, 40),
    "blonde hair": (246, 214, 110),
    "brown hair": (130, 80, 44),
    "red hair": (200, 40, 36),
    "blue hair": (60, 110, 222),
    "pink hair": (246, 140, 190),
    "green hair": (70, 170, 80),
    "white hair": (236, 236, 244),
    "blue eyes": (30, 90, 210),
    "green eyes": (30, 150, 70),
    "brown eyes": (110, 60, 30),
    "red eyes": (212, 30, 50),
    "purple eyes": (140, 60, 190),
    "yellow eyes": (230, 180, 20),
    "lash": (20, 14, 24),
    "highlight": (255, 255, 255),
    "mouth": (172, 40, 60),
    "blush": (246, 160, 160),
    "glasses": (90, 90, 110),
    "hat": (40, 52, 112),
    "hat band": (250, 250, 250),
}
SKINS = ((255, 226, 202), (246, 206, 170), (226, 176, 136), (176, 120, 86))
SHIRTS = ((220, 70, 110), (70, 140, 200), (240, 240, 240), (60, 60, 70), (120, 180, 120))
BACKGROUNDS = ((226, 238, 250), (250, 240, 226), (234, 250, 234), (244, 234, 250), (252, 252, 236))


@dataclass(frozen=True)
class Character:
    """One character: its tags and what else was drawn at random (skin, pose, colours)."""

    hair: str  # "blue hair"
    eyes: str  # "green eyes"
    style: str  # "twintails"
    smile: bool
    blush: bool
    glasses: bool
    hat: bool
    skin: int  # index into SKINS
    shirt: int
    background: int
    dx: int  # head offset in units of the 32-unit canvas
    dy: int
    scale: float  # head size
    width: float  # face width / height ratio factor

    @property
    def tags(self) -> list[str]:
        flags = [f for f in FLAGS if getattr(self, f)]
        return [self.hair, self.eyes, self.style, *flags]

    def vector(self) -> np.ndarray:
        """Multi-hot float32 (T,) in ``TAGS`` order."""
        v = np.zeros(len(TAGS), np.float32)
        v[[TAGS.index(t) for t in self.tags]] = 1.0
        return v


def random_character(seed: int, stream: int = TRAIN_STREAM) -> Character:
    """The character of ``(stream, seed)``: the same pair always gives the same character."""
    rng = np.random.default_rng([stream, seed])
    hair, eyes, style = (
        g[rng.choice(len(g), p=p)] for g, p in zip(TAG_GROUPS, GROUP_PROBS, strict=True)
    )
    flags = rng.random(len(FLAGS)) < np.array(FLAG_PROBS)
    return Character(
        hair=hair,
        eyes=eyes,
        style=style,
        smile=bool(flags[0]),
        blush=bool(flags[1]),
        glasses=bool(flags[2]),
        hat=bool(flags[3]),
        skin=int(rng.integers(len(SKINS))),
        shirt=int(rng.integers(len(SHIRTS))),
        background=int(rng.integers(len(BACKGROUNDS))),
        dx=int(rng.integers(-2, 3)),
        dy=int(rng.integers(-1, 2)),
        scale=float(rng.uniform(0.92, 1.08)),
        width=float(rng.uniform(0.9, 1.1)),
    )


def draw_character(c: Character, size: int = DEFAULT_SIZE) -> tuple[np.ndarray, dict]:
    """uint8 RGB ``(3, size, size)`` and the part masks (bool ``(size, size)``) that were painted,
    by name, each as it shows in the final image (later parts cover earlier ones), plus
    ``chin`` (the lowest row of the face, in pixels) and ``face_x`` (its left and right columns).
    """
    u = (np.arange(size) + 0.5) * 32.0 / size  # pixel centres on the 32-unit canvas
    X, Y = np.meshgrid(u, u)
    cx, cy = 16 + c.dx, 15 + c.dy
    frx, fry = 7.5 * c.scale * c.width, 8.5 * c.scale  # face radii
    hrx, hry = frx + 1.5, fry + 0.5  # hair cap radii

    def ellipse(x0, y0, rx, ry):
        return ((X - x0) / rx) ** 2 + ((Y - y0) / ry) ** 2 <= 1.0

    def rect(x0, x1, y0, y1):
        return (X >= x0) & (X < x1) & (Y >= y0) & (Y < y1)

    img = np.empty((size, size, 3), np.uint8)
    img[:] = BACKGROUNDS[c.background]
    owner = np.zeros((size, size), np.int16)  # index into names, 0 = background
    names = [""]

    def paint(name: str, mask: np.ndarray, rgb) -> None:
        if name not in names:
            names.append(name)
        img[mask] = rgb
        owner[mask] = names.index(name)

    skin = SKINS[c.skin]
    hair_rgb = PALETTE[c.hair]
    if c.style == "long hair":  # behind the shoulders
        paint("hair", ellipse(cx, cy + 4, frx + 3.0, 13.0) & (Y < 31), hair_rgb)
    paint("shirt", ellipse(cx, 36.5, 12.5, 7.5), SHIRTS[c.shirt])
    if c.style == "twintails":
        for side in (-1, 1):
            paint("hair", ellipse(cx + side * (hrx + 1.5), cy + 5, 2.6, 7.0), hair_rgb)
    paint("neck", rect(cx - 2.5, cx + 2.5, cy + 6, cy + 11.5), skin)
    face = ellipse(cx, cy + 1, frx, fry)
    paint("face", face, skin)
    cap = ellipse(cx, cy - 1, hrx, hry)
    bangs = cap & (Y < cy - 2)
    locks = cap & (Y < cy + 3) & (np.abs(X - cx) > frx - 1.0)
    paint("hair", bangs | locks, hair_rgb)

    ey = cy + 2  # eyes: rows ey-2 (lash), ey-1 .. ey+1 (iris)
    for ex in (cx - 3.5, cx + 3.5):
        paint("lash", rect(ex - 2, ex + 2, ey - 2, ey - 1), PALETTE["lash"])
        paint("eyes", rect(ex - 1.5, ex + 1.5, ey - 1, ey + 2), PALETTE[c.eyes])
        paint("highlight", rect(ex - 1.5, ex - 0.5, ey - 1, ey), PALETTE["highlight"])
        if c.blush:
            outer = ex - 2 if ex < cx else ex - 1
            paint("blush", rect(outer, outer + 3, ey + 3, ey + 4), PALETTE["blush"])
        if c.glasses:
            frame = rect(ex - 2.5, ex + 2.5, ey - 2, ey + 3) & ~rect(
                ex - 1.5, ex + 1.5, ey - 1, ey + 2
            )
            paint("glasses", frame, PALETTE["glasses"])
    if c.glasses:
        paint("glasses", rect(cx - 1, cx + 1, ey - 1, ey), PALETTE["glasses"])
    my = cy + 6
    if c.smile:  # an open smile: 4 px, then 2 px under it
        mouth = rect(cx - 2, cx + 2, my, my + 1) | rect(cx - 1, cx + 1, my + 1, my + 2)
    else:  # a closed mouth: one 2 px line
        mouth = rect(cx - 1, cx + 1, my + 1, my + 2)
    paint("mouth", mouth, PALETTE["mouth"])
    if c.hat:
        crown = ellipse(cx, cy - 8, hrx + 0.5, 4.5) & (Y < cy - 5)
        paint("hat", crown, PALETTE["hat"])
        paint("hat band", crown & (Y >= cy - 7) & (Y < cy - 6), PALETTE["hat band"])
        paint("hat", rect(cx - hrx - 2, cx + hrx + 2, cy - 6, cy - 5), PALETTE["hat"])

    rows = np.flatnonzero(face.any(1))
    cols = np.flatnonzero(face.any(0))
    parts: dict = {name: owner == i for i, name in enumerate(names) if i}
    parts["chin"] = int(rows[-1])
    parts["face_x"] = (int(cols[0]), int(cols[-1]))
    return np.ascontiguousarray(img.transpose(2, 0, 1)), parts


def has_held_combo(tags: list[str]) -> bool:
    """Whether ``tags`` include every tag of one of ``HELD_COMBOS``."""
    s = set(tags)
    return any(s.issuperset(combo) for combo in HELD_COMBOS)


@lru_cache(maxsize=4)
def character_set(n: int, stream: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Characters ``0..n-1`` of ``stream`` at ``size`` px: uint8 (n, 3, size, size) and their
    multi-hot tags float32 (n, T). Cached per process (drawing 9,000 takes a few seconds)."""
    chars = [random_character(i, stream) for i in range(n)]
    x = np.stack([draw_character(c, size)[0] for c in chars])
    tags = np.stack([c.vector() for c in chars])
    x.flags.writeable = tags.flags.writeable = False
    return x, tags


def tag_frequencies(tags: np.ndarray) -> list[float]:
    """Share of the characters ``(N, T)`` that carry each tag."""
    return [round(float(v), 6) for v in np.asarray(tags, np.float64).mean(0)]


@register_dataset("characters")
def load_characters(cfg: DataConfig, seed: int) -> ArrayDataset:
    """``TRAIN_PER_SET`` characters (or ``data.limit``) of the training stream, those with a
    held-out tag combination moved to the held-out side, plus ``HELD_PER_SET`` of the held-out
    stream; tags in ``extra["tags"]``, their names, groups and training frequencies in the info."""
    size = cfg.image_size or DEFAULT_SIZE
    if size not in SIZES:
        raise ConfigError(
            f"data.image_size={size}: characters are drawn at {', '.join(map(str, SIZES))} px"
        )
    if cfg.channels == 1:
        raise DataError("characters are drawn in colour; data.channels=1 is not supported")
    n_train = cfg.limit or TRAIN_PER_SET
    n_held = min(HELD_PER_SET, max(10, n_train // 8))
    xa, ta = character_set(n_train, TRAIN_STREAM, size)
    xb, tb = character_set(n_held, HELD_STREAM, size)
    combo = np.array([has_held_combo([TAGS[j] for j in np.flatnonzero(t)]) for t in ta])
    held = np.concatenate([combo, np.ones(len(xb), bool)])
    tags = np.concatenate([ta, tb])
    if held.all():
        raise DataError(f"data.limit={cfg.limit} leaves no character to train on")
    info = DataInfo(
        name="characters",
        kind="images",
        shape=(3, size, size),
        tags=list(TAGS),
        tag_groups=[list(g) for g in TAG_GROUPS],
        tag_freq=tag_frequencies(tags[~held]),
    )
    return ArrayDataset(
        x=torch.from_numpy(np.concatenate([xa, xb])),
        y=None,
        info=info,
        extra={"tags": torch.from_numpy(tags.copy())},
        held=torch.from_numpy(held),
        augment=(cfg.flip, cfg.jitter),
    )
