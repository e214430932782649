"""``gankit resume``: continue a run after a crash or Ctrl-C from its last good checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

# Train keys a resume may change. The rest (batch size, seed, EMA, grid) are part of the state
# the checkpoint continues, and the model is fixed by its weights.
RESUMABLE_KEYS = (
    "steps",
    "lr_decay_start",
    "device",
    "precision",
    "threads",
    "log_every",
    "sample_every",
    "checkpoint_every",
    "keep_checkpoints",
    "eval_every",
    "eval_metrics",
    "eval_metric",
    "eval_n",
    "early_stop",
)


def resume(
    run: Annotated[str, typer.Argument(help="run folder or number")],
    steps: Annotated[int | None, typer.Option(help="new total number of steps")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N or mps")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", "-s", help="change a train key: train.lr_decay_start=4000 (repeatable)"
        ),
    ] = None,
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Continue RUN from its newest good checkpoint (bit-exact on CPU).

    **Examples**: `gankit resume 3`, `gankit resume runs/00003-dcgan-mnist5k --steps 5000`,
    `gankit resume 3 --steps 8000 --set train.lr_decay_start=6000` (train on, then anneal)
    """
    from gankit.cli.train import event_printer, report
    from gankit.config import RunConfig, parse_override, validate
    from gankit.errors import ConfigError
    from gankit.files import atomic_write_json
    from gankit.runs import find_run
    from gankit.train.session import train_run

    run_dir = find_run(run, runs_dir)
    raw = json.loads((run_dir / "config.json").read_text())
    if steps is not None:
        raw["train"]["steps"] = steps
    if device is not None:
        raw["train"]["device"] = device
    for item in set_ or []:
        override = parse_override(item)
        key = item.split("=", 1)[0]
        keys = override.get("train")
        if set(override) != {"train"} or not isinstance(keys, dict) or keys.keys() - RESUMABLE_KEYS:
            raise ConfigError(
                f"resume cannot change {key!r}; allowed: "
                + ", ".join(f"train.{k}" for k in RESUMABLE_KEYS)
            )
        raw["train"].update(keys)
    cfg = validate(RunConfig, raw)
    if steps is not None or set_:
        atomic_write_json(run_dir / "config.json", json.loads(cfg.model_dump_json()))
    result = train_run(cfg, resume_dir=run_dir, progress=not quiet, on_event=event_printer(cfg))
    report(result)
