"""Multi-process scaling on one machine: ``torchrun --nproc_per_node P -m gankit train`` against
one process with P threads, on the same preset and global batch.

Each configuration is a real ``gankit train`` (subprocess, its own run directory under
``--out``); the figure is the median ``img_per_s`` of its ``stats.jsonl`` ticks after the first
(start-up, k-means and the precision measurement are left out). Rounds alternate the two so that
background load falls on both alike.

- one process: ``--batch-size B``, ``train.threads=P``;
- torchrun: P processes, ``--batch-size B/P`` each (the same global batch of B images a step,
  gradients averaged over gloo on CPU), one thread each.

    python bench/bench_ddp.py [--procs 2] [--steps 120] [--rounds 2] [--preset dcgan-mnist]
        [--batch 64] [--precision fp32] [--out bench-ddp]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path


def run(cmd: list[str], runs: Path, threads: int) -> float:
    env = {**os.environ, "GANKIT_RUNS_DIR": str(runs), "OMP_NUM_THREADS": str(threads)}
    if runs.exists():
        shutil.rmtree(runs)
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stderr[-3000:]}")
    (run_dir,) = list(runs.iterdir())
    ticks = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    return statistics.median(t["img_per_s"] for t in ticks[1:] if "img_per_s" in t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--preset", default="dcgan-mnist")
    ap.add_argument("--batch", type=int, default=64, help="global batch (images a step)")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--out", type=Path, default=Path("bench-ddp"))
    args = ap.parse_args()
    p = args.procs
    common = ["--preset", args.preset, "--steps", str(args.steps), "--precision", args.precision]
    common += ["-q", "--set", "train.log_every=10", "--set", "train.sample_every=100000"]
    common += ["--set", "train.checkpoint_every=100000"]
    gankit = [sys.executable, "-m", "gankit", "train"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    configs = {
        f"1 process, {p} threads, batch {args.batch}": (
            [*gankit, *common, "--batch-size", str(args.batch), "--set", f"train.threads={p}"],
            p,
        ),
        f"torchrun {p} processes x 1 thread, batch {args.batch // p} each": (
            [*torchrun, "--nproc_per_node", str(p), "-m", "gankit", "train", *common]
            + ["--batch-size", str(args.batch // p), "--set", "train.threads=1"],
            1,
        ),
    }
    res: dict[str, list[float]] = {k: [] for k in configs}
    for r in range(args.rounds):
        for name in configs if r % 2 == 0 else reversed(configs):
            cmd, threads = configs[name]
            res[name].append(run(cmd, args.out / f"r{r}", threads))
            print(f"round {r + 1}: {name}: {res[name][-1]:.0f} img/s", flush=True)
    base = statistics.median(next(iter(res.values())))
    print(f"\n{args.preset}, {args.steps} steps, {args.precision}, median of {args.rounds} rounds")
    for name, v in res.items():
        m = statistics.median(v)
        print(f"  {name:45s} {m:7.1f} img/s  {m / base:.2f}x")


if __name__ == "__main__":
    main()
