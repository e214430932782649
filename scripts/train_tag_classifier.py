"""Train gankit's character tag classifier (metrics/tags.py) on procedurally drawn characters.

Trains on characters of their own seed stream (``CLASSIFIER_STREAM``: every tag combination,
none of them the GAN's training or held-out characters), with augmentation that makes it read
generated images and not only flat drawn colours (shifts of up to 2 px, a per-image colour gain of
up to 8 %, pixel noise, a light blur on a third of the images). Reports per-tag accuracy on the
GAN's held-out characters (``HELD_STREAM``), and on those of them that carry a held-out tag
combination, then writes ``src/gankit/metrics/weights/tag_classifier.safetensors`` and a JSON
beside it. Deterministic on CPU with one thread; a few CPU-minutes.

    python scripts/train_tag_classifier.py [--n 12000] [--epochs 8] [--seed 0] [--out DIR]
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
from safetensors.torch import save

import gankit
from gankit.data.characters import (
    CLASSIFIER_STREAM,
    HELD_PER_SET,
    HELD_STREAM,
    TAG_GROUPS,
    TAGS,
    character_set,
    has_held_combo,
)
from gankit.files import atomic_write_bytes, atomic_write_text, file_digest
from gankit.metrics.features import WEIGHTS_DIR
from gankit.metrics.tags import TagClassifier, decide, tag_accuracy, tag_probs, to_tag_input


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """x (N, 3, 32, 32) in [-1, 1]: shift, colour gain, noise, sometimes blur."""
    n = len(x)
    pad = F.pad(x, (2, 2, 2, 2), mode="replicate")
    dy, dx = torch.randint(0, 5, (2, n), generator=g).tolist()
    x = torch.stack([pad[i, :, dy[i] : dy[i] + 32, dx[i] : dx[i] + 32] for i in range(n)])
    gain = 1 + 0.08 * (torch.rand(n, 3, 1, 1, generator=g) * 2 - 1)
    x = (x + 1) * gain - 1 + 0.05 * torch.randn(x.shape, generator=g)
    blur = torch.rand(n, generator=g) < 0.33
    if blur.any():
        k = torch.tensor([0.25, 0.5, 0.25])
        k = (k[:, None] * k[None, :]).expand(3, 1, 3, 3)
        x[blur] = F.conv2d(F.pad(x[blur], (1, 1, 1, 1), mode="replicate"), k, groups=3)
    return x.clamp(-1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.process_time()
    x_tr, t_tr = character_set(args.n, CLASSIFIER_STREAM, 32)
    x_te, t_te = character_set(HELD_PER_SET, HELD_STREAM, 32)
    xt, yt = to_tag_input(x_tr), torch.from_numpy(t_tr.copy())

    model = TagClassifier(len(TAGS))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * math.ceil(len(xt) / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        total = 0.0
        for i in range(0, len(xt), args.batch_size):
            idx = perm[i : i + args.batch_size]
            loss = F.binary_cross_entropy_with_logits(model(augment(xt[idx], g)), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1}/{args.epochs}  loss {total / len(xt):.4f}", flush=True)

    model.eval()
    groups = [list(gr) for gr in TAG_GROUPS]
    found = decide(tag_probs(x_te, model), list(TAGS), groups)
    per_tag = tag_accuracy(found, t_te)
    combo = np.array([has_held_combo([TAGS[j] for j in np.flatnonzero(t)]) for t in t_te])
    exact = (found == t_te.astype(bool)).all(1)
    report = {
        "model": "TagClassifier (gankit.metrics.tags)",
        "tags": list(TAGS),
        "heldout_accuracy_mean": round(float(per_tag.mean()), 4),
        "heldout_accuracy_min": round(float(per_tag.min()), 4),
        "heldout_accuracy": {t: round(float(a), 4) for t, a in zip(TAGS, per_tag, strict=True)},
        "heldout_all_tags_right": round(float(exact.mean()), 4),
        "heldout_combo_all_tags_right": round(float(exact[combo].mean()), 4),
        "n_train": args.n,
        "n_heldout": int(len(x_te)),
        "n_heldout_combo": int(combo.sum()),
        "train": f"characters stream {CLASSIFIER_STREAM}, seeds 0..{args.n - 1}, 32 px",
        "heldout": f"characters stream {HELD_STREAM} (the GAN's held-out characters)",
        "seed": args.seed,
        "epochs": args.epochs,
        "augmentation": "shift<=2px, colour gain +-8%, noise sd 0.05, 3x3 blur on 1/3",
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
        "gankit": gankit.__version__,
        "train_cpu_seconds": round(time.process_time() - t0, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / "tag_classifier.safetensors"
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(weights, save(tensors))
    report["sha256"] = file_digest(weights)
    atomic_write_text(weights.with_suffix(".json"), json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "tags"}, indent=2))


if __name__ == "__main__":
    main()
