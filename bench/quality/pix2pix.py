"""pix2pix quality: translate held-out inputs and score them against their targets, beside the
L1-only network trained as long (the baseline a user would otherwise train).

Each variant trains the preset with extra ``--set`` overrides, then translates every held-out
input (edges2digits: the last 100 digits of each class; edges2photos: the crops of the held-out
photos) and reports L1, PSNR, SSIM, sharpness (mean gradient magnitude, outputs over targets) and,
for digits, the project's classifier: accuracy against the source digit's label and FID on its
features against the held-out real digits.

    python bench/quality/pix2pix.py --variants pix2pix,l1-only --seed 0          # the bar
    python bench/quality/pix2pix.py --variants l1-only,cgan-only,pix2pix,pixelgan,imagegan
    python bench/quality/pix2pix.py --preset pix2pix-edges2photos --variants pix2pix,l1-only \\
        --grid docs/models/pix2pix-photos.png
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
from gankit.metrics.paired import translation_results  # noqa: E402
from gankit.viz import png_bytes, translation_grid  # noqa: E402

# The paper's ablation (Isola et al. 2017, tables 1 and 2), as config overrides of the preset.
VARIANTS = {
    "pix2pix": [],
    "l1-only": ["model.gan_weight=0"],
    "cgan-only": ["model.l1=0"],
    # D's receptive field on 28 px digits: 1x1 (PixelGAN), 16 px (about a quarter of the image's
    # area: the edges2digits preset) and 34 px (the whole image: an ImageGAN)
    "pixelgan": ["model.receptive_field=1"],
    "patch16": ["model.receptive_field=16"],
    "imagegan": ["model.receptive_field=34"],
    "patch70": ["model.receptive_field=70"],  # the paper's default, for 64 px and larger
    # levers beyond the paper's settings
    "lambda100": ["model.l1=100"],  # the paper's
    "lambda30": ["model.l1=30"],
    "lambda10": ["model.l1=10"],
    "lambda5": ["model.l1=5"],
    "lsgan-lambda10": ["model.loss=lsgan", "model.l1=10"],
    "lsgan": ["model.loss=lsgan"],
    "no-dropout": ["model.dropout=0"],
    "ema": ["train.ema=0.999", "train.ema_start=500"],
    "instance": ["model.norm=instance"],
    "instance-ema": ["model.norm=instance", "train.ema=0.999", "train.ema_start=500"],
}


def translate_heldout(trainer) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(inputs, outputs, targets, labels) for every held-out pair, from the sampling generator."""
    held = trainer.heldout
    batch = held.batch(torch.arange(len(held)), augment=False)
    name = next(iter(held.inputs))
    outputs = to_uint8(trainer.generate({name: batch[name]})).numpy()
    labels = None if held.y is None else held.y.numpy()
    return held.inputs[name].numpy(), outputs, held.x.numpy(), labels


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="pix2pix-edges2digits")
    p.add_argument("--variants", default="pix2pix,l1-only", help=", ".join(VARIANTS))
    p.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    p.add_argument("--grid", type=Path, default=None, help="PNG: input | each variant | target")
    args = p.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in names:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
    rows, columns = [], []
    for v in names:
        sets = [*args.set, *VARIANTS[v]] + ([f"train.steps={args.steps}"] if args.steps else [])
        trainer = make_trainer(args.preset, sets, args.threads, args.seed)
        c0, t0 = time.process_time(), time.perf_counter()
        trainer.fit()
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        inputs, outputs, targets, labels = translate_heldout(trainer)
        res = translation_results(outputs, targets, labels, "heldout", args.seed)
        row = {
            "variant": v,
            "seed": args.seed,
            "steps": trainer.step,
            **{r.name: round(r.value, 4) for r in res if r.value is not None},
            "train_cpu_s": round(cpu, 1),
            "train_wall_s": round(wall, 1),
            "threads": args.threads,
            "load": load(),
        }
        rows.append(row)
        columns.append(outputs)
        print(json.dumps(row), flush=True)
    print("== table")
    keys = ["accuracy", "fid", "sharpness_ratio", "l1", "psnr", "ssim", "train_cpu_s"]
    print("| variant | " + " | ".join(k for k in keys if k in rows[0]) + " |")
    for r in rows:
        print(f"| {r['variant']} | " + " | ".join(str(r[k]) for k in keys if k in r) + " |")
    base = next((r for r in rows if r["variant"] == "l1-only"), None)
    full = next((r for r in rows if r["variant"] == "pix2pix"), None)
    if base and full and "fid" in full:
        print(
            f"FID pix2pix / L1-only = {full['fid'] / base['fid']:.3f} "
            f"({100 * (1 - full['fid'] / base['fid']):.0f} % lower)"
        )
    print(command_line())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command_line(), "rows": rows}, indent=1))
    if args.grid:
        pick = np.linspace(0, len(inputs) - 1, 12).round().astype(int)
        cols = [inputs[pick], *(c[pick] for c in columns), targets[pick]]
        args.grid.write_bytes(png_bytes(translation_grid(cols)))
        print(f"grid: {args.grid} (input | {' | '.join(names)} | target)")


if __name__ == "__main__":
    main()
