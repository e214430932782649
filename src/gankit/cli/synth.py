"""``gankit synth``: a labelled image folder from a conditional run, for any training pipeline.

A class-conditional run (cgan) writes one sub-folder per class, named by the data's class names
(digits: ``0`` .. ``9``), with the classes in turn (sample ``i`` has class ``i mod K``, as
``gankit sample`` draws them), so every class gets ``n / K`` images. A tag-conditioned run writes
its images into ``images/`` and a ``labels.csv``: ``file`` then one 0/1 column per tag, each
sample's tags drawn with their training frequencies. An unconditional run has no labels to give
and is refused.

Nothing half-written: the folder is filled under a hidden temporary name beside ``--out`` and
renamed to ``--out`` when complete; an existing ``--out`` is refused.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path
from typing import Annotated

import typer


def class_folder_names(G) -> list[str]:
    """One folder name per class: the data's class names, else the class numbers."""
    k = G.info.num_classes
    names = list(G.info.class_names) if len(G.info.class_names) == k else [str(i) for i in range(k)]
    return [n.replace("/", "_").replace("\\", "_") or str(i) for i, n in enumerate(names)]


def write_png(path: Path, image) -> None:
    """uint8 ``(C, H, W)`` -> a PNG file (grey or RGB)."""
    from PIL import Image

    a = image.transpose(1, 2, 0)
    Image.fromarray(a[..., 0] if a.shape[2] == 1 else a).save(path, format="PNG")


def synthesize(G, n: int, out: Path, seed: int = 0, batch_size: int = 500) -> dict[str, int]:
    """Write ``n`` labelled samples of ``G`` into the new folder ``out`` (atomically); returns
    the number of images per class (or per tag)."""
    from gankit.errors import ConfigError

    tags = list(getattr(G, "tags", None) or [])
    if not G.conditional and not tags:
        raise ConfigError(
            f"gankit synth writes labelled data and needs a conditional run (cgan, or a "
            f"tag-conditioned one); this {G.family} generator is unconditional"
        )
    if G.info.kind != "images":
        raise ConfigError(f"gankit synth writes images; this {G.family} generator makes points")
    if out.exists():
        raise ConfigError(f"--out {str(out)!r} already exists; give a new folder")
    if not out.resolve().parent.is_dir():
        raise ConfigError(f"folder {str(out.parent)!r} for {str(out)!r} does not exist")
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    counts: dict[str, int] = {}
    try:
        if tags:
            counts = _write_tagged(G, tags, n, tmp, seed, batch_size)
        else:
            counts = _write_classes(G, n, tmp, seed, batch_size)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts


def _write_classes(G, n: int, folder: Path, seed: int, batch_size: int) -> dict[str, int]:
    import torch

    names = class_folder_names(G)
    for name in names:
        (folder / name).mkdir()
    k = len(names)
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        labels = torch.arange(start, start + m) % k
        images = G.sample(m, seed=seed * 1_000_003 + start, label=labels).numpy()
        for j, (img, c) in enumerate(zip(images, labels.tolist(), strict=True)):
            write_png(folder / names[c] / f"{start + j:06d}.png", img)
    return {name: len(range(i, n, k)) for i, name in enumerate(names)}


def _write_tagged(
    G, tags: list[str], n: int, folder: Path, seed: int, batch_size: int
) -> dict[str, int]:
    (folder / "images").mkdir()
    spec = G.tag_input()
    counts = dict.fromkeys(tags, 0)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", *tags])
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        s = seed * 1_000_003 + start
        vectors = G.latent(m, s)[spec.name]  # each tag drawn with its training frequency
        images = G.sample(m, seed=s, tags=vectors).numpy()
        for j, (img, v) in enumerate(zip(images, vectors.tolist(), strict=True)):
            name = f"images/{start + j:06d}.png"
            write_png(folder / name, img)
            on = [int(round(x)) for x in v]
            writer.writerow([name, *on])
            for t, flag in zip(tags, on, strict=True):
                counts[t] += flag
    (folder / "labels.csv").write_text(buf.getvalue())
    return counts


def synth(
    run: Annotated[str, typer.Argument(help="run folder or number of a conditional run")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, max=1_000_000, help="images")] = 10000,
    out: Annotated[Path, typer.Option("--out", "-o", help="new folder to write")] = Path(
        "synthetic"
    ),
    seed: Annotated[int, typer.Option(help="noise seed (same seed, same images)")] = 0,
    batch_size: Annotated[
        int, typer.Option(min=1, max=65536, help="samples per forward pass")
    ] = 500,
    device: Annotated[str, typer.Option(help="cpu, cuda, mps or auto")] = "cpu",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Write a labelled image folder from a conditional run: one sub-folder per class (cgan),
    or `images/` + `labels.csv` with a 0/1 column per tag (a tag-conditioned run).

    **Examples**: `gankit synth 3 --n 10000 --out ./synthetic`,
    `gankit synth runs/00004-cgan-mnist5k --n 500 --out ./extra --seed 1`
    """
    from gankit.cli.main import console
    from gankit.generator import load
    from gankit.runs import find_run
    from gankit.train.trainer import resolve_device

    path = Path(run)
    if not (path / "config.json").is_file():
        path = find_run(run, runs_dir)
    G = load(path, device=resolve_device(device))
    counts = synthesize(G, n, out, seed, batch_size)
    what = "tag" if getattr(G, "tags", None) else "class"
    shown = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:12])
    console.print(f"wrote {n} images to {out} (per {what}: {shown})")


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
