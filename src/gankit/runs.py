"""Run directories, the interface between training, evaluation, sampling and the dashboard.

``runs/<number>-<name>/`` holds ``config.json``, ``status.json``, ``stats.jsonl`` (one JSON object
per logging tick, append-only), ``metrics.jsonl``, ``samples/``, ``tb/`` (TensorBoard events),
``checkpoints/`` and ``generator/`` (the exported model).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.errors import RunError

RUN_NAME = re.compile(r"^(\d{5})-(.+)$")
DEFAULT_RUNS_DIR = Path("runs")
STALE_AFTER_S = 600  # a "running" status not refreshed for this long: the process died


def runs_dir_default() -> Path:
    return Path(os.environ.get("GANKIT_RUNS_DIR", DEFAULT_RUNS_DIR))


def new_run_dir(runs_dir: Path, name: str) -> Path:
    """Create ``runs_dir/<next number>-<name>`` (numbers never reused, race-safe)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    while True:
        numbers = [int(m.group(1)) for p in runs_dir.iterdir() if (m := RUN_NAME.match(p.name))]
        path = runs_dir / f"{max(numbers, default=-1) + 1:05d}-{name}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def find_run(spec: str | Path, runs_dir: Path | None = None) -> Path:
    """A run by path, by number (``3`` or ``00003``) or by full folder name in ``runs_dir``."""
    p = Path(spec)
    if (p / "config.json").is_file():
        return p
    runs_dir = runs_dir or runs_dir_default()
    if runs_dir.is_dir():
        for d in sorted(runs_dir.iterdir()):
            m = RUN_NAME.match(d.name)
            if m and (
                d.name == str(spec) or (str(spec).isdigit() and int(m.group(1)) == int(spec))
            ):
                if (d / "config.json").is_file():
                    return d
    if p.is_dir():
        raise RunError(f"{str(p)!r} is not a gankit run directory (no config.json)")
    raise RunError(
        f"run {str(spec)!r} not found (give a run folder, or a number in {str(runs_dir)!r})"
    )


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record, allow_nan=True) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a JSONL file (a torn last line from a crash is skipped)."""
    if not path.is_file():
        return []
    out = []
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def truncate_jsonl(path: Path, max_step: int) -> None:
    """Keep only records with ``step <= max_step`` (after resuming from that step)."""
    if not path.is_file():
        return
    from gankit.train.checkpoint import atomic_write_bytes

    kept = [r for r in read_jsonl(path) if r.get("step", 0) <= max_step]
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in kept).encode())


def write_json(path: Path, obj: Any) -> None:
    from gankit.train.checkpoint import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode())


def write_status(run_dir: Path, state: str, **extra: Any) -> None:
    write_json(run_dir / "status.json", {"state": state, "updated": time.time(), **extra})


@dataclass
class RunSummary:
    path: Path
    family: str
    data: str
    state: str
    step: int
    total_steps: int
    latest: dict[str, Any] = field(default_factory=dict)


def summarize(run_dir: Path) -> RunSummary:
    cfg = json.loads((run_dir / "config.json").read_text())
    status: dict[str, Any] = {}
    if (run_dir / "status.json").is_file():
        try:
            status = json.loads((run_dir / "status.json").read_text())
        except json.JSONDecodeError:
            status = {}
    stats = read_jsonl(run_dir / "stats.jsonl")
    latest = stats[-1] if stats else {}
    state = status.get("state", "unknown")
    if state == "running" and time.time() - status.get("updated", 0) > STALE_AFTER_S:
        state = "stale"
    data = cfg.get("data", {})
    return RunSummary(
        path=run_dir,
        family=cfg.get("family", "?"),
        data=data.get("path") or data.get("name", "?"),
        state=state,
        step=int(status.get("step", latest.get("step", 0))),
        total_steps=int(cfg.get("train", {}).get("steps", 0)),
        latest=latest,
    )


def list_runs(runs_dir: Path) -> list[RunSummary]:
    if not runs_dir.is_dir():
        return []
    out = []
    for d in sorted(runs_dir.iterdir()):
        if RUN_NAME.match(d.name) and (d / "config.json").is_file():
            try:
                out.append(summarize(d))
            except (json.JSONDecodeError, OSError):
                continue
    return out
