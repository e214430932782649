"""Multi-process training through ``torchrun`` and torch.distributed (gloo on CPU, NCCL on GPU).

Like stylegan2-ada-pytorch's training loop, gradients are averaged with one flattened
``all_reduce`` per optimizer step rather than by wrapping each network in
DistributedDataParallel: a GAN step runs D several times before one backward pass (real, fake,
gradient penalty), which DDP's reducer does not allow, and each phase trains different networks.
The arithmetic is DDP's: every rank applies the mean gradient, so replicas stay identical.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from gankit.errors import GankitError


class PeerLost(GankitError):
    """Another process of this distributed run stopped (killed, crashed, out of memory)."""


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def init(device_type: str) -> Dist:
    """Join the process group torchrun describes in the environment; single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


@contextmanager
def peers(d: Dist) -> Iterator[None]:
    """Turn a failed collective (a peer process died, so its connection closed) into one line
    that says what happened and how to go on, instead of gloo's traceback."""
    try:
        yield
    except RuntimeError as e:
        if not d.active:
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        first = re.sub(r"^\[[^\]]*\.(cc|cpp|h):\d+\]\s*", "", first).split(". ")[0]
        raise PeerLost(
            f"rank {d.rank}: another process of this run stopped ({first}); stopping too. "
            "Continue from the last good checkpoint with `gankit resume RUN` "
            "(alone or under torchrun)"
        ) from None


def shutdown(d: Dist) -> None:
    """Wait for every rank, then leave the process group. Without it a rank that finishes first
    exits with its connections open, and gloo on a rank still at work can abort the process."""
    if d.active and dist.is_initialized():
        with peers(d):
            dist.barrier()
        dist.destroy_process_group()


def exit_process(code: int = 0) -> None:
    """End a torchrun worker after ``shutdown`` without interpreter finalisation: gloo's worker
    threads can still hold objects whose destruction then needs the interpreter, and the process
    aborts (SIGABRT, "terminate called without an active exception") after its work is done."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def average_gradients(params: list[torch.nn.Parameter], d: Dist) -> None:
    """Replace each gradient with its mean over ranks (one flat all_reduce)."""
    if not d.active:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.flatten() for g in grads])
    with peers(d):
        dist.all_reduce(flat)
    flat /= d.world
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_module(module: torch.nn.Module, d: Dist) -> None:
    """Start every rank from rank 0's parameters and buffers."""
    if not d.active:
        return
    with peers(d):
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def any_rank(flag: bool, d: Dist) -> bool:
    """True on every rank if ``flag`` is True on any (one tiny all_reduce)."""
    t = torch.tensor([int(flag)], dtype=torch.int32)
    with peers(d):
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def all_mean(values: dict[str, float], d: Dist) -> dict[str, float]:
    """Average logged scalars over ranks (for the numbers rank 0 writes)."""
    if not d.active or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64)
    with peers(d):
        dist.all_reduce(t)
    return {k: (t[i] / d.world).item() for i, k in enumerate(keys)}
