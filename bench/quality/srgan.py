"""Super-resolution quality: bicubic | SRResNet | SRGAN | original on held-out images.

One run of an ``srgan-*`` preset is trained; its generator at the end of the pixel-loss warm-up
is the ``srresnet-*`` preset's (the same steps, bit for bit), so both are scored from one run.
Every held-out image is degraded as in training (antialiased bicubic ÷ scale, uint8), upscaled by
Pillow's bicubic, by SRResNet and by SRGAN, and compared with the original:

* PSNR on the luminance (Y of BT.601) with ``scale`` px cropped from each border (4 for ×4: the
  standard protocol), PSNR on all channels, SSIM;
* sharpness (mean gradient magnitude, outputs over originals) and the high-frequency ratio
  (spectral power above the low-resolution Nyquist frequency, outputs over originals);
* the checkerboard measure: the spread of the mean error over the ``scale``×``scale`` sub-pixel
  phases (``periodic_error``, grey levels; 0 = no pattern tied to the upsampling grid);
* for digits (``srgan-mnist``; the held-out split is the last 100 digits of each class, kept out
  of training here): the project's classifier's accuracy against the digit's label.

    python bench/quality/srgan.py --preset srgan-mnist --threads 1 --grid digits.png
    python bench/quality/srgan.py --preset srgan-photos --threads 1 --grid photos.png
    python bench/quality/srgan.py --preset srgan-photos --set model.content=none \\
        --from-checkpoint RUN/checkpoints/step_000001500.pt       # the content-loss ablation
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

from gankit.data import load_dataset, to_uint8  # noqa: E402
from gankit.data.paired import digit_split  # noqa: E402
from gankit.metrics.paired import (  # noqa: E402
    high_frequency_ratio,
    psnr_y,
    translation_results,
)
from gankit.models.srgan import bicubic_up_uint8, degrade_uint8  # noqa: E402
from gankit.viz import png_bytes, translation_grid  # noqa: E402


def digits_with_split(cfg):
    """mnist5k with the digit split (last 100 of each class held out, never trained on)."""
    ds = load_dataset(cfg.data, cfg.train.seed)
    ds.held = digit_split(ds.y.numpy())
    return ds


def upscale_heldout(trainer, lr: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(lr).float().div(127.5).sub(1.0)
    return to_uint8(trainer.generate({"source": x})).numpy()


def periodic_error(out: np.ndarray, hr: np.ndarray, scale: int) -> float:
    """The checkerboard measure: the mean error (output - original, grey levels) at each of the
    scale x scale sub-pixel phases, over all images and positions; its spread over the phases.
    An artefact tied to the upsampling grid (sub-pixel layers whose kernels drift apart) keeps
    its sign at a given phase and shows here; image content averages out."""
    e = out.astype(np.float64) - hr.astype(np.float64)
    n, c, h, w = e.shape
    phases = e[:, :, : h - h % scale, : w - w % scale].reshape(n, c, h // scale, scale, -1, scale)
    return float(phases.mean(axis=(0, 1, 2, 4)).std())


def score(name, out, hr, labels, scale) -> dict:
    res = {r.name: r.value for r in translation_results(out, hr, labels, "heldout")}
    row = {
        "method": name,
        "psnr_y": round(psnr_y(out, hr, border=scale), 3),
        "psnr": round(res["psnr"], 3),
        "ssim": round(res["ssim"], 4),
        "sharpness_ratio": round(res["sharpness_ratio"], 3),
        "hf_ratio": round(high_frequency_ratio(out, hr, 1 / (2 * scale)), 3),
        "periodic_error": round(periodic_error(out, hr, scale), 3),
    }
    if "accuracy" in res:
        row["accuracy"] = round(res["accuracy"], 4)
        row["fid"] = round(res["fid"], 3)
    return row


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="srgan-mnist")
    p.add_argument("--steps", type=int, default=None, help="override the preset's total steps")
    p.add_argument(
        "--grid", type=Path, default=None, help="PNG: LR | bicubic | SRResNet | SRGAN | HR"
    )
    p.add_argument("--label", default="", help="name of this run in the table")
    p.add_argument(
        "--from-checkpoint",
        type=Path,
        default=None,
        help="start from this checkpoint (e.g. the step-1500 one of a preset run: its SRResNet), "
        "so a variant of the adversarial phase shares the warm-up instead of repeating it",
    )
    p.add_argument(
        "--rescore",
        type=Path,
        default=None,
        help="train nothing: score a finished bench run's checkpoints (RUN/checkpoints) at the "
        "end of the warm-up and at the end, e.g. after a new measure was added",
    )
    args = p.parse_args()
    sets = list(args.set) + ([f"train.steps={args.steps}"] if args.steps else [])
    dataset = digits_with_split if "mnist" in args.preset else None
    trainer = make_trainer(args.preset, sets, args.threads, args.seed, args.run_dir, dataset)
    if args.from_checkpoint:
        from gankit.train.checkpoint import load_checkpoint

        trainer.load_state_dict(load_checkpoint(args.from_checkpoint))
        print(f"from {args.from_checkpoint} at step {trainer.step}", flush=True)
    cfg = trainer.family.cfg
    scale, warm = cfg.scale, cfg.warmup_steps
    held = trainer.heldout
    hr = held.x.numpy()
    labels = None if held.y is None else held.y.numpy()
    lr = degrade_uint8(hr, scale)
    columns = {"LR": lr, "bicubic": bicubic_up_uint8(lr, scale)}
    rows = [score("bicubic", columns["bicubic"], hr, labels, scale)]
    cpu = 0.0
    stages = (
        [("SRResNet", warm), ("SRGAN", trainer.tc.steps)] if warm else [("G", trainer.tc.steps)]
    )
    for name, until in stages:
        c0 = time.process_time()
        if args.rescore:
            from gankit.train.checkpoint import checkpoint_name, load_checkpoint

            trainer.load_state_dict(
                load_checkpoint(args.rescore / "checkpoints" / checkpoint_name(until))
            )
        else:
            trainer.fit(until)
        cpu += time.process_time() - c0
        columns[name] = upscale_heldout(trainer, lr)
        row = score(name, columns[name], hr, labels, scale)
        row.update(steps=trainer.step, load=load())
        if not args.rescore:
            row["train_cpu_s"] = round(cpu, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    rows.append(score("original", hr, hr, labels, scale))
    print(f"== {args.preset} {args.label} seed {args.seed}, {len(hr)} held-out images, x{scale}")
    keys = [k for k in rows[0] if k != "method"]
    keys += ["train_cpu_s"]
    print("| method | " + " | ".join(keys) + " |")
    for r in rows:
        print(f"| {r['method']} | " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    print(command_line())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "command": command_line(),
            "preset": args.preset,
            "rows": rows,
            "threads": args.threads,
        }
        args.out.write_text(json.dumps(doc, indent=1))
    if args.grid:
        n = 12 if labels is not None else 6
        pick = np.linspace(0, len(hr) - 1, n).round().astype(int)
        cols = [c[pick] for c in columns.values()] + [hr[pick]]
        args.grid.parent.mkdir(parents=True, exist_ok=True)
        args.grid.write_bytes(png_bytes(translation_grid(cols)))
        print(f"grid: {args.grid} ({' | '.join(columns)} | original)")


if __name__ == "__main__":
    main()
