"""Time ``gankit.metrics.evaluate`` on 10,000 digit images against another 10,000.

Both sets are the 5,000 bundled MNIST digits tiled twice with random shifts of up to 2 px
(different shifts for the two sets); the memorisation check uses the 4,000-digit training split.
Prints seconds per stage: feature extraction (once, shared), then each default digit metric.

    python bench/bench_eval.py [--n 10000] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from gankit.metrics import default_metrics, format_table, make_context, run_metric
from gankit.metrics.features import bundled_digits


def shifted(x: np.ndarray, n: int, seed: int, max_shift: int = 2) -> np.ndarray:
    """``n`` images tiled from uint8 ``x (N, C, H, W)``, each moved by a random shift."""
    rng = np.random.default_rng(seed)
    src = x[np.arange(n) % len(x)]  # (n, C, H, W)
    h, w = x.shape[-2:]
    p = max_shift
    padded = np.pad(src, ((0, 0), (0, 0), (p, p), (p, p)))  # (n, C, H + 2p, W + 2p)
    dy, dx = rng.integers(0, 2 * p + 1, size=(2, n))
    out = np.empty_like(src)
    for oy in range(2 * p + 1):
        for ox in range(2 * p + 1):
            sel = (dy == oy) & (dx == ox)
            out[sel] = padded[sel, :, oy : oy + h, ox : ox + w]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    x_all, _ = bundled_digits("all")
    x_train, _ = bundled_digits("train")
    fake = shifted(x_all, args.n, seed=1)
    real = shifted(x_all, args.n, seed=2)
    ctx = make_context(
        fake, real, dataset="mnist5k", train=x_train, reference="mnist5k:all shifted x2"
    )
    print(
        f"gankit evaluate: {len(fake)} fake vs {len(real)} real digits, train {len(x_train)}; "
        f"torch {torch.__version__}, {args.threads} thread(s), {platform.processor() or 'cpu'}"
    )

    # wall seconds, and CPU seconds of this process (less sensitive to a busy shared machine)
    timings: list[tuple[str, float, float]] = []
    w_all, c_all = time.perf_counter(), time.process_time()
    for which in ("fake", "real"):
        w0, c0 = time.perf_counter(), time.process_time()
        ctx.features(which)
        key = f"features/{which} (mnist-classifier)"
        timings.append((key, time.perf_counter() - w0, time.process_time() - c0))
    results = []
    for name in default_metrics(ctx):
        w0, c0 = time.perf_counter(), time.process_time()
        results += run_metric(name, ctx)
        timings.append((name, time.perf_counter() - w0, time.process_time() - c0))
    timings.append(("total", time.perf_counter() - w_all, time.process_time() - c_all))

    width = max(len(k) for k, _, _ in timings)
    print(f"\n  {'stage':<{width}}  {'wall s':>7}  {'cpu s':>7}")
    for key, wall, cpu in timings:
        print(f"  {key:<{width}}  {wall:7.2f}  {cpu:7.2f}")
    print(f"  (load average {' '.join(f'{v:.1f}' for v in os.getloadavg())})")
    print()
    print(format_table(results))


if __name__ == "__main__":
    main()
