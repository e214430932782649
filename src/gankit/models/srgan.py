"""SRGAN (Ledig et al. 2017, arXiv 1609.04802): a generator makes a sharp image ``model.scale``
times larger than its input; trained first with a pixel loss alone (the paper's SRResNet), then
adversarially against a discriminator that sees high-resolution images.

**The degradation** is made on the fly from each clean batch, so any image dataset is training
data: ``bicubic_down`` = ``torch.nn.functional.interpolate(mode="bicubic", antialias=True,
align_corners=False)`` to exactly ``(H / s, W / s)``. With ``antialias`` torch uses PIL's
resampling filter: Keys' cubic with a = -0.5, stretched by the scale factor (support 2·s input
pixels either side of each output pixel's centre, so the filter is also the anti-aliasing
low-pass), weights renormalised where they fall off the image. It matches Pillow's
``Image.resize(..., BICUBIC)`` (and MATLAB's ``imresize``, the SR papers' reference, away from the
border). The low-resolution image is then quantised to uint8 levels, since that is what a user's
small image is. No noise, no blur kernel beyond the filter: deterministic.

**The generator** (SRResNet): a 9×9 convolution, ``model.blocks`` residual blocks of two 3×3
convolutions with a PReLU between them, a 3×3 convolution with a skip around the whole body, one
×2 upsampling stage per factor of two, and a 9×9 convolution to the output. Two departures from
the paper, both for a small CPU budget: no batch norm (EDSR, Lim et al. 2017: BN hurts PSNR in SR
and makes outputs depend on the batch), and with ``model.residual`` the network predicts the
difference to a bicubic upsampling of its input (VDSR, Kim et al. 2016), so it starts from
bicubic quality instead of from grey.

**Upsampling** is sub-pixel convolution (Shi et al. 2016: a 3×3 convolution to 4× the channels,
then ``PixelShuffle(2)``) as in the paper, initialised with ICNR (Aitken et al. 2017): the four
sub-pixel kernels start equal, so at step 0 the stage is a nearest-neighbour upsampling followed
by a convolution and has no checkerboard; the pattern that sub-pixel layers are known for only
appears if training drives the four kernels apart. ``model.upsample=resize`` is the alternative
(Odena et al. 2016): nearest-neighbour ×2, then a 3×3 convolution, free of the pattern by
construction at the same cost.

**The discriminator** is pix2pix's PatchGAN (unconditional; ``model.receptive_field`` px patches),
so it takes any crop size. **The content loss**: no pretrained VGG can be had offline, so G's loss
is ``pixel_weight`` · L1 (or L2) + ``content_weight`` · D-feature matching (L1 between D's
intermediate activations on the output and on the real image, ``model.content=dfeat``; Salimans
et al. 2016, and the discriminator-feature loss of Larsen et al. 2016) + ``gan_weight`` ·
adversarial loss. ``model.gan_weight=0`` is SRResNet. ``model.warmup_steps`` trains the pixel loss
alone for that many steps first (the paper initialises SRGAN from SRResNet); the generator after
the warm-up is exactly the SRResNet preset's of as many steps.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import nn

from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError, DataError
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import AdversarialConfig, d_step, g_step
from gankit.models.pix2pix import PATCH_FIELDS, PatchDiscriminator, Pix2PixConfig
from gankit.registry import register_model

SCALES = (2, 4)


# -- the degradation and the bicubic baseline ---------------------------------------------------
def bicubic_down(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Float images (N, C, H, W) -> (N, C, H / scale, W / scale), antialiased bicubic (PIL's
    filter: Keys a = -0.5 stretched by ``scale``). H and W must be multiples of ``scale``."""
    h, w = x.shape[-2:]
    if h % scale or w % scale:
        raise DataError(f"images of {w}x{h} px do not divide by the scale factor {scale}")
    return F.interpolate(
        x, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False
    )


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] rounded to the 256 uint8 levels (what an image file holds)."""
    return x.add(1.0).mul(127.5).round().clamp(0, 255).div(127.5).sub(1.0)


def degrade(real: torch.Tensor, scale: int) -> torch.Tensor:
    """The low-resolution input for a clean batch in [-1, 1]: ``bicubic_down``, then quantised
    to uint8 levels. Deterministic (no random kernel or noise)."""
    return quantize(bicubic_down(real, scale))


def degrade_uint8(images: np.ndarray | torch.Tensor, scale: int) -> np.ndarray:
    """``degrade`` for uint8 (N, C, H, W) images, uint8 out: the same values training sees."""
    x = torch.as_tensor(np.asarray(images)).float().div(127.5).sub(1.0)
    lr = degrade(x, scale)
    return lr.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def bicubic_up_uint8(images: np.ndarray, scale: int) -> np.ndarray:
    """The bicubic baseline: uint8 (N, C, h, w) -> (N, C, h·s, w·s) with Pillow's bicubic
    (``Image.resize(BICUBIC)``, channel by channel)."""
    from PIL import Image

    n, c, h, w = images.shape
    out = np.empty((n, c, h * scale, w * scale), np.uint8)
    for i in range(n):
        for k in range(c):
            img = Image.fromarray(images[i, k]).resize(
                (w * scale, h * scale), Image.Resampling.BICUBIC
            )
            out[i, k] = np.asarray(img)
    return out


# -- networks -------------------------------------------------------------------------------------
class SRGANConfig(AdversarialConfig):
    scale: int = Field(4, description="upscaling factor: 4 (default) or 2")
    g_channels: int = Field(32, ge=4, le=512, description="generator width (64 in the paper)")
    blocks: int = Field(6, ge=1, le=64, description="residual blocks (16 in the paper)")
    upsample: Literal["subpixel", "resize"] = Field(
        "subpixel", description="subpixel (PixelShuffle, ICNR init) or resize (nearest + conv)"
    )
    residual: bool = Field(True, description="G predicts the difference to bicubic upsampling")
    d_channels: int = Field(32, ge=4, le=1024, description="PatchGAN width")
    receptive_field: int = Field(34, description="D's patch size in px: 16, 34, 70, 142 or 286")
    pixel_loss: Literal["l1", "l2"] = Field("l1", description="pixel loss to the clean image")
    pixel_weight: float = Field(1.0, ge=0.0, le=1000.0, description="weight of the pixel loss")
    content: Literal["none", "dfeat"] = Field(
        "dfeat", description="content loss: D-feature matching (dfeat) or none"
    )
    content_weight: float = Field(1.0, ge=0.0, le=1000.0, description="content loss weight")
    gan_weight: float = Field(
        1e-2, ge=0.0, le=100.0, description="adversarial loss weight (0: SRResNet, pixel loss)"
    )
    warmup_steps: int = Field(
        0, ge=0, description="pixel-loss-only steps before the adversarial ones (SRResNet init)"
    )

    @field_validator("scale")
    @classmethod
    def _known_scale(cls, v: int) -> int:
        if v not in SCALES:
            raise ValueError(f"scale={v}; allowed: {', '.join(map(str, SCALES))}")
        return v

    @field_validator("receptive_field")
    @classmethod
    def _patch(cls, v: int) -> int:
        if v not in PATCH_FIELDS or v == 1:
            raise ValueError(f"receptive_field={v}; allowed: 16, 34, 70, 142, 286")
        return v


class ResBlock(nn.Module):
    """conv 3×3 - PReLU - conv 3×3, plus the input (no batch norm, as in EDSR)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1), nn.PReLU(ch), nn.Conv2d(ch, ch, 3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def icnr_(conv: nn.Conv2d, factor: int = 2) -> None:
    """ICNR: the ``factor²`` sub-pixel kernels of each output channel start equal, so the
    sub-pixel layer begins as nearest-neighbour upsampling after one convolution."""
    out_ch = conv.out_channels // factor**2
    sub = torch.empty(out_ch, *conv.weight.shape[1:])
    nn.init.kaiming_normal_(sub, a=0.25)  # PReLU's initial slope
    with torch.no_grad():
        conv.weight.copy_(sub.repeat_interleave(factor**2, dim=0))
        conv.bias.zero_()


class SRResNet(nn.Module):
    """Low-resolution image in [-1, 1] -> an image ``scale`` times larger; any input size."""

    def __init__(self, channels: int, cfg: SRGANConfig):
        super().__init__()
        nf, self.scale, self.residual = cfg.g_channels, cfg.scale, cfg.residual
        self.head = nn.Sequential(nn.Conv2d(channels, nf, 9, padding=4), nn.PReLU(nf))
        self.body = nn.Sequential(
            *[ResBlock(nf) for _ in range(cfg.blocks)], nn.Conv2d(nf, nf, 3, padding=1)
        )
        ups: list[nn.Module] = []
        for _ in range(int(math.log2(cfg.scale))):
            if cfg.upsample == "subpixel":
                conv = nn.Conv2d(nf, 4 * nf, 3, padding=1)
                icnr_(conv)
                ups += [conv, nn.PixelShuffle(2), nn.PReLU(nf)]
            else:
                ups += [
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv2d(nf, nf, 3, padding=1),
                    nn.PReLU(nf),
                ]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(nf, channels, 9, padding=4)
        if self.residual:  # start at bicubic: the correction is zero at step 0
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)
        # Input pixels on each side that reach an output pixel (head 4, 2 per block, body 1,
        # one per upsampling conv at most, the tail's 4 HR px, bicubic's 2): what a tile needs.
        self.halo = 4 + 2 * cfg.blocks + 1 + len(ups) // 3 + math.ceil(4 / cfg.scale) + 2

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        h = self.head(source)
        out = self.tail(self.up(h + self.body(h)))
        if self.residual:
            out = out + F.interpolate(
                source, scale_factor=self.scale, mode="bicubic", align_corners=False
            )
        return out


