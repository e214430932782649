"""Typed, validated run configuration: preset -> config file -> flags -> ``--set`` overrides.

The resolved config is printed, saved as ``config.json`` in the run directory and inside every
checkpoint, and alone is enough to rebuild the model.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as the tomli package
    import tomli as tomllib

from gankit.data.base import DataConfig
from gankit.errors import ConfigError


class TrainConfig(BaseModel):
    """How long and how to train: owned by the trainer, shared by every family."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(2000, ge=1, description="generator updates")
    batch_size: int = Field(64, ge=1, le=65536, description="per-process batch size")
    seed: int = Field(0, ge=0)
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto",
        description="auto: bf16 autocast where a start-up measurement on this machine and model "
        "finds it faster, else fp32; or fp32, bf16, fp16 (CUDA)",
    )
    threads: int | None = Field(None, ge=1, description="CPU threads (default: all cores)")
    ema: float | None = Field(None, ge=0.0, lt=1.0, description="generator EMA decay, e.g. 0.999")
    ema_start: int = Field(0, ge=0, description="step at which the EMA starts averaging")
    lr_decay_start: int | float | None = Field(
        None,
        ge=0,
        description="step from which every learning rate decays linearly, reaching 0 at "
        "train.steps, or a fraction of train.steps in (0, 1), e.g. 0.5: the second half "
        "(default: constant)",
    )
    log_every: int = Field(50, ge=1)
    sample_every: int = Field(250, ge=1)
    checkpoint_every: int = Field(500, ge=1)
    keep_checkpoints: int = Field(3, ge=1)
    grid_size: int = Field(64, ge=1, le=1024, description="samples in each grid (fixed noise)")
    eval_every: int | None = Field(None, ge=1, description="evaluate metrics every K steps")
    eval_metrics: list[str] | None = Field(
        None, description="metrics to compute (default: fid + classifier score, or toy modes + JSD)"
    )
    eval_metric: str | None = Field(None, description="number that picks the best checkpoint")
    eval_n: int = Field(2000, ge=10, description="samples per evaluation")
    early_stop: int | None = Field(
        None, ge=1, description="stop after this many evaluations without improvement"
    )
    nan_retries: int = Field(
        3,
        ge=0,
        le=20,
        description="when a loss becomes NaN/inf, go back to the last good state with the "
        "learning rates halved, at most this many times; then stop",
    )

    @model_validator(mode="after")
    def _decay_within_run(self) -> TrainConfig:
        start = self.lr_decay_start
        if isinstance(start, float) and not 0 < start < 1:
            raise ValueError(
                f"train.lr_decay_start={start} is neither a step (an integer) nor a fraction of "
                "train.steps in (0, 1)"
            )
        if isinstance(start, int) and start >= self.steps:
            raise ValueError(
                f"train.lr_decay_start={start} must be below train.steps={self.steps} "
                "(the decay ends at the last step; a fraction such as 0.5 follows train.steps)"
            )
        return self

    @property
    def decay_start_step(self) -> int | None:
        """The step at which the learning-rate decay starts (a fraction resolved against
        ``steps``), or None without a decay."""
        start = self.lr_decay_start
        return round(start * self.steps) if isinstance(start, float) else start

    def lr_scale(self, step: int) -> float:
        """Factor on every base learning rate for the update made at ``step`` (0-based)."""
        start = self.decay_start_step
        if start is None or step < start:
            return 1.0
        # a fraction can round to the last step itself: the decay is then one step, to 0
        return max(self.steps - step, 0) / max(self.steps - start, 1)


class RunConfig(BaseModel):
    """Everything a run needs. ``model`` is validated by the family's own config class."""

    model_config = ConfigDict(extra="forbid")

    family: str = "dcgan"
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    preset: str | None = None
    data: DataConfig = Field(default_factory=DataConfig)
    model: dict[str, Any] = Field(default_factory=dict)
    train: TrainConfig = Field(default_factory=TrainConfig)

    def run_name(self) -> str:
        d = self.data
        if d.path_a and d.path_b:  # two folders: sketches2photos
            data = f"{Path(d.path_a).name}2{Path(d.path_b).name}"
        else:
            data = Path(d.path).name if d.path else d.name
        return self.name or f"{self.family}-{data}"


def _fields_at(model_cls: type[BaseModel], loc: tuple) -> list[str]:
    """The field names of the (nested) model that ``loc`` points into."""
    cls: Any = model_cls
    for part in loc:
        field = getattr(cls, "model_fields", {}).get(part)
        if field is None:
            break
        cls = field.annotation
    return list(getattr(cls, "model_fields", {}))


def format_validation_error(
    err: ValidationError, prefix: str = "", model_cls: type[BaseModel] | None = None
) -> str:
    """One clause per problem: ``config key 'train.lr': Input should be greater than 0 (got -1)``.

    An unknown key also lists the keys allowed at that level.
    """
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        if e["type"] == "extra_forbidden":
            allowed = _fields_at(model_cls, e["loc"][:-1]) if model_cls else []
            parts.append(
                f"unknown config key {loc!r}"
                + (f"; allowed: {', '.join(allowed)}" if allowed else "")
            )
        elif e["type"] == "value_error" and isinstance(e.get("input"), dict):
            # a check across several keys: its message names them
            parts.append(str(e["ctx"]["error"]) if "ctx" in e else e["msg"])
        else:
            got = e.get("input")
            shown = "" if isinstance(got, dict) else f" (got {got!r})"
            parts.append(f"config key {loc!r}: {e['msg']}{shown}")
    return "; ".join(parts)


def validate(model_cls: type[BaseModel], data: dict, prefix: str = "") -> Any:
    """``model_cls(**data)`` with a one-line ConfigError naming each bad key and value."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, prefix, model_cls)) from None


def deep_update(base: dict, new: dict) -> dict:
    """Recursively merge ``new`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_update(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def parse_override(item: str) -> dict:
    """``train.steps=100`` -> ``{"train": {"steps": 100}}``; the value is JSON when it parses."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not KEY=VALUE (e.g. train.steps=100)")
    key, raw = item.split("=", 1)
    if not key or any(not p for p in key.split(".")):
        raise ConfigError(f"override {item!r} has an empty key")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    out: dict = {}
    node = out
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return out


def read_config_file(path: str | Path) -> dict:
    """A JSON or TOML config file as a dict (a run's saved config.json works too)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        if p.suffix == ".toml":
            return tomllib.loads(p.read_text())
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {str(p)!r} is not valid JSON/TOML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(p)!r} must hold an object at the top level")
    return data
