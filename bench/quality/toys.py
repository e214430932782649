"""Toy 2-D bars: modes covered, high-quality fraction and reverse KL (VEEGAN / PacGAN protocol).

Trains each preset on the 8-Gaussian ring and the 25-Gaussian grid and evaluates 2,500 samples
every ``--every`` steps with ``gankit.metrics.modes.toy_mode_stats`` (HQ = within 3 sigma of the
nearest mode). The bar (issue 4): all modes, >= 97 % HQ, reverse KL <= 0.02 within two minutes.
The plain GAN (``mlp-gan-ring`` / ``mlp-gan-grid``) runs beside the best presets.

    python bench/quality/toys.py                       # all four presets, 1 thread each
    python bench/quality/toys.py --presets gan-ring --set train.steps=2000
"""

from __future__ import annotations

import json
import time

import numpy as np
from common import (
    base_parser,
    command_line,
    generate,
    load,
    make_trainer,
    save_curve,
    train_with_curve,
)

from gankit.metrics.modes import TOY_NUM_SAMPLES, toy_mode_stats

PRESETS = ["mgan-ring", "mlp-gan-ring", "selfcond-grid", "mgan-grid", "mlp-gan-grid"]


def toy_metrics(trainer) -> dict[str, float]:
    info = trainer.data.info
    pts = generate(trainer, TOY_NUM_SAMPLES).numpy()
    s = toy_mode_stats(pts, np.asarray(info.modes), info.sigma)
    return {"modes": s.modes_covered, "hq": round(s.high_quality, 4), "rkl": round(s.reverse_kl, 4)}


def passes(row: dict, k: int) -> bool:
    return row["modes"] == k and row["hq"] >= 0.97 and row["rkl"] <= 0.02


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--presets", default=",".join(PRESETS))
    p.add_argument("--every", type=int, default=250)
    p.set_defaults(threads=1)
    args = p.parse_args()
    print(command_line(), "|", load(), flush=True)
    summary = []
    for preset in args.presets.split(","):
        t0 = time.perf_counter()
        run_dir = args.run_dir / preset if args.run_dir else None
        trainer = make_trainer(
            preset, args.set, args.threads, args.seed, run_dir, resume=args.resume
        )
        k = len(trainer.data.info.modes)
        print(f"== {preset}", flush=True)
        curve = train_with_curve(trainer, trainer.tc.steps, args.every, toy_metrics)
        first = next((r for r in curve.rows if passes(r, k)), None)
        last = curve.rows[-1]
        summary.append(
            {
                "preset": preset,
                "final": {k2: last[k2] for k2 in ("step", "modes", "hq", "rkl")},
                "of_modes": k,
                "passes_at_end": passes(last, k),
                "first_pass": first and {k2: first[k2] for k2 in ("step", "wall_s", "cpu_s")},
                "train_wall_s": last["wall_s"],
                "train_cpu_s": last["cpu_s"],
                "total_wall_s": round(time.perf_counter() - t0, 1),
                "load": load(),
            }
        )
        save_curve(
            args.out and args.out.with_name(f"{args.out.stem}-{preset}.json"), curve, summary[-1]
        )
    print("== summary (bar: all modes, HQ >= 0.97, reverse KL <= 0.02, <= 120 s)")
    for row in summary:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