def d_features(D: PatchDiscriminator, x: torch.Tensor) -> list[torch.Tensor]:
    """D's activations after each LeakyReLU (the features the content loss matches)."""
    feats = []
    for layer in D.net:
        x = layer(x)
        if isinstance(layer, nn.LeakyReLU):
            feats.append(x)
    return feats


def tiled_forward(G: nn.Module, x: torch.Tensor, tile: int) -> torch.Tensor:
    """``G(x)`` computed on ``tile``×``tile`` pieces of the input, each with ``G.halo`` pixels of
    context on every side that the image has, so the result is the whole-image one while memory
    stays bounded."""
    n, c, h, w = x.shape
    s, halo = G.scale, G.halo
    if h <= tile and w <= tile:
        return G(source=x)
    out = x.new_empty(n, c, h * s, w * s)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            a0, b0 = max(y0 - halo, 0), max(x0 - halo, 0)
            a1, b1 = min(y1 + halo, h), min(x1 + halo, w)
            part = G(source=x[:, :, a0:a1, b0:b1])
            out[:, :, y0 * s : y1 * s, x0 * s : x1 * s] = part[
                :, :, (y0 - a0) * s : (y1 - a0) * s, (x0 - b0) * s : (x1 - b0) * s
            ]
    return out


@torch.no_grad()
def upscale(G, image: np.ndarray, tile: int = 128) -> np.ndarray:
    """One uint8 (C, h, w) image of any size through an exported SR generator (``gankit.load``):
    uint8 (C, h·s, w·s). Channels are kept: a grayscale model upscales a colour image channel by
    channel; a colour model upscales a grayscale image as grey RGB and returns its mean."""
    c_model = G.info.shape[0]
    x = torch.from_numpy(np.ascontiguousarray(image)).float().div(127.5).sub(1.0)
    c = x.shape[0]
    if c not in (1, 3):
        raise DataError(f"images must have 1 or 3 channels; got {c}")
    batch = x[:, None] if c_model == 1 else (x.expand(3, -1, -1) if c == 1 else x)[None]
    y = tiled_forward(G.module, batch.to(G.device), tile).float().cpu()
    y = y[:, 0] if c_model == 1 else (y[0].mean(0, keepdim=True) if c == 1 else y[0])
    return y.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).numpy()


