"""CycleGAN quality: label preservation on digits2mnist, and photo2cartoon against its ground truth.

digits2mnist (``--preset cyclegan-digits2mnist``): each variant trains the preset with extra
``--set`` overrides, then translates all 1,797 8×8 digits of domain A with G_AB and reports

* ``accuracy``: the project's MNIST classifier's accuracy against each source digit's label
  (labels are never used in training; ``identity``: the classifier on the resized 8×8 digits);
* ``fid``: FID on the classifier's features, the translations against the 1,000 held-out MNIST
  digits (``identity``: the resized 8×8 digits themselves);
* ``cycle_A`` / ``cycle_B``: mean |x - G_BA(G_AB(x))| (and B → A → B) on the held-out digits of
  each domain, in [0, 1] units.

photo2cartoon (``--preset cyclegan-photo2cartoon``): PSNR and SSIM of G_AB's translations of the
held-out photos' crops against their cartoon-filtered versions (which training never sees), next
to the identity mapping (the photo itself) and to a pix2pix trained on the training crops as
(photo, cartoon) pairs, the paired upper bound (``--variants cyclegan,pix2pix``). ``gap_closed``
is (CycleGAN - identity) / (pix2pix - identity) in PSNR.

    python bench/quality/cyclegan.py --variants full,no-cycle,no-identity --threads 1 --seed 0
    python bench/quality/cyclegan.py --preset cyclegan-photo2cartoon --variants full,pix2pix
    python bench/quality/cyclegan.py --run-dir runs/bench --resume --eval-only   # a checkpoint
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
from gankit.data.base import ArrayDataset, DataInfo  # noqa: E402
from gankit.metrics.paired import psnr, ssim  # noqa: E402
from gankit.viz import png_bytes, translation_grid  # noqa: E402

VARIANTS = {
    "full": [],
    "no-cycle": ["model.cycle=0", "model.identity=0"],  # identity is a multiple of λ_cycle
    "no-identity": ["model.identity=0"],
    "pix2pix": [],  # photo2cartoon: a pix2pix on (photo, cartoon) pairs of the training crops
}
PIX2PIX_PRESET = "pix2pix-edges2photos"  # its networks and schedule, on the cartoon pairs


@torch.no_grad()
def run_G(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> [-1, 1] outputs of ``net`` in eval mode, 256 at a time."""
    was = net.training
    net.eval()
    try:
        outs = [
            net(source=x[i : i + 256].float().div(127.5).sub(1.0)) for i in range(0, len(x), 256)
        ]
    finally:
        net.train(was)
    return torch.cat(outs)


def digits_row(trainer) -> tuple[dict, np.ndarray, np.ndarray]:
    from gankit.metrics import features, fid

    G_AB, G_BA = trainer.family.nets["G_AB"], trainer.family.nets["G_BA"]
    train, held = trainer.data, trainer.heldout
    a = torch.cat([train.a.x, held.a.x])
    labels = torch.cat([train.a.y, held.a.y]).numpy()
    out = to_uint8(run_G(G_AB, a)).numpy()
    ext = features.mnist_extractor()
    f_out, p_out = ext.outputs(out)
    f_id, p_id = ext.outputs(a.numpy())
    f_real, _ = ext.outputs(held.b.x.numpy())
    rec_a = to_uint8(run_G(G_BA, to_uint8(run_G(G_AB, held.a.x))))
    rec_b = to_uint8(run_G(G_AB, to_uint8(run_G(G_BA, held.b.x))))

    def l1(x, y):
        return float((x.float() - y.float()).abs().mean() / 255.0)

    row = {
        "accuracy": round(float((p_out.argmax(1) == labels).mean()), 4),
        "fid": round(fid.fid_from_features(f_out, f_real), 2),
        "cycle_A": round(l1(rec_a, held.a.x), 4),
        "cycle_B": round(l1(rec_b, held.b.x), 4),
        "identity_accuracy": round(float((p_id.argmax(1) == labels).mean()), 4),
        "identity_fid": round(fid.fid_from_features(f_id, f_real), 2),
    }
    return row, a.numpy(), out


