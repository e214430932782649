"""Class-conditional GAN: G(z, c) draws a sample of class c; D judges (image, class) pairs.

Papers: Mirza & Osindero 2014, "Conditional Generative Adversarial Nets" (the condition is
concatenated to the inputs of G and D); Miyato & Koyama 2018, "cGANs with Projection
Discriminator" (D(x, y) = psi(phi(x)) + <embed(y), phi(x)>, the form used by SNGAN/BigGAN;
reference: pfnet-research/sngan_projection ``snresnet.py``).

The networks are DCGAN's (``gankit.models.convnets``), so every option of DCGAN's networks
(width, spectral norm, loss, DiffAugment, the textbook architecture) works here too:

- G: a learned class embedding ``e(c)`` is concatenated to z; a DCGAN generator maps
  ``[z, e(c)]`` to an image. ``G(z, label)``.
- D, ``conditioning="projection"`` (default): DCGAN's discriminator body gives features
  ``phi(x)`` (B, F); the logit is ``w . phi(x) + <embed(y), phi(x)>``.
- D, ``conditioning="concat"``: the label as K one-hot planes concatenated to the image channels
  (Mirza & Osindero's D), followed by DCGAN's discriminator.

Labels come from the dataset; G is trained on the labels of the batch D just saw, so the classes
are drawn as often as in the data.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family
from gankit.models.blocks import adversarial_phases, d_step, g_step
from gankit.models.convnets import (
    ConvGANConfig,
    ProjectionDiscriminator,
    check_images,
    make_discriminator,
    make_generator,
)
from gankit.registry import register_model


class CGANConfig(ConvGANConfig):
    retired = ("n_components", "clusters", "mode_seeking")  # saved while it extended DCGANConfig

    conditioning: Literal["projection", "concat"] = Field(
        "projection", description="how D sees the label: projection (Miyato) or concat planes"
    )
    embed_dim: int = Field(32, ge=1, le=1024, description="size of G's class embedding")


class ConditionalGenerator(nn.Module):
    """``G(z, label)``: DCGAN generator on ``[z, embed(label)]``."""

    def __init__(self, cfg: CGANConfig, shape: tuple[int, ...], num_classes: int):
        super().__init__()
        self.embed = nn.Embedding(num_classes, cfg.embed_dim)
        self.body = make_generator(
            cfg.model_copy(update={"z_dim": cfg.z_dim + cfg.embed_dim}), shape
        )

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, self.embed(label)], dim=1))  # (B, C, H, W)


class ConcatDiscriminator(nn.Module):
    """``D(x, label)``: DCGAN's D on the image with K one-hot label planes appended."""

    def __init__(self, cfg: CGANConfig, shape: tuple[int, ...], num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        c, h, w = shape
        self.body = make_discriminator(cfg, (c + num_classes, h, w))

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        planes = F.one_hot(label, self.num_classes).to(x.dtype)  # (B, K)
        planes = planes[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, K, H, W)
        return self.body(torch.cat([x, planes], dim=1))  # (B,)


def _check_labels(cfg: CGANConfig, info: DataInfo) -> None:
    check_images(info, "cgan")
    if info.num_classes < 2:
        raise ConfigError(
            f"cgan needs a labelled dataset; {info.name!r} has no class labels "
            "(try mnist5k, digits, mnist or fashion-mnist)"
        )
    if cfg.pack != 1:
        raise ConfigError(f"cgan does not support model.pack={cfg.pack} (one label per D input)")


@register_model("cgan")
class CGAN(Family):
    """Class-conditional DCGAN with a projection (or concatenation) discriminator."""

    name = "cgan"
    Config = CGANConfig
    conditional = True

    @classmethod
    def build_generator(cls, cfg: CGANConfig, info: DataInfo) -> nn.Module:
        _check_labels(cfg, info)
        return ConditionalGenerator(cfg, info.shape, info.num_classes)

    def build(self, cfg: CGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        D_cls = ProjectionDiscriminator if cfg.conditioning == "projection" else ConcatDiscriminator
        return {
            "G": self.build_generator(cfg, info),
            "D": D_cls(cfg, info.shape, info.num_classes),
        }

    def phases(self):
        return adversarial_phases(self.cfg)

    def step(self, phase, batch):
        label = batch["label"]  # (B,) the real batch's classes, also G's condition
        fake = self.G(**self.noise_like(batch))
        if phase == "D":
            return d_step(self.nets["D"], self.cfg, batch["real"], fake, label=label)
        return g_step(self.nets["D"], self.cfg, fake, label=label)
