"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks"):
a U-Net generator turns an input image into an output image; a PatchGAN discriminator judges
(input, output) pairs patch by patch; G minimises the conditional adversarial loss plus λ·L1 to the
target (λ = 100).

As in the paper and its reference code (junyanz/pytorch-CycleGAN-and-pix2pix, ``unet_256``,
``basic`` D): 4×4 stride-2 convolutions, LeakyReLU 0.2 down and ReLU up, batch norm except on the
outermost layers and the bottleneck, dropout 0.5 in the three deepest decoder layers (the
generator's only noise: there is no z), tanh output, N(0, 0.02) initialisation, Adam 2e-4 /
β1 0.5. The U-Net pads its input to a multiple of ``2^depth`` and crops the output back, so it
takes any image size (28×28 digits included).

The discriminator's receptive field is a config value (``model.receptive_field``): 1 is the
paper's PixelGAN (1×1 convolutions), 16 / 34 / 70 / 142 / 286 are PatchGANs with 1 to 5 stride-2
layers (70 is the paper's default); one that covers the whole image is the paper's ImageGAN.
``model.gan_weight=0`` trains the L1-only baseline, ``model.l1=0`` the cGAN-only one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import d_step, g_step
from gankit.models.patchgan import (  # noqa: F401  (PATCH_FIELDS, PatchDiscriminator: re-exported)
    PATCH_FIELDS,
    PatchDiscriminator,
    PatchGANConfig,
    build_patch_discriminator,
    init_normal,
    norm_layer,
)
from gankit.registry import register_model


class Pix2PixConfig(PatchGANConfig):
    g_channels: int = Field(64, ge=4, le=1024, description="U-Net width at full resolution (ngf)")
    g_max_channels: int = Field(512, ge=4, le=4096, description="U-Net width cap (ngf * 8)")
    depth: int | None = Field(
        None, ge=2, le=9, description="U-Net levels (default: down to 1 px, at most 8)"
    )
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="dropout in the 3 deepest up layers")
    conditional_d: bool = Field(True, description="D sees (input, output) pairs, not outputs alone")
    l1: float = Field(100.0, ge=0.0, le=10_000.0, description="weight λ of the L1 loss to targets")
    gan_weight: float = Field(
        1.0, ge=0.0, le=100.0, description="weight of the adversarial loss (0: L1-only baseline)"
    )


def default_depth(h: int, w: int) -> int:
    return min(8, max(2, math.ceil(math.log2(min(h, w)))))


class UNet(nn.Module):
    """Encoder-decoder with a skip connection from every encoder level to its decoder level."""

    def __init__(self, in_ch: int, out_ch: int, cfg: Pix2PixConfig, size: tuple[int, int]):
        super().__init__()
        depth = cfg.depth or default_depth(*size)
        chs = [min(cfg.g_channels * 2**i, cfg.g_max_channels) for i in range(depth)]
        use_bias = cfg.norm == "instance"
        self.depth = depth
        self.down = nn.ModuleList()
        for i in range(depth):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2, True)]
            layers.append(
                nn.Conv2d(in_ch if i == 0 else chs[i - 1], chs[i], 4, 2, 1, bias=use_bias)
            )
            if 0 < i < depth - 1:
                layers.append(norm_layer(cfg.norm, chs[i]))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            c_in = chs[i] if i == depth - 1 else 2 * chs[i]
            c_out = out_ch if i == 0 else chs[i - 1]
            layers = [
                nn.ReLU(True),
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=i == 0 or use_bias),
            ]
            if i == 0:
                layers.append(nn.Tanh())
            else:
                layers.append(norm_layer(cfg.norm, c_out))
                if cfg.dropout and i >= depth - 3:
                    layers.append(nn.Dropout(cfg.dropout))
            self.up.append(nn.Sequential(*layers))
        self.apply(init_normal)

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        h, w = source.shape[-2:]
        m = 2**self.depth
        ph, pw = (-h) % m, (-w) % m
        x = F.pad(source, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="replicate")
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = skips.pop()
        for i, layer in enumerate(self.up):
            if i:
                x = torch.cat([x, skips.pop()], 1)
            x = layer(x)
        return x[..., ph // 2 : ph // 2 + h, pw // 2 : pw // 2 + w]


@register_model("pix2pix")
class Pix2Pix(Family):
    """Paired image-to-image translation: U-Net G(source), PatchGAN D(source, image)."""

    name = "pix2pix"
    Config = Pix2PixConfig
    folder_dataset = "paired"

    @classmethod
    def source_shape(cls, info: DataInfo) -> tuple[int, int, int]:
        if info.kind != "images" or "source" not in info.inputs:
            raise ConfigError(
                f"pix2pix translates paired images; dataset {info.name!r} has no input images. "
                "Use --data edges2digits, edges2photos, a folder of A|B images, or "
                "--set data.path_a=DIR_A --set data.path_b=DIR_B"
            )
        return tuple(info.inputs["source"])

    @classmethod
    def inputs(cls, cfg: Pix2PixConfig, info: DataInfo) -> list[Input]:
        return [Input("source", "image", cls.source_shape(info), doc="the image to translate")]

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return {}  # no z: dropout is the generator's noise, as in the paper

    @classmethod
    def build_generator(cls, cfg: Pix2PixConfig, info: DataInfo) -> nn.Module:
        c_in, h, w = cls.source_shape(info)
        return UNet(c_in, info.shape[0], cfg, (h, w))

    def build(self, cfg: Pix2PixConfig, info: DataInfo) -> dict[str, nn.Module]:
        if cfg.pack != 1 or cfg.diffaugment:
            raise ConfigError(
                "pix2pix's D judges aligned (input, output) pairs; model.pack and "
                "model.diffaugment do not apply (use data.flip / data.jitter to augment pairs)"
            )
        G = self.build_generator(cfg, info)
        c_in, h, w = self.source_shape(info)
        d_in = info.shape[0] + (c_in if cfg.conditional_d else 0)
        D = build_patch_discriminator(d_in, cfg, (h, w), conditional=cfg.conditional_d)
        return {"G": G, "D": D}

    def phases(self) -> list[Phase]:
        if self.cfg.gan_weight == 0:  # the L1-only baseline: G alone
            return [Phase("G", ("G",))]
        return [Phase("D", ("D",), repeats=self.cfg.n_critic), Phase("G", ("G",), new_batch=False)]

    def step(self, phase: str, batch: dict[str, torch.Tensor]):
        source, target = batch["source"], batch["real"]
        fake = self.G(source=source)
        D, cfg = self.nets["D"], self.cfg
        if phase == "D":
            return d_step(D, cfg, target, fake, source=source)
        logs: dict[str, torch.Tensor] = {}
        loss = fake.new_zeros(())
        if cfg.gan_weight:
            adv, logs = g_step(D, cfg, fake, source=source)
            loss = loss + cfg.gan_weight * adv
        l1 = (fake - target).abs().mean()
        logs["loss/L1"] = l1.detach()
        if cfg.l1:
            loss = loss + cfg.l1 * l1
        return loss, logs
