"""The trainer: owns the loop, the optimizers, EMA, precision, logging, samples and checkpoints.

Families contribute phases (see ``gankit.models.base``). Per step, for each phase and each of its
repeats: draw a batch (or reuse the last), make only the phase's networks trainable (and G, where
the family reuses D's samples for G's phase), zero their gradients, ``loss, logs =
family.step(phase, batch)``, backward, average gradients over ranks, optimizer step. Then update
the generator EMA and run the ticks that are due. Logged scalars stay on the device until a log
tick; the precision (``auto``: measured before the first step) is stored in checkpoints.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import math
import random
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

import gankit
from gankit.config import RunConfig, validate
from gankit.data import load_dataset, split_holdout, to_uint8
from gankit.data.base import ArrayDataset
from gankit.errors import CheckpointError, ConfigError
from gankit.files import atomic_write_bytes as write_bytes
from gankit.files import atomic_write_json as write_json
from gankit.generator import export_generator, uses_channels_last
from gankit.models.base import Family
from gankit.registry import MODELS
from gankit.runs import append_jsonl, write_status
from gankit.train import checkpoint as ckpt
from gankit.train import distributed as ddp
from gankit.train.ema import EMA
from gankit.train.health import HealthMonitor, TrainingDiverged, check_finite, diversity_ratio
from gankit.viz import (
    image_grid,
    plot_bounds,
    png_bytes,
    scatter_png,
    translation_grid,
)

log = logging.getLogger("gankit")

POINT_BANK = 1000  # generated points per toy scatter plot


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA, then MPS, then CPU, decided now (never at import)."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} requested but CUDA is not available; use cpu or auto")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {name!r} requested but MPS is not available; use cpu or auto")
    return dev


def build_family(cfg: RunConfig, info) -> Family:
    family_cls = MODELS.get(cfg.family)
    model_cfg = validate(family_cls.Config, cfg.model, "model")
    return family_cls(model_cfg, info)


def rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached": float(np_state[4]),
        },
        "python": list(random.getstate()[1]),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(
        ("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"])
    )
    random.setstate((3, tuple(state["python"]), None))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class Trainer:
    """Trains one run. ``run_dir`` None trains without writing anything (library use, tests)."""

    # Speed settings, measured in bench/bench_throughput.py (a subclass there turns each off)
    CHANNELS_LAST: ClassVar[bool] = True  # conv networks and image batches in NHWC
    ADAM_OPTIONS: ClassVar[dict[str, Any]] = {"foreach": True}  # one kernel per op, not per tensor
    BF16_MARGIN: ClassVar[float] = 1.10  # precision auto: bf16 must be this much faster

    def __init__(
        self,
        cfg: RunConfig,
        run_dir: Path | None = None,
        dataset: ArrayDataset | None = None,
        progress: bool = True,
        evaluator: Callable[[Trainer], list] | None = None,
    ) -> None:
        self.cfg, self.tc = cfg, cfg.train
        self.device = resolve_device(self.tc.device)
        self.dist = ddp.init(self.device.type)
        if self.dist.active and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        self.run_dir = run_dir if self.dist.main else None
        self.show_progress = progress and self.dist.main
        if evaluator is None and self.tc.eval_every:
            from gankit.train.evaluation import TrainingEvaluator

            evaluator = TrainingEvaluator(self.tc.eval_metrics, self.tc.eval_n, self.tc.seed)
        self.evaluator = evaluator
        if self.tc.threads:
            torch.set_num_threads(self.tc.threads)
        if self.tc.precision == "fp16" and self.device.type != "cuda":
            raise ConfigError("precision 'fp16' needs CUDA; use bf16 or fp32 on this device")
        # "auto" is decided by a short measurement before the first step (``choose_precision``),
        # or restored from the checkpoint a run resumes
        self.precision: str | None = None if self.tc.precision == "auto" else self.tc.precision
        self.precision_note = "" if self.precision is None else "set in the config"

        # Seeds: the same on every rank for the networks; per rank for the noise.
        torch.manual_seed(self.tc.seed)
        full = dataset if dataset is not None else load_dataset(cfg.data, self.tc.seed)
        self.data, self.heldout = split_holdout(full, cfg.data.holdout, self.tc.seed)
        self.family = build_family(cfg, self.data.info)
        self.family.check_data(self.data)
        self._prepared = False  # Family.prepare runs before the first step, after any resume
        self.family.nets.to(self.device)
        self.channels_last = self.CHANNELS_LAST and uses_channels_last(
            type(self.family), self.data.info, self.family.nets
        )
        if self.channels_last:
            self.family.nets.to(memory_format=torch.channels_last)
        for net in self.family.nets.values():
            ddp.broadcast_module(net, self.dist)
        self.phases = self.family.phases()
        self.optimizers = {
            ph.name: torch.optim.Adam(
                [
                    {"params": self.family.nets[n].parameters(), "lr": self.family.lr(n)}
                    for n in ph.updates
                ],
                betas=tuple(self.family.cfg.betas),
                **self.ADAM_OPTIONS,
            )
            for ph in self.phases
        }
        self.base_lrs = {
            k: [g["lr"] for g in opt.param_groups] for k, opt in self.optimizers.items()
        }
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.tc.precision == "fp16")
        self.ema = EMA(self.family.G, self.tc.ema, self.tc.ema_start) if self.tc.ema else None
        self.sampler = self.data.sampler(
            self.tc.batch_size, self.tc.seed, self.dist.rank, self.dist.world
        )
        self.noise_bank = self._make_noise_bank()
        self.step = 0
        self.images_seen = 0
        self.elapsed = 0.0
        self.best: dict[str, Any] = {}
        self.evals_since_best = 0
        self.health = HealthMonitor()
        self.health_log: list[dict[str, Any]] = []  # this process's warnings, for status.json
        self.lr_factor = 1.0  # halved at each roll-back after a NaN/inf loss
        self.rollbacks = 0
        self._last_good: dict[str, Any] | None = None  # in-memory copy of the last saved state
        self._stop_signal: str | None = None
        self._tb = None
        torch.manual_seed(self.tc.seed + 1_000 * self.dist.rank + 1)

    # -- state ----------------------------------------------------------------------------------
    def _make_noise_bank(self) -> dict[str, torch.Tensor]:
        """Fixed generator inputs for sample grids, as the family declares them: the same noise
        (or the same held-out input images) at every step, so the grids show one thing evolving.
        Where the inputs come from the data, ``bank_target`` holds what they should become."""
        info, fam = self.data.info, self.family
        n = POINT_BANK if info.kind == "points" else self.tc.grid_size
        g = torch.Generator().manual_seed(self.tc.seed + 2024)
        source = self.heldout if self.heldout is not None else self.data
        bank, self.bank_target = fam.sample_bank(fam.cfg, info, n, source, generator=g)
        return bank

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": "gankit-checkpoint/1",
            "gankit_version": gankit.__version__,
            "config": self.cfg.model_dump_json(),
            "step": self.step,
            "images_seen": self.images_seen,
            "elapsed": self.elapsed,
            "nets": {k: v.state_dict() for k, v in self.family.nets.items()},
            "ema": self.ema.model.state_dict() if self.ema else None,
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
            "sampler": self.sampler.state_dict(),
            "rng": rng_state(),
            "noise_bank": self.noise_bank,
            "bank_target": self.bank_target,
            "family": self.family.extra_state(),
            "best": json.dumps(self.best),
            "evals_since_best": self.evals_since_best,
            "lr_factor": self.lr_factor,
            "rollbacks": self.rollbacks,
            "precision": self.precision,
        }

    def prepare(self) -> None:
        """Let the family derive per-sample fields from the training data (once, before the
        first step; after a resume it reuses what the checkpoint holds)."""
        if self._prepared:
            return
        self.data = self.family.prepare(self.data)
        if self.ema:
            self.ema.copy_buffers(self.family.G)
        self._prepared = True

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.family.load_extra_state(state.get("family") or {})
        for k, v in state["nets"].items():
            self.family.nets[k].load_state_dict(v)
        if self.ema and state["ema"] is not None:
            self.ema.model.load_state_dict(state["ema"])
        elif self.ema:
            self.ema = EMA(self.family.G, self.tc.ema, self.tc.ema_start)
        for k, v in state["optimizers"].items():
            self.optimizers[k].load_state_dict(v)
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.sampler.load_state_dict(state["sampler"])
        self.noise_bank = state["noise_bank"]
        self.bank_target = state.get("bank_target")
        self.step, self.images_seen = int(state["step"]), int(state["images_seen"])
        self.elapsed = float(state.get("elapsed", 0.0))
        self.best = json.loads(state.get("best", "{}"))
        self.evals_since_best = int(state.get("evals_since_best", 0))
        self.lr_factor = float(state.get("lr_factor", 1.0))
        self.rollbacks = int(state.get("rollbacks", 0))
        if self.tc.precision == "auto" and state.get("precision"):  # chosen once, at the start
            self.precision = state["precision"]
            self.precision_note = "auto: chosen at the start of the run"
        set_rng_state(state["rng"])
        if self.dist.active:  # each rank continues its own noise stream
            torch.manual_seed(self.tc.seed + 1_000 * self.dist.rank + 1 + self.step)

    def resume_from(self, folder: Path) -> Path:
        """Load the newest good checkpoint in ``folder``; returns its path."""
        path, state = ckpt.load_latest(folder, map_location=self.device)
        saved = RunConfig.model_validate_json(state["config"])
        if saved.family != self.cfg.family:
            raise ConfigError(
                f"checkpoint {str(path)!r} was made for another family ({saved.family}, not "
                f"{self.cfg.family}); resume needs the run's own config"
            )
        if saved.model != self.cfg.model:
            keys = sorted(set(saved.model) | set(self.cfg.model))
            diff = [
                f"model.{k}={saved.model.get(k)!r} (now {self.cfg.model.get(k)!r})"
                for k in keys
                if saved.model.get(k) != self.cfg.model.get(k)
            ]
            raise ConfigError(
                f"checkpoint {str(path)!r} was made with {', '.join(diff)}; "
                "resume needs the run's own config"
            )
        self.load_state_dict(state)
        return path

    # -- the loop -------------------------------------------------------------------------------
    def _autocast(self, precision: str | None = None):
        precision = precision or self.precision or "fp32"
        if precision == "fp32":
            return torch.autocast(self.device.type, enabled=False)
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def choose_precision(self) -> str:
        """The precision of this run: the configured one, the one a resumed run chose, or for
        ``auto`` the faster of fp32 and bf16 autocast in a short measurement on this machine,
        model and batch (bf16 only when faster by ``BF16_MARGIN``; every rank must agree)."""
        self.prepare()
        if self.precision is None:
            key = self._precision_key()
            known = read_precision_cache().get(key)
            if known and known.get("precision") in ("fp32", "bf16") and not self.dist.active:
                self.precision = known["precision"]
                self.precision_note = f"{known.get('why', 'auto')} (measured before, remembered)"
            else:
                self.precision, self.precision_note = self._measure_precision()
                if not self.dist.active or self.dist.rank == 0:
                    remember_precision(key, self.precision, self.precision_note)
            log.info("precision %s (%s)", self.precision, self.precision_note)
        return self.precision

    def _precision_key(self) -> str:
        """What a precision measurement depends on: this machine (CPU or GPU model), torch and
        its threads, and the model, data shape and batch; the same key gets the same choice,
        so two runs of one config on one machine train alike."""
        import hashlib
        import platform

        if self.device.type == "cuda":
            where = torch.cuda.get_device_name(self.device)
        else:
            where = cpu_model() or platform.processor() or platform.machine()
        parts = [
            where,
            torch.__version__,
            str(torch.get_num_threads()),
            self.device.type,
            self.cfg.family,
            json.dumps(self.cfg.model, sort_keys=True, default=str),
            json.dumps(list(self.data.info.shape)),
            str(self.tc.batch_size),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]

    def _measure_precision(self, rounds: int = 3) -> tuple[str, str]:
        if self.device.type == "mps" or (
            self.device.type == "cuda" and not torch.cuda.is_bf16_supported()
        ):
            return "fp32", f"auto: no bf16 autocast measured on {self.device.type}"
        # The measurement trains a few steps on one fixed batch, then puts everything back:
        # weights, optimizer moments, random streams (a run is the same as without it).
        saved = copy.deepcopy(
            {
                "nets": self.family.nets.state_dict(),
                "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                "family": self.family.extra_state(),
            }
        )
        rng = rng_state()
        # one batch from a sampler of its own (a two-domain dataset indexes both domains), so
        # the run's sampler is untouched
        idx = self.data.sampler(self.tc.batch_size, seed=0).next()
        batch = self._to_device_batch(self.data.batch(idx, self.device))
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        failed = ""
        # CPU: this process's CPU time, which other jobs on the machine disturb far less
        clock = time.perf_counter if self.device.type == "cuda" else time.process_time
        try:
            for r in range(rounds + 1):  # round 0 warms both up
                for precision in ("fp32", "bf16") if r % 2 else ("bf16", "fp32"):
                    t0 = clock()
                    try:
                        self._run_phases(lambda b=batch: b, precision, sync=False)
                    except (TrainingDiverged, RuntimeError) as e:
                        # bf16 unusable here; or fp32 fails too: training reports it itself
                        failed = str(e).splitlines()[0] if str(e) else type(e).__name__
                        failed = f"{precision} failed: {failed}"
                        break
                    if self.device.type == "cuda":
                        torch.cuda.synchronize(self.device)
                    if r:
                        times[precision].append(clock() - t0)
                if failed:
                    break
        finally:
            self.family.nets.load_state_dict(saved["nets"])
            for k, o in self.optimizers.items():
                o.load_state_dict(saved["optimizers"][k])
            self.family.load_extra_state(saved["family"])
            self.family._reused = None
            set_rng_state(rng)
        speedup = 0.0 if failed else float(np.median(times["fp32"]) / np.median(times["bf16"]))
        faster = speedup >= self.BF16_MARGIN
        if self.dist.active:  # bf16 only where every rank measured it faster
            faster = not ddp.any_rank(not faster, self.dist)
        if failed:
            return "fp32", f"auto: not measured ({failed})"
        why = f"auto: bf16 autocast ran at {speedup:.2f}x the speed of fp32 here"
        return ("bf16" if faster else "fp32"), why

    def _to_device_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self.channels_last:
            return batch
        return {
            k: v.contiguous(memory_format=torch.channels_last)
            if v.ndim == 4 and v.is_floating_point()
            else v
            for k, v in batch.items()
        }

    def _run_phases(
        self, next_batch: Callable[[], dict[str, torch.Tensor]], precision: str, sync: bool = True
    ) -> dict[str, torch.Tensor]:
        """Every phase of one step in ``precision``; the logged scalars stay on the device.
        ``sync`` False: no gradient averaging over ranks (the precision measurement)."""
        logs: dict[str, torch.Tensor] = {}
        batch: dict[str, torch.Tensor] | None = None
        nets = self.family.nets
        keep_g = self.family.reuse_fakes  # G's samples carry their graph into the G phase
        for ph in self.phases:
            for name, net in nets.items():
                net.requires_grad_(name in ph.updates or (keep_g and name == self.family.generator))
            opt = self.optimizers[ph.name]
            for _ in range(ph.repeats):
                if ph.new_batch or batch is None:
                    batch = next_batch()
                opt.zero_grad(set_to_none=True)
                with self._autocast(precision):
                    loss, out = self.family.step(ph.name, batch)
                check_finite(self.step, ph.name, loss)
                self.scaler.scale(loss).backward()
                if sync and self.dist.active:
                    params = [p for n in ph.updates for p in nets[n].parameters()]
                    ddp.average_gradients(params, self.dist)
                self.scaler.step(opt)
                self.scaler.update()
                logs.update(out)  # the last repeat's values
        for net in nets.values():
            net.requires_grad_(True)
        return logs

    def train_step(self) -> dict[str, float]:
        """One generator update and the discriminator updates before it; the logged scalars."""
        return {k: float(v) for k, v in self._train_step().items()}

    def _train_step(self) -> dict[str, torch.Tensor | float]:
        """``train_step`` with the logged scalars left where they are (no host sync)."""
        self.choose_precision()
        logs: dict[str, torch.Tensor | float] = {}
        # Always from the base rates: a checkpoint made inside a decay restores decayed ones.
        scale = self.tc.lr_scale(self.step) * self.lr_factor
        for name, opt in self.optimizers.items():
            for group, base in zip(opt.param_groups, self.base_lrs[name], strict=True):
                group["lr"] = base * scale
        if self.tc.lr_decay_start is not None:
            logs["lr_scale"] = scale  # logged (stats.jsonl, dashboard) while a decay is set
        logs.update(
            self._run_phases(
                lambda: self._to_device_batch(self.data.batch(self.sampler.next(), self.device)),
                self.precision,
            )
        )
        if self.ema:
            self.ema.update(self.family.G, self.step)
        self.step += 1
        self.images_seen += self.tc.batch_size * self.dist.world
        return logs

    def fit(self, steps: int | None = None) -> dict[str, Any]:
        """Train until ``steps`` (default: the config's) and return the last logged stats.
        A learning-rate decay (``train.lr_decay_start``) always ends at ``train.steps``."""
        total = steps or self.tc.steps
        self._install_signal_handlers()
        self.choose_precision()
        # running sums of the logged scalars, on the device: read once a log tick
        acc: dict[str, list] = defaultdict(lambda: [0.0, 0])
        last: dict[str, Any] = {}
        tick_start, tick_step = time.perf_counter(), self.step
        bar = self._progress(total)
        self._write_status("running", total)
        self._last_good = copy.deepcopy(self.state_dict())
        try:
            while self.step < total:
                t0 = time.perf_counter()
                try:
                    logs = self._train_step()
                except TrainingDiverged as e:
                    self._roll_back(e, total)
                    acc.clear()
                    tick_start, tick_step = time.perf_counter(), self.step
                    continue
                for k, v in logs.items():
                    total_k = acc[k]
                    total_k[0] = total_k[0] + (v.detach().float() if torch.is_tensor(v) else v)
                    total_k[1] += 1
                self.elapsed += time.perf_counter() - t0
                if bar:
                    bar.advance(self._task)
                if self.step % self.tc.log_every == 0 or self.step == total:
                    now = time.perf_counter()
                    last = self._log_tick(acc, now - tick_start, self.step - tick_step, total)
                    acc.clear()
                    tick_start, tick_step = now, self.step
                    if bar:
                        bar.update(self._task, **self._bar_fields(last))
                if self.step % self.tc.sample_every == 0 or self.step == total:
                    self.write_samples()
                if (
                    self.evaluator
                    and self.tc.eval_every
                    and (self.step % self.tc.eval_every == 0 or self.step == total)
                ):
                    if self._evaluate():  # early stop: the run ends here, finished
                        self.save()
                        self._write_status("finished", total, early_stopped=True)
                        break
                if self.step % self.tc.checkpoint_every == 0 or self.step == total:
                    self.save()
                if self._stop_requested():
                    self._stop_signal = self._stop_signal or "SIGINT"
                    self.save()
                    self._write_status("interrupted", total)
                    if bar:
                        bar.stop()
                    raise KeyboardInterrupt(self._stop_signal)
            else:
                self._write_status("finished", total)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            error = str(e).splitlines()[0] if str(e) else type(e).__name__
            try:
                self._write_status("failed", total, error=error)
            except OSError:  # a full disk: the error itself is what the user must see
                pass
            raise
        finally:
            if bar:
                bar.stop()
            if self._tb:
                self._tb.flush()
            self._restore_signal_handlers()
        return last

    def _stop_requested(self) -> bool:
        """Ctrl-C or SIGTERM on this process, or, under torchrun, on any: the ranks agree after
        every step, so all stop at the same step and rank 0 checkpoints it."""
        if not self.dist.active:
            return bool(self._stop_signal)
        return ddp.any_rank(bool(self._stop_signal), self.dist)

    def _roll_back(self, error: TrainingDiverged, total: int) -> None:
        """A NaN/inf loss: return to the last saved state (or the state training started from)
        with the learning rates halved, at most ``train.nan_retries`` times; then stop."""
        retries = self.tc.nan_retries
        if self.rollbacks >= retries or self.dist.active or self._last_good is None:
            why = (
                f" (after {self.rollbacks} roll-back(s) with halved learning rates)"
                if self.rollbacks
                else ""
            )
            raise TrainingDiverged(f"{error}{why}") from None
        failed_at = self.step
        factor, count = self.lr_factor * 0.5, self.rollbacks + 1
        self.load_state_dict(copy.deepcopy(self._last_good))
        self.lr_factor, self.rollbacks = factor, count
        message = (
            f"{str(error).split('; ')[0]}: rolled back to step {self.step} with the learning "
            f"rates halved (x{factor:g}), {count} of {retries}"
        )
        log.warning(message)
        self.health_log.append({"step": failed_at, "warning": message})
        if self.run_dir:
            append_jsonl(self.run_dir / "stats.jsonl", {"step": failed_at, "health": [message]})
            self._write_status("running", total, rollbacks=count)

    # -- ticks ----------------------------------------------------------------------------------
    def _log_tick(self, acc, seconds: float, steps: int, total: int) -> dict[str, Any]:
        means = {k: float(v[0]) / v[1] for k, v in acc.items() if v[1]}
        means = ddp.all_mean(means, self.dist)
        record: dict[str, Any] = {
            "step": self.step,
            "images_seen": self.images_seen,
            "epoch": self.sampler.epoch,
            "time": round(self.elapsed, 3),
            "time/step_s": seconds / max(steps, 1),
            "img_per_s": steps * self.tc.batch_size * self.dist.world / max(seconds, 1e-9),
            **means,
        }
        record["diversity/fake_over_real"] = self._diversity()
        warnings = self.health.check(record)
        if self.data.info.kind == "points" and self.step % self.tc.sample_every == 0:
            record.update(self._toy_divergence())
        if warnings:
            record["health"] = warnings
            for w in warnings:
                log.warning("step %d: %s", self.step, w)
                self.health_log.append({"step": self.step, "warning": w})
        if self.run_dir:
            append_jsonl(self.run_dir / "stats.jsonl", record)
            self._write_status("running", total)
            tb = self._tensorboard()
            for k, v in record.items():
                if isinstance(v, (int, float)) and k != "step" and math.isfinite(v):
                    tb.add_scalar(k, v, self.step)
        return record

    def _diversity(self) -> float:
        """How much the fixed bank's outputs vary, over how much real samples do (the targets
        where the bank has them): near 0 when G draws one thing whatever its input."""
        fake = self.generate(self.noise_bank)
        if self.bank_target is not None:
            real = self.bank_target if self.bank_target.ndim < 5 else self.bank_target[:, 0]
        else:
            n = min(len(fake), len(self.data))  # spread over the data (it may be sorted by class)
            idx = torch.linspace(0, len(self.data) - 1, n).round().long()
            real = self.data.batch(idx, augment=False)["real"]
        return diversity_ratio(fake, real)

    def _toy_divergence(self) -> dict[str, float]:
        """JSD between real and generated 2-D histograms (the quantity the minimax game lowers)."""
        from gankit.metrics.divergence import histogram_divergences

        fake = self.generate(self.noise_bank).float().cpu().numpy()
        real = self.data.x[: len(fake)].numpy()
        return {"JSD": histogram_divergences(real, fake)["jsd"]}

    def _bar_fields(self, r: dict[str, Any]) -> dict[str, str]:
        def f(key: str) -> str:
            v = r.get(key)
            return f"{v:.3f}" if isinstance(v, float) else "-"

        # every network's loss (discriminators first), then the discriminators' accuracies
        nets = sorted(self.family.nets, key=lambda n: not n.startswith("D"))
        keys = [f"loss/{n}" for n in nets]
        if "D" in nets:
            keys += ["D(x)", "D(G(z))"]
        keys += [f"acc/{n}" for n in nets if n.startswith("D")]
        stats = "  ".join(f"{k} {f(k)}" for k in keys)
        return {"speed": f"{r.get('img_per_s', 0):,.0f} img/s", "stats": stats}

    def _progress(self, total: int):
        if not self.show_progress:
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class TwoLineProgress(Progress):
            """The bar on one line, the equilibrium numbers on the next."""

            def get_renderables(self):
                yield self.make_tasks_table(self.tasks)
                for task in self.tasks:
                    yield Text("  " + task.fields.get("stats", ""), style="dim")

        bar = TwoLineProgress(
            TextColumn("[bold]step"),
            MofNCompleteColumn(),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[speed]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            refresh_per_second=4,
            transient=False,
        )
        self._task = bar.add_task("train", total=total, completed=self.step, speed="", stats="")
        bar.start()
        return bar

    def _tensorboard(self):
        if self._tb is None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.run_dir / "tb"))
        return self._tb

    @torch.inference_mode()
    def generate(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Run the sampling generator (EMA when enabled) in eval mode on ``inputs``."""
        G = self._sampling_G()
        was_training = G.training
        G.eval()
        try:
            out = []
            n = next(iter(inputs.values())).shape[0]
            for i in range(0, n, 256):
                part = {k: v[i : i + 256].to(self.device) for k, v in inputs.items()}
                out.append(G(**part).float())
            return torch.cat(out)
        finally:
            G.train(was_training)

    def _sampling_G(self) -> torch.nn.Module:
        return self.ema.model if self.ema else self.family.G

    def write_samples(self) -> None:
        """A PNG grid (or toy scatter + JSON) from the fixed noise bank, named by step."""
        if not self.run_dir:
            return
        folder = self.run_dir / "samples"
        folder.mkdir(exist_ok=True)
        fake = self.generate(self.noise_bank)
        name = f"step_{self.step:09d}"
        if self.data.info.kind == "images":
            if self.bank_target is not None and self.bank_target.ndim == 5:  # videos
                self._write_bank(folder)
                write_bytes(folder / f"{name}.png", self._rollout_animation())
                return
            if self.bank_target is not None:  # inputs | outputs | targets, one triplet a cell
                self._write_bank(folder)
                shown = [self.noise_bank[s.name] for s in self._image_inputs()]
                columns = self.family.sample_columns(
                    self.noise_bank, self.bank_target, self._sampling_G()
                ) or (*shown, fake, self.bank_target)
                grid = translation_grid([to_uint8(t) for t in columns])
            else:
                nrow = self.data.info.num_classes if self.family.conditional else None
                shown = self.family.pictures(self.family.cfg, self.data.info, fake)
                grid = image_grid(to_uint8(shown), nrow=nrow)
            write_bytes(folder / f"{name}.png", png_bytes(grid))
            return
        real = self.data.x[:POINT_BANK].numpy().astype(np.float64)
        pts = fake.cpu().numpy().astype(np.float64)
        x0, x1, y0, y1 = plot_bounds(real)
        xs, ys = np.linspace(x0, x1, 60), np.linspace(y0, y1, 60)
        mesh = torch.tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)
        with torch.no_grad():
            D_out = self.family.critic(mesh.to(self.device))
        surface = None if D_out is None else D_out.double().cpu().numpy().reshape(60, 60)
        png = scatter_png(
            real, pts, None if surface is None else (xs, ys, surface), title=f"step {self.step}"
        )
        write_bytes(folder / f"{name}.png", png)
        doc = {
            "step": self.step,
            "real": np.round(real[:500], 4).tolist(),
            "fake": np.round(pts[:500], 4).tolist(),
            "surface": None
            if surface is None
            else {
                "x": xs.round(4).tolist(),
                "y": ys.round(4).tolist(),
                "D": surface.round(4).tolist(),
            },
        }
        write_bytes(folder / f"{name}.json", json.dumps(doc).encode())

    def _rollout_animation(self) -> bytes:
        """An animated PNG of context | predicted | true for the bank's held-out videos: G's
        rollout over as many frames as the bank has true future ones."""
        from gankit.models.video import rollout
        from gankit.viz import rollout_apng

        frames = self.noise_bank["frames"]
        preds = rollout(lambda **kw: self.generate(kw), frames, self.bank_target.shape[1])
        return rollout_apng(to_uint8(frames), to_uint8(preds), to_uint8(self.bank_target))

    def _image_inputs(self):
        return self.family.takes(self.family.cfg, self.data.info, "image", "mask", "frames")

    def _write_bank(self, folder: Path) -> None:
        """``samples/bank.npz``: the fixed held-out inputs and their targets (uint8), once a run,
        for the dashboard's Translate tab. A two-way family's unpaired held-out B images are kept
        as ``domain_b`` (the inputs of its B -> A generator), not as targets."""
        path = folder / "bank.npz"
        if path.is_file():
            return
        arrays = {s.name: to_uint8(self.noise_bank[s.name]).numpy() for s in self._image_inputs()}
        if self.family.bank_targets_match:  # else the dashboard shows no targets
            target = self.family.pictures(self.family.cfg, self.data.info, self.bank_target)
            arrays["target"] = to_uint8(target).numpy()
        elif self.bank_target is not None:
            arrays["domain_b"] = to_uint8(self.bank_target).numpy()
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        write_bytes(path, buf.getvalue())

    def _evaluate(self) -> bool:
        """Run the evaluator, track the best checkpoint; True when early stopping triggers."""
        from gankit.train.evaluation import flat_record, write_metrics

        record = flat_record(self.step, self.evaluator(self), "train")
        if self.run_dir:
            write_metrics(self.run_dir, record)
        key = self.tc.eval_metric
        if not key or record.get(key) is None:
            return False
        value, higher = record[key], record["better"].get(key) == "higher"
        best = self.best.get("value")
        if best is None or (value > best if higher else value < best):
            self.best = {"metric": key, "value": value, "step": self.step}
            self.evals_since_best = 0
            self.save(best=True)
        else:
            self.evals_since_best += 1
        return bool(self.tc.early_stop and self.evals_since_best >= self.tc.early_stop)

    def save(self, best: bool = False) -> Path | None:
        """Checkpoint the complete training state and export the generator (rank 0 only)."""
        if not self.run_dir:
            self._last_good = copy.deepcopy(self.state_dict())  # what a NaN rolls back to
            return None
        state = self.state_dict()
        folder = self.run_dir / "checkpoints"
        target = folder / ("best.pt" if best else ckpt.checkpoint_name(self.step))
        try:
            if best:
                ckpt.write_checkpoint_file(target, state)
                return target
            path = ckpt.save_checkpoint(folder, self.step, state, keep=self.tc.keep_checkpoints)
            model_cfg = self.family.cfg.model_dump(mode="json")
            exports = {"generator": (self._sampling_G(), self.data.info), **self.family.exports()}
            for name, (G, info) in exports.items():
                target = self.run_dir / name
                export_generator(target, self.cfg.family, model_cfg, info, G, self.step)
        except OSError as e:  # a full disk, a lost mount: the files already there stay good
            good = ckpt.list_checkpoints(folder)
            kept = f"; the last good checkpoint is {good[-1][1].name}" if good else ""
            raise CheckpointError(
                f"cannot write {target}: {e.strerror or e}{kept}; training stopped"
            ) from None
        self._last_good = copy.deepcopy(state)
        return path

    def _write_status(self, state: str, total: int, **extra: Any) -> None:
        if self.run_dir:
            write_status(
                self.run_dir,
                state,
                step=self.step,
                total_steps=total,
                precision=self.precision,
                precision_note=self.precision_note,
                **({"health": self.health_log[-10:]} if self.health_log else {}),
                **extra,
            )

    # -- signals --------------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        self._old_handlers = {}
        # Every rank of a torchrun run needs the handler, not only rank 0 (which owns the run
        # directory): a rank left with Python's default would raise KeyboardInterrupt mid-step
        # and wait at the exit barrier while the others wait for it in the next all_reduce.
        if (not self.run_dir and not self.dist.active) or sys.platform == "win32":
            return
        import threading

        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum, frame):
            name = signal.Signals(signum).name
            # Under torchrun a Ctrl-C reaches each worker twice (from the terminal, then
            # forwarded by torchrun): one stop. Alone, a second Ctrl-C stops now.
            if self._stop_signal == name and not self.dist.active:
                raise KeyboardInterrupt
            if self._stop_signal:
                return
            self._stop_signal = name
            log.warning(
                "%s received: saving a checkpoint at the end of this step", self._stop_signal
            )

        for s in (signal.SIGINT, signal.SIGTERM):
            self._old_handlers[s] = signal.signal(s, handler)

    def _restore_signal_handlers(self) -> None:
        for s, h in getattr(self, "_old_handlers", {}).items():
            signal.signal(s, h)


def precision_cache_path() -> Path:
    """``$GANKIT_CACHE_DIR/precision.json`` (default ``~/.cache/gankit``): the ``auto``
    precision measured per machine and model, so later runs of it choose the same."""
    import os

    root = os.environ.get("GANKIT_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "gankit") / "precision.json"


def read_precision_cache() -> dict[str, dict]:
    try:
        data = json.loads(precision_cache_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember_precision(key: str, precision: str, why: str) -> None:
    """Store one ``auto`` choice; a cache that cannot be written only costs a re-measurement."""
    try:
        path = precision_cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = read_precision_cache()
        data[key] = {"precision": precision, "why": why}
        write_json(path, data)
    except OSError:
        pass


def cpu_model() -> str:
    """The CPU's model name (Linux), or empty."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def write_config(run_dir: Path, cfg: RunConfig) -> None:
    write_json(run_dir / "config.json", json.loads(cfg.model_dump_json()))
