"""Sanity rows: what each metric says about sample sets whose quality we know in advance.

Digits (fake vs the 1,000 held-out bundled digits; the "training set" for memorisation is 3,000
digits of the training split): other real digits (the floor), training images returned as
samples (memorised), one digit repeated, one class only, uniform noise. Stacked MNIST (10,000
samples): real stacks vs one stack repeated. Toys (2,500 samples vs 2,500 fresh real ones): exact
samples, everything on one mode, half of the modes, uniform noise.

    python bench/sanity_metrics.py
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from gankit.metrics import evaluate
from gankit.metrics.features import bundled_digits
from gankit.metrics.modes import stacked_mnist

RING = np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1)
GRID = np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], dtype=float)


def shifted(x: np.ndarray, n: int, seed: int, max_shift: int = 2) -> np.ndarray:
    """``n`` images tiled from uint8 ``x (N, C, H, W)``, each moved by a random shift."""
    rng = np.random.default_rng(seed)
    src = x[np.arange(n) % len(x)]
    h, w, p = x.shape[-2], x.shape[-1], max_shift
    padded = np.pad(src, ((0, 0), (0, 0), (p, p), (p, p)))
    dy, dx = rng.integers(0, 2 * p + 1, size=(2, n))
    out = np.empty_like(src)
    for oy in range(2 * p + 1):
        for ox in range(2 * p + 1):
            sel = (dy == oy) & (dx == ox)
            out[sel] = padded[sel, :, oy : oy + h, ox : ox + w]
    return out


def print_rows(title: str, rows: dict[str, list], columns: list[str]) -> None:
    """One line per sample set, one column per metric value (n/a where not computable)."""
    print(f"\n## {title}\n")
    width = max(len(k) for k in rows)
    print(f"{'set':<{width}}  " + "  ".join(f"{c:>13}" for c in columns))
    for label, results in rows.items():
        by = {r.name: r.value for r in results}
        cells = []
        for c in columns:
            v = by.get(c)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("n/a")
            elif float(v).is_integer() and abs(v) >= 1:
                cells.append(str(int(v)))
            else:
                cells.append(f"{v:.4g}")
        print(f"{label:<{width}}  " + "  ".join(f"{c:>13}" for c in cells))


def digits() -> None:
    x_tr, y_tr = bundled_digits("train")
    x_he, _ = bundled_digits("heldout")
    perm = np.random.default_rng(0).permutation(len(x_tr))
    floor_set, train = x_tr[perm[:1000]], x_tr[perm[1000:]]
    rng = np.random.default_rng(1)
    sets = {
        "real train digits (floor)": floor_set,
        "memorised (training images)": train[:1000],
        "one digit repeated": np.repeat(train[:1], 1000, axis=0),
        "one class (3s, shifted)": shifted(x_tr[y_tr == 3], 1000, seed=2),
        "uniform noise": rng.integers(0, 256, (1000, 1, 28, 28), dtype=np.uint8),
    }
    rows = {}
    for label, fake in sets.items():
        rows[label] = evaluate(
            fake, x_he, dataset="mnist5k", train=train, reference="mnist5k:heldout"
        )
    cols = ["fid", "kid", "inception-score", "precision", "recall", "density", "coverage"]
    cols += ["copies", "exact-copies", "nn-ratio"]
    print_rows("Digits: 1,000 fake vs 1,000 held-out real (mnist-classifier features)", rows, cols)


def stacked() -> None:
    x_he, y_he = bundled_digits("heldout")
    real, _ = stacked_mnist(x_he, 10_000, seed=0, y=y_he)
    fake, _ = stacked_mnist(x_he, 10_000, seed=1, y=y_he)
    rows = {
        "real stacks": evaluate(fake, real, dataset="stacked-mnist"),
        "one stack repeated": evaluate(
            np.repeat(fake[:1], 10_000, axis=0), real, dataset="stacked-mnist"
        ),
    }
    print_rows("Stacked MNIST: 10,000 samples", rows, ["modes-covered", "kl-to-uniform"])


def sample(rng: np.random.Generator, centres: np.ndarray, sigma: float, n: int = 2500):
    """``n`` points from equal Gaussians of std ``sigma`` around ``centres (K, 2)``."""
    return centres[rng.integers(0, len(centres), n)] + sigma * rng.standard_normal((n, 2))


def toys() -> None:
    for name, modes, sigma in (("ring", RING, 0.01), ("grid", GRID, 0.05)):
        rng = np.random.default_rng(0)
        real = sample(rng, modes, sigma)
        lo, hi = modes.min(0) - 0.5, modes.max(0) + 0.5
        sets = {
            "exact samples": sample(rng, modes, sigma),
            "collapsed (one mode)": sample(rng, modes[:1], sigma),
            "half the modes": sample(rng, modes[: len(modes) // 2], sigma),
            "uniform noise": rng.uniform(lo, hi, (2500, 2)),
        }
        rows = {
            label: evaluate(fake, real, modes=modes, sigma=sigma, metrics=["modes", "jsd", "kl"])
            for label, fake in sets.items()
        }
        cols = ["modes-covered", "high-quality", "reverse-kl", "jsd", "kl(real||fake)"]
        title = f"Toy {name}: {len(modes)} modes, sigma {sigma}, 2,500 samples"
        print_rows(title, rows, cols)


def main() -> None:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    digits()
    stacked()
    toys()
    print(f"\n({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
