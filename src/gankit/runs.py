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
from gankit.files import atomic_write_json, atomic_write_text

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
    kept = [r for r in read_jsonl(path) if r.get("step", 0) <= max_step]
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))


def write_status(run_dir: Path, state: str, **extra: Any) -> None:
    atomic_write_json(run_dir / "status.json", {"state": state, "updated": time.time(), **extra})


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


# -- reading runs that may be half-written (the dashboard reads live and copied runs) -------------
SAMPLE_FILE = re.compile(r"^step_(\d{9})\.(png|json)$")


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file; None when it is missing, unreadable, half-written or no object."""
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def run_folders(runs_dir: Path) -> list[str]:
    """The names of the runs in ``runs_dir`` (``<number>-<name>`` folders with a config.json)."""
    try:
        entries = list(os.scandir(runs_dir))
    except OSError:
        return []
    return sorted(
        e.name
        for e in entries
        if RUN_NAME.match(e.name) and os.path.isfile(os.path.join(e.path, "config.json"))
    )


def sample_steps(run_dir: Path) -> tuple[list[int], list[int]]:
    """Steps with a sample grid (``samples/step_N.png``) and with 2-D points (``step_N.json``)."""
    png, toy = [], []
    try:
        entries = list(os.scandir(run_dir / "samples"))
    except OSError:
        return [], []
    for e in entries:
        m = SAMPLE_FILE.match(e.name)
        if m:
            (png if m.group(2) == "png" else toy).append(int(m.group(1)))
    return sorted(png), sorted(toy)


@dataclass
class RunInfo:
    """What a run's small files say about it, each field usable even when a file is damaged."""

    path: Path
    config: dict[str, Any]
    family: str
    data: str
    kind: str | None  # "images" or "points": the exported generator's, else seen in samples/
    state: str  # running, finished, failed, interrupted, stale or unknown
    step: int
    total_steps: int
    updated: float | None  # unix time of the last status update
    error: str | None
    sample_steps: list[int]
    toy_steps: list[int]
    has_generator: bool


def read_run(run_dir: Path, latest: dict[str, Any] | None = None) -> RunInfo:
    """One run's config, status, samples and generator, read tolerantly: a run being written or
    copied reads as far as it goes. ``latest`` is the last ``stats.jsonl`` record when the caller
    has it (else the file is read); it gives the step of a run whose status has none."""
    import math

    cfg = read_json(run_dir / "config.json") or {}
    status = read_json(run_dir / "status.json") or {}
    if latest is None:
        stats = read_jsonl(run_dir / "stats.jsonl")
        latest = stats[-1] if stats and isinstance(stats[-1], dict) else {}
    gen_meta = read_json(run_dir / "generator" / "config.json") or {}
    png, toy = sample_steps(run_dir)
    data = cfg["data"] if isinstance(cfg.get("data"), dict) else {}
    train = cfg["train"] if isinstance(cfg.get("train"), dict) else {}
    updated = status.get("updated")
    ok = isinstance(updated, (int, float)) and not isinstance(updated, bool)
    updated = float(updated) if ok and math.isfinite(updated) else None
    state = str(status.get("state", "unknown"))
    if state == "running" and time.time() - (updated or 0) > STALE_AFTER_S:
        state = "stale"
    kind = gen_meta["data"].get("kind") if isinstance(gen_meta.get("data"), dict) else None
    if kind not in ("images", "points"):
        kind = "points" if toy else ("images" if png else None)
    step = status.get("step", latest.get("step", 0))
    total = train.get("steps", 0)
    return RunInfo(
        path=run_dir,
        config=cfg,
        family=str(cfg.get("family", "?")),
        data=str(data.get("path") or data.get("name", "?")),
        kind=kind,
        state=state,
        step=step if isinstance(step, int) and not isinstance(step, bool) else 0,
        total_steps=total if isinstance(total, int) and not isinstance(total, bool) else 0,
        updated=updated,
        error=str(status["error"]) if status.get("error") else None,
        sample_steps=png,
        toy_steps=toy,
        has_generator=(run_dir / "generator" / "model.safetensors").is_file(),
    )


def read_sample_bank(run_dir: Path) -> dict[str, Any]:
    """``samples/bank.npz`` of a translation run: its held-out inputs by input name and their true
    outputs (``target``), uint8 (N, C, H, W) arrays. Empty when the run has none (yet)."""
    import zipfile

    import numpy as np

    try:
        with np.load(run_dir / "samples" / "bank.npz", allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # absent, half-written, not npz
        return {}