def cartoon_pairs(cfg) -> ArrayDataset:
    """Every training crop of photo2cartoon (both domains' photos) as a (photo, cartoon) pair;
    the held-out crops and their cartoons as the held-out pairs."""
    from gankit.data.paired import _split_crops
    from gankit.data.unpaired import cartoon_batch

    _, colour, held = _split_crops(cfg.data.image_size or 64)
    s = colour.shape[1:]
    info = DataInfo(name="photo2cartoon-pairs", kind="images", shape=s, inputs={"source": s})
    return ArrayDataset(
        x=torch.from_numpy(cartoon_batch(colour)),
        y=None,
        info=info,
        inputs={"source": torch.from_numpy(colour)},
        held=held,
        augment=(cfg.data.flip, cfg.data.jitter),
    )


def photo_row(trainer, variant: str) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    held = trainer.heldout
    if variant == "pix2pix":
        photos, targets = held.inputs["source"], held.x
        batch = held.batch(torch.arange(len(held)), augment=False)
        out = to_uint8(trainer.generate({"source": batch["source"]})).numpy()
    else:
        photos, targets = held.a.x, held.b.x
        out = to_uint8(run_G(trainer.family.nets["G_AB"], photos)).numpy()
    photos, targets = photos.numpy(), targets.numpy()
    row = {
        "psnr": round(psnr(out, targets), 3),
        "ssim": round(ssim(out, targets), 4),
        "identity_psnr": round(psnr(photos, targets), 3),
        "identity_ssim": round(ssim(photos, targets), 4),
    }
    return row, photos, out, targets


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="cyclegan-digits2mnist")
    p.add_argument("--variants", default="full,no-cycle,no-identity", help=", ".join(VARIANTS))
    p.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    p.add_argument("--grid", type=Path, default=None, help="PNG: input | each variant (| target)")
    p.add_argument(
        "--eval-only",
        action="store_true",
        help="with --resume: score --run-dir's newest checkpoint of each variant, no training",
    )
    args = p.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in names:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
    photo = "photo2cartoon" in args.preset
    rows, columns, inputs, targets = [], [], None, None
    for v in names:
        sets = [*args.set, *VARIANTS[v]] + ([f"train.steps={args.steps}"] if args.steps else [])
        run_dir = args.run_dir / v if args.run_dir else None
        preset, data = (PIX2PIX_PRESET, cartoon_pairs) if v == "pix2pix" else (args.preset, None)
        trainer = make_trainer(
            preset, sets, args.threads, args.seed, run_dir, dataset=data, resume=args.resume
        )
        c0, t0 = time.process_time(), time.perf_counter()
        if not args.eval_only:
            trainer.fit()
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        if photo:
            row, inputs, out, targets = photo_row(trainer, v)
        else:
            row, inputs, out = digits_row(trainer)
        row = {
            "variant": v,
            "seed": args.seed,
            "steps": trainer.step,
            **row,
            "train_cpu_s": round(cpu, 1),
            "train_wall_s": round(wall, 1),
            "threads": args.threads,
            "load": load(),
        }
        rows.append(row)
        columns.append(out)
        print(json.dumps(row), flush=True)
    print("== table")
    keys = [k for k in rows[0] if k not in ("variant", "seed", "load", "threads")]
    print("| variant | " + " | ".join(keys) + " |")
    for r in rows:
        print(f"| {r['variant']} | " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    cyc = next((r for r in rows if r["variant"] == "full"), None)
    pix = next((r for r in rows if r["variant"] == "pix2pix"), None)
    if photo and cyc and pix:
        gap = (cyc["psnr"] - cyc["identity_psnr"]) / (pix["psnr"] - cyc["identity_psnr"])
        print(f"gap_closed (PSNR, CycleGAN vs identity -> pix2pix) = {gap:.3f}")
    print(command_line())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command_line(), "rows": rows}, indent=1))
    if args.grid:
        pick = np.linspace(0, len(inputs) - 1, 12).round().astype(int)
        cols = [inputs[pick], *(c[pick] for c in columns)]
        if targets is not None:
            cols.append(targets[pick])
        args.grid.write_bytes(png_bytes(translation_grid(cols)))
        print(f"grid: {args.grid} (input | {' | '.join(names)}{' | target' if photo else ''})")


if __name__ == "__main__":
    main()
