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
from pydantic import Field, field_validator
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import AdversarialConfig, d_step, g_step, maybe_sn
from gankit.registry import register_model

# receptive field (px) -> stride-2 layers: r(n) = 2 r(n-1) + 2 from r(1) = 16 (two 4x4 stride-1
# layers after n stride-2 ones); r = 1 is the PixelGAN of 1x1 convolutions
PATCH_FIELDS = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}  # receptive field -> stride-2 layers


class Pix2PixConfig(AdversarialConfig):
    g_channels: int = Field(64, ge=4, le=1024, description="U-Net width at full resolution (ngf)")
    g_max_channels: int = Field(512, ge=4, le=4096, description="U-Net width cap (ngf * 8)")
    depth: int | None = Field(
        None, ge=2, le=9, description="U-Net levels (default: down to 1 px, at most 8)"
    )
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="dropout in the 3 deepest up layers")
    d_channels: int = Field(64, ge=4, le=1024, description="PatchGAN width (ndf)")
    receptive_field: int = Field(
        70, description="D's receptive field in px: 1 (PixelGAN), 16, 34, 70, 142 or 286"
    )
    conditional_d: bool = Field(True, description="D sees (input, output) pairs, not outputs alone")
    l1: float = Field(100.0, ge=0.0, le=10_000.0, description="weight λ of the L1 loss to targets")
    gan_weight: float = Field(
        1.0, ge=0.0, le=100.0, description="weight of the adversarial loss (0: L1-only baseline)"
    )
    norm: str = Field("batch", description="normalisation in G and D: batch or instance")

    @field_validator("receptive_field")
    @classmethod
    def _known_field(cls, v: int) -> int:
        if v not in PATCH_FIELDS:
            raise ValueError(
                f"receptive_field={v} is not one a PatchGAN has; allowed: "
                f"{', '.join(map(str, PATCH_FIELDS))} (1 = PixelGAN)"
            )
        return v

    @field_validator("norm")
    @classmethod
    def _known_norm(cls, v: str) -> str:
        if v not in ("batch", "instance"):
            raise ValueError(f"norm={v!r}; allowed: batch, instance")
        return v


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    return nn.BatchNorm2d(channels)


def init_normal(m: nn.Module) -> None:
    """N(0, 0.02) for convolutions, N(1, 0.02) for norm scales (the reference ``init_weights``)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


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


class PatchDiscriminator(nn.Module):
    """One logit per patch of ``receptive_field`` px; with ``conditional`` D sees [source, x]."""

    def __init__(self, in_ch: int, cfg: Pix2PixConfig, size: tuple[int, int]):
        super().__init__()
        ndf, sn, n = cfg.d_channels, cfg.spectral_norm, PATCH_FIELDS[cfg.receptive_field]
        norm = (lambda c: nn.Identity()) if sn else (lambda c: norm_layer(cfg.norm, c))
        if n == 0:  # PixelGAN: every pixel judged on its own
            layers = [
                maybe_sn(nn.Conv2d(in_ch, ndf, 1), sn),
                nn.LeakyReLU(0.2, True),
                maybe_sn(nn.Conv2d(ndf, 2 * ndf, 1, bias=False), sn),
                norm(2 * ndf),
                nn.LeakyReLU(0.2, True),
                maybe_sn(nn.Conv2d(2 * ndf, 1, 1), sn),
            ]
        else:
            layers = [maybe_sn(nn.Conv2d(in_ch, ndf, 4, 2, 1), sn), nn.LeakyReLU(0.2, True)]
            c = ndf
            for k in range(1, n + 1):
                c_next = ndf * min(2**k, 8)
                stride = 2 if k < n else 1
                layers += [
                    maybe_sn(nn.Conv2d(c, c_next, 4, stride, 1, bias=False), sn),
                    norm(c_next),
                    nn.LeakyReLU(0.2, True),
                ]
                c = c_next
            layers.append(maybe_sn(nn.Conv2d(c, 1, 4, 1, 1), sn))
        self.net = nn.Sequential(*layers)
        self.conditional = cfg.conditional_d
        self.apply(init_normal)
        with torch.no_grad():  # raises when the image is too small for this many layers
            self.net.eval()(torch.zeros(1, in_ch, *size))
        self.net.train()

    def forward(self, x: torch.Tensor, source: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            x = torch.cat([source, x], 1)
        return self.net(x)


def fits(field: int, channels: int, size: tuple[int, int]) -> bool:
    """Whether a PatchGAN of this receptive field leaves at least one patch on ``size``."""
    cfg = Pix2PixConfig(receptive_field=field, d_channels=4, conditional_d=False)
    try:
        PatchDiscriminator(channels, cfg, size)
    except RuntimeError:
        return False
    return True


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
        try:
            D = PatchDiscriminator(d_in, cfg, (h, w))
        except RuntimeError:
            fit = [f for f in PATCH_FIELDS if f < cfg.receptive_field and fits(f, d_in, (h, w))]
            raise ConfigError(
                f"model.receptive_field={cfg.receptive_field} leaves no patch on {h}x{w} images; "
                f"choose one of {', '.join(map(str, fit))} (or larger images)"
            ) from None
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
