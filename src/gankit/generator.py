"""The exported generator: ``generator/config.json`` + ``generator/model.safetensors``.

``gankit.load(path)`` rebuilds the generator from the config alone and loads its weights with
safetensors (no pickle). It needs none of the training state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

import gankit
from gankit.data.base import DataInfo, to_uint8
from gankit.errors import ConfigError, RunError
from gankit.registry import MODELS


def export_generator(
    folder: Path, family: str, model_cfg: dict, info: DataInfo, G: torch.nn.Module, step: int
) -> None:
    """Write the generator's weights and the config that rebuilds it, each file atomically."""
    from gankit.train.checkpoint import atomic_write_bytes

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in G.state_dict().items()}
    atomic_write_bytes(folder / "model.safetensors", save(tensors, metadata={"step": str(step)}))
    meta = {
        "format": "gankit-generator/1",
        "gankit_version": gankit.__version__,
        "family": family,
        "model": model_cfg,
        "data": info.model_dump(mode="json"),
        "step": step,
    }
    atomic_write_bytes(folder / "config.json", (json.dumps(meta, indent=2) + "\n").encode())


class Generator:
    """A trained generator, ready to sample. ``images`` come back as uint8 (N, C, H, W)."""

    def __init__(self, family_cls: Any, cfg: Any, info: DataInfo, module: torch.nn.Module, meta):
        self.family_cls, self.cfg, self.info, self.module, self.meta = (
            family_cls,
            cfg,
            info,
            module.eval(),
            meta,
        )

    @property
    def family(self) -> str:
        return self.meta["family"]

    @property
    def conditional(self) -> bool:
        return bool(self.family_cls.conditional)

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def to(self, device: str | torch.device) -> Generator:
        self.module.to(device)
        return self

    def latent(self, n: int, seed: int | None = None) -> dict[str, torch.Tensor]:
        """Generator inputs for ``n`` samples; the same seed always gives the same inputs."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.family_cls.latent(self.cfg, self.info, n, generator=g)

    @torch.no_grad()
    def __call__(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Raw output: images in [-1, 1] (N, C, H, W) or points (N, 2)."""
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        return self.module(**inputs)

    def sample(
        self, n: int, seed: int | None = None, label: int | torch.Tensor | None = None
    ) -> torch.Tensor:
        """``n`` samples: uint8 images (N, C, H, W), or float32 points (N, 2)."""
        inputs = self.latent(n, seed)
        if self.conditional:
            inputs["label"] = self.labels(n, label, seed)
        elif label is not None:
            raise ConfigError(f"--label given, but family {self.family!r} is not conditional")
        out = self(**inputs)
        return to_uint8(out) if self.info.kind == "images" else out.float().cpu()

    def labels(self, n: int, label: int | torch.Tensor | None, seed: int | None) -> torch.Tensor:
        k = self.info.num_classes
        if label is None:
            return torch.arange(n) % k
        if isinstance(label, torch.Tensor):
            return label.long()
        if not 0 <= label < k:
            raise ConfigError(f"label {label} is out of range; allowed: 0..{k - 1}")
        return torch.full((n,), int(label), dtype=torch.long)


def load(path: str | Path, device: str | torch.device = "cpu") -> Generator:
    """Load an exported generator from a run directory or its ``generator/`` folder."""
    p = Path(path)
    folder = p / "generator" if (p / "generator" / "config.json").is_file() else p
    cfg_file, weights = folder / "config.json", folder / "model.safetensors"
    if not cfg_file.is_file() or not weights.is_file():
        raise RunError(
            f"no exported generator in {str(p)!r} (expected config.json and model.safetensors)"
        )
    meta = json.loads(cfg_file.read_text())
    family_cls = MODELS.get(meta["family"])
    cfg = family_cls.Config.model_validate(meta["model"])
    info = DataInfo.model_validate(meta["data"])
    module = family_cls.build_generator(cfg, info)
    module.load_state_dict(load_file(weights))
    return Generator(family_cls, cfg, info, module, meta).to(device)
