"""``gankit translate``: run a translation generator (pix2pix, cyclegan, ...) on images; no
dataset needed. ``--direction BA`` runs a two-way run's B -> A generator (cyclegan's G_BA).

Input: an image file, a folder of images, or an ``.npz`` with ``images`` uint8 (N, C, H, W)
(for an inpainting run, with ``mask`` uint8 (N, 1, H, W) too, 255 = hole: see ``gankit inpaint``).
Output: an image file (one input), a folder of PNGs (named after the inputs), or an ``.npz`` with
``images`` uint8 (N, C, H, W). Everything is read and translated before anything is written, so
a bad input leaves no partial output.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from gankit.errors import ConfigError, DataError
from gankit.files import atomic_write_bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def read_npz_array(path: Path, key: str, hint: str = "") -> np.ndarray:
    """The array ``key`` of an .npz (no pickles); a missing key or an unreadable file is one
    clear error (``hint`` says what the array should be)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if key not in z:
                raise DataError(
                    f"{str(path)!r} has no {key!r} array (found: {', '.join(z.files)}){hint}"
                )
            return z[key]
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {str(path)!r} as .npz: {e}") from None


def write_files(files: dict[Path, bytes]) -> None:
    """Write each file whole or not at all, making its folder."""
    for p, data in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(p, data)


def read_inputs(path: Path, channels: int) -> tuple[np.ndarray | list[np.ndarray], list[str]]:
    """Images to translate and their names: one (N, C, H, W) array from an .npz, else a list of
    (C, H, W) arrays (image files may differ in size)."""
    from gankit.data.images import list_images, read_rgb, rgb_to_channels

    if not path.exists():
        raise DataError(f"--input {str(path)!r} does not exist")
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise DataError(
                f"no images in folder {str(path)!r}; allowed: {', '.join(IMAGE_SUFFIXES)}"
            )
        return [rgb_to_channels(read_rgb(f), channels, str(f)) for f in files], [
            f.stem for f in files
        ]
    if path.suffix.lower() == ".npz":
        x = read_npz_array(path, "images")
        if x.dtype != np.uint8 or x.ndim != 4:
            raise DataError(
                f"'images' in {str(path)!r} must be uint8 (N, C, H, W); got {x.dtype} {x.shape}"
            )
        if x.shape[1] != channels:
            raise DataError(
                f"'images' in {str(path)!r} have {x.shape[1]} channel(s); this generator takes "
                f"{channels}"
            )
        if len(x) == 0:
            raise DataError(f"'images' in {str(path)!r} is empty")
        return x, [f"{i:05d}" for i in range(len(x))]
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DataError(
            f"--input {str(path)!r}: give an image ({', '.join(IMAGE_SUFFIXES)}), a folder of "
            "images, or an .npz with 'images'"
        )
    return [rgb_to_channels(read_rgb(path), channels, str(path))], [path.stem]


def output_files(out: Path, names: list[str], outputs: np.ndarray) -> dict[Path, bytes]:
    """What to write for ``--out``, by path: one image, a folder of PNGs, or an .npz."""
    from gankit.viz import image_grid, png_bytes

    suffix = out.suffix.lower()
    if suffix == ".npz":
        buf = io.BytesIO()
        np.savez_compressed(buf, images=outputs)
        return {out: buf.getvalue()}
    if suffix in IMAGE_SUFFIXES:
        if len(outputs) != 1:
            raise ConfigError(
                f"--out {str(out)!r} is one image but there are {len(outputs)} outputs; "
                "give a folder or an .npz"
            )
        return {out: png_bytes(image_grid(outputs, nrow=1, pad=0))}
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r} exists and is not a folder")
    return {
        out / f"{n}.png": png_bytes(image_grid(o[None], nrow=1, pad=0))
        for n, o in zip(names, outputs, strict=True)
    }


