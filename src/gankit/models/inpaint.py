"""Inpainting: remove part of an image and let the generator fill the hole plausibly.

The generator sees the image with its hole blanked and the mask (1 = hole) and returns a whole
image; only the hole is taken from it (the output is ``where(hole, G's image, input)``, inside
``forward``, so an exported generator can change nothing outside the hole). The discriminator
judges the completed image beside the mask, patch by patch. G minimises λ·L1 over the hole plus
the adversarial loss (Context Encoders, Pathak et al. 2016, arXiv 1604.07379: reconstruction +
adversarial; the networks follow DeepFill v2, Yu et al. 2019, arXiv 1806.03589).

Generator: an encoder-decoder of gated convolutions (each layer computes features and a gate,
``ELU(f) * sigmoid(g)``, so it learns per pixel how far to trust what it sees: a hole, a hole's
edge or real pixels — Yu et al.'s fix for free-form masks, where a plain convolution treats the
blank as content), two stride-2 levels down, dilated gated convolutions at 1/4 size (the hole's
surroundings reach its middle: Iizuka et al. 2017), nearest-neighbour upsampling + convolution
back up (no transposed convolutions, so no checkerboard), skip connections from the encoder at
full and half size (so the seam matches the surroundings), tanh output. No normalisation layers:
the output does not depend on the batch, in training or in use. ``model.gated=false`` trains the
same network with plain convolutions + ELU.

Discriminator: SN-PatchGAN (Yu et al. 2019): 4×4 stride-2 convolutions with spectral
normalisation and LeakyReLU 0.2 on [image, mask], one logit per patch (about 4×4 patches on 28 to
64 px images), hinge loss. ``model.gan_weight=0`` trains the pixel-loss-only baseline.
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
from gankit.models.blocks import AdversarialConfig, LossName, d_step, g_step, maybe_sn
from gankit.registry import register_model


class InpaintConfig(AdversarialConfig):
    loss: LossName = "hinge"  # SN-PatchGAN's
    spectral_norm: bool = True
    g_channels: int = Field(32, ge=4, le=512, description="G's width at full size")
    dilations: list[int] = Field(
        default_factory=lambda: [2, 4, 8],
        description="dilation of each middle layer at 1/4 size (1 = an ordinary convolution)",
    )
    gated: bool = Field(True, description="gated convolutions in G (false: conv + ELU)")
    coarse: bool = Field(
        False,
        description="start the fill from a smooth push-pull interpolation of the surroundings "
        "and learn what to add to it",
    )
    d_channels: int = Field(32, ge=4, le=512, description="D's width")
    d_layers: int | None = Field(
        None, ge=1, le=6, description="D's stride-2 layers (default: down to about 4x4 patches)"
    )
    l1: float = Field(10.0, ge=0.0, le=10_000.0, description="weight λ of the L1 loss in the hole")
    gan_weight: float = Field(
        1.0, ge=0.0, le=100.0, description="weight of the adversarial loss (0: L1-only baseline)"
    )


class GatedConv(nn.Module):
    """``ELU(f) * sigmoid(g)`` of one convolution's two halves (Yu et al. 2019, eq. 1); with
    ``gated=False`` a plain convolution + ELU. Same-size padding for any dilation."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, stride: int = 1, dilation: int = 1,
                 gated: bool = True):  # fmt: skip
        super().__init__()
        self.gated = gated
        pad = dilation * (k - 1) // 2
        self.conv = nn.Conv2d(c_in, c_out * (2 if gated else 1), k, stride, pad, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        if not self.gated:
            return F.elu(h)
        f, g = h.chunk(2, dim=1)
        return F.elu(f) * torch.sigmoid(g)


def smooth_fill(image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """A smooth guess for the hole: push-pull interpolation (normalised averaging down a
    pyramid until every cell holds a kept pixel, then each level's missing part taken from the
    level below, bilinearly, back up). Kept pixels come back unchanged. (B, C, H, W) -> same."""
    w = (~hole).to(image.dtype)  # (B, 1, H, W): 1 = kept
    levels = [(image * w, w)]
    tracing = torch.jit.is_tracing()
    while (tracing or not (levels[-1][1] > 0).all()) and min(levels[-1][1].shape[-2:]) > 1:
        x, w = levels[-1]
        levels.append((F.avg_pool2d(x, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)))
    if tracing:  # how deep to go depends on the hole: see smooth_fill_traced
        return smooth_fill_traced(levels)
    return pull_up(levels)


def pull_up(levels: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """The pull half of push-pull, from the last (coarsest) level of ``levels`` up to the first."""
    x, w = levels[-1]
    fill = x / w.clamp_min(1e-6)
    for x, w in reversed(levels[:-1]):
        up = F.interpolate(fill, size=x.shape[-2:], mode="bilinear", align_corners=False)
        a = w.clamp(0.0, 1.0)  # the share of a cell that is known
        fill = a * (x / w.clamp_min(1e-6)) + (1 - a) * up
    return fill


def smooth_fill_traced(levels: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """``smooth_fill`` in a traced graph (ONNX export), where the depth cannot depend on the
    hole: the pull from every depth of the full pyramid, then the one ``smooth_fill`` stops at
    (the first level where every cell holds a kept pixel, else the last) picked with ``where``."""
    fill = pull_up(levels)
    for depth in range(len(levels) - 2, -1, -1):
        covered = (levels[depth][1] > 0).all()
        fill = torch.where(covered, pull_up(levels[: depth + 1]), fill)
    return fill


class InpaintGenerator(nn.Module):
    """G(image, mask): the image with its hole filled; every pixel outside the hole unchanged.

    ``image`` (B, C, H, W) in [-1, 1]; ``mask`` (B, 1, H, W), > 0 in the hole (a batch's mask is
    scaled like an image: 1 = hole, -1 = kept). Any size: the input is padded to a multiple of 4
    and the output cropped back.
    """

    def __init__(self, channels: int, cfg: InpaintConfig):
        super().__init__()
        ch, g = cfg.g_channels, cfg.gated
        self.enc0 = GatedConv(channels + 1, ch, 5, gated=g)  # full size
        self.enc1 = nn.Sequential(
            GatedConv(ch, 2 * ch, 3, 2, gated=g), GatedConv(2 * ch, 2 * ch, gated=g)
        )  # 1/2
        self.enc2 = nn.Sequential(
            GatedConv(2 * ch, 4 * ch, 3, 2, gated=g), GatedConv(4 * ch, 4 * ch, gated=g)
        )  # 1/4
        self.middle = nn.Sequential(
            *(GatedConv(4 * ch, 4 * ch, dilation=d, gated=g) for d in cfg.dilations),
            GatedConv(4 * ch, 4 * ch, gated=g),
        )
        self.dec1 = nn.Sequential(
            GatedConv(4 * ch + 2 * ch, 2 * ch, gated=g), GatedConv(2 * ch, 2 * ch, gated=g)
        )
        self.dec0 = nn.Sequential(
            GatedConv(2 * ch + ch, ch, gated=g), GatedConv(ch, ch // 2, gated=g)
        )
        self.out = nn.Conv2d(ch // 2, channels, 3, 1, 1)
        self.coarse = cfg.coarse
        if cfg.coarse:  # the fill starts as the smooth guess and learns what to add
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        hole = mask > 0  # (B, 1, H, W)
        guess = smooth_fill(image, hole) if self.coarse else torch.zeros_like(image)
        x = torch.where(hole, guess, image)  # nothing of the hole gets in
        x = torch.cat([x, hole.to(image.dtype)], 1)
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        y = self.middle(self.enc2(e1))
        y = F.interpolate(y, scale_factor=2.0, mode="nearest")
        y = self.dec1(torch.cat([y, e1], 1))
        y = F.interpolate(y, scale_factor=2.0, mode="nearest")
        y = self.dec0(torch.cat([y, e0], 1))
        if self.coarse:
            raw = (guess + self.out(y)[..., :h, :w]).clamp(-1.0, 1.0)
        else:
            raw = torch.tanh(self.out(y))[..., :h, :w]
        return torch.where(hole, raw, image)  # only the hole is replaced


def default_d_layers(h: int, w: int) -> int:
    """Stride-2 layers that leave about 4×4 patches (28 px: 2 → 7×7; 64 px: 4 → 4×4)."""
    return max(1, int(math.log2(max(1, min(h, w) // 4))))


class PatchCritic(nn.Module):
    """SN-PatchGAN on [image, mask]: one logit per patch, (B, 1, h, w)."""

    def __init__(self, channels: int, cfg: InpaintConfig, size: tuple[int, int]):
        super().__init__()
        n, ndf, sn = cfg.d_layers or default_d_layers(*size), cfg.d_channels, cfg.spectral_norm
        layers: list[nn.Module] = []
        c = channels + 1
        for i in range(n):
            c_next = ndf * min(2**i, 4)
            layers += [maybe_sn(nn.Conv2d(c, c_next, 4, 2, 1), sn), nn.LeakyReLU(0.2, True)]
            c = c_next
        layers.append(maybe_sn(nn.Conv2d(c, 1, 3, 1, 1), sn))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, (mask > 0).to(x.dtype)], 1))


@register_model("inpaint")
class Inpaint(Family):
    """Hole filling: gated-convolution G(image, mask), SN-PatchGAN D(image, mask)."""

    name = "inpaint"
    Config = InpaintConfig

    @classmethod
    def inputs(cls, cfg: InpaintConfig, info: DataInfo) -> list[Input]:
        if info.kind != "images" or "mask" not in info.inputs:
            raise ConfigError(
                f"inpaint fills holes that data.masks draws; dataset {info.name!r} has none: add "
                "--set data.masks=centre (or boxes, strokes; comma-separated to mix them)"
            )
        return [
            Input("image", "image", tuple(info.shape), doc="the image; its hole is ignored"),
            Input("mask", "mask", tuple(info.inputs["mask"]), doc="255 = hole to fill"),
        ]

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return {}  # no z: the surroundings decide the fill

    @classmethod
    def build_generator(cls, cfg: InpaintConfig, info: DataInfo) -> nn.Module:
        cls.inputs(cfg, info)
        return InpaintGenerator(info.shape[0], cfg)

    def build(self, cfg: InpaintConfig, info: DataInfo) -> dict[str, nn.Module]:
        if cfg.pack != 1 or cfg.diffaugment:
            raise ConfigError(
                "inpaint's D judges an image beside its mask; model.pack and model.diffaugment "
                "do not apply (use data.flip / data.jitter to augment)"
            )
        c, h, w = info.shape
        n = cfg.d_layers or default_d_layers(h, w)
        if min(h, w) < 2**n:
            raise ConfigError(
                f"model.d_layers={n} halves {w}x{h} images below 1 px; allowed: "
                f"1..{max(1, int(math.log2(min(h, w))))}"
            )
        return {"G": self.build_generator(cfg, info), "D": PatchCritic(c, cfg, (h, w))}

    def phases(self) -> list[Phase]:
        if self.cfg.gan_weight == 0:  # the pixel-loss-only baseline: G alone
            return [Phase("G", ("G",))]
        return [Phase("D", ("D",), repeats=self.cfg.n_critic), Phase("G", ("G",), new_batch=False)]

    def step(self, phase: str, batch: dict[str, torch.Tensor]):
        target, mask = batch["real"], batch["mask"]
        fake = self.G(image=batch["image"], mask=mask)
        D, cfg = self.nets["D"], self.cfg
        if phase == "D":
            return d_step(D, cfg, target, fake, mask=mask)
        logs: dict[str, torch.Tensor] = {}
        loss = fake.new_zeros(())
        if cfg.gan_weight:
            adv, logs = g_step(D, cfg, fake, mask=mask)
            loss = loss + cfg.gan_weight * adv
        hole = (mask > 0).to(fake.dtype)
        # mean |fake - target| over the hole's pixels (outside it they are equal by construction)
        l1 = ((fake - target).abs() * hole).sum() / (hole.sum() * fake.shape[1]).clamp_min(1.0)
        logs["loss/L1"] = l1.detach()
        if cfg.l1:
            loss = loss + cfg.l1 * l1
        return loss, logs