# -- the family -----------------------------------------------------------------------------------
@register_model("srgan")
class SRGAN(Family):
    """Super-resolution: G(low-resolution image) -> ``scale``× larger; D judges HR patches."""

    name = "srgan"
    Config = SRGANConfig
    fully_convolutional = True

    @classmethod
    def source_shape(cls, cfg: SRGANConfig, info: DataInfo) -> tuple[int, int, int]:
        if info.kind != "images":
            raise ConfigError(f"srgan upscales images; dataset {info.name!r} holds points")
        c, h, w = info.shape
        s = cfg.scale
        if h % s or w % s or h < 2 * s or w < 2 * s:
            raise ConfigError(
                f"model.scale={s} needs image sides that are multiples of {s} (at least "
                f"{2 * s} px); dataset {info.name!r} has {w}x{h} (set data.image_size)"
            )
        return (c, h // s, w // s)

    @classmethod
    def inputs(cls, cfg: SRGANConfig, info: DataInfo) -> list[Input]:
        return [
            Input("source", "image", cls.source_shape(cfg, info), doc="the low-resolution image")
        ]

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return {}  # no z: SR is a deterministic regression to one image

    @classmethod
    def sample_bank(
        cls,
        cfg: SRGANConfig,
        info: DataInfo,
        n: int,
        data: ArrayDataset,
        generator: torch.Generator | None = None,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The first ``n`` samples spread over the data, degraded: (inputs, clean targets)."""
        n = min(n, len(data))
        idx = torch.linspace(0, len(data) - 1, n).round().long()
        real = data.batch(idx, augment=False)["real"]
        return {"source": degrade(real, cfg.scale)}, real

    @classmethod
    def build_generator(cls, cfg: SRGANConfig, info: DataInfo) -> nn.Module:
        cls.source_shape(cfg, info)
        return SRResNet(info.shape[0], cfg)

    def build(self, cfg: SRGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        if cfg.pack != 1 or cfg.diffaugment:
            raise ConfigError(
                "srgan's D compares outputs with aligned clean images; model.pack and "
                "model.diffaugment do not apply (use data.flip / data.jitter)"
            )
        G = self.build_generator(cfg, info)  # first: G's init does not depend on D's settings
        c, h, w = info.shape
        d_cfg = Pix2PixConfig(
            d_channels=cfg.d_channels,
            receptive_field=cfg.receptive_field,
            conditional_d=False,
            spectral_norm=cfg.spectral_norm,
        )
        try:
            D = PatchDiscriminator(c, d_cfg, (h, w))
        except RuntimeError:
            raise ConfigError(
                f"model.receptive_field={cfg.receptive_field} leaves no patch on {w}x{h} images; "
                "choose a smaller one (16, 34, 70)"
            ) from None
        self.g_updates = 0  # counts G steps, for the warm-up; saved in checkpoints
        return {"G": G, "D": D}

    def phases(self) -> list[Phase]:
        if self.cfg.gan_weight == 0:  # SRResNet: G alone, pixel loss
            return [Phase("G", ("G",))]
        return [Phase("D", ("D",), repeats=self.cfg.n_critic), Phase("G", ("G",), new_batch=False)]

    @property
    def warming_up(self) -> bool:
        return self.g_updates < self.cfg.warmup_steps

    def step(self, phase: str, batch: dict[str, torch.Tensor]):
        cfg, D = self.cfg, self.nets["D"]
        real = batch["real"]
        if phase == "D" and self.warming_up:
            # D waits; a zero loss on its weights leaves them (and Adam's moments) unchanged
            return sum(p.sum() for p in D.parameters()) * 0.0, {}
        source = degrade(real, cfg.scale)
        fake = self.G(source=source)
        if phase == "D":
            return d_step(D, cfg, real, fake)
        self.g_updates += 1
        diff = fake - real
        pix = diff.abs().mean() if cfg.pixel_loss == "l1" else diff.pow(2).mean()
        loss = cfg.pixel_weight * pix
        logs: dict[str, torch.Tensor] = {"loss/pixel": pix.detach()}
        if cfg.gan_weight and self.g_updates > cfg.warmup_steps:
            if cfg.content == "dfeat" and cfg.content_weight:
                with torch.no_grad():
                    f_real = d_features(D, real)
                f_fake = d_features(D, fake)
                content = sum(
                    (a - b).abs().mean() for a, b in zip(f_fake, f_real, strict=True)
                ) / len(f_real)
                loss = loss + cfg.content_weight * content
                logs["loss/content"] = content.detach()
            adv, g_logs = g_step(D, cfg, fake)
            loss = loss + cfg.gan_weight * adv
            logs.update(g_logs)
        return loss, logs

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"g_updates": torch.tensor(self.g_updates)}

    def load_extra_state(self, state: dict) -> None:
        if "g_updates" in state:
            self.g_updates = int(state["g_updates"])
