"""The PatchGAN discriminator that the image-to-image families share (pix2pix, CycleGAN).

As in Isola et al. 2017 and its reference code (junyanz/pytorch-CycleGAN-and-pix2pix, ``basic``
D): 4×4 convolutions, LeakyReLU 0.2, batch or instance norm except on the first and last layers,
one logit per patch. The receptive field is a config value (``model.receptive_field``): 1 is the
PixelGAN (1×1 convolutions), 16 / 34 / 70 / 142 / 286 are PatchGANs with 1 to 5 stride-2 layers
(70 is the paper's default). Module names are checkpoint keys, so they stay fixed.
"""

from __future__ import annotations

import torch
from pydantic import Field, field_validator
from torch import nn

from gankit.errors import ConfigError
from gankit.models.blocks import AdversarialConfig, maybe_sn

# receptive field (px) -> stride-2 layers: r(n) = 2 r(n-1) + 2 from r(1) = 16 (two 4x4 stride-1
# layers after n stride-2 ones); r = 1 is the PixelGAN of 1x1 convolutions
PATCH_FIELDS = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}  # receptive field -> stride-2 layers


class PatchGANConfig(AdversarialConfig):
    """The PatchGAN's settings, and the normalisation its family uses in G and D."""

    d_channels: int = Field(64, ge=4, le=1024, description="PatchGAN width (ndf)")
    receptive_field: int = Field(
        70, description="D's receptive field in px: 1 (PixelGAN), 16, 34, 70, 142 or 286"
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


class PatchDiscriminator(nn.Module):
    """One logit per patch of ``receptive_field`` px; with ``conditional`` D sees [source, x]."""

    def __init__(
        self, in_ch: int, cfg: PatchGANConfig, size: tuple[int, int], conditional: bool = False
    ):
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
        self.conditional = conditional
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
    cfg = PatchGANConfig(receptive_field=field, d_channels=4)
    try:
        PatchDiscriminator(channels, cfg, size)
    except RuntimeError:
        return False
    return True


def build_patch_discriminator(
    in_ch: int, cfg: PatchGANConfig, size: tuple[int, int], conditional: bool = False
) -> PatchDiscriminator:
    """A PatchDiscriminator, or one clear line naming the receptive fields that fit ``size``."""
    try:
        return PatchDiscriminator(in_ch, cfg, size, conditional)
    except RuntimeError:
        h, w = size
        fit = [f for f in PATCH_FIELDS if f < cfg.receptive_field and fits(f, in_ch, size)]
        raise ConfigError(
            f"model.receptive_field={cfg.receptive_field} leaves no patch on {h}x{w} images; "
            f"choose one of {', '.join(map(str, fit))} (or larger images)"
        ) from None
