"""Sampling throughput (img/s) of ``Generator.sample`` for the default model (``dcgan-mnist``).

``Generator.sample`` draws the inputs, runs the generator in inference mode (channels_last,
``forward_batch`` samples a pass) and returns uint8 images, as ``gankit sample`` does. Timed in
alternating windows against the same generator sampled the way gankit did before (NCHW,
``torch.no_grad``, one forward pass over the whole draw), and for each ``--batch-sizes`` value of
``Generator.forward_batch``.

    python bench/bench_sampling.py [--threads 2] [--n 2048] [--rounds 5]
        [--run RUN_DIR] [--batch-sizes 64,128,256,512,1024]

Without ``--run`` it samples an untrained generator of the default preset (the same networks
and the same work as a trained one).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import gankit
from gankit.data import to_uint8
from gankit.generator import Generator
from gankit.presets import resolve
from gankit.registry import MODELS
from gankit.train.trainer import build_family


def untrained(preset: str) -> Generator:
    from gankit.data import load_dataset

    cfg = resolve(preset=preset, flags={"train": {"device": "cpu"}})
    info = load_dataset(cfg.data, 0).info
    fam = build_family(cfg, info)
    meta = {"family": cfg.family, "model": fam.cfg.model_dump(mode="json"), "step": 0}
    return Generator(MODELS.get(cfg.family), fam.cfg, info, fam.G, meta)


def before(G: Generator, n: int, seed: int) -> torch.Tensor:
    """Sampling as gankit did it before: no_grad, NCHW weights, one forward pass."""
    inputs = G.latent(n, seed)
    with torch.no_grad():
        return to_uint8(G.nchw(**inputs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=2048, help="samples per timed call")
    ap.add_argument("--rounds", type=int, default=5, help="windows per variant (alternating)")
    ap.add_argument("--calls", type=int, default=3, help="calls per window")
    ap.add_argument("--run", default=None, help="a run directory (default: untrained default G)")
    ap.add_argument("--preset", default="dcgan-mnist")
    ap.add_argument("--batch-sizes", default="64,128,256,512,1024")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    G = gankit.load(args.run) if args.run else untrained(args.preset)
    import copy

    G.nchw = copy.deepcopy(G.module).to(memory_format=torch.contiguous_format)
    variants = {"before (no_grad, NCHW, one pass)": lambda seed: before(G, args.n, seed)}
    for b in [int(x) for x in args.batch_sizes.split(",")]:

        def sample(seed: int, b: int = b) -> torch.Tensor:
            G.forward_batch = b
            return G.sample(args.n, seed=seed)

        variants[f"Generator.sample, forward_batch {b}"] = sample
    for fn in variants.values():
        fn(0)  # warm-up
    res: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(args.rounds):
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in order:
            t0 = time.perf_counter()
            for c in range(args.calls):
                variants[name](c)
            res[name].append(args.calls * args.n / (time.perf_counter() - t0))
    print(
        f"{args.run or args.preset + ' (untrained)'}: {args.n} samples a call, {args.threads} threads"
    )
    base = statistics.median(res[next(iter(res))])
    for name, v in res.items():
        m = statistics.median(v)
        print(f"  {name:40s} {m:8.0f} img/s  ({m / base:.2f}x before)", flush=True)
    print(f"default forward_batch: {Generator.forward_batch}")


if __name__ == "__main__":
    main()
