"""Inpainting quality: fill the held-out images' fixed holes and score the fills, beside the
classic fills and the pixel-loss-only network trained as long.

Baselines: ``mean`` (each hole filled with the mean colour of the image's kept pixels),
``biharmonic`` (``skimage.restoration.inpaint_biharmonic``, the smooth continuation of the
surroundings), ``push-pull`` (the smooth guess ``model.coarse`` starts from). Variants train the preset with extra ``--set`` overrides; ``l1-only`` is the same
generator with ``model.gan_weight=0``. Every method fills every held-out image (mnist5k: the last
100 of each class; photos: the crops of the held-out photos) in its fixed hole, and is scored by
PSNR over the hole, PSNR / SSIM over the whole image, sharpness and, for digits, the project's
classifier (accuracy against the digit's label, FID on its features).

    python bench/quality/inpaint.py --preset inpaint-digits --variants inpaint,l1-only --seed 0 \\
        --threads 1 --grid docs/models/inpaint-digits.png
    python bench/quality/inpaint.py --preset inpaint-photos --variants inpaint,l1-only --seed 0 \\
        --threads 1 --grid docs/models/inpaint-photos.png
    python bench/quality/inpaint.py --evaluate RUN_DIR [RUN_DIR ...]   # score exported generators
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
BASELINES = ("mean", "biharmonic", "push-pull")


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


def push_pull_fill(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The smooth guess ``model.coarse`` starts from (``smooth_fill``), alone."""
    from gankit.models.inpaint import smooth_fill

    x = torch.from_numpy(images).float().div(127.5).sub(1.0)
    hole = torch.from_numpy(masks) > 127
    return to_uint8(torch.where(hole, smooth_fill(x, hole), x)).numpy()


FILLS = {"mean": mean_fill, "biharmonic": biharmonic_fill, "push-pull": push_pull_fill}


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


def evaluate_runs(run_dirs: list[Path], seed: int, out: Path | None, grid: Path | None) -> None:
    """Score the exported generators of finished (or interrupted) runs of one dataset on its
    held-out images, beside the baselines; nothing is trained."""
    import gankit
    from gankit.config import RunConfig
    from gankit.train.evaluation import load_run_data

    first = run_dirs[0].parent.parent if run_dirs[0].suffix == ".pt" else run_dirs[0]
    cfg = RunConfig.model_validate_json((first / "config.json").read_text())
    _, held = load_run_data(cfg)
    images, masks = held.x.numpy(), held.inputs["mask"].numpy()
    labels = None if held.y is None else held.y.numpy()
    rows, columns = [], {}
    for b in BASELINES:
        filled = FILLS[b](images, masks)
        rows.append(score(b, filled, images, masks, labels, seed, {}))
        columns[b] = filled
    for run in run_dirs:
        G = from_checkpoint(run, held.info) if run.suffix == ".pt" else gankit.load(run)
        filled = G.inpaint(images, masks).numpy()
        name = f"{(run.parent.parent if run.suffix == '.pt' else run).name}@{G.meta['step']}"
        rows.append(score(name, filled, images, masks, labels, seed, {"steps": G.meta["step"]}))
        columns[name] = filled
    report(rows, [r["method"] for r in rows[len(BASELINES) :]], out)
    if grid:
        write_grid(grid, images, masks, columns)


def from_checkpoint(path: Path, info):
    """The (EMA, when kept) generator of a training checkpoint, as ``gankit.load`` gives it."""
    from gankit.config import RunConfig
    from gankit.generator import Generator
    from gankit.registry import MODELS
    from gankit.train.checkpoint import load_checkpoint

    state = load_checkpoint(path)
    run_cfg = RunConfig.model_validate_json(state["config"])
    family = MODELS.get(run_cfg.family)
    cfg = family.Config.model_validate(run_cfg.model)
    module = family.build_generator(cfg, info)
    module.load_state_dict(state["ema"] or state["nets"]["G"])
    meta = {"family": run_cfg.family, "step": int(state["step"])}
    return Generator(family, cfg, info, module, meta)


def report(rows: list[dict], names: list[str], out: Path | None) -> None:
    for r in rows:
        print(json.dumps(r), flush=True)
    print("== table")
    keys = ["psnr_hole", "psnr", "ssim", "accuracy", "fid", "sharpness_ratio", "train_cpu_s"]
    shown = [k for k in keys if any(k in r for r in rows)]
    print("| method | " + " | ".join(shown) + " |")
    for r in rows:
        print(f"| {r['method']} | " + " | ".join(str(r.get(k, "")) for k in shown) + " |")
    bih = next(r for r in rows if r["method"] == "biharmonic")
    for r in rows:
        if r["method"] in names:
            gap = r["psnr_hole"] - bih["psnr_hole"]
            print(f"{r['method']}: hole PSNR - biharmonic = {gap:+.2f} dB")
    print(command_line())
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"command": command_line(), "rows": rows}, indent=1))


def write_grid(grid: Path, images, masks, columns: dict) -> None:
    pick = np.linspace(0, len(images) - 1, 12).round().astype(int)
    shown_in = masked(torch.from_numpy(images[pick]), torch.from_numpy(masks[pick])).numpy()
    cols = [shown_in, *(c[pick] for c in columns.values()), images[pick]]
    grid.parent.mkdir(parents=True, exist_ok=True)
    grid.write_bytes(png_bytes(translation_grid(cols)))
    print(f"grid: {grid} (input | {' | '.join(columns)} | original)")


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--evaluate", type=Path, nargs="+", default=None, help="run folders to score")
    p.add_argument("--preset", default="inpaint-digits")
    p.add_argument("--variants", default="inpaint,l1-only", help=", ".join(VARIANTS))
    p.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    p.add_argument("--grid", type=Path, default=None, help="PNG: input | each method | target")
    args = p.parse_args()
    if args.evaluate:
        evaluate_runs(args.evaluate, args.seed, args.out, args.grid)
        return
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
                out = FILLS[b](images, masks)
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
    report(rows, names, args.out)
    if args.grid:
        write_grid(args.grid, images, masks, columns)


if __name__ == "__main__":
    main()
