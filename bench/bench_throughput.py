"""Training throughput (img/s): gankit's Trainer vs a straightforward PyTorch loop.

Both train the seed-004 textbook DCGAN (``dcgan-textbook`` preset: Keras design, batch 32,
Adam 1e-3) on the 5,000 bundled MNIST digits with the same threads. Rounds alternate between the
two so background load affects both alike; the ratio of medians is the figure to report.
Also measures gankit with ``--precision bf16``.

    python bench/bench_throughput.py [--steps 60] [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from gankit.data import DataConfig, load_dataset
from gankit.models.convnets import TextbookDiscriminator, TextbookGenerator
from gankit.presets import resolve
from gankit.train.trainer import Trainer, build_family


def plain_loop(steps: int, batch: int, data, cfg) -> float:
    """The loop a person writes by hand (pytorch/examples dcgan style): img/s."""
    torch.manual_seed(0)
    fam_cfg = build_family(cfg, data.info).cfg
    G, D = (
        TextbookGenerator(fam_cfg, data.info.shape),
        TextbookDiscriminator(fam_cfg, data.info.shape),
    )
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.9, 0.999))
    x_all = data.x
    n = len(x_all)

    def one_step():
        idx = torch.randint(0, n, (batch,))
        real = x_all[idx].float() / 127.5 - 1
        z = torch.randn(batch, fam_cfg.z_dim)
        fake = G(z)
        opt_d.zero_grad()
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            d_real, torch.ones_like(d_real)
        ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D(fake)
        loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        loss_g.backward()
        opt_g.step()

    for _ in range(5):
        one_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        one_step()
    return steps * batch / (time.perf_counter() - t0)


def gankit_loop(steps: int, cfg, data) -> float:
    trainer = Trainer(cfg, dataset=data, progress=False)
    for _ in range(5):
        trainer.train_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return steps * cfg.train.batch_size / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="dcgan-textbook")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset(DataConfig(name="mnist5k"))
    cfg32 = resolve(preset=args.preset, flags={"train": {"device": "cpu"}})
    cfg16 = resolve(preset=args.preset, flags={"train": {"device": "cpu", "precision": "bf16"}})
    batch = cfg32.train.batch_size
    res: dict[str, list[float]] = {"plain PyTorch loop": [], "gankit fp32": [], "gankit bf16": []}
    for r in range(args.rounds):
        res["plain PyTorch loop"].append(plain_loop(args.steps, batch, data, cfg32))
        res["gankit fp32"].append(gankit_loop(args.steps, cfg32, data))
        res["gankit bf16"].append(gankit_loop(args.steps, cfg16, data))
        print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1]:.0f}" for k, v in res.items()))
    med = {k: statistics.median(v) for k, v in res.items()}
    base = med["plain PyTorch loop"]
    print(
        f"\n{args.preset}, batch {batch}, {args.threads} threads, {args.steps} steps x {args.rounds}"
    )
    for k, v in med.items():
        print(f"{k:22s} {v:8.1f} img/s   ratio to plain loop {v / base:.2f}")


if __name__ == "__main__":
    main()
