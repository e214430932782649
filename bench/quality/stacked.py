"""Stacked MNIST bar: modes covered of 1,000 and KL(mode histogram || uniform).

Protocol (Metz et al. 2017 / VEEGAN / PacGAN): generate ``--n`` (26,000) RGB samples, classify
each channel with gankit's MNIST classifier, count the 1,000 three-digit classes that appear,
and measure KL(q || uniform) in nats (``gankit.metrics.modes.stacked_mnist_mode_stats``).
Bar (issue 4): >= 990 modes and KL <= 0.1. The real data's own figure on the same number of
samples is printed first: the floor that classifier errors and sampling noise set.

    python bench/quality/stacked.py --preset dcgan-stacked-mnist --every 1000
"""

from __future__ import annotations

import json
import time

from common import (
    base_parser,
    command_line,
    finish,
    generate,
    load,
    make_trainer,
    train_with_curve,
)

from gankit.metrics.modes import stacked_mnist_mode_stats


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="dcgan-stacked-mnist")
    p.add_argument("--every", type=int, default=1000)
    p.add_argument("--n", type=int, default=26_000, help="samples per evaluation")
    args = p.parse_args()
    print(command_line(), "|", load(), flush=True)
    t0 = time.perf_counter()
    trainer = make_trainer(
        args.preset, args.set, args.threads, args.seed, args.run_dir, resume=args.resume
    )
    real = trainer.data.x[: args.n].numpy()
    covered, kl, _ = stacked_mnist_mode_stats(real)
    print(json.dumps({"real data": {"modes": covered, "kl": round(kl, 4), "n": len(real)}}))

    def evaluate(tr) -> dict:
        covered, kl, _ = stacked_mnist_mode_stats(generate(tr, args.n).numpy())
        return {"modes": covered, "kl": round(kl, 4)}

    curve = train_with_curve(trainer, trainer.tc.steps, args.every, evaluate)
    last = curve.rows[-1]
    finish(
        args,
        curve,
        t0,
        final={"modes": last["modes"], "kl": last["kl"], "n": args.n},
        passes=last["modes"] >= 990 and last["kl"] <= 0.1,
    )


if __name__ == "__main__":
    main()
