"""DCGAN (Radford et al. 2015): convolutional G and D, no pooling, batch norm, LeakyReLU in D.

Two architectures:

- ``standard``: the paper's design generalised to sizes k*2^n (4 <= k <= 7: 8, 16, 28, 32, 64,
  128 px ...). G projects z to (C0, k, k) and doubles the size n times with 4x4 stride-2
  transposed convolutions; D mirrors it with 4x4 stride-2 convolutions. As in pytorch/examples
  ``dcgan/main.py``: BN in G (not on its output) and in D (not on its input), N(0, 0.02) init.
- ``textbook``: the Keras design taught in seed 004 (and many courses): Dense(128*s*s) ->
  LeakyReLU -> BN -> [Upsample -> Conv5x5(64) -> BN -> LeakyReLU] -> Upsample -> Conv5x5 -> tanh;
  D is Conv5x5/2(64) -> LeakyReLU -> Dropout(0.3) -> Conv5x5/2(128) -> LeakyReLU -> Dropout(0.3)
  -> Dense(1). Adam(1e-3, 0.9, 0.999) and batch 32 in the ``dcgan-textbook`` preset.
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
from gankit.models.blocks import AdversarialConfig, adversarial_phases, d_step, g_step, maybe_sn
from gankit.registry import register_model


class DCGANConfig(AdversarialConfig):
    arch: Literal["standard", "textbook"] = "standard"
    z_dim: int = Field(100, ge=1, le=4096)
    g_channels: int = Field(64, ge=4, le=1024, description="G's width at full resolution")
    d_channels: int = Field(64, ge=4, le=1024, description="D's width at full resolution")
    d_batchnorm: bool = Field(True, description="batch norm in D (off with spectral_norm)")
    g_norm: Literal["batch", "pixel"] = Field(
        "batch", description="G's normalisation: batch norm, or pixel norm (batch-independent)"
    )
    n_components: int = Field(
        0, ge=0, le=1024, description="categorical latent: K equally likely one-hot codes (0: off)"
    )


def split_size(size: int) -> tuple[int, int]:
    """size = k * 2^n with 4 <= k <= 7 -> (k, n); e.g. 28 -> (7, 2), 64 -> (4, 4)."""
    k, n = size, 0
    while k > 7 and k % 2 == 0:
        k, n = k // 2, n + 1
    if not 4 <= k <= 7 or n == 0:
        raise ConfigError(
            f"DCGAN cannot build image size {size}; allowed: k*2^n with 4<=k<=7, n>=1 "
            "(e.g. 8, 16, 28, 32, 64, 128)"
        )
    return k, n


def widths(base: int, n: int) -> list[int]:
    """Channel widths from the coarsest to the finest of n+1 resolutions, capped at 8x base."""
    return [base * min(2 ** (n - i), 8) for i in range(n + 1)]


def init_dcgan(m: nn.Module) -> None:
    # pytorch/examples dcgan: conv weights N(0, 0.02), BN weight N(1, 0.02), bias 0.
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        w = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
        nn.init.normal_(w, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class PixelNorm(nn.Module):
    """x / sqrt(mean_c x^2 + eps) at each pixel (Karras et al. 2018, "Progressive Growing of
    GANs", Section 4.2). Unlike batch norm it does not depend on the batch, so a sample looks the
    same in training and eval mode and an averaged (EMA) generator needs no recomputed statistics.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)  # (B, C, H, W)


def with_code(z: torch.Tensor, c: torch.Tensor | None, k: int) -> torch.Tensor:
    """``[z, one_hot(c)]`` (B, z_dim + K) when G has a categorical latent, else ``z``."""
    return torch.cat([z, F.one_hot(c, k).to(z.dtype)], dim=1) if k else z


