"""One table for trained runs on the digits: GANs next to the autoencoder and the VAE.

For each run directory (written by ``digits.py --run-dir``, i.e. trained on the classifier's
4,000 training digits) it loads the exported generator with ``gankit.load`` and scores 10,000
samples the same way: classifier score, FID on classifier features against the 1,000 held-out
digits, and the memorisation ratio (median nearest-neighbour distance of samples to the training
digits over that of held-out digits: < 1 means closer than new real digits are, i.e. copying).
Conditional generators are sampled with balanced labels.

    python bench/quality/table.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from common import classifier_score, load
from digits import fid_to

import gankit
from gankit.metrics.features import bundled_digits
from gankit.metrics.memorization import memorization_stats


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--n", type=int, default=10_000)
    args = p.parse_args()
    train, _ = bundled_digits("train")
    held, _ = bundled_digits("heldout")
    print("| run | family | steps | classifier score | FID (classifier) | NN ratio |")
    print("|---|---|---|---|---|---|")
    rows = []
    for run in args.runs:
        G = gankit.load(run)
        x = G.sample(args.n, seed=0).numpy()
        mem = memorization_stats(x[:2000], train, held)
        row = {
            "run": run.name,
            "family": G.family,
            "steps": G.meta["step"],
            "score": round(classifier_score(x), 3),
            "fid": round(fid_to(x, held), 2),
            "nn_ratio": round(float(mem.ratio), 3),
        }
        rows.append(row)
        print("| " + " | ".join(str(v) for v in row.values()) + " |", flush=True)
    real = classifier_score(train)
    print(f"| real (4,000 train digits) | - | - | {real:.3f} | {fid_to(train, held):.2f} | - |")
    print(load())
    print(json.dumps(rows))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
