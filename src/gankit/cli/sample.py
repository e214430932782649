"""``gankit sample``: draw samples from a run's exported generator (no dataset needed)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import numpy as np
import typer


def sample(
    run: Annotated[str, typer.Argument(help="run folder, run number, or generator/ folder")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, max=1_000_000, help="how many")] = 64,
    out: Annotated[Path, typer.Option("--out", "-o", help=".npz file to write")] = Path(
        "samples.npz"
    ),
    grid: Annotated[Path | None, typer.Option(help="also write a PNG grid")] = None,
    seed: Annotated[int, typer.Option(help="noise seed (same seed, same samples)")] = 0,
    precision: Annotated[
        str,
        typer.Option(help="auto (bf16 where the hardware has it, about 2x faster), fp32 or bf16"),
    ] = "auto",
    label: Annotated[int | None, typer.Option(help="class label (conditional models)")] = None,
    traverse: Annotated[
        str | None,
        typer.Option(
            help="sweep a latent code (InfoGAN: cat, c1, c2): a grid, one row per noise draw, "
            "one column per code value; --n is the number of rows"
        ),
    ] = None,
    text: Annotated[
        list[str] | None,
        typer.Option(
            "--text",
            "-t",
            help="text2image: a caption to draw (repeatable); --n samples of each",
        ),
    ] = None,
    text_file: Annotated[
        Path | None,
        typer.Option(help="text2image: a UTF-8 file of captions, one a line"),
    ] = None,
    interpolate: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=64,
            help="text2image, with two captions: a grid walking from the first to the second "
            "in this many steps (GAN-INT); --n is the number of rows",
        ),
    ] = None,
    mesh: Annotated[
        Path | None,
        typer.Option(help="voxel generators: a folder for one OBJ mesh per shape"),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(help="voxel generators: occupancy probability above which a voxel is solid"),
    ] = 0.5,
    tags: Annotated[
        list[str] | None,
        typer.Option(
            "--tags",
            help="tag-conditioned models: tags to draw, comma-separated ('blue hair, glasses'); "
            "the others are drawn by their training frequencies; repeat for more rows",
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, mps or auto")] = "cpu",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Write N samples to an .npz (`images` uint8 (N, C, H, W) or `points` (N, 2)); a voxel
    generator writes `voxels` uint8 (N, X, Y, Z) 0/1 (above --threshold), a turntable PNG
    (--grid, else the .npz's name with .png) and with --mesh one OBJ per shape.

    **Examples**: `gankit sample 3 --n 1000 --out digits.npz --grid digits.png`,
    `gankit sample runs/00001-mlp-gan-ring --n 2500 --out ring.npz`,
    `gankit sample 5 --traverse c2 --n 8 --grid c2.png` (InfoGAN: 8 rows sweeping code c2),
    `gankit sample 7 --text "a thick seven leaning right" --text "굵은 3" --n 16 --grid t.png`
    (text2image: a row of 16 per caption; the .npz also holds `texts` and `text_index`),
    `gankit sample 9 --n 8 --out shapes.npz --mesh shapes/` (voxel-gan: grids, meshes, turntable)
    `gankit sample 9 --tags "blue hair, glasses, smile" --n 16 --grid c.png` (tag-gan: the
    .npz also holds each sample's tag vector `tags` over `tag_names`)
    """
    import torch

    from gankit.cli.main import console
    from gankit.data import to_uint8
    from gankit.errors import ConfigError
    from gankit.files import atomic_write_bytes
    from gankit.generator import load
    from gankit.runs import find_run
    from gankit.train.trainer import resolve_device
    from gankit.viz import image_grid, png_bytes, scatter_png

    if out.suffix != ".npz":
        raise ConfigError(f"--out {str(out)!r} must end in .npz")
    for p in (out, grid):
        if p is not None and not p.resolve().parent.is_dir():
            raise ConfigError(f"folder {str(p.parent)!r} for {str(p)!r} does not exist")
    path = Path(run)
    if not (path / "config.json").is_file():
        path = find_run(run, runs_dir)
    G = load(path, device=resolve_device(device))
    G.precision = precision
    G.sample_bf16()  # a bad --precision fails here, before any work
    if label is not None and not G.conditional:
        raise ConfigError(f"--label given, but family {G.family!r} is not conditional")
    texts = list(text or [])
    if text_file is not None:
        texts += read_text_file(text_file)
    if G.family_cls.voxels:
        write_voxel_samples(G, n, seed, out, grid, mesh, threshold)
        return
    if mesh is not None:
        raise ConfigError(f"--mesh given, but this {G.family} generator makes no voxel grids")
    if tags is not None or G.tags:
        write_tag_samples(G, tags, n, seed, out, grid)
        return
    if texts or G.text_inputs() or interpolate is not None:
        write_text_samples(G, texts, n, seed, out, grid, interpolate)
        return
    if traverse is not None:
        if G.info.kind != "images":
            raise ConfigError("--traverse draws an image grid; this generator makes points")
        rows = min(n, 64)
        gen = torch.Generator().manual_seed(seed)
        inputs = G.family_cls.traversal(G.cfg, G.info, traverse, rows, generator=gen)
        x = to_uint8(G(**inputs)).numpy()  # (rows * cols, C, H, W), row-major
        cols = len(x) // rows
        buf = io.BytesIO()
        np.savez_compressed(buf, images=x)
        atomic_write_bytes(out, buf.getvalue())
        grid = grid or out.with_suffix(".png")
        atomic_write_bytes(grid, png_bytes(image_grid(x, nrow=cols)))
        console.print(f"wrote a {rows} x {cols} traversal of code {traverse!r} to {grid} and {out}")
        return
    samples, labels = G.sample_many(n, seed, label)  # the same draw as `gankit eval`
    x = samples.numpy()
    arrays = {"images": x} if G.info.kind == "images" else {"points": x.astype(np.float32)}
    if labels is not None:
        arrays["labels"] = labels.numpy().astype(np.int64)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(out, buf.getvalue())
    if grid is not None:
        if G.info.kind == "images":
            png = png_bytes(image_grid(x[: min(n, 256)]))
        else:
            png = scatter_png(np.zeros((0, 2)), x, title=f"{n} samples")
        atomic_write_bytes(grid, png)
    console.print(f"wrote {n} samples to {out}" + (f" and a grid to {grid}" if grid else ""))


