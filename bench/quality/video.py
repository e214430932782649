"""Next-frame prediction quality on held-out Moving MNIST videos, per future frame, beside the
baselines: copying the last frame, the same generator trained with the pixel loss only, and with
pixel + GDL (no adversary).

Every held-out video (made only from the held-out digits) gives its first ``context`` frames to
the generator, which rolls out ``--frames`` frames, feeding each prediction back. Per future frame
t+k: PSNR, SSIM and Mathieu et al.'s sharpness difference (dB), on all pixels and on the moving
pixels only (``gankit.metrics.video``); and the project's MNIST classifier on the 28×28 window at
the digit's true position in the predicted frame (the fraction that names the right digit).

    # train the three variants of the preset (one thread each) and score them
    python bench/quality/video.py --variants full,pixel,pixel-gdl --threads 1 --seed 0 \\
        --out bench-out/video.json --grid docs/models/video-rollout.png
    # score runs already trained with `gankit train video ...` (their exported generators)
    python bench/quality/video.py --runs full=runs/00001-full,pixel=runs/00002-pixel
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

import gankit  # noqa: E402
from gankit.data import DataConfig, load_dataset, to_uint8  # noqa: E402
from gankit.data.base import ArrayDataset  # noqa: E402
from gankit.metrics.video import digit_accuracy, per_frame  # noqa: E402
from gankit.models.video import rollout, video_starts  # noqa: E402
from gankit.viz import png_bytes  # noqa: E402

VARIANTS = {
    "full": [],  # λ_adv 0.05, λ_p 1, λ_gdl 1 (the preset)
    "pixel": ["model.adv=0", "model.gdl=0"],
    "pixel-gdl": ["model.adv=0"],
    "adv-pixel": ["model.gdl=0"],
    "rollout3": ["data.future=3"],  # the losses also follow G's own rollout, 3 frames deep
    "rollout5": ["data.future=5"],
    "motion": ["model.motion=7"],  # G moves the last frame by a kernel it predicts, then corrects
    "motion-rollout3": ["model.motion=7", "data.future=3"],
    "motion-rollout3-pixel": ["model.motion=7", "data.future=3", "model.adv=0", "model.gdl=0"],
}
KEYS = ["psnr", "ssim", "sharpness", "psnr_moving", "ssim_moving", "sharpness_moving"]


def heldout_videos(held: ArrayDataset, frames: int):
    """(context (N, T, C, H, W), true future (N, K, C, H, W), positions (N, K, D, 2), digit
    classes (N, D)) of every held-out video, uint8."""
    starts, k = video_starts(held, frames)
    if k < frames:
        raise SystemExit(f"the held-out videos have {k} future frames; --frames {frames} is more")
    idx = starts[:, None] + torch.arange(frames)[None]
    return (
        held.inputs["frames"][starts].numpy(),
        held.x[idx].numpy(),
        held.extra["pos"][idx].numpy(),
        held.extra["digits"][starts].numpy(),
    )


def score(name: str, pred: np.ndarray, ctx, true, pos, digits) -> dict:
    rows = per_frame(pred, true, ctx[:, -1])
    acc = [digit_accuracy(pred[:, k], pos[:, k, 0], digits[:, 0]) for k in range(pred.shape[1])]
    for r, a in zip(rows, acc, strict=True):
        r["digit_acc"] = a
    return {"variant": name, "per_frame": rows}


def run_rollout(run: Path, ctx: np.ndarray, frames: int) -> tuple[np.ndarray, int]:
    """A run's rollouts: from its exported generator, from one checkpoint file (``.pt``), or (a
    run still training) from its newest checkpoint's sampling generator."""
    if run.suffix == ".pt":
        from gankit.config import RunConfig
        from gankit.models.video import Video
        from gankit.train.checkpoint import load_checkpoint

        state = load_checkpoint(run)
        cfg = RunConfig.model_validate_json(state["config"])
        data = load_dataset(cfg.data.model_copy(update={"limit": 1}))
        G = Video.build_generator(Video.Config.model_validate(cfg.model), data.info)
        G.load_state_dict(state["ema"] if state.get("ema") else state["nets"]["G"])
        G.eval()
        x = torch.from_numpy(ctx).float().div(127.5).sub(1.0)
        return to_uint8(rollout(G, x, frames)).numpy(), int(state["step"])
    if (run / "generator" / "config.json").is_file():
        G = gankit.load(run)
        return G.predict(ctx, frames).numpy(), int(G.meta["step"])
    from gankit.config import RunConfig
    from gankit.train.trainer import Trainer

    trainer = Trainer(
        RunConfig.model_validate_json((run / "config.json").read_text()), progress=False
    )
    trainer.resume_from(run)
    x = torch.from_numpy(ctx).float().div(127.5).sub(1.0)
    return to_uint8(rollout(lambda **kw: trainer.generate(kw), x, frames)).numpy(), trainer.step


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="video-moving-mnist")
    p.add_argument("--variants", default="full,pixel,pixel-gdl", help=", ".join(VARIANTS))
    p.add_argument("--runs", default="", help="NAME=RUN_DIR,... : score exported generators")
    p.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    p.add_argument("--frames", type=int, default=10, help="future frames to roll out")
    p.add_argument("--grid", type=Path, default=None, help="PNG: context | each variant | truth")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset(DataConfig(name="moving-mnist", digits=1, context=4))
    held = data.subset(data.held.nonzero().squeeze(1))
    ctx, true, pos, digits = heldout_videos(held, args.frames)
    results = [score("copy-last", np.repeat(ctx[:, -1:], args.frames, 1), ctx, true, pos, digits)]
    preds = {}
    if args.runs:
        for item in args.runs.split(","):
            name, run = item.split("=", 1)
            preds[name], step = run_rollout(Path(run), ctx, args.frames)
            results.append(score(name, preds[name], ctx, true, pos, digits))
            results[-1]["steps"] = step
    else:
        for v in (s.strip() for s in args.variants.split(",") if s.strip()):
            if v not in VARIANTS:
                raise SystemExit(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
            sets = [*args.set, *VARIANTS[v]] + ([f"train.steps={args.steps}"] if args.steps else [])
            trainer = make_trainer(args.preset, sets, args.threads, args.seed)
            c0, t0 = time.process_time(), time.perf_counter()
            trainer.fit()
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            x = torch.from_numpy(ctx).float().div(127.5).sub(1.0)
            gen = trainer.generate
            preds[v] = to_uint8(rollout(lambda gen=gen, **kw: gen(kw), x, args.frames)).numpy()
            results.append(score(v, preds[v], ctx, true, pos, digits))
            results[-1].update(
                steps=trainer.step,
                train_cpu_s=round(cpu, 1),
                train_wall_s=round(wall, 1),
                threads=args.threads,
                load=load(),
            )
            print(
                json.dumps({k: v for k, v in results[-1].items() if k != "per_frame"}), flush=True
            )
    print(f"== {len(ctx)} held-out videos, one digit, context 4 (seed {args.seed})")
    print("| variant | t | " + " | ".join(KEYS) + " | digit acc |")
    print("|---|---|" + "---|" * (len(KEYS) + 1))
    for r in results:
        for row in r["per_frame"]:
            if row["t"] in (1, 2, 5, 10):
                vals = " | ".join(f"{row[k]:.3f}" if "ssim" in k else f"{row[k]:.2f}" for k in KEYS)
                print(f"| {r['variant']} | t+{row['t']} | {vals} | {row['digit_acc']:.3f} |")
    print(command_line())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        doc = {"command": command_line(), "n_videos": len(ctx), "results": results}
        args.out.write_text(json.dumps(doc, indent=1))
    if args.grid:
        from gankit.viz import image_grid

        pick = np.linspace(0, len(ctx) - 1, 3).round().astype(int)
        cells = []  # per video, one row each: the context, each variant's rollout, the truth
        for i in pick:
            blank = np.zeros((args.frames - ctx.shape[1], *ctx.shape[2:]), np.uint8)
            cells += [np.concatenate([ctx[i], blank]), *(p[i] for p in preds.values()), true[i]]
        args.grid.write_bytes(png_bytes(image_grid(np.concatenate(cells), nrow=args.frames)))
        print(f"grid: {args.grid} (per video: context, {', '.join(preds)}, truth)")


if __name__ == "__main__":
    main()
