"""bf16 autocast vs fp32 on CPU: speed and sample quality of the same run, side by side.

Trains a preset for the same number of steps in each precision (same seed, same data) and
reports img/s, wall time, FID on gankit's MNIST classifier and the classifier score.

    python bench/bench_precision.py [--preset dcgan-textbook] [--steps 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from gankit.data import DataConfig, load_dataset, to_uint8
from gankit.metrics.evaluate import evaluate
from gankit.presets import resolve
from gankit.train.trainer import Trainer


def run(preset: str, precision: str, steps: int, data) -> dict:
    cfg = resolve(
        preset=preset,
        flags={
            "train": {"device": "cpu", "precision": precision, "steps": steps, "log_every": steps}
        },
    )
    trainer = Trainer(cfg, dataset=data, progress=False)
    t0 = time.perf_counter()
    trainer.fit()
    wall = time.perf_counter() - t0
    fam = trainer.family
    z = fam.latent(fam.cfg, data.info, 2000, generator=torch.Generator().manual_seed(1))
    fake = to_uint8(trainer.generate(z)).numpy()
    real = data.x[torch.randperm(len(data), generator=torch.Generator().manual_seed(2))[:2000]]
    res = {
        r.name: r.value
        for r in evaluate(fake, real.numpy(), ["fid", "inception-score"], info=data.info)
    }
    return {"img/s": steps * cfg.train.batch_size / wall, "wall_s": wall, **res}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="dcgan-textbook")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset(DataConfig(name="mnist5k"))
    rows = {p: run(args.preset, p, args.steps, data) for p in ("fp32", "bf16")}
    print(f"{args.preset}, {args.steps} steps, {args.threads} threads")
    for p, r in rows.items():
        print(
            f"{p}: {r['img/s']:7.1f} img/s  wall {r['wall_s']:6.1f} s  FID {r['fid']:7.1f}  "
            f"classifier score {r['inception-score']:.2f}"
        )
    print(f"bf16 speed ratio: {rows['bf16']['img/s'] / rows['fp32']['img/s']:.2f}x")


if __name__ == "__main__":
    main()
