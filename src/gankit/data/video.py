"""Video datasets for next-frame prediction: every sample is ``context`` past frames and the next.

* ``moving-mnist``: one or two bundled digits (28×28) bouncing inside a 64×64 black frame
  (``data.digits=1|2``), each moving a few whole pixels per frame along both axes (a velocity of
  ±1..3 px per axis) and reflected at the frame's edges, so a digit never leaves the frame and
  its motion is fully determined by the past frames. Two digits are drawn with a pixel-wise max.
  Training sequences use the training digits of ``digit_split`` (the first 400 of each class);
  the test sequences use only the held-out digits (the last 100 of each class). The videos are
  the same for every run: they come from fixed seeds, not the run's seed.
* ``videos``: a user's folder of short videos: animated GIFs, or sub-folders of frames (image
  files in name order), and MP4 / AVI / MOV / WebM through imageio-ffmpeg when it is installed.
  Frames are cut to their central square and resized to ``data.image_size`` (default 64); the
  last tenth of the videos (by name, at least one when there are two or more) is held out.

Layout of a sample (``ArrayDataset``): ``x`` is the next frame (N, C, H, W) uint8,
``inputs["frames"]`` the ``data.context`` frames before it (N, T, C, H, W) uint8, and
``extra`` holds per-window bookkeeping: ``seq`` (which video) and ``offset`` (where in it the
window starts), so consecutive windows of one held-out video give its true future for rollouts;
Moving MNIST adds ``pos`` (N, D, 2), the top-left (row, col) of each digit's 28×28 box in the
target frame, and ``digits`` (N, D), their classes (``y`` is the first digit's class).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageSequence

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.data.mnist import DIGIT_NAMES, _mnist5k_arrays
from gankit.data.paired import digit_split
from gankit.errors import DataError
from gankit.registry import register_dataset

log = logging.getLogger(__name__)

DIGIT = 28  # a bundled digit's box, px
SPEEDS = (-3, -2, -1, 1, 2, 3)  # px per frame along each axis
HORIZON = 10  # future frames of each held-out video (t+1 .. t+10)
TRAIN_SEQUENCES, HELD_SEQUENCES = 8000, 200
TRAIN_SEED, HELD_SEED = 0, 1  # the videos are the same for every run
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv")


def bounce_tracks(
    rng: np.random.Generator, n: int, length: int, n_digits: int, span: int
) -> np.ndarray:
    """Top-left corners (row, col) int64 ``(n, length, n_digits, 2)`` in ``0..span``: a random
    start and a velocity of ±1..3 px per axis, reflected at both edges (so always in frame)."""
    pos = rng.integers(0, span + 1, (n, n_digits, 2))
    vel = rng.choice(SPEEDS, (n, n_digits, 2))
    out = np.empty((n, length, n_digits, 2), dtype=np.int64)
    for t in range(length):
        out[:, t] = pos
        pos = pos + vel
        low, high = pos < 0, pos > span
        pos = np.where(low, -pos, np.where(high, 2 * span - pos, pos))
        vel = np.where(low | high, -vel, vel)
    return out


def moving_mnist(
    digits: np.ndarray,
    labels: np.ndarray,
    n: int,
    length: int,
    n_digits: int = 1,
    seed: int = 0,
    size: int = 64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` videos of ``length`` frames of ``n_digits`` digits drawn from ``digits`` (M, 28, 28)
    bouncing in a ``size``² frame; the same seed always gives the same videos.

    Returns frames uint8 ``(n, length, 1, size, size)``, positions ``(n, length, n_digits, 2)``
    (each digit's top-left corner) and the digits' classes ``(n, n_digits)``.
    """
    if size < DIGIT:
        raise DataError(f"data.image_size={size}: Moving MNIST frames must be at least {DIGIT} px")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(digits), (n, n_digits))
    tracks = bounce_tracks(rng, n, length, n_digits, size - DIGIT)
    frames = np.zeros((n, length, 1, size, size), dtype=np.uint8)
    for i in range(n):
        for d in range(n_digits):
            img = digits[which[i, d]]
            for t in range(length):
                r, c = tracks[i, t, d]
                box = frames[i, t, 0, r : r + DIGIT, c : c + DIGIT]
                np.maximum(box, img, out=box)
    return frames, tracks, labels[which]


