"""Sampling throughput (img/s): the exported ONNX generator in onnxruntime vs PyTorch.

The default model (``dcgan-mnist`` preset, 28x28 digits; weights as initialised: the speed does
not depend on them) is exported with ``gankit.export_onnx`` and both draw batches of ``--batch``
samples on the same CPU threads: PyTorch's ``Generator.__call__`` (no_grad, eval mode: what
``Generator.sample`` runs) and onnxruntime's CPU session. Rounds alternate between the two so
background load affects both alike; the medians and their ratio are the figures to report. The
raw output (float32 in [-1, 1]) is timed, and then the uint8 conversion on top of it.

    python bench/bench_onnx.py [--threads 2] [--batch 1024] [--rounds 5] [--seconds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gankit.data import load_dataset
from gankit.generator import Generator
from gankit.onnx_export import export_onnx
from gankit.presets import resolve
from gankit.registry import MODELS


def default_generator(preset: str) -> Generator:
    cfg = resolve(preset=preset)
    info = load_dataset(cfg.data.model_copy(update={"limit": 64}), 0).info
    fam = MODELS.get(cfg.family)
    model_cfg = fam.Config.model_validate(cfg.model)
    torch.manual_seed(0)
    module = fam.build_generator(model_cfg, info)
    meta = {"family": cfg.family, "step": 0}
    return Generator(fam, model_cfg, info, module, meta)


def timed(fn, seconds: float) -> tuple[float, float]:
    """(calls per second, CPU seconds per call) over at least ``seconds`` of wall time."""
    fn()  # warm
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - t0), (time.process_time() - c0) / n


def to_uint8_np(y: np.ndarray) -> np.ndarray:
    return np.clip(np.rint((y + 1.0) * 127.5), 0, 255).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="dcgan-mnist")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0, help="wall time of each timed window")
    ap.add_argument("--out", type=Path, default=None, help="where to write the .onnx (temp)")
    args = ap.parse_args()

    import onnxruntime as ort

    torch.set_num_threads(args.threads)
    G = default_generator(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.out or Path(tmp) / "generator.onnx"
        result = export_onnx(G, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = args.threads, 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    inputs = G.latent(args.batch, seed=0)
    feed = {k: v.numpy() for k, v in inputs.items()}
    diff = float(np.abs(sess.run(None, feed)[0] - G(**inputs).numpy()).max())

    cases = {
        "pytorch": lambda: G(**inputs),
        "onnxruntime": lambda: sess.run(None, feed)[0],
        "pytorch+uint8": lambda: G(**inputs).add(1.0).mul(127.5).round().clamp(0, 255).byte(),
        "onnxruntime+uint8": lambda: to_uint8_np(sess.run(None, feed)[0]),
    }
    rates: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            calls, cpu_per_call = timed(fn, args.seconds)
            rates[name].append(calls * args.batch)
            cpu[name].append(cpu_per_call / args.batch * 1e6)
    print(
        f"preset {args.preset} ({G.family}, {tuple(G.info.shape)}), batch {args.batch}, "
        f"{args.threads} thread(s), {args.rounds} alternating rounds of {args.seconds:g} s; "
        f"ONNX opset {result.opset}, onnxruntime {ort.__version__}, torch {torch.__version__}; "
        f"max |onnx - torch| {diff:.1e}"
    )
    print(f"{'':20s} {'img/s (median)':>15s} {'min':>9s} {'max':>9s} {'CPU us/img':>11s}")
    for name in cases:
        r = rates[name]
        print(
            f"{name:20s} {statistics.median(r):15,.0f} {min(r):9,.0f} {max(r):9,.0f} "
            f"{statistics.median(cpu[name]):11.1f}"
        )
    for suffix in ("", "+uint8"):
        ratio = statistics.median(rates["onnxruntime" + suffix]) / statistics.median(
            rates["pytorch" + suffix]
        )
        print(f"onnxruntime / pytorch{suffix}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
