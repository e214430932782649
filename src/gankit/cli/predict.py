"""``gankit predict``: roll a video-prediction generator forward from past frames; no dataset needed.

Input: an ``.npz`` with ``frames`` uint8 (N, T, C, H, W) (or one video (T, C, H, W)), an animated
GIF, or a folder of frame images (name order). The last ``context`` frames of each video are the
generator's input; each predicted frame is fed back as the newest one for the next.
Output: an ``.npz`` with ``frames`` uint8 (N, K, C, H, W), the K predicted frames, or an animated
GIF that plays the context and then the predictions (several videos side by side). Frames must
have the size and channels the generator was trained on; a video shorter than its context is
an error. Everything is read and predicted before anything is written.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from gankit.errors import ConfigError, DataError

OUT_SUFFIXES = (".npz", ".gif")


def read_videos(path: Path, channels: int) -> np.ndarray:
    """uint8 (N, T, C, H, W) from an .npz with 'frames', a GIF or a folder of frames."""
    from gankit.cli.translate import read_npz_array
    from gankit.data.images import rgb_to_channels
    from gankit.data.video import read_video

    if not path.exists():
        raise DataError(f"--input {str(path)!r} does not exist")
    if path.suffix.lower() == ".npz":
        x = read_npz_array(path, "frames")
        if x.dtype != np.uint8 or x.ndim not in (4, 5):
            raise DataError(
                f"'frames' in {str(path)!r} must be uint8 (N, T, C, H, W); got {x.dtype} {x.shape}"
            )
        x = x[None] if x.ndim == 4 else x
        if len(x) == 0:
            raise DataError(f"'frames' in {str(path)!r} is empty")
        return x
    if not (path.is_dir() or path.suffix.lower() == ".gif"):
        raise DataError(
            f"--input {str(path)!r}: give an .npz with 'frames', a .gif, or a folder of frames"
        )
    rgb = read_video(path)  # (T, H, W, 3), frames at their own size
    what = f"a frame of {str(path)!r}"
    return np.stack([rgb_to_channels(f, channels, what) for f in rgb])[None]


def output_bytes(out: Path, context: np.ndarray, predicted: np.ndarray) -> bytes:
    """The ``--out`` file: the predictions as .npz, or context + predictions as a GIF."""
    from gankit.viz import image_grid, rollout_gif

    if out.suffix.lower() == ".npz":
        buf = io.BytesIO()
        np.savez_compressed(buf, frames=predicted)
        return buf.getvalue()
    video = np.concatenate([context, predicted], 1)  # (N, T+K, C, H, W)
    if len(video) == 1:
        return rollout_gif(video[0])
    n = len(video)
    tiles = [np.asarray(image_grid(video[:, t], nrow=min(n, 8))) for t in range(video.shape[1])]
    tiles = [t[None] if t.ndim == 2 else t.transpose(2, 0, 1) for t in tiles]  # (C, H', W')
    return rollout_gif(np.stack(tiles))


def predict(
    run: Annotated[str, typer.Argument(help="run folder, run number, or generator/ folder")],
    input: Annotated[
        Path, typer.Option("--input", "-i", help=".npz with 'frames', .gif, or folder of frames")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=".npz or .gif")],
    frames: Annotated[int, typer.Option("--frames", "-n", help="future frames to predict")] = 10,
    device: Annotated[str, typer.Option(help="cpu, cuda, mps or auto")] = "cpu",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Predict the next frames of videos with a run's generator (video: Moving MNIST, ...).

    **Examples**: `gankit predict 3 --input seq.gif --frames 10 --out rollout.gif`,
    `gankit predict 3 --input seqs.npz --frames 5 --out rollout.npz`
    """
    from gankit.cli.main import console
    from gankit.files import atomic_write_bytes
    from gankit.generator import fit_frames, load
    from gankit.runs import find_run
    from gankit.train.trainer import resolve_device

    if out.suffix.lower() not in OUT_SUFFIXES:
        raise ConfigError(f"--out {str(out)!r} must end in {' or '.join(OUT_SUFFIXES)}")
    if not out.resolve().parent.is_dir():
        raise ConfigError(f"folder {str(out.parent)!r} for {str(out)!r} does not exist")
    if not 1 <= frames <= 1000:
        raise ConfigError(f"--frames {frames}: allowed 1..1000")
    path = Path(run)
    if not (path / "config.json").is_file():
        path = find_run(run, runs_dir)
    G = load(path, device=resolve_device(device))
    specs = [s for s in G.inputs if s.kind == "frames"]
    if not specs:
        raise ConfigError(
            f"run {str(path)!r} ({G.family}) does not predict videos; "
            "use gankit sample or gankit translate"
        )
    videos = read_videos(input, specs[0].shape[1])
    context = fit_frames(videos, specs[0]).numpy()
    predicted = G.predict(context, frames).numpy()
    atomic_write_bytes(out, output_bytes(out, context, predicted))
    console.print(
        f"predicted {frames} frame(s) for {len(predicted)} video(s) from {context.shape[1]} "
        f"context frames: {out}"
    )


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