def windows(
    videos: list[np.ndarray], context: int, first_only: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (``context`` frames, next frame) window of each video (T_i, C, H, W): returns the
    contexts (N, T, C, H, W), the targets (N, C, H, W), the video index and the window's offset."""
    ctx, nxt, seq, off = [], [], [], []
    for s, v in enumerate(videos):
        last = 1 if first_only else len(v) - context
        for o in range(last):
            ctx.append(v[o : o + context])
            nxt.append(v[o + context])
            seq.append(s)
            off.append(o)
    return np.stack(ctx), np.stack(nxt), np.asarray(seq), np.asarray(off)


def later_frames(
    videos: list[np.ndarray], seq: np.ndarray, off: np.ndarray, context: int, future: int
) -> dict[str, torch.Tensor]:
    """For ``data.future`` > 1, the frames after each window's next one, as batch extras:
    ``later`` uint8 (N, future - 1, C, H, W), zero past a video's end, and ``later_n`` (N,), how
    many of them the video has. Nothing for ``future`` = 1."""
    if future <= 1:
        return {}
    k = future - 1
    later = np.zeros((len(seq), k, *videos[0].shape[1:]), dtype=np.uint8)
    count = np.zeros(len(seq), dtype=np.int64)
    for i, (s, o) in enumerate(zip(seq, off, strict=True)):
        frames = videos[s][o + context + 1 : o + context + 1 + k]
        later[i, : len(frames)] = frames
        count[i] = len(frames)
    return {"later": torch.from_numpy(later), "later_n": torch.from_numpy(count)}


def video_info(name: str, context: int, shape: tuple[int, int, int], classes: bool) -> DataInfo:
    return DataInfo(
        name=name,
        kind="images",
        shape=shape,
        num_classes=10 if classes else 0,
        class_names=list(DIGIT_NAMES) if classes else [],
        inputs={"frames": (context, *shape)},
    )


def _no_augment(cfg: DataConfig, dataset: str) -> None:
    if cfg.flip or cfg.jitter:
        raise DataError(f"data.flip / data.jitter do not apply to {dataset} (videos)")


@register_dataset("moving-mnist")
def load_moving_mnist(cfg: DataConfig, seed: int) -> ArrayDataset:
    """Moving MNIST from the bundled digits: training windows of ``context + 1`` frames from the
    training digits, then the held-out videos (``HORIZON`` windows each) from the held-out ones.
    ``data.limit`` caps the number of training videos (and of held-out ones)."""
    _no_augment(cfg, "moving-mnist")
    size, context, n_digits = cfg.image_size or 64, cfg.context, cfg.digits
    digits, labels = _mnist5k_arrays()
    held_mask = digit_split(labels).numpy()
    n_train = min(TRAIN_SEQUENCES, cfg.limit or TRAIN_SEQUENCES)
    n_held = min(HELD_SEQUENCES, cfg.limit or HELD_SEQUENCES)
    parts = []
    later: list[dict[str, torch.Tensor]] = []
    for mask, n, length, s in (
        (~held_mask, n_train, context + cfg.future, TRAIN_SEED),
        (held_mask, n_held, context + HORIZON, HELD_SEED),
    ):
        frames, tracks, classes = moving_mnist(
            digits[mask], labels[mask], n, length, n_digits, seed=s, size=size
        )
        # a training video gives one window (its frames after it are the rollout's targets)
        ctx, nxt, seq, off = windows(list(frames), context, first_only=s == TRAIN_SEED)
        parts.append((ctx, nxt, seq, off, tracks[seq, off + context], classes[seq]))
        later.append(later_frames(list(frames), seq, off, context, cfg.future))
    held = torch.zeros(sum(len(p[0]) for p in parts), dtype=torch.bool)
    held[len(parts[0][0]) :] = True
    ctx, nxt, seq, off, pos, classes = (np.concatenate(a) for a in zip(*parts, strict=True))
    seq[held.numpy()] += n_train  # one numbering for every video
    return ArrayDataset(
        x=torch.from_numpy(nxt),
        y=torch.from_numpy(classes[:, 0].copy()),
        info=video_info("moving-mnist", context, (1, size, size), classes=True),
        extra={
            "seq": torch.from_numpy(seq),
            "offset": torch.from_numpy(off),
            "pos": torch.from_numpy(pos),
            "digits": torch.from_numpy(classes),
            **{k: torch.cat([part[k] for part in later]) for k in later[0]},
        },
        inputs={"frames": torch.from_numpy(ctx)},
        held=held,
    )


def _read_gif(path: Path) -> list[Image.Image]:
    try:
        with Image.open(path) as img:
            return [f.copy() for f in ImageSequence.Iterator(img)]
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"cannot read {path} as a GIF: {str(e).splitlines()[0]}") from None


