"""Generated training data for a recogniser (Wang et al. 2017, arXiv 1707.03124), scaled to digits.

For N real training digits (N = 100, 300, 1,000; class-balanced, from the 4,000 digits the
project's classifier split keeps for training, one fixed subset per N), a classifier is trained
three ways:

- ``real``: the N real digits;
- ``real+cgan``: the N real digits and 2,000 samples (200 per class) of a class-conditional GAN
  trained on the same N digits (``cgan-mnist`` preset, ``--gan-steps`` steps), half of each batch
  real and half generated;
- ``real+aug``: the N real digits with classic augmentation on every batch: random shifts of up
  to 2 px and rotations of up to 10 degrees (bilinear, ``F.affine_grid``).

Each classifier is gankit's MnistClassifier architecture (from scratch), Adam 2e-3, batch 64,
``--clf-steps`` updates whatever the data size. They are tested on the 1,000 held-out bundled
MNIST digits (100 per class, seen by neither the GAN nor any classifier) and on scikit-learn's
1,797 8×8 digits of other writers, upsampled to 20×20 (bilinear) and centred in 28×28 as MNIST
digits are. Five seeds (classifier initialisation, batches, augmentation and GAN samples);
mean ± std. The cGAN is trained once per N (seed 0).

    python bench/quality/synthetic_data.py --threads 1 --out synthetic.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from common import command_line, load, make_trainer

from gankit.data import load_dataset
from gankit.data.base import DataConfig
from gankit.metrics.conditional import label_accuracy
from gankit.metrics.features import (
    HELDOUT_PER_CLASS,
    SPLIT_SEED,
    MnistClassifier,
    mnist_classifier,
    to_digit_input,
)

SYNTH_PER_CLASS = 200


def train_indices(y: np.ndarray) -> np.ndarray:
    """Indices of the 4,000 training digits (the classifier split of ``features.bundled_digits``)."""
    rng = np.random.default_rng(SPLIT_SEED)
    held = np.concatenate(
        [rng.permutation(np.flatnonzero(y == c))[:HELDOUT_PER_CLASS] for c in range(10)]
    )
    mask = np.ones(len(y), bool)
    mask[held] = False
    return np.flatnonzero(mask), held


def subset(y: np.ndarray, pool: np.ndarray, n: int) -> np.ndarray:
    """``n`` class-balanced indices from ``pool`` (fixed seed per n)."""
    rng = np.random.default_rng(1000 + n)
    return np.concatenate([rng.permutation(pool[y[pool] == c])[: n // 10] for c in range(10)])


def sklearn_digits_28() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8×8 digits as float (N, 1, 28, 28) in [-1, 1]: 20×20 centred, as MNIST."""
    ds = load_dataset(DataConfig(name="digits"))
    x = ds.x.float().div(127.5).sub(1.0)  # (N, 1, 8, 8)
    x = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)
    return F.pad(x, (4, 4, 4, 4), value=-1.0), ds.y


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 px and rotations of up to 10 degrees, per sample."""
    b = len(x)
    angle = (torch.rand(b, generator=g) * 2 - 1) * (10 * np.pi / 180)
    shift = (torch.randint(-2, 3, (b, 2), generator=g).float()) * (2.0 / 28)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def train_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    seed: int,
    synth: tuple[torch.Tensor, torch.Tensor] | None = None,
    aug: bool = False,
) -> MnistClassifier:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = MnistClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for _ in range(steps):
        if synth is None:
            idx = torch.randint(0, len(x), (64,), generator=g)
            xb, yb = x[idx], y[idx]
        else:  # half real, half generated
            i = torch.randint(0, len(x), (32,), generator=g)
            j = torch.randint(0, len(synth[0]), (32,), generator=g)
            xb, yb = torch.cat([x[i], synth[0][j]]), torch.cat([y[i], synth[1][j]])
        if aug:
            xb = augment(xb, g)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: MnistClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((model(x).argmax(1) == y).float().mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ns", default="100,300,1000")
    p.add_argument("--gan-ns", default=None, help="N with a cGAN (default: all of --ns)")
    p.add_argument("--gan-steps", type=int, default=1000)
    p.add_argument("--clf-steps", type=int, default=600)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--grids", type=Path, default=None, help="folder for cGAN sample grids")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    full = load_dataset(DataConfig(name="mnist5k"))
    y_all = full.y.numpy()
    pool, held = train_indices(y_all)
    x_all = to_digit_input(full.x)
    test_mnist = (x_all[held], full.y[held])
    test_sk = sklearn_digits_28()
    ns = [int(v) for v in args.ns.split(",")]
    gan_ns = [int(v) for v in args.gan_ns.split(",")] if args.gan_ns else ns
    results: dict = {}
    for n in ns:
        idx = subset(y_all, pool, n)
        x, y = x_all[idx], full.y[idx]
        row: dict = {"n": n}
        gan = None
        if n in gan_ns:
            data = full.subset(torch.from_numpy(idx))
            trainer = make_trainer(
                "cgan-mnist",
                [f"train.steps={args.gan_steps}"],
                args.threads,
                0,
                dataset=lambda cfg, d=data: d,
            )
            c0 = time.process_time()
            trainer.fit(args.gan_steps)
            row["gan_cpu_s"] = round(time.process_time() - c0, 1)
            gan = trainer
        conds = ["real", "real+aug"] + (["real+cgan"] if gan else [])
        for cond in conds:
            accs = {"mnist": [], "sklearn8x8": []}
            c0 = time.process_time()
            for seed in range(args.seeds):
                synth = None
                if cond == "real+cgan":
                    labels = torch.arange(10 * SYNTH_PER_CLASS) % 10
                    gen = torch.Generator().manual_seed(seed)
                    inputs = gan.family.latent(gan.family.cfg, gan.data.info, len(labels), gen)
                    inputs["label"] = labels
                    from gankit.data import to_uint8

                    imgs = to_uint8(gan.generate(inputs))
                    if seed == 0:
                        row["cgan_label_accuracy"] = label_accuracy(
                            imgs.numpy(), labels.numpy(), mnist_classifier()
                        )
                        if args.grids:
                            from gankit.viz import image_grid

                            args.grids.mkdir(parents=True, exist_ok=True)
                            order = torch.arange(100).view(10, 10).T.reshape(-1)
                            image_grid(imgs[:100][order], nrow=10).save(
                                args.grids / f"synthetic-cgan-n{n}.png"
                            )
                    synth = (to_digit_input(imgs), labels)
                model = train_classifier(
                    x, y, args.clf_steps, seed, synth=synth, aug=cond == "real+aug"
                )
                accs["mnist"].append(accuracy(model, *test_mnist))
                accs["sklearn8x8"].append(accuracy(model, *test_sk))
            row[cond] = {
                k: {"mean": float(np.mean(v)), "std": float(np.std(v)), "all": v}
                for k, v in accs.items()
            }
            row[cond]["clf_cpu_s"] = round(time.process_time() - c0, 1)
            print(json.dumps({"n": n, cond: row[cond]}), flush=True)
        results[str(n)] = row
        print(
            json.dumps(
                {
                    "n": n,
                    "gan_cpu_s": row.get("gan_cpu_s"),
                    "label_acc": row.get("cgan_label_accuracy"),
                }
            ),
            flush=True,
        )
    meta = {"command": command_line(), "threads": args.threads, "load": load()}
    print(json.dumps(meta))
    if args.out:
        args.out.write_text(json.dumps({**meta, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