def read_text_file(path: Path) -> list[str]:
    """The non-empty lines of a UTF-8 caption file (one clear error if it cannot be read)."""
    from gankit.errors import ConfigError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"--text-file {str(path)!r} cannot be read: {e}") from None
    found = [line for line in lines if line.strip()]
    if not found:
        raise ConfigError(f"--text-file {str(path)!r} has no caption (one caption a line)")
    return found


def write_text_samples(
    G, texts: list[str], n: int, seed: int, out: Path, grid: Path | None, interpolate: int | None
) -> None:
    """``--text``: n samples of each caption (one grid row per caption), or with
    ``--interpolate K`` a GAN-INT walk between two captions (n rows of K)."""
    from gankit.cli.main import console
    from gankit.errors import ConfigError
    from gankit.files import atomic_write_bytes
    from gankit.viz import image_grid, png_bytes

    if not G.text_inputs():
        raise ConfigError(
            f"--text given, but this {G.family} generator takes no text "
            "(only text2image generators do)"
        )
    if not texts:
        raise ConfigError(
            f"this {G.family} generator draws what a caption says: give --text '...' "
            "or --text-file FILE"
        )
    if interpolate is not None:
        if len(texts) != 2:
            raise ConfigError(f"--interpolate walks between two captions; {len(texts)} given")
        rows = min(n, 64)
        x = G.interpolate(texts[0], texts[1], interpolate, rows, seed).numpy()
        arrays = {"images": x, "texts": np.array(texts)}
        nrow, what = interpolate, f"a {rows} x {interpolate} walk from {texts[0]!r} to {texts[1]!r}"
    else:
        x = G.sample(n, seed=seed, text=texts).numpy()  # caption by caption, n each
        index = np.repeat(np.arange(len(texts)), n).astype(np.int64)
        arrays = {"images": x, "texts": np.array(texts), "text_index": index}
        nrow = n if n <= 32 else None
        what = f"{n} samples of each of {len(texts)} caption(s)"
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(out, buf.getvalue())
    if grid is not None:
        atomic_write_bytes(grid, png_bytes(image_grid(x[:1024], nrow=nrow)))
    console.print(f"wrote {what} to {out}" + (f" and a grid to {grid}" if grid else ""))


def write_voxel_samples(
    G, n: int, seed: int, out: Path, grid: Path | None, mesh: Path | None, threshold: float
) -> None:
    """A voxel generator's samples: occupancy grids, OBJ meshes and a turntable PNG."""
    from gankit.cli.main import console
    from gankit.cli.translate import write_files
    from gankit.cli.voxels import check_threshold, summary, voxel_files

    check_threshold(threshold)
    probs, _ = G.sample_many(n, seed)
    names = [f"{i:05d}" for i in range(n)]
    files = voxel_files(probs.numpy(), names, threshold, out, mesh, grid)
    write_files(files)
    console.print(f"wrote {summary(files, n)}")


def write_tag_samples(
    G, requests: list[str] | None, n: int, seed: int, out: Path, grid: Path | None
) -> None:
    """``--tags``: n samples of each request (one grid row each), the given tags set and the
    others drawn by their training frequencies; without ``--tags``, n samples with every tag
    drawn. The .npz holds each sample's tag vector."""
    import torch

    from gankit.cli.main import console
    from gankit.files import atomic_write_bytes
    from gankit.viz import image_grid, png_bytes

    requests = list(requests or [""])
    vectors = [G.tag_vectors(n, r, seed) for r in requests]  # one clear line for a bad tag
    x = torch.cat([G.sample(n, seed=seed, tags=v) for v in vectors]).numpy()
    arrays = {
        "images": x,
        "tags": torch.cat(vectors).numpy().astype(np.float32),
        "tag_names": np.array(G.tags),
        "request_index": np.repeat(np.arange(len(requests)), n).astype(np.int64),
        "requests": np.array(requests),
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(out, buf.getvalue())
    if grid is not None:
        nrow = n if n <= 32 else None
        atomic_write_bytes(grid, png_bytes(image_grid(x[:1024], nrow=nrow)))
    what = " | ".join(r or "(all tags drawn)" for r in requests)
    console.print(
        f"wrote {n} samples of each of {len(requests)} request(s) ({what}) to {out}"
        + (f" and a grid to {grid}" if grid else "")
    )
