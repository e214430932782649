"""``gankit resume``: continue a run after a crash or Ctrl-C from its last good checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def resume(
    run: Annotated[str, typer.Argument(help="run folder or number")],
    steps: Annotated[int | None, typer.Option(help="new total number of steps")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N or mps")] = None,
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Continue RUN from its newest good checkpoint (bit-exact on CPU).

    **Examples**: `gankit resume 3`, `gankit resume runs/00003-dcgan-mnist5k --steps 5000`
    """
    from gankit.cli.train import run as run_training
    from gankit.config import RunConfig, validate
    from gankit.runs import find_run, write_json

    run_dir = find_run(run, runs_dir)
    raw = json.loads((run_dir / "config.json").read_text())
    if steps is not None:
        raw["train"]["steps"] = steps
    if device is not None:
        raw["train"]["device"] = device
    cfg = validate(RunConfig, raw)
    if steps is not None:
        write_json(run_dir / "config.json", json.loads(cfg.model_dump_json()))
    run_training(cfg, None, progress=not quiet, resume_dir=run_dir)
