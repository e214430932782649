"""Shared helpers of the quality scripts: train a preset, evaluate on a schedule, print a curve.

Every script prints, for each figure: the metric, the training wall time, the process CPU time
of training (evaluation excluded), the machine load (``os.getloadavg``) and the command that
reproduces it. Wall time on a shared 2-core machine is inflated by other work; CPU time is the
steadier number, so both are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.config import parse_override
from gankit.data import to_uint8
from gankit.data.base import ArrayDataset
from gankit.presets import resolve
from gankit.train.trainer import Trainer


def load() -> str:
    """The 1, 5 and 15-minute load averages, as text."""
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f}"


def command_line() -> str:
    return "python " + " ".join(shlex.quote(a) for a in sys.argv)


@dataclass
class Curve:
    """Metric values over a run: one row per evaluation."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def best(self, key: str, higher: bool = True) -> dict[str, Any]:
        pick = max if higher else min
        return pick(self.rows, key=lambda r: r[key])


def base_parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="CPU threads for training")
    p.add_argument("--set", action="append", default=[], help="config override KEY=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="write the curve as JSON here")
    p.add_argument("--run-dir", type=Path, default=None, help="write a run directory here")
    p.add_argument(
        "--resume", action="store_true", help="continue from --run-dir's newest checkpoint"
    )
    return p


def make_trainer(
    preset: str,
    overrides: list[str],
    threads: int,
    seed: int,
    run_dir: Path | None = None,
    dataset: Callable[[Any], ArrayDataset] | None = None,
    resume: bool = False,
) -> Trainer:
    """A trainer for ``preset`` + ``--set`` overrides on CPU; ``dataset(cfg)`` replaces the data;
    ``resume`` continues from ``run_dir``'s newest checkpoint (the curve's CPU times then count
    from the resume)."""
    if resume and run_dir is None:
        raise SystemExit("--resume needs --run-dir (the run to continue)")
    sets = [parse_override(s) for s in overrides]
    sets.append({"train": {"threads": threads, "seed": seed, "device": "cpu"}})
    cfg = resolve(preset=preset, overrides=sets)
    if run_dir is not None:
        from gankit.train.trainer import write_config

        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    data = dataset(cfg) if dataset else None
    trainer = Trainer(cfg, run_dir=run_dir, dataset=data, progress=False)
    if resume:
        path = trainer.resume_from(run_dir / "checkpoints")
        print(f"resumed from {path} at step {trainer.step}", flush=True)
    return trainer


def generate(trainer: Trainer, n: int, seed: int = 12345, **fixed: torch.Tensor) -> torch.Tensor:
    """``n`` samples from the sampling generator (EMA when on): uint8 images or float points.

    ``fixed`` overrides generator inputs (e.g. ``label``); conditional families get
    ``arange(n) % num_classes`` labels otherwise.
    """
    fam, info = trainer.family, trainer.data.info
    g = torch.Generator().manual_seed(seed)
    inputs = fam.latent(fam.cfg, info, n, generator=g)
    if fam.conditional:
        inputs["label"] = torch.arange(n) % info.num_classes
    inputs.update(fixed)
    out = trainer.generate(inputs)
    return to_uint8(out) if info.kind == "images" else out.cpu()


def train_with_curve(
    trainer: Trainer,
    steps: int,
    every: int,
    evaluate: Callable[[Trainer], dict[str, float]],
    verbose: bool = True,
) -> Curve:
    """Train to ``steps``, calling ``evaluate`` every ``every`` steps (its time not counted)."""
    curve = Curve()
    cpu_train = 0.0
    while trainer.step < steps:
        target = min(steps, trainer.step + every)
        c0 = time.process_time()
        trainer.fit(target)
        cpu_train += time.process_time() - c0
        row = {
            "step": trainer.step,
            "wall_s": round(trainer.elapsed, 1),
            "cpu_s": round(cpu_train, 1),
            **evaluate(trainer),
            "load": round(os.getloadavg()[0], 2),
        }
        curve.rows.append(row)
        if verbose:
            print(json.dumps(row), flush=True)
    return curve


def finish(args: argparse.Namespace, curve: Curve, t0: float, **fields: Any) -> dict[str, Any]:
    """Print the run's summary (``fields`` + train times, threads, total wall time, load) and
    write the curve with it to ``--out``."""
    summary = {
        "preset": args.preset,
        "overrides": args.set,
        **fields,
        "train_wall_s": curve.rows[-1]["wall_s"],
        "train_cpu_s": curve.rows[-1]["cpu_s"],
        "threads": args.threads,
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "load": load(),
    }
    print("== summary")
    print(json.dumps(summary))
    save_curve(args.out, curve, summary)
    return summary


def print_rows(rows: list[dict[str, Any]], keys: list[str], out: Path | None = None) -> None:
    """A markdown table of ``rows`` (one per variant) over ``keys``, the command line, and, with
    ``out``, the rows as JSON with the command that made them."""
    print("| variant | " + " | ".join(keys) + " |")
    for r in rows:
        print(f"| {r['variant']} | " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    print(command_line())
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"command": command_line(), "rows": rows}, indent=1))


def save_curve(path: Path | None, curve: Curve, meta: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**meta, "curve": curve.rows}, indent=1) + "\n")


def classifier_score(images: np.ndarray | torch.Tensor) -> float:
    """Inception-score analogue with gankit's MNIST classifier (10 splits)."""
    from gankit.metrics.features import probs
    from gankit.metrics.inception_score import inception_score

    return inception_score(probs(np.asarray(images)))[0]
