"""Complete, atomic, verified checkpoints.

A checkpoint is one ``torch.save`` file of plain tensors, numbers, strings, lists and dicts, so it
loads with ``weights_only=True`` (no pickle code execution, ever). Writing goes to a temp file in
the same folder, is fsynced, and is renamed into place; its SHA-256 is written beside it
(``step_000001000.pt.sha256``) and checked before loading. A file that fails either check is
refused with a message naming it, and the previous good checkpoint is used instead.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch

from gankit.errors import CheckpointError
from gankit.files import atomic_write_text, file_digest, fsync_dir

log = logging.getLogger("gankit")

_NAME = re.compile(r"^step_(\d{9})\.pt$")


def checkpoint_name(step: int) -> str:
    return f"step_{step:09d}.pt"


def write_checkpoint_file(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` to a same-folder temp file, fsync, record its SHA-256, rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        digest = file_digest(tmp)
        # The digest lands first: a checkpoint whose file does not match it is never trusted.
        atomic_write_text(Path(f"{path}.sha256"), f"{digest}  {path.name}\n")
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_checkpoint(folder: Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Write ``state`` as ``folder/step_<step>.pt`` atomically, then prune to the newest ``keep``."""
    path = folder / checkpoint_name(step)
    write_checkpoint_file(path, state)
    prune(folder, keep)
    return path


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every finished checkpoint file, oldest first."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def prune(folder: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` verified checkpoints; never the only good one.

    Files named ``best.pt`` are kept. Leftover temp files from a killed write are removed.
    """
    for p in folder.glob(".*.tmp"):
        p.unlink(missing_ok=True)
    ckpts = list_checkpoints(folder)
    good = [(s, p) for s, p in ckpts if verify(p) is None]
    if not good:
        return
    keep_paths = {p for _, p in good[-keep:]}
    newest_good = good[-1][0]
    for s, p in ckpts:
        # Bad files newer than the newest good one stay for inspection; load_latest skips them.
        if p not in keep_paths and s < newest_good:
            p.unlink(missing_ok=True)
            Path(f"{p}.sha256").unlink(missing_ok=True)


def verify(path: Path) -> str | None:
    """None when ``path`` matches its recorded SHA-256, else the reason it does not."""
    sha = Path(f"{path}.sha256")
    if not path.is_file():
        return f"checkpoint {str(path)!r} does not exist"
    if not sha.is_file():
        return f"checkpoint {str(path)!r} has no {sha.name} (incomplete write?)"
    text = sha.read_text().split()
    recorded = text[0] if text else ""
    actual = file_digest(path)
    if recorded != actual:
        return f"checkpoint {str(path)!r} is corrupt: SHA-256 {actual[:12]}… != recorded {recorded[:12]}…"
    return None


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Verify and load one checkpoint with ``weights_only=True``; CheckpointError otherwise."""
    reason = verify(path)
    if reason:
        raise CheckpointError(reason)
    return _safe_load(path, map_location)


def _safe_load(path: Path, map_location: str | torch.device = "cpu") -> Any:
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # UnpicklingError for code-carrying pickles, RuntimeError if truncated
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"checkpoint {str(path)!r} refused: not a plain-tensor checkpoint ({first})"
        ) from None


def load_latest(folder: Path, map_location: str | torch.device = "cpu") -> tuple[Path, dict]:
    """The newest checkpoint that verifies and loads; bad ones are reported and skipped."""
    ckpts = list_checkpoints(folder)
    if not ckpts:
        raise CheckpointError(f"no checkpoints in {str(folder)!r}")
    problems = []
    for _, p in reversed(ckpts):
        try:
            state = load_checkpoint(p, map_location)
        except CheckpointError as e:
            problems.append(str(e))
            log.warning("%s; trying the previous checkpoint", e)
            continue
        return p, state
    raise CheckpointError("no usable checkpoint: " + "; ".join(problems))
