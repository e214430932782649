"""The runs folder as the API sees it: runs found by id, their logs read incrementally.

Files are found by run id (a folder name checked against a strict pattern *and* looked up in the
listing of the runs folder) and by integer step, never by a path taken from the request. What a
run's files say is read by ``gankit.runs`` (``read_run``, ``sample_steps``, ``read_sample_bank``);
this module adds what a long-lived server needs on top: incremental reads of the append-only logs
and the records turned into columns for charts.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, HTTPException, Request

from gankit.runs import read_json, read_run, read_sample_bank, run_folders, sample_steps
from gankit.web.schemas import RUN_ID_PATTERN, HealthEvent, RunDetail, RunOut

RUN_ID = re.compile(RUN_ID_PATTERN)


def finite(v: Any) -> float | None:
    """A JSON-safe number: NaN and infinities (a diverged run) become null."""
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def numbers(record: dict[str, Any], skip: Iterable[str] = ("step",)) -> dict[str, float | None]:
    """The numeric fields of a logged record (bools and strings are not curves)."""
    return {
        k: finite(v)
        for k, v in record.items()
        if k not in skip and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def metric_values(record: dict[str, Any]) -> dict[str, float | None]:
    """A metrics.jsonl record: flat ``{step, time, fid: 12.3, ...}`` (``gankit.train.evaluation``
    writes these, with the full results beside them), or one result ``{name, value}``."""
    if isinstance(record.get("name"), str) and "value" in record:
        return {record["name"]: finite(record["value"])}
    return numbers(record, skip=("step", "time"))  # time: when it was evaluated (unix)


def health_events(stats: list[dict[str, Any]]) -> list[HealthEvent]:
    out = []
    for rec in stats:
        warnings = rec.get("health")
        if isinstance(warnings, list):
            out += [HealthEvent(step=rec["step"], message=str(w)) for w in warnings]
    return out


def columns(records: list[dict[str, Any]], values_of=numbers) -> tuple[list[int], dict]:
    """Records -> (steps, {key: values aligned with steps})."""
    steps = [r["step"] for r in records]
    cols: dict[str, list[float | None]] = {}
    for i, rec in enumerate(records):
        for k, v in values_of(rec).items():
            col = cols.get(k)
            if col is None:
                col = cols[k] = [None] * len(records)
            col[i] = v
    return steps, cols


class JsonlTail:
    """An append-only JSONL file, read incrementally: each call parses only the new lines.

    A replaced file (a resumed run rewrites ``stats.jsonl`` atomically) or a shorter one is read
    again from the start; a torn last line is left for the next call (as ``runs.read_jsonl``
    skips it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key: tuple[int, int] | None = None
        self.offset = 0
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def read(self) -> tuple[str, list[dict[str, Any]]]:
        """The file's version (changes when it is replaced) and its records with an int step."""
        with self.lock:
            try:
                st = os.stat(self.path)
            except OSError:
                self.key, self.offset, self.records = None, 0, []
                return "none", []
            key = (st.st_dev, st.st_ino)
            if key != self.key or st.st_size < self.offset:
                self.key, self.offset, self.records = key, 0, []
            if st.st_size > self.offset:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    chunk = f.read(st.st_size - self.offset)
                end = chunk.rfind(b"\n") + 1  # complete lines only
                for line in chunk[:end].splitlines():
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(rec, dict) and isinstance(rec.get("step"), int):
                        self.records.append(rec)
                self.offset += end
            return f"{st.st_ino:x}", self.records


class RunStore:
    """Finds runs in one folder by id and reads their files (cached where it pays)."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._tails: dict[Path, JsonlTail] = {}
        self._banks: dict[Path, tuple[tuple[int, int], dict[str, np.ndarray]]] = {}
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        return [name for name in run_folders(self.runs_dir) if RUN_ID.match(name)]

    def get(self, run_id: str) -> Path:
        """The run folder named ``run_id``, only if it is in the listing (never a request path)."""
        if not RUN_ID.match(run_id) or run_id not in self.ids():
            raise HTTPException(404, f"no run {run_id!r} in the runs folder")
        return self.runs_dir / run_id

    def tail(self, path: Path) -> tuple[str, list[dict[str, Any]]]:
        with self._lock:
            t = self._tails.get(path)
            if t is None:
                t = self._tails[path] = JsonlTail(path)
        return t.read()

    def stats(self, run_dir: Path) -> tuple[str, list[dict[str, Any]]]:
        return self.tail(run_dir / "stats.jsonl")

    def metrics(self, run_dir: Path) -> tuple[str, list[dict[str, Any]]]:
        return self.tail(run_dir / "metrics.jsonl")

    def sample_file(self, run_id: str, step: int, ext: str) -> Path:
        """``samples/step_<step>.<ext>`` of a listed run (404 if absent or a link)."""
        path = self.get(run_id) / "samples" / f"step_{step:09d}.{ext}"
        if path.is_symlink() or not path.is_file():
            raise HTTPException(404, f"run {run_id!r} has no sample at step {step}")
        return path

    def bank(self, run_dir: Path) -> dict[str, np.ndarray]:
        """The run's held-out inputs and targets (``samples/bank.npz``), reread when it changes."""
        path = run_dir / "samples" / "bank.npz"
        try:
            st = os.stat(path)
        except OSError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._banks.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        arrays = {
            k: v
            for k, v in read_sample_bank(run_dir).items()
            if v.dtype == np.uint8 and v.ndim == 4 and v.shape[1] in (1, 3)  # (N, C, H, W)
        }
        with self._lock:
            self._banks[path] = (stamp, arrays)
        return arrays

    def summary(self, run_id: str, detail: bool = False) -> RunOut | RunDetail:
        run_dir = self.runs_dir / run_id
        _, stats = self.stats(run_dir)
        _, metrics = self.metrics(run_dir)
        latest = stats[-1] if stats else {}
        run = read_run(run_dir, latest)
        fields = dict(
            id=run_id,
            number=int(run_id[:5]),
            family=run.family,
            data=run.data,
            kind=run.kind,
            state=run.state,
            step=run.step,
            total_steps=run.total_steps,
            updated=run.updated,
            error=run.error,
            latest=numbers(latest),
            metrics=metric_values(metrics[-1]) if metrics else {},
            health=health_events(stats),
            samples=len(run.sample_steps),
            has_generator=run.has_generator,
        )
        if not detail:
            return RunOut(**fields)
        return RunDetail(
            **fields,
            config=run.config,
            generator=None,
            sample_steps=run.sample_steps,
            toy_steps=run.toy_steps,
        )

    def latest_real(self, run_dir: Path) -> np.ndarray | None:
        """The real 2-D points of the run's latest toy frame (N, 2), to plot generated ones over."""
        _, toy_steps = sample_steps(run_dir)
        if not toy_steps:
            return None
        doc = read_json(run_dir / "samples" / f"step_{toy_steps[-1]:09d}.json") or {}
        try:
            return np.asarray(doc.get("real", []), dtype=np.float32).reshape(-1, 2)
        except ValueError:
            return None


def get_store(request: Request) -> RunStore:
    return request.app.state.store


Store = Annotated[RunStore, Depends(get_store)]
