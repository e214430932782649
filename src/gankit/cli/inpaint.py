"""``gankit inpaint``: fill the holes of images with a run's inpainting generator.

Input: an image and its mask (white = remove), a folder of images and a folder of masks (matched
by file name; or one mask file for every image), or an ``.npz`` with ``images`` uint8
(N, C, H, W) and ``mask`` uint8 (N, 1, H, W), 255 = hole. Images keep their size; a mask must have
its image's size. Output as ``gankit translate`` writes it: an image file, a folder of PNGs, or an
``.npz`` with ``images``. Everything is read and filled before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from gankit.errors import ConfigError, DataError


def read_mask(path: Path) -> np.ndarray:
    """A mask image as uint8 (1, H, W): 255 where its luminance is above 127 (white = remove;
    transparency is ignored, so white strokes on a transparent layer work)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            gray = np.asarray(img.convert("L"), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"cannot read mask {path}: {msg}") from None
    return np.where(gray > 127, 255, 0).astype(np.uint8)[None]


def read_npz(path: Path, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """``images`` (N, C, H, W) and ``mask`` (N, 1, H, W), uint8, from an .npz; one clear error
    for anything else."""
    from gankit.cli.translate import read_inputs, read_npz_array

    images, _ = read_inputs(path, channels)
    hint = "; an inpainting needs 'mask' uint8 (N, 1, H, W), 255 = hole"
    mask = read_npz_array(path, "mask", hint)
    want = (len(images), 1, *images.shape[2:])
    if mask.dtype != np.uint8 or mask.shape != want:
        raise DataError(
            f"'mask' in {str(path)!r} is {mask.dtype} {mask.shape}; it must be uint8 {want} "
            "(one single-channel mask of each image's size, 255 = hole)"
        )
    return np.asarray(images), mask


def read_pairs(
    input: Path, mask: Path | None, channels: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """(images (C, H, W), masks (1, H, W), names) from --input and --mask; a mask whose size
    differs from its image is one clear error naming both files."""
    from gankit.cli.translate import IMAGE_SUFFIXES, read_inputs
    from gankit.data.images import list_images

    if input.suffix.lower() == ".npz" and input.is_file():
        if mask is not None:
            raise ConfigError(f"--input {str(input)!r} is an .npz: its 'mask' array is the mask")
        images, masks = read_npz(input, channels)
        return list(images), list(masks), [f"{i:05d}" for i in range(len(images))]
    if mask is None:
        raise ConfigError("--mask is required: a mask image (white = remove) or a folder of them")
    if not mask.exists():
        raise DataError(f"--mask {str(mask)!r} does not exist")
    images, names = read_inputs(input, channels)
    if input.is_dir():
        files = {f.stem: f for f in list_images(input)}
        if mask.is_dir():
            by_stem = {f.stem: f for f in list_images(mask)}
            missing = [n for n in names if n not in by_stem]
            if missing:
                raise DataError(
                    f"no mask in {str(mask)!r} for {', '.join(missing[:5])}"
                    f"{' ...' if len(missing) > 5 else ''} (masks are matched by file name)"
                )
            mask_files = [by_stem[n] for n in names]
        else:
            mask_files = [mask] * len(names)
        image_files = [files[n] for n in names]
    else:
        if mask.is_dir():
            raise ConfigError(f"--input {str(input)!r} is one image: give one --mask image")
        if mask.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"--mask {str(mask)!r}: give an image ({', '.join(IMAGE_SUFFIXES)})")
        mask_files, image_files = [mask], [input]
    masks = []
    for x, mf, f in zip(images, mask_files, image_files, strict=True):
        m = read_mask(mf)
        if m.shape[1:] != x.shape[1:]:
            raise DataError(
                f"mask {str(mf)!r} is {m.shape[2]}x{m.shape[1]} but image {str(f)!r} is "
                f"{x.shape[2]}x{x.shape[1]}; a mask must be the size of its image"
            )
        masks.append(m)
    return list(images), masks, names


def fill(G, images: list[np.ndarray], masks: list[np.ndarray]) -> list[np.ndarray]:
    """Each image (C, H, W) with its hole filled, one forward pass per size."""
    import torch

    out: list[np.ndarray | None] = [None] * len(images)
    sizes: dict[tuple[int, ...], list[int]] = {}
    for i, x in enumerate(images):
        sizes.setdefault(x.shape, []).append(i)
    for idx in sizes.values():
        x = torch.from_numpy(np.stack([images[i] for i in idx]))
        m = torch.from_numpy(np.stack([masks[i] for i in idx]))
        for i, y in zip(idx, G.inpaint(x, m).numpy(), strict=True):
            out[i] = y
    return out  # type: ignore[return-value]


def inpaint(
    run: Annotated[str, typer.Argument(help="run folder, run number, or generator/ folder")],
    input: Annotated[
        Path,
        typer.Option("--input", "-i", help="image file, folder of images, or .npz (images, mask)"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="image file, folder, or .npz")],
    mask: Annotated[
        Path | None,
        typer.Option("--mask", "-m", help="mask image (white = remove), or a folder of them"),
    ] = None,
    grid: Annotated[
        Path | None, typer.Option(help="also write a PNG of input | filled pairs (one size)")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, mps or auto")] = "cpu",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Remove what a mask covers and let an inpainting run fill it (only the hole changes).

    **Examples**: `gankit inpaint 3 --input photo.png --mask mask.png --out filled.png`,
    `gankit inpaint 3 --input photos/ --mask masks/ --out filled/`,
    `gankit inpaint 3 --input holes.npz --out filled.npz`
    """
    import torch

    from gankit.cli.main import console
    from gankit.cli.translate import output_files, write_files
    from gankit.data.masks import masked
    from gankit.generator import load
    from gankit.runs import find_run
    from gankit.train.trainer import resolve_device
    from gankit.viz import png_bytes, translation_grid

    for p in (out, grid):
        if p is not None and not p.resolve().parent.is_dir():
            raise ConfigError(f"folder {str(p.parent)!r} for {str(p)!r} does not exist")
    if grid is not None and grid.suffix.lower() != ".png":
        raise ConfigError(f"--grid {str(grid)!r} must end in .png")
    path = Path(run)
    if not (path / "config.json").is_file():
        path = find_run(run, runs_dir)
    G = load(path, device=resolve_device(device))
    if G.mask_input() is None:
        raise ConfigError(
            f"run {str(path)!r} ({G.family}) takes no mask; inpaint with an inpainting run "
            "(gankit train inpaint), translate with gankit translate"
        )
    images, masks, names = read_pairs(input, mask, G.image_inputs()[0].shape[0])
    outputs = fill(G, images, masks)
    one_size = len({o.shape for o in outputs}) == 1
    if not one_size and out.suffix.lower() == ".npz":
        raise ConfigError(f"--out {str(out)!r}: the images differ in size; give a folder")
    files = output_files(out, names, np.stack(outputs) if one_size else outputs)
    if grid is not None:
        if len({x.shape for x in images}) > 1:
            raise ConfigError(f"--grid {str(grid)!r}: the images differ in size")
        shown = masked(torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(masks)))
        files[grid] = png_bytes(translation_grid([shown, np.stack(outputs)]))
    write_files(files)
    where = out if len(files) - (grid is not None) <= 1 else f"{out}/ ({len(outputs)} PNGs)"
    console.print(
        f"filled {len(outputs)} image(s) to {where}" + (f"; pairs in {grid}" if grid else "")
    )


def register(app: typer.Typer) -> None:
    app.command("inpaint")(inpaint)
