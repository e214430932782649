"""Training throughput (img/s): gankit's Trainer vs a straightforward PyTorch loop.

Two models, each on the 5,000 bundled MNIST digits with the same threads and batch:

- ``dcgan-textbook``: seed 004's textbook DCGAN (Keras design, batch 32, Adam 1e-3);
- ``dcgan-mnist``: the default of ``gankit train`` (self-conditioned DCGAN, pixel-norm G,
  projection D, batch 64, Adam 2e-3; gankit's loop also keeps its EMA of G).

The plain loop is the one a person writes by hand (pytorch/examples ``dcgan/main.py``: one G
forward a step, its samples detached for D, then D on them again for G's loss), on the same
networks. Every variant is built once and then trained in short timed windows that alternate
(the order reversed every round), so background load falls on all alike; the figures are
medians over rounds and the ratios are of medians in this one run. Both clocks are reported:
wall time (what a user waits) and process CPU time (robust to other jobs on a shared machine at
one thread; with several threads it also counts the threads' spin-waits).

``--levers`` adds gankit with one speed setting undone at a time (fp32, so that each isolates
one lever): without channels_last, without the reuse of D's samples for G's phase, with Adam's
per-tensor loop instead of ``foreach``; plus fused Adam and bf16 autocast.

    python bench/bench_throughput.py [--steps 30] [--rounds 3] [--threads 2]
        [--models dcgan-textbook,dcgan-mnist] [--levers]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from gankit.data import DataConfig, load_dataset
from gankit.models.convnets import TextbookGenerator
from gankit.presets import resolve
from gankit.train.trainer import Trainer, build_family


def plain_loop(preset: str, data) -> tuple[Callable[[], None], int]:
    """One step of the hand-written loop on the preset's networks (fresh copies), and its batch."""
    cfg = resolve(preset=preset, flags={"train": {"device": "cpu"}})
    torch.manual_seed(0)
    fam = build_family(cfg, data.info)
    G, D, mcfg = fam.nets["G"], fam.nets["D"], fam.cfg
    for module in (G, D):  # torch's own dropout, as a hand-written loop has it
        for parent in module.modules():
            for name, child in parent.named_children():
                if isinstance(child, torch.nn.Dropout):
                    setattr(parent, name, torch.nn.Dropout(child.p))
    opt_g = torch.optim.Adam(G.parameters(), lr=mcfg.lr["G"], betas=tuple(mcfg.betas))
    opt_d = torch.optim.Adam(D.parameters(), lr=mcfg.lr["D"], betas=tuple(mcfg.betas))
    # the textbook G as written: its Sequential, Upsample then Conv2d (gankit's forward computes
    # each pair as one smaller convolution, models/convnets.py upsample_conv)
    run_g = G.net if isinstance(G, TextbookGenerator) else G
    x_all, n, batch = data.x, len(data.x), cfg.train.batch_size
    k = getattr(mcfg, "clusters", 0)  # self-conditioned: G and D take a cluster label

    def one_step() -> None:
        idx = torch.randint(0, n, (batch,))
        real = x_all[idx].float() / 127.5 - 1
        z = torch.randn(batch, mcfg.z_dim)
        if k:
            c = torch.randint(0, k, (batch,))
            fake, cond = G(z, c), {"label": c}
        else:
            fake, cond = run_g(z), {}
        opt_d.zero_grad()
        d_real, d_fake = D(real, **cond), D(fake.detach(), **cond)
        loss_d = F.binary_cross_entropy_with_logits(
            d_real, torch.ones_like(d_real)
        ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D(fake, **cond)
        loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        loss_g.backward()
        opt_g.step()

    return one_step, batch


def gankit_loop(
    preset: str, data, precision: str = "auto", **settings
) -> tuple[Callable[[], None], int, Trainer]:
    """One step of gankit's loop (``train_step`` without the ticks); ``settings`` undo levers:
    ``channels_last=False``, ``reuse_fakes=False``, ``adam={}`` (Adam's options)."""
    attrs = {}
    if "channels_last" in settings:
        attrs["CHANNELS_LAST"] = settings["channels_last"]
    if "adam" in settings:
        attrs["ADAM_OPTIONS"] = settings["adam"]
    cls = type("BenchTrainer", (Trainer,), attrs) if attrs else Trainer
    cfg = resolve(preset=preset, flags={"train": {"device": "cpu", "precision": precision}})
    trainer = cls(cfg, dataset=data, progress=False)
    if "reuse_fakes" in settings:
        trainer.family.reuse_fakes = settings["reuse_fakes"]
    trainer.choose_precision()  # the start-up measurement of `auto` is not a step

    def one_step() -> None:
        trainer._train_step()  # what fit runs each step: logged scalars stay on the device

    return one_step, cfg.train.batch_size, trainer


def variants(preset: str, data, levers: bool) -> dict[str, tuple[Callable[[], None], int]]:
    out = {"plain PyTorch loop": plain_loop(preset, data)}
    step, batch, trainer = gankit_loop(preset, data)
    out[f"gankit (default: {trainer.precision})"] = (step, batch)
    if levers:
        for name, kw in [
            ("gankit fp32", {}),
            ("gankit fp32 -channels_last", {"channels_last": False}),
            ("gankit fp32 -reuse_fakes", {"reuse_fakes": False}),
            ("gankit fp32 -foreach Adam", {"adam": {}}),
            ("gankit fp32 +fused Adam", {"adam": {"fused": True}}),
            ("gankit bf16", {"precision": "bf16"}),
        ]:
            precision = kw.pop("precision", "fp32")
            step, batch, _ = gankit_loop(preset, data, precision, **kw)
            out[name] = (step, batch)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30, help="timed steps per window")
    ap.add_argument("--rounds", type=int, default=3, help="windows per variant (alternating)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--models", default="dcgan-textbook,dcgan-mnist", help="presets, comma-separated"
    )
    ap.add_argument("--levers", action="store_true", help="also time each lever undone")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset(DataConfig(name="mnist5k"))
    summary = []
    for preset in args.models.split(","):
        runs = variants(preset, data, args.levers)
        for step, _ in runs.values():  # warm-up
            for _ in range(3):
                step()
        wall: dict[str, list[float]] = {k: [] for k in runs}
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        for r in range(args.rounds):
            order = list(runs) if r % 2 == 0 else list(reversed(runs))
            for name in order:
                step, batch = runs[name]
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(args.steps):
                    step()
                wall[name].append(args.steps * batch / (time.perf_counter() - t0))
                cpu[name].append(args.steps * batch / (time.process_time() - c0))
            line = "  ".join(f"{k} {v[-1]:.0f}" for k, v in wall.items())
            print(f"{preset} round {r + 1} (wall img/s): {line}", flush=True)
        batch = next(iter(runs.values()))[1]
        print(
            f"\n{preset}, batch {batch}, {args.threads} threads, {args.steps} steps x "
            f"{args.rounds} rounds; medians, ratios to the plain loop"
        )
        print(f"  {'':34s} {'wall img/s':>10s} {'ratio':>6s} {'img/CPU-s':>10s} {'ratio':>6s}")
        ratios = {}
        for clock in (wall, cpu):
            base = statistics.median(clock["plain PyTorch loop"])
            ratios[id(clock)] = {k: statistics.median(v) / base for k, v in clock.items()}
        for k in runs:
            w, c = statistics.median(wall[k]), statistics.median(cpu[k])
            rw, rc = ratios[id(wall)][k], ratios[id(cpu)][k]
            print(f"  {k:34s} {w:10.1f} {rw:6.2f} {c:10.1f} {rc:6.2f}", flush=True)
        default = next(k for k in runs if k.startswith("gankit (default"))
        summary.append((preset, ratios[id(wall)][default], ratios[id(cpu)][default]))
        print()
    print("gankit default loop / plain PyTorch loop (wall, CPU time):")
    for preset, rw, rc in summary:
        print(f"  {preset}: {rw:.2f}x wall, {rc:.2f}x CPU time")


if __name__ == "__main__":
    main()
