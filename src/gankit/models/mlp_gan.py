"""The original fully-connected GAN (Goodfellow et al. 2014), for 2-D toys and small images.

G: z -> MLP -> a point in R^2 (linear output) or an image (tanh output).
D: sample -> MLP -> one logit. ``loss="minimax"`` is the paper's saturating game;
``"nonsaturating"`` (the default) is the paper's practical G objective -log D(G(z)).
"""

from __future__ import annotations

import math

import torch
from pydantic import Field
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family
from gankit.models.blocks import AdversarialConfig, adversarial_phases, d_step, g_step, maybe_sn
from gankit.registry import register_model


class MLPGANConfig(AdversarialConfig):
    z_dim: int = Field(64, ge=1, le=4096)
    hidden: list[int] = Field(default_factory=lambda: [256, 256], min_length=1)
    d_hidden: list[int] | None = Field(None, description="D's widths (default: hidden)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout in D, as in the paper")


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, hidden: list[int], shape: tuple[int, ...], images: bool):
        super().__init__()
        self.shape = tuple(shape)
        layers: list[nn.Module] = []
        width = z_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, math.prod(shape)))
        if images:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.shape)  # (B, *shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, in_dim: int, hidden: list[int], dropout: float, sn: bool):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            layers += [maybe_sn(nn.Linear(width, h), sn), nn.LeakyReLU(0.2)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(maybe_sn(nn.Linear(width, 1), sn))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)  # (B,)


@register_model("mlp-gan")
class MLPGAN(Family):
    """Vanilla GAN with fully-connected networks."""

    name = "mlp-gan"
    Config = MLPGANConfig

    @classmethod
    def build_generator(cls, cfg: MLPGANConfig, info: DataInfo) -> nn.Module:
        return MLPGenerator(cfg.z_dim, cfg.hidden, info.shape, info.kind == "images")

    def build(self, cfg: MLPGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        if cfg.diffaugment and info.kind != "images":
            raise ConfigError(
                f"model.diffaugment={cfg.diffaugment!r} needs images; {info.name!r} has points"
            )
        in_dim = math.prod(info.shape) * cfg.pack
        D = MLPDiscriminator(in_dim, cfg.d_hidden or cfg.hidden, cfg.dropout, cfg.spectral_norm)
        return {"G": self.build_generator(cfg, info), "D": D}

    def phases(self):
        return adversarial_phases(self.cfg)

    def step(self, phase, batch):
        fake = self.G(**self.noise_like(batch))
        if phase == "D":
            return d_step(self.nets["D"], self.cfg, batch["real"], fake)
        return g_step(self.nets["D"], self.cfg, fake)

    def critic(self, points):
        if self.cfg.pack != 1:
            return None
        logits = self.nets["D"](points)
        return logits if self.cfg.loss in ("wgan-gp", "hinge", "lsgan") else torch.sigmoid(logits)