def g_norm(cfg: DCGANConfig, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if cfg.g_norm == "batch" else PixelNorm()


class Generator(nn.Module):
    def __init__(self, cfg: DCGANConfig, shape: tuple[int, ...], tanh: bool = True):
        super().__init__()
        self.n_components = cfg.n_components
        c_out, size = shape[0], shape[1]
        k, n = split_size(size)
        ch = widths(cfg.g_channels, n)
        self.start = (ch[0], k, k)
        self.project = nn.Sequential(
            nn.Linear(cfg.z_dim + cfg.n_components, ch[0] * k * k, bias=False),
            nn.Unflatten(1, self.start),  # (B, C0, k, k)
            g_norm(cfg, ch[0]),
            nn.ReLU(True),
        )
        ups: list[nn.Module] = []
        for i in range(n):
            last = i == n - 1
            out = c_out if last else ch[i + 1]
            ups.append(nn.ConvTranspose2d(ch[i], out, 4, 2, 1, bias=last))
            ups += ([nn.Tanh()] if tanh else []) if last else [g_norm(cfg, out), nn.ReLU(True)]
        self.body = nn.Sequential(*ups)
        self.apply(init_dcgan)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.body(self.project(with_code(z, c, self.n_components)))  # (B, C, H, W)


class Discriminator(nn.Module):
    def __init__(self, cfg: DCGANConfig, shape: tuple[int, ...]):
        super().__init__()
        c_in, size = shape[0] * cfg.pack, shape[1]
        k, n = split_size(size)
        ch = list(reversed(widths(cfg.d_channels, n)))  # finest -> coarsest
        sn, bn = cfg.spectral_norm, cfg.d_batchnorm and not cfg.spectral_norm
        layers: list[nn.Module] = [maybe_sn(nn.Conv2d(c_in, ch[1], 4, 2, 1), sn), nn.LeakyReLU(0.2)]
        for i in range(1, n):
            layers.append(maybe_sn(nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1, bias=not bn), sn))
            layers += [nn.BatchNorm2d(ch[i + 1])] if bn else []
            layers.append(nn.LeakyReLU(0.2))
        layers += [nn.Flatten(), maybe_sn(nn.Linear(ch[n] * k * k, 1), sn)]
        self.net = nn.Sequential(*layers)
        self.apply(init_dcgan)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,)


class TextbookGenerator(nn.Module):
    def __init__(self, cfg: DCGANConfig, shape: tuple[int, ...], tanh: bool = True):
        super().__init__()
        self.n_components = cfg.n_components
        c_out, size = shape[0], shape[1]
        if size % 4:
            raise ConfigError(f"the textbook DCGAN needs an image size divisible by 4, got {size}")
        s = size // 4
        self.net = nn.Sequential(
            nn.Linear(cfg.z_dim + cfg.n_components, 128 * s * s),
            nn.LeakyReLU(0.2),
            nn.Unflatten(1, (128, s, s)),  # (B, 128, s, s)
            g_norm(cfg, 128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 5, padding=2),
            g_norm(cfg, 64),
            nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(64, c_out, 5, padding=2),
            nn.Tanh() if tanh else nn.Identity(),
        )

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(with_code(z, c, self.n_components))  # (B, C, H, W)


class TextbookDiscriminator(nn.Module):
    def __init__(self, cfg: DCGANConfig, shape: tuple[int, ...]):
        super().__init__()
        c_in, size = shape[0] * cfg.pack, shape[1]
        sn = cfg.spectral_norm
        self.net = nn.Sequential(
            maybe_sn(nn.Conv2d(c_in, 64, 5, 2, 2), sn),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            maybe_sn(nn.Conv2d(64, 128, 5, 2, 2), sn),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Flatten(),
            maybe_sn(nn.Linear(128 * ((size + 3) // 4) ** 2, 1), sn),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,)


def check_images(info: DataInfo, family: str = "dcgan") -> None:
    if info.kind != "images" or info.shape[1] != info.shape[2]:
        raise ConfigError(
            f"{family} needs square images, got {info.kind} of shape {info.shape} from "
            f"{info.name!r}; use mlp-gan for 2-D points"
        )


def make_generator(cfg: DCGANConfig, shape: tuple[int, ...], tanh: bool = True) -> nn.Module:
    """The configured architecture's G for images of ``shape`` (C, H, W); ``tanh=False`` leaves
    the output layer linear (pre-activations, e.g. for a likelihood on logits)."""
    return (TextbookGenerator if cfg.arch == "textbook" else Generator)(cfg, shape, tanh)


def make_discriminator(cfg: DCGANConfig, shape: tuple[int, ...]) -> nn.Module:
    """The configured architecture's D; its ``net`` ends with the Linear that gives the logit."""
    return (TextbookDiscriminator if cfg.arch == "textbook" else Discriminator)(cfg, shape)


@register_model("dcgan")
class DCGAN(Family):
    """Deep convolutional GAN."""

    name = "dcgan"
    Config = DCGANConfig

    @classmethod
    def build_generator(cls, cfg: DCGANConfig, info: DataInfo) -> nn.Module:
        check_images(info)
        return make_generator(cfg, info.shape)

    def build(self, cfg: DCGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        return {"G": self.build_generator(cfg, info), "D": make_discriminator(cfg, info.shape)}

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        z = torch.randn(n, cfg.z_dim, generator=generator)
        if not cfg.n_components:
            return {"z": z}
        return {"z": z, "c": torch.randint(cfg.n_components, (n,), generator=generator)}

    def phases(self):
        return adversarial_phases(self.cfg)

    def step(self, phase, batch):
        fake = self.G(**self.noise_like(batch))
        if phase == "D":
            return d_step(self.nets["D"], self.cfg, batch["real"], fake)
        return g_step(self.nets["D"], self.cfg, fake)
