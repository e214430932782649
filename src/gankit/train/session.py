"""One training run from start to end, new or resumed: the library behind ``gankit train`` and
``gankit resume`` (and any script that wants a run directory without the CLI).

The order is the contract. The trainer is built first (the data loaded, the config checked
against it), so a bad setting fails before anything is on disk. Then the run directory is
created with its ``config.json``, or, for a resume, the newest good checkpoint is loaded and
``stats.jsonl``/``metrics.jsonl`` are cut back to its step. After training every rank leaves the
process group, and rank 0 writes ``summary.json``. Rank 0 alone writes files. Nothing here
prints: what happens is reported through ``on_event`` and in the returned ``RunResult``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.config import RunConfig
from gankit.files import atomic_write_json
from gankit.runs import new_run_dir, runs_dir_default, truncate_jsonl
from gankit.train import distributed as ddp
from gankit.train.trainer import Trainer, write_config

# ``on_event(name, **values)``, called on rank 0 only:
#   "resumed"      checkpoint: Path, step: int    resume_dir had a good checkpoint
#   "restarted"                                   resume_dir had none: the run starts again at 0
#   "started"      run_dir: Path, device: str, world: int, step: int, precision: str,
#                  precision_note: str (why: "set in the config", or what auto measured)
#   "interrupted"  run_dir: Path, step: int       Ctrl-C or SIGTERM; a checkpoint was saved
OnEvent = Callable[..., None]


@dataclass(frozen=True)
class RunResult:
    """A finished run. Ranks other than 0 get ``run_dir`` and ``samples`` None."""

    run_dir: Path | None
    steps: int
    wall_s: float  # this session's training time (a resume counts from the resume)
    last: dict[str, Any]  # the last logged stats, as in stats.jsonl
    samples: Path | None  # the newest sample picture
    distributed: bool  # under torchrun: end the process with ``ddp.exit_process`` when done
    near_copies: dict[str, Any] | None = None  # image runs with held-out images: nearest.py


def train_run(
    cfg: RunConfig,
    runs_dir: Path | None = None,
    resume_dir: Path | None = None,
    progress: bool = True,
    on_event: OnEvent | None = None,
) -> RunResult:
    """Train ``cfg`` in a new run directory under ``runs_dir`` (default ``$GANKIT_RUNS_DIR``,
    else ``runs``), or continue the run in ``resume_dir`` from its newest good checkpoint.
    Ctrl-C (or SIGTERM) saves a checkpoint and raises KeyboardInterrupt."""
    trainer = Trainer(cfg, run_dir=None, progress=progress)
    main = trainer.dist.main

    def emit(name: str, **values: Any) -> None:
        if on_event is not None and main:
            on_event(name, **values)

    run_dir = None
    if resume_dir is not None:
        if any((resume_dir / "checkpoints").glob("step_*.pt")):
            path = trainer.resume_from(resume_dir / "checkpoints")
            emit("resumed", checkpoint=path, step=trainer.step)
        else:
            emit("restarted")
        if main:
            run_dir = resume_dir
            for name in ("stats.jsonl", "metrics.jsonl"):  # drop what came after the checkpoint
                truncate_jsonl(run_dir / name, trainer.step)
    elif main:
        run_dir = new_run_dir(runs_dir or runs_dir_default(), cfg.run_name())
        write_config(run_dir, cfg)
    trainer.run_dir = run_dir
    trainer.choose_precision()  # measured now for precision auto (kept from the checkpoint)
    emit(
        "started",
        run_dir=run_dir,
        device=str(trainer.device),
        world=trainer.dist.world,
        step=trainer.step,
        precision=trainer.precision,
        precision_note=trainer.precision_note,
    )
    t0 = time.perf_counter()
    try:
        last = trainer.fit()
    except KeyboardInterrupt:
        emit("interrupted", run_dir=run_dir, step=trainer.step)
        if trainer.dist.active:  # every rank stopped at the same step: leave together
            ddp.shutdown(trainer.dist)
            ddp.exit_process(130)
        raise
    wall = time.perf_counter() - t0
    ddp.shutdown(trainer.dist)  # every rank: all done before any process exits
    samples = near = None
    if run_dir is not None:
        summary = {"steps": trainer.step, "wall_s": round(wall, 2), "last": last}
        atomic_write_json(run_dir / "summary.json", summary)
        pictures = sorted((run_dir / "samples").glob("step_*.png"))
        samples = pictures[-1] if pictures else None
        from gankit.train.nearest import write_near_copies

        near = write_near_copies(trainer, run_dir)  # samples beside their nearest training image
    return RunResult(run_dir, trainer.step, wall, last, samples, trainer.dist.active, near)
