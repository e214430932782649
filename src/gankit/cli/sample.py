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
    label: Annotated[int | None, typer.Option(help="class label (conditional models)")] = None,
    traverse: Annotated[
        str | None,
        typer.Option(
            help="sweep a latent code (InfoGAN: cat, c1, c2): a grid, one row per noise draw, "
            "one column per code value; --n is the number of rows"
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, mps or auto")] = "cpu",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Write N samples to an .npz (`images` uint8 (N, C, H, W) or `points` (N, 2)).

    **Examples**: `gankit sample 3 --n 1000 --out digits.npz --grid digits.png`,
    `gankit sample runs/00001-mlp-gan-ring --n 2500 --out ring.npz`,
    `gankit sample 5 --traverse c2 --n 8 --grid c2.png` (InfoGAN: 8 rows sweeping code c2)
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
    if label is not None and not G.conditional:
        raise ConfigError(f"--label given, but family {G.family!r} is not conditional")
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
