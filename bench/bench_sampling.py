"""Sampling throughput (img/s) of ``Generator.sample`` for the default model (``dcgan-mnist``).

``Generator.sample`` draws the inputs, runs the generator in inference mode (channels_last,
``forward_batch`` samples a pass) and returns uint8 images, as ``gankit sample`` does. Timed in
alternating windows against the same generator sampled the way gankit did before (NCHW,
``torch.no_grad``, one forward pass over the whole draw), and for each ``--batch-sizes`` value of
``Generator.forward_batch``.

    python bench/bench_sampling.py [--threads 2] [--n 2048] [--rounds 5] [--calls 3]
        [--run RUN_DIR [--quality]] [--batch-sizes 64,256,1024] [--precisions fp32,auto]

Without ``--run`` it samples an untrained generator of the default preset (the same networks
and the same work as a trained one).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

import gankit
from gankit.data import to_uint8
from gankit.generator import Generator, native_bf16
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
    ap.add_argument("--batch-sizes", default="64,256,1024")
    ap.add_argument("--precisions", default="fp32,auto", help="Generator.precision values")
    ap.add_argument(
        "--quality",
        action="store_true",
        help="with --run: classifier score and FID (vs the held-out digits) of 10,000 samples "
        "drawn in fp32 and in bf16",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    G = gankit.load(args.run) if args.run else untrained(args.preset)
    G.nchw = copy.deepcopy(G.module).to(memory_format=torch.contiguous_format)
    variants = {"before (no_grad, NCHW, one pass)": lambda seed: before(G, args.n, seed)}
    for precision in args.precisions.split(","):
        for b in [int(x) for x in args.batch_sizes.split(",")]:

            def sample(seed: int, b: int = b, precision: str = precision) -> torch.Tensor:
                G.forward_batch, G.precision = b, precision
                return G.sample(args.n, seed=seed)

            variants[f"Generator.sample {precision}, forward_batch {b}"] = sample
    for fn in variants.values():
        fn(0)  # warm-up
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(args.rounds):
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            for c in range(args.calls):
                variants[name](c)
            wall[name].append(args.calls * args.n / (time.perf_counter() - t0))
            cpu[name].append(args.calls * args.n / (time.process_time() - c0))
    what = args.run or args.preset + " (untrained)"
    print(f"{what}: {args.n} samples a call, {args.threads} threads, medians of {args.rounds}")
    print(f"  {'':44s} {'wall img/s':>10s} {'ratio':>6s} {'img/CPU-s':>10s} {'ratio':>6s}")
    first = next(iter(variants))
    bw, bc = statistics.median(wall[first]), statistics.median(cpu[first])
    for name in variants:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"  {name:44s} {w:10.0f} {w / bw:6.2f} {c:10.0f} {c / bc:6.2f}", flush=True)
    print(f"defaults: forward_batch {Generator.forward_batch}, precision {Generator.precision}")
    bf16 = native_bf16(G.device)
    print(f"precision auto samples in {'bf16' if bf16 else 'fp32'} on this machine")
    if args.quality:
        quality(G)


def quality(G: Generator) -> None:
    """The digit metrics of the same 10,000 draws in fp32 and in bf16."""
    from gankit.metrics.features import bundled_digits, features, probs
    from gankit.metrics.fid import fid_from_features
    from gankit.metrics.inception_score import inception_score

    held, _ = bundled_digits("heldout")
    for precision in ("fp32", "bf16"):
        G.precision = precision
        x, _ = G.sample_many(10_000, seed=0)
        x = x.numpy()
        fid = fid_from_features(features(x), features(held))
        score = inception_score(probs(x))[0]
        print(f"  {precision}: classifier score {score:.3f}  FID {fid:.2f}", flush=True)


if __name__ == "__main__":
    main()
