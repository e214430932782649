"""Inpainting quality: fill the held-out images' fixed holes and score the fills, beside the
classic fills and the pixel-loss-only network trained as long.

Baselines: ``mean`` (each hole filled with the mean colour of the image's kept pixels),
``biharmonic`` (``skimage.restoration.inpaint_biharmonic``, the smooth continuation of the
surroundings). Variants train the preset with extra ``--set`` overrides; ``l1-only`` is the same
generator with ``model.gan_weight=0``. Every method fills every held-out image (mnist5k: the last
100 of each class; photos: the crops of the held-out photos) in its fixed hole, and is scored by
PSNR over the hole, PSNR / SSIM over the whole image, sharpness and, for digits, the project's
classifier (accuracy against the digit's label, FID on its features).

    python bench/quality/inpaint.py --preset inpaint-digits --variants inpaint,l1-only --seed 0 \\
        --threads 1 --grid docs/models/inpaint-digits.png
    python bench/quality/inpaint.py --preset inpaint-photos --variants inpaint,l1-only --seed 0 \\
        --threads 1 --grid docs/models/inpaint-photos.png
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import base_parser, command_line, load, make_trainer  # noqa: E402

from gankit.data import to_uint8  # noqa: E402
from gankit.data.masks import masked  # noqa: E402
from gankit.metrics.paired import translation_results  # noqa: E402
from gankit.viz import png_bytes, translation_grid  # noqa: E402

VARIANTS = {
    "inpaint": [],
    "l1-only": ["model.gan_weight=0"],
    "plain-conv": ["model.gated=false"],
    "lambda100": ["model.l1=100"],
    "lambda1": ["model.l1=1"],
    "nonsaturating": ["model.loss=nonsaturating"],
}
BASELINES = ("mean", "biharmonic")


def mean_fill(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Each hole filled with the mean colour (per channel) of its image's kept pixels."""
    out = images.copy()
    for x, m in zip(out, masks, strict=True):
        hole = m[0] > 127
        for ch in x:
            ch[hole] = np.round(ch[~hole].mean()) if (~hole).any() else 128
    return out


def biharmonic_fill(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``skimage.restoration.inpaint_biharmonic`` on each image, per channel."""
    from skimage.restoration import inpaint_biharmonic

    out = images.copy()
    for i, (x, m) in enumerate(zip(images, masks, strict=True)):
        hole = m[0] > 127
        filled = inpaint_biharmonic(x.astype(np.float64) / 255.0, hole, channel_axis=0)
        out[i] = np.clip(np.round(filled * 255.0), 0, 255).astype(np.uint8)
        out[i][:, ~hole] = x[:, ~hole]
    return out


def heldout_holes(trainer) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(images, masks, labels) of every held-out sample with its fixed mask."""
    held = trainer.heldout
    labels = None if held.y is None else held.y.numpy()
    return held.x.numpy(), held.inputs["mask"].numpy(), labels


def fill_with(trainer, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    scale = lambda a: torch.from_numpy(a).float().div(127.5).sub(1.0)  # noqa: E731
    out = trainer.generate({"image": scale(images), "mask": scale(masks)})
    return to_uint8(out).numpy()


def score(name, outputs, images, masks, labels, seed, extra) -> dict:
    res = translation_results(outputs, images, labels, "heldout", seed, masks=masks)
    outside = masks.repeat(images.shape[1], 1) <= 127
    return {
        "method": name,
        "seed": seed,
        **{r.name: round(r.value, 4) for r in res if r.value is not None},
        "changed_outside_hole": int((outputs != images)[outside].sum()),
        **extra,
    }


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="inpaint-digits")
    p.add_argument("--variants", default="inpaint,l1-only", help=", ".join(VARIANTS))
    p.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    p.add_argument("--grid", type=Path, default=None, help="PNG: input | each method | target")
    args = p.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in names:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
    rows, columns = [], {}
    images = masks = labels = None
    for v in names:
        sets = [*args.set, *VARIANTS[v]] + ([f"train.steps={args.steps}"] if args.steps else [])
        trainer = make_trainer(args.preset, sets, args.threads, args.seed, run_dir=args.run_dir)
        if images is None:
            images, masks, labels = heldout_holes(trainer)
            for b in BASELINES:
                c0 = time.process_time()
                out = mean_fill(images, masks) if b == "mean" else biharmonic_fill(images, masks)
                cpu = time.process_time() - c0
                rows.append(score(b, out, images, masks, labels, args.seed, {"fill_cpu_s": cpu}))
                columns[b] = out
                print(json.dumps(rows[-1]), flush=True)
        c0, t0 = time.process_time(), time.perf_counter()
        trainer.fit()
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        out = fill_with(trainer, images, masks)
        extra = {
            "steps": trainer.step,
            "train_cpu_s": round(cpu, 1),
            "train_wall_s": round(wall, 1),
            "threads": args.threads,
            "load": load(),
        }
        rows.append(score(v, out, images, masks, labels, args.seed, extra))
        columns[v] = out
        print(json.dumps(rows[-1]), flush=True)
    print("== table")
    keys = ["psnr_hole", "psnr", "ssim", "accuracy", "fid", "sharpness_ratio", "train_cpu_s"]
    shown = [k for k in keys if any(k in r for r in rows)]
    print("| method | " + " | ".join(shown) + " |")
    for r in rows:
        print(f"| {r['method']} | " + " | ".join(str(r.get(k, "")) for k in shown) + " |")
    bih = next(r for r in rows if r["method"] == "biharmonic")
    for r in rows:
        if r["method"] in names:
            print(
                f"{r['method']}: hole PSNR - biharmonic = {r['psnr_hole'] - bih['psnr_hole']:+.2f} dB"
            )
    print(command_line())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command_line(), "rows": rows}, indent=1))
    if args.grid:
        pick = np.linspace(0, len(images) - 1, 12).round().astype(int)
        shown_in = masked(torch.from_numpy(images[pick]), torch.from_numpy(masks[pick])).numpy()
        cols = [shown_in, *(c[pick] for c in columns.values()), images[pick]]
        args.grid.parent.mkdir(parents=True, exist_ok=True)
        args.grid.write_bytes(png_bytes(translation_grid(cols)))
        print(f"grid: {args.grid} (input | {' | '.join(columns)} | original)")


if __name__ == "__main__":
    main()
