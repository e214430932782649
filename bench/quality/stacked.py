"""Stacked MNIST bar: modes covered of 1,000 and KL(mode histogram || uniform).

Protocol (Metz et al. 2017 / VEEGAN / PacGAN): generate ``--n`` (26,000) RGB samples, classify
each channel with gankit's MNIST classifier, count the 1,000 three-digit classes that appear,
and measure KL(q || uniform) in nats (``gankit.metrics.modes.stacked_mnist_mode_stats``).
Bar (issue 4): >= 990 modes and KL <= 0.1. The real data's own figure on the same number of
samples is printed first: the floor that classifier errors and sampling noise set.

Each evaluation also prints the KL's two parts (``kl_channels``: the three channels' own digit
frequencies, R + G + B; ``kl_dependence``: dependence between channels, about 0.019 by chance at
26,000 samples) and ``unclear``: the share of channels the classifier reads with less than 0.9
confidence (about 0.01 for real digits; malformed digits raise it).

    python bench/quality/stacked.py --preset dcgan-stacked-mnist --every 1000

``--compare-ema 0,0.99`` also keeps generator averages with those decays (0: the raw G) beside
the run's own and evaluates each one on the same schedule: the average only changes what is
sampled, not the training, so one run compares them.
"""

from __future__ import annotations

import json
import time

import numpy as np
from common import (
    base_parser,
    command_line,
    finish,
    generate,
    load,
    make_trainer,
    train_with_curve,
)

from gankit.metrics.features import probs
from gankit.metrics.modes import stacked_mnist_kl_parts, stacked_mnist_mode_stats
from gankit.train.ema import EMA


def read(images: np.ndarray) -> dict:
    """Modes, KL and its parts, and the share of unclear channels of uint8 (N, 3, H, W) images."""
    covered, kl, counts = stacked_mnist_mode_stats(images)
    channels, dependence = stacked_mnist_kl_parts(counts)
    p = probs(images.reshape(-1, 1, *images.shape[2:]))  # (3N, 10), every channel on its own
    return {
        "modes": covered,
        "kl": round(kl, 4),
        "kl_channels": round(sum(channels), 4),
        "kl_dependence": round(dependence, 4),
        "unclear": round(float((p.max(1) < 0.9).mean()), 4),
    }


class Averages:
    """The trainer's EMA plus extra averages with other decays, updated at the same steps."""

    def __init__(self, trainer, decays: list[float]) -> None:
        self.main = trainer.ema
        G, start = trainer.family.G, trainer.tc.ema_start
        self.extra = {d: EMA(G, d, start) for d in decays if d > 0}
        self.model = self.main.model

    def update(self, model, step: int) -> None:
        self.main.update(model, step)
        for e in self.extra.values():
            e.update(model, step)

    def copy_buffers(self, model) -> None:
        self.main.copy_buffers(model)
        for e in self.extra.values():
            e.copy_buffers(model)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="dcgan-stacked-mnist")
    p.add_argument("--every", type=int, default=1000)
    p.add_argument("--n", type=int, default=26_000, help="samples per evaluation")
    p.add_argument(
        "--compare-ema",
        default="",
        help="comma-separated extra EMA decays to evaluate beside the run's own (0: raw G)",
    )
    args = p.parse_args()
    try:
        decays = [float(d) for d in args.compare_ema.split(",") if d.strip()]
    except ValueError:
        raise SystemExit(
            f"--compare-ema {args.compare_ema!r}: need decays in [0, 1), e.g. 0,0.99"
        ) from None
    if any(not 0 <= d < 1 for d in decays):
        raise SystemExit(f"--compare-ema {args.compare_ema!r}: every decay must be in [0, 1)")
    print(command_line(), "|", load(), flush=True)
    t0 = time.perf_counter()
    trainer = make_trainer(
        args.preset, args.set, args.threads, args.seed, args.run_dir, resume=args.resume
    )
    real = trainer.data.x[: args.n].numpy()
    print(json.dumps({"real data": {**read(real), "n": len(real)}}))

    if decays:
        if trainer.ema is None:
            raise SystemExit("--compare-ema needs train.ema > 0 (the run's own average)")
        trainer.ema = Averages(trainer, decays)

    def evaluate(tr) -> dict:
        row = read(generate(tr, args.n).numpy())
        for d in decays:
            tr.ema.model = tr.ema.extra[d].model if d > 0 else tr.family.G
            try:
                row[f"ema={d}"] = read(generate(tr, args.n).numpy())
            finally:
                tr.ema.model = tr.ema.main.model
        return row

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
