"""``gankit upscale``: make images ``scale`` times larger with a super-resolution run (srgan).

The generator is fully convolutional, so an image of any size goes in whole (no resizing); large
ones are processed in tiles with enough overlap that the result equals the whole-image one.
Colour images stay colour and grayscale ones keep one channel, whichever kind the run trained on.
Input: an image file, a folder of images, or an ``.npz`` with ``images`` uint8 (N, C, H, W);
output: an image file, a folder of PNGs, or an ``.npz``. Everything is upscaled before anything
is written, so a bad input leaves no partial output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from gankit.errors import ConfigError, DataError

GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def read_image_keep_channels(path: Path) -> np.ndarray:
    """An image file at its own size as uint8 (C, H, W): one channel for a grayscale file, three
    otherwise (transparency composited on white)."""
    from PIL import Image

    from gankit.data.images import read_rgb

    rgb = read_rgb(path)
    with Image.open(path) as img:
        gray = img.mode in GRAY_MODES
    return rgb[None, :, :, 0] if gray else rgb.transpose(2, 0, 1)


def read_upscale_inputs(path: Path) -> tuple[list[np.ndarray], list[str], bool]:
    """(images (C, H, W) uint8, names, whether they came from an .npz)."""
    from gankit.cli.translate import IMAGE_SUFFIXES, read_npz_array
    from gankit.data.images import list_images

    if not path.exists():
        raise DataError(f"--input {str(path)!r} does not exist")
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise DataError(
                f"no images in folder {str(path)!r}; allowed: {', '.join(IMAGE_SUFFIXES)}"
            )
        return [read_image_keep_channels(f) for f in files], [f.stem for f in files], False
    if path.suffix.lower() == ".npz":
        x = read_npz_array(path, "images")
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
            raise DataError(
                f"'images' in {str(path)!r} must be uint8 (N, C, H, W) with C 1 or 3 and N ≥ 1; "
                f"got {x.dtype} {x.shape}"
            )
        return list(x), [f"{i:05d}" for i in range(len(x))], True
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DataError(
            f"--input {str(path)!r}: give an image ({', '.join(IMAGE_SUFFIXES)}), a folder of "
            "images, or an .npz with 'images'"
        )
    return [read_image_keep_channels(path)], [path.stem], False


def upscale(
    run: Annotated[str, typer.Argument(help="run folder, run number, or generator/ folder")],
    input: Annotated[
        Path, typer.Option("--input", "-i", help="image file, folder of images, or .npz")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="image file, folder, or .npz")],
    tile: Annotated[
        int, typer.Option(min=8, help="tile side in input pixels (bounds memory on big images)")
    ] = 128,
    device: Annotated[str, typer.Option(help="cpu, cuda, mps or auto")] = "cpu",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Upscale images with a super-resolution run (srgan): ×4 (or the run's model.scale).

    **Examples**: `gankit upscale 3 --input small.png --out big.png`,
    `gankit upscale 3 --input textures/ --out textures_x4/`,
    `gankit upscale 3 --input lr.npz --out sr.npz`
    """
    from gankit.cli.main import console
    from gankit.cli.translate import output_files, write_files
    from gankit.generator import load
    from gankit.models.srgan import upscale as upscale_image
    from gankit.runs import find_run
    from gankit.train.trainer import resolve_device

    if not out.resolve().parent.is_dir():
        raise ConfigError(f"folder {str(out.parent)!r} for {str(out)!r} does not exist")
    path = Path(run)
    if not (path / "config.json").is_file():
        path = find_run(run, runs_dir)
    G = load(path, device=resolve_device(device))
    if not G.family_cls.fully_convolutional or not hasattr(G.module, "scale"):
        raise ConfigError(
            f"run {str(path)!r} ({G.family}) is not a super-resolution run; "
            "use gankit translate or gankit sample"
        )
    images, names, from_npz = read_upscale_inputs(input)
    if from_npz is False and out.suffix.lower() == ".npz" and len({x.shape for x in images}) > 1:
        raise ConfigError(
            f"--out {str(out)!r}: the inputs differ in size, so their outputs cannot share one "
            ".npz; give a folder"
        )
    outputs = [upscale_image(G, x, tile=tile) for x in images]
    stacked = np.stack(outputs) if len({o.shape for o in outputs}) == 1 else outputs
    files = output_files(out, names, stacked)
    write_files(files)
    s = G.module.scale
    where = out if len(files) <= 1 else f"{out}/ ({len(outputs)} PNGs)"
    console.print(f"upscaled {len(outputs)} image(s) x{s} to {where}")


def register(app: typer.Typer) -> None:
    app.command("upscale")(upscale)