def translate(
    run: Annotated[str, typer.Argument(help="run folder, run number, or generator/ folder")],
    input: Annotated[
        Path, typer.Option("--input", "-i", help="image file, folder of images, or .npz")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="image file, folder, or .npz")
    ] = None,
    grid: Annotated[
        Path | None, typer.Option(help="also write a PNG of input | output pairs")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, mps or auto")] = "cpu",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
    direction: Annotated[
        str, typer.Option(help="AB, or BA: the B -> A generator of a two-way run (cyclegan)")
    ] = "AB",
    mesh: Annotated[
        Path | None,
        typer.Option(help="voxel-vae-gan: a folder for one OBJ mesh per input picture"),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(help="voxel-vae-gan: occupancy probability above which a voxel is solid"),
    ] = 0.5,
) -> None:
    """Translate images with a run's generator (pix2pix: edges -> digits, sketch -> photo).

    **Examples**: `gankit translate 3 --input sketch.png --out photo.png`,
    `gankit translate 3 --input edges/ --out digits/ --grid pairs.png`,
    `gankit translate 3 --input edges.npz --out digits.npz`,
    `gankit translate 5 --input mnist/ --out small_digits/ --direction BA` (cyclegan),
    `gankit translate 8 --input view.png --mesh shape/ --out shape.npz` (voxel-vae-gan: one
    picture -> a voxel grid, an OBJ mesh and a turntable PNG)
    """
    import torch

    from gankit.cli.main import console
    from gankit.generator import fit_input, load
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
    G = load(path, device=resolve_device(device), direction=direction)
    specs = G.image_inputs()
    if not specs:
        raise ConfigError(
            f"run {str(path)!r} ({G.family}) draws from noise and takes no input image; "
            "use gankit sample"
        )
    spec = specs[0]
    if G.family_cls.voxels:
        translate_to_shapes(G, input, out, grid, mesh, threshold)
        return
    if out is None:
        raise ConfigError("--out is required: an image file, a folder, or an .npz")
    if mesh is not None:
        raise ConfigError(f"--mesh given, but this {G.family} generator makes no voxel grids")
    if G.mask_input() is not None:  # an inpainting run: images and their holes from an .npz
        from gankit.cli.inpaint import read_npz

        if input.suffix.lower() != ".npz":
            raise ConfigError(
                f"run {str(path)!r} fills holes: give an .npz with 'images' and 'mask' "
                "(255 = hole), or use gankit inpaint --input IMAGE --mask MASK"
            )
        x_np, masks = read_npz(input, spec.shape[0])
        x, m = torch.from_numpy(x_np), torch.from_numpy(masks)
        outputs = G.inpaint(x, m).numpy()
        files = output_files(out, [f"{i:05d}" for i in range(len(x))], outputs)
        if grid is not None:
            from gankit.data.masks import masked

            files[grid] = png_bytes(translation_grid([masked(x, m), outputs]))
        write_files(files)
        console.print(f"filled the holes of {len(outputs)} image(s) to {out}")
        return
    images, names = read_inputs(input, spec.shape[0])
    fitted, notes = [], set()
    any_size = G.family_cls.fully_convolutional  # super-resolution: every size as it is
    for x in images if isinstance(images, list) else [images]:
        y, note = fit_input(torch.from_numpy(np.ascontiguousarray(x)), spec, any_size=any_size)
        fitted.append(y)
        if note:
            notes.add(note)
    if any_size and len({tuple(y.shape[1:]) for y in fitted}) > 1:
        if out.suffix.lower() == ".npz" or grid is not None:
            raise ConfigError(
                "the inputs differ in size, so their outputs cannot share one .npz or --grid; "
                "give a folder for --out (or use gankit upscale)"
            )
        outputs = [G.translate(y)[0].numpy() for y in fitted]  # sizes differ: one at a time
    else:
        x = torch.cat(fitted)
        outputs = G.translate(x).numpy()
    files = output_files(out, names, outputs)
    if grid is not None:
        files[grid] = png_bytes(translation_grid([x, outputs]))
    for note in sorted(notes):
        console.print(f"note: {note}")
    write_files(files)
    where = out if len(files) - (grid is not None) <= 1 else f"{out}/ ({len(outputs)} PNGs)"
    console.print(
        f"translated {len(outputs)} image(s) to {where}" + (f"; pairs in {grid}" if grid else "")
    )


def translate_to_shapes(
    G, input: Path, out: Path | None, grid: Path | None, mesh: Path | None, threshold: float
) -> None:
    """A voxel-vae-gan run: each picture becomes a voxel grid (see ``gankit.cli.voxels``)."""
    import torch

    from gankit.cli.main import console
    from gankit.cli.voxels import check_threshold, summary, voxel_files
    from gankit.generator import fit_input

    check_threshold(threshold)
    spec = G.image_inputs()[0]
    images, names = read_inputs(input, spec.shape[0])
    fitted, notes = [], set()
    for x in images if isinstance(images, list) else [images]:
        y, note = fit_input(torch.from_numpy(np.ascontiguousarray(x)), spec)
        fitted.append(y)
        notes |= {note} if note else set()
    for note in sorted(notes):
        console.print(f"note: {note}")
    probs = G.translate(torch.cat(fitted)).numpy()
    files = voxel_files(probs, names, threshold, out, mesh, grid)
    write_files(files)
    console.print(f"turned {len(probs)} picture(s) into {summary(files, len(probs))}")


def register(app: typer.Typer) -> None:
    app.command("translate")(translate)