def _read_movie(path: Path) -> list[Image.Image]:
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise DataError(
            f"{path} is a {path.suffix} video; reading it needs imageio-ffmpeg "
            "(pip install imageio-ffmpeg), or give its frames as a GIF or a folder of images"
        ) from None
    try:
        with imageio.get_reader(str(path), "ffmpeg") as reader:
            return [Image.fromarray(np.asarray(f)) for f in reader]
    except (OSError, RuntimeError, ValueError) as e:
        raise DataError(f"cannot read video {path}: {str(e).splitlines()[0]}") from None


def read_video(path: Path, size: int | None = None) -> np.ndarray:
    """One video as uint8 RGB ``(T, H, W, 3)``: a GIF, a movie file, or a folder of frames (image
    files in name order). With ``size`` every frame is cut to its central square and resized."""
    from gankit.data.images import list_images, to_rgb
    from gankit.data.transforms import square_resize_pil

    if path.is_dir():
        from gankit.data.images import read_rgb

        files = list_images(path)
        if not files:
            raise DataError(f"folder {path} has no frames (image files)")
        pil = [Image.fromarray(read_rgb(f)) for f in files]
    elif path.suffix.lower() == ".gif":
        pil = _read_gif(path)
    elif path.suffix.lower() in VIDEO_SUFFIXES:
        pil = _read_movie(path)
    else:
        raise DataError(
            f"{path} is not a video; allowed: .gif, {', '.join(VIDEO_SUFFIXES)} or a folder of frames"
        )
    frames = []
    for img in pil:
        img = to_rgb(img)
        if size is not None:
            img = square_resize_pil(img, size)
        frames.append(np.asarray(img, dtype=np.uint8))
    if size is None and len({f.shape for f in frames}) > 1:
        raise DataError(f"the frames of {path} differ in size")
    return np.stack(frames)


def list_videos(folder: Path) -> list[Path]:
    """The videos in ``folder``: GIFs, movie files and sub-folders of frames, sorted by name."""
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".")
        and (p.is_dir() or p.suffix.lower() in (".gif", *VIDEO_SUFFIXES))
    )


@register_dataset("videos")
def load_videos(cfg: DataConfig, seed: int) -> ArrayDataset:
    """A folder of short videos (``data.path``) as (context, next frame) windows; the last tenth
    of the videos is held out."""
    from gankit.data.images import _channels
    from gankit.data.transforms import to_grayscale

    _no_augment(cfg, "videos")
    if not cfg.path:
        raise DataError("dataset 'videos' needs a folder: --data ./my_videos")
    root = Path(cfg.path)
    if not root.is_dir():
        raise DataError(f"data.path {cfg.path!r} is not a folder")
    paths = list_videos(root)
    if not paths:
        raise DataError(
            f"no videos in {cfg.path!r}; allowed: .gif, {', '.join(VIDEO_SUFFIXES)} files or "
            "sub-folders of frames"
        )
    size, context = cfg.image_size or 64, cfg.context
    videos, names = [], []
    for p in paths:
        v = read_video(p, size)
        if len(v) < context + 1:
            log.warning(
                "skipping %s: %d frames, fewer than data.context + 1 = %d", p, len(v), context + 1
            )
            continue
        videos.append(v)
        names.append(p.name)
    if not videos:
        raise DataError(
            f"no video in {cfg.path!r} has data.context + 1 = {context + 1} frames or more"
        )
    channels = _channels(cfg.channels, *videos)
    videos = [np.ascontiguousarray(v.transpose(0, 3, 1, 2)) for v in videos]  # (T, 3, H, W)
    if channels == 1:
        videos = [to_grayscale(torch.from_numpy(v)).numpy() for v in videos]
    n_held = 0 if len(videos) < 2 else max(1, len(videos) // 10)
    ctx, nxt, seq, off = windows(videos, context)
    held = torch.from_numpy(seq >= len(videos) - n_held) if n_held else None
    if cfg.limit is not None:
        keep = np.arange(len(seq)) < cfg.limit
        if held is not None:
            keep |= held.numpy()
        ctx, nxt, seq, off = ctx[keep], nxt[keep], seq[keep], off[keep]
        held = None if held is None else held[torch.from_numpy(keep)]
    return ArrayDataset(
        x=torch.from_numpy(nxt),
        y=None,
        info=video_info("videos", context, (channels, size, size), classes=False),
        extra={
            "seq": torch.from_numpy(seq),
            "offset": torch.from_numpy(off),
            **later_frames(videos, seq, off, context, cfg.future),
        },
        inputs={"frames": torch.from_numpy(ctx)},
        held=held,
    )
