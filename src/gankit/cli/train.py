"""``gankit train``: resolve a config, load the data, train, and say where the results are."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

EXAMPLES = """
**Examples**

- `gankit train` — DCGAN on the 5,000 bundled MNIST digits (a few CPU minutes)
- `gankit train mlp-gan --data ring` — the original GAN on 8 Gaussians in a ring
- `gankit train dcgan --data ./my_images --image-size 64` — your own folder of images
- `gankit train --preset dcgan-textbook --steps 500` — the seed-004 textbook DCGAN
- `gankit train --set model.loss=hinge --set model.spectral_norm=true` — any config key
- `gankit train --config my.json --dry-run` — print the resolved config and stop

Presets: `gankit list presets`. Every key: `gankit train --dry-run`.
"""


def train(
    family: Annotated[
        str | None, typer.Argument(help="GAN family (see `gankit list families`)")
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", "-d", help="dataset name or image folder")
    ] = None,
    image_size: Annotated[int | None, typer.Option(help="resize images to N x N")] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", "-p", help="start from a preset")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="JSON/TOML config file")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="override any key: train.steps=100 (repeatable)"),
    ] = None,
    steps: Annotated[int | None, typer.Option(help="generator updates")] = None,
    batch_size: Annotated[int | None, typer.Option(help="batch size per process")] = None,
    lr: Annotated[float | None, typer.Option(help="learning rate of G and D")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N or mps")] = None,
    precision: Annotated[str | None, typer.Option(help="fp32, bf16 or fp16 (CUDA)")] = None,
    ema: Annotated[float | None, typer.Option(help="generator EMA decay, e.g. 0.999")] = None,
    eval_every: Annotated[
        int | None, typer.Option(help="evaluate every K steps (metrics.jsonl)")
    ] = None,
    eval_metric: Annotated[
        str | None, typer.Option(help="keep the best checkpoint by this number, e.g. fid")
    ] = None,
    early_stop: Annotated[
        int | None, typer.Option(help="stop after K evaluations without improvement")
    ] = None,
    name: Annotated[str | None, typer.Option(help="run name (default: FAMILY-DATA)")] = None,
    runs_dir: Annotated[
        Path | None, typer.Option(help="where runs are written", envvar="GANKIT_RUNS_DIR")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the resolved config and stop")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    from gankit.cli.main import console
    from gankit.config import parse_override, read_config_file
    from gankit.data import data_config_from_arg
    from gankit.presets import resolve

    flags: dict = {"data": {}, "train": {}, "model": {}}
    if data is not None:
        flags["data"].update(data_config_from_arg(data))
        if flags["data"].get("name") != "folder":
            flags["data"]["path"] = None
    if image_size is not None:
        flags["data"]["image_size"] = image_size
    for key, value in (
        ("steps", steps),
        ("batch_size", batch_size),
        ("seed", seed),
        ("device", device),
        ("precision", precision),
        ("ema", ema),
        ("eval_every", eval_every),
        ("eval_metric", eval_metric),
        ("early_stop", early_stop),
    ):
        if value is not None:
            flags["train"][key] = value
    if lr is not None:
        flags["model"]["lr"] = {"G": lr, "D": lr}
    if name is not None:
        flags["name"] = name
    cfg = resolve(
        family=family,
        preset=preset,
        file_cfg=read_config_file(config) if config else None,
        flags=flags,
        overrides=[parse_override(s) for s in set_ or []],
    )
    if dry_run or not quiet:
        console.print_json(cfg.model_dump_json())
    if dry_run:
        return
    run(cfg, runs_dir, progress=not quiet)


def run(cfg, runs_dir: Path | None, progress: bool = True, resume_dir: Path | None = None):
    """Load data, build the trainer, and only then create the run directory and train."""
    from gankit.cli.main import console
    from gankit.runs import new_run_dir, runs_dir_default, truncate_jsonl
    from gankit.train import distributed as ddp
    from gankit.train.trainer import Trainer, write_config

    trainer = Trainer(cfg, run_dir=None, progress=progress)
    if resume_dir is not None:
        run_dir = resume_dir
        if (run_dir / "checkpoints").is_dir() and any((run_dir / "checkpoints").glob("step_*.pt")):
            path = trainer.resume_from(run_dir / "checkpoints")
            console.print(f"resuming from {path} (step {trainer.step})")
        else:
            console.print("no checkpoint yet: starting the run again from step 0")
        if trainer.dist.main:  # drop what was logged after the checkpoint resumed from
            for name in ("stats.jsonl", "metrics.jsonl"):
                truncate_jsonl(run_dir / name, trainer.step)
    else:
        run_dir = (
            new_run_dir(runs_dir or runs_dir_default(), cfg.run_name())
            if trainer.dist.main
            else None
        )
        if run_dir:
            write_config(run_dir, cfg)
    trainer.run_dir = run_dir if trainer.dist.main else None
    if trainer.dist.main:
        console.print(
            f"run directory: [bold]{run_dir}[/]  (family {cfg.family}, data {cfg.data.name})"
        )
    t0 = time.perf_counter()
    try:
        last = trainer.fit()
    except KeyboardInterrupt:
        if trainer.dist.main:
            console.print(
                f"\nstopped at step {trainer.step}; checkpoint saved. "
                f"Continue with: gankit resume {run_dir}"
            )
        raise
    ddp.shutdown(trainer.dist)  # every rank: all done before any process exits
    if trainer.dist.main:
        _report(run_dir, trainer.step, time.perf_counter() - t0, last)
    if trainer.dist.active:
        ddp.exit_process(0)


def _report(run_dir: Path, steps: int, wall: float, last: dict) -> None:
    """Print where the finished run's samples and generator are; write summary.json."""
    from gankit.cli.main import console

    keys = ("loss/D", "loss/G", "D(x)", "D(G(z))", "acc/D")
    summary = "  ".join(f"{k} {last[k]:.3f}" for k in keys if k in last)
    console.print(f"done: {steps} steps in {wall:.1f} s  {summary}")
    samples = sorted((run_dir / "samples").glob("step_*.png"))
    console.print(
        f"samples:   {samples[-1] if samples else run_dir / 'samples'}\n"
        f"generator: {run_dir / 'generator'}  (gankit.load('{run_dir}'))\n"
        f"next:      gankit sample {run_dir} --n 64 --out samples.npz --grid grid.png"
    )
    (run_dir / "summary.json").write_text(
        json.dumps({"steps": steps, "wall_s": round(wall, 2), "last": last}, indent=2)
    )


train.__doc__ = "Train a GAN. With no arguments: DCGAN on the bundled MNIST digits.\n" + EXAMPLES
