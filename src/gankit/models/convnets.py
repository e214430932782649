"""DCGAN's convolutional networks and their config, which dcgan, cgan, infogan and the
autoencoders build on (Radford et al. 2015: no pooling, batch norm, LeakyReLU in D).

Two architectures, chosen by ``arch``:

- ``standard``: the paper's design generalised to sizes k*2^n (4 <= k <= 7: 8, 16, 28, 32, 64,
  128 px ...). G projects z to (C0, k, k) and doubles the size n times with 4x4 stride-2
  transposed convolutions; D mirrors it with 4x4 stride-2 convolutions. As in pytorch/examples
  ``dcgan/main.py``: BN in G (not on its output) and in D (not on its input), N(0, 0.02) init.
- ``textbook``: the Keras design taught in seed 004 (and many courses): Dense(128*s*s) ->
  LeakyReLU -> BN -> [Upsample -> Conv5x5(64) -> BN -> LeakyReLU] -> Upsample -> Conv5x5 -> tanh;
  D is Conv5x5/2(64) -> LeakyReLU -> Dropout(0.3) -> Conv5x5/2(128) -> LeakyReLU -> Dropout(0.3)
  -> Dense(1). Adam(1e-3, 0.9, 0.999) and batch 32 in the ``dcgan-textbook`` preset.

Module and parameter names are those of checkpoints and exported generators: renaming one
makes them unloadable.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.blocks import AdversarialConfig, maybe_sn
from gankit.models.selfcond import cluster_of


class ConvGANConfig(AdversarialConfig):
    """The sizes and options of DCGAN's networks; each convolutional family's config extends it
    with its own options only (so a key another family has is unknown here, not ignored)."""

    # Keys a subclass no longer has but configs saved by earlier versions hold at their off
    # value (0): dropped before validation, so those runs and exported generators still load.
    retired: ClassVar[tuple[str, ...]] = ()

    arch: Literal["standard", "textbook"] = "standard"
    z_dim: int = Field(100, ge=1, le=4096)
    g_channels: int = Field(64, ge=4, le=1024, description="G's width at full resolution")
    d_channels: int = Field(64, ge=4, le=1024, description="D's width at full resolution")
    d_batchnorm: bool = Field(True, description="batch norm in D (off with spectral_norm)")
    d_extra_layers: int = Field(
        0,
        ge=0,
        le=8,
        description="extra 3x3 stride-1 convolutions at D's coarsest resolution: a deeper D whose "
        "features each see a wider patch (28 px images: 10 px, then 18, 26; arch=standard only)",
    )
    g_norm: Literal["batch", "pixel"] = Field(
        "batch", description="G's normalisation: batch norm, or pixel norm (batch-independent)"
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_retired_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and cls.retired:
            return {k: v for k, v in data.items() if k not in cls.retired or v}
        return data

    @model_validator(mode="after")
    def _extra_layers_need_the_standard_d(self) -> ConvGANConfig:
        if self.d_extra_layers and self.arch != "standard":
            raise ValueError(
                f"model.d_extra_layers={self.d_extra_layers} deepens the standard D only; "
                f"model.arch={self.arch} has its own (use model.arch=standard or d_extra_layers=0)"
            )
        return self


def check_images(info: DataInfo, family: str) -> None:
    if info.kind != "images" or info.shape[1] != info.shape[2]:
        raise ConfigError(
            f"{family} needs square images, got {info.kind} of shape {info.shape} from "
            f"{info.name!r}; use mlp-gan for 2-D points"
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


class _ToNCHW(torch.autograd.Function):
    """``x.contiguous()`` for a channels_last ``x``, whose gradient goes back channels_last."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous(memory_format=torch.channels_last)


def is_channels_last(x: torch.Tensor) -> bool:
    return (
        x.dim() == 4
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    )


class Flatten(nn.Flatten):
    """``nn.Flatten`` that, on channels_last features, sends the gradient back channels_last:
    otherwise the layers before it run their backward on mixed memory formats, several times
    slower on CPU. The same values either way."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(_ToNCHW.apply(x) if is_channels_last(x) else x)


class Unflatten(nn.Unflatten):
    """``nn.Unflatten`` whose images come out in the memory format the module was moved to
    (``.to(memory_format=torch.channels_last)``), so that the layers after it and their
    gradients share one format. The format is kept in a small buffer outside the state dict."""

    def __init__(self, dim: int, sizes: tuple[int, ...]) -> None:
        super().__init__(dim, sizes)
        self.register_buffer("format_probe", torch.zeros(1, 2, 2, 2), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        if is_channels_last(self.format_probe):
            return out.contiguous(memory_format=torch.channels_last)
        return out


def g_norm(cfg: ConvGANConfig, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if cfg.g_norm == "batch" else PixelNorm()


def with_code(z: torch.Tensor, c: torch.Tensor | None, k: int) -> torch.Tensor:
    """``[z, one_hot(c)]`` (B, z_dim + K) when G has a categorical latent, else ``z``."""
    return torch.cat([z, F.one_hot(c, k).to(z.dtype)], dim=1) if k else z


class Generator(nn.Module):
    """``G(z, c=None, u=None)``: the standard DCGAN generator, with an optional categorical code
    of ``n_components`` values; ``clusters=K`` makes it a K-valued code with a prior (a buffer)."""

    def __init__(
        self,
        cfg: ConvGANConfig,
        shape: tuple[int, ...],
        tanh: bool = True,
        n_components: int = 0,
        clusters: int = 0,
    ):
        super().__init__()
        self.n_components = n_components = n_components or clusters
        if clusters:
            # P(cluster) in the training data; set by the family's prepare, saved with the weights.
            self.register_buffer("prior", torch.full((clusters,), 1.0 / clusters))
        c_out, size = shape[0], shape[1]
        k, n = split_size(size)
        ch = widths(cfg.g_channels, n)
        self.start = (ch[0], k, k)
        self.project = nn.Sequential(
            nn.Linear(cfg.z_dim + n_components, ch[0] * k * k, bias=False),
            Unflatten(1, self.start),  # (B, C0, k, k)
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

    def forward(
        self, z: torch.Tensor, c: torch.Tensor | None = None, u: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``c``: the categorical code (B,); or ``u`` ~ U(0, 1) (B,), mapped to a cluster drawn
        with the data's frequencies (self-conditioning)."""
        if c is None and u is not None:
            c = cluster_of(u, self.prior)
        return self.body(self.project(with_code(z, c, self.n_components)))  # (B, C, H, W)


class Discriminator(nn.Module):
    def __init__(self, cfg: ConvGANConfig, shape: tuple[int, ...]):
        super().__init__()
        c_in, size = shape[0] * cfg.pack, shape[1]
        k, n = split_size(size)
        ch = list(reversed(widths(cfg.d_channels, n)))  # finest -> coarsest
        sn, bn = cfg.spectral_norm, cfg.d_batchnorm and not cfg.spectral_norm

        def block(c_in: int, c_out: int, *conv_args: int) -> list[nn.Module]:
            conv = nn.Conv2d(c_in, c_out, *conv_args, bias=not bn)  # (kernel, stride, padding)
            return [maybe_sn(conv, sn), *([nn.BatchNorm2d(c_out)] if bn else []), nn.LeakyReLU(0.2)]

        layers: list[nn.Module] = [maybe_sn(nn.Conv2d(c_in, ch[1], 4, 2, 1), sn), nn.LeakyReLU(0.2)]
        for i in range(1, n):
            layers += block(ch[i], ch[i + 1], 4, 2, 1)
        for _ in range(cfg.d_extra_layers):  # at k x k, each widens what a feature sees by 2^(n+1)
            layers += block(ch[n], ch[n], 3, 1, 1)
        layers += [Flatten(), maybe_sn(nn.Linear(ch[n] * k * k, 1), sn)]
        self.net = nn.Sequential(*layers)
        self.apply(init_dcgan)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,)


class TextbookGenerator(nn.Module):
    def __init__(
        self, cfg: ConvGANConfig, shape: tuple[int, ...], tanh: bool = True, n_components: int = 0
    ):
        super().__init__()
        self.n_components = n_components
        c_out, size = shape[0], shape[1]
        if size % 4:
            raise ConfigError(f"the textbook DCGAN needs an image size divisible by 4, got {size}")
        s = size // 4
        self.net = nn.Sequential(
            nn.Linear(cfg.z_dim + n_components, 128 * s * s),
            nn.LeakyReLU(0.2),
            Unflatten(1, (128, s, s)),  # (B, 128, s, s)
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
        # self.net(x) computes the same; each Upsample -> Conv pair runs as upsample_conv
        net = self.net
        x = net[:4](with_code(z, c, self.n_components))  # (B, 128, s, s)
        x = net[7](net[6](upsample_conv(x, net[5])))  # (B, 64, 2s, 2s)
        return net[10](upsample_conv(x, net[9]))  # (B, C, H, W)


def phase_taps(k: int) -> torch.Tensor:
    """(2, T, k) 0/1 matrices: row r of phase a sums the taps of a k-tap kernel (padding k // 2)
    that land on input offset r - T // 2 once the input is upsampled x2 by repetition."""
    pad = k // 2
    offsets = [[(a + d - pad) // 2 for d in range(k)] for a in (0, 1)]
    half = max(max(abs(o) for o in row) for row in offsets)
    m = torch.zeros(2, 2 * half + 1, k)
    for a, row in enumerate(offsets):
        for d, o in enumerate(row):
            m[a, o + half, d] = 1.0
    return m


def upsample_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(upsample_nearest_x2(x))`` without building the upsampled image: each of the four
    output phases (even/odd row, even/odd column) is a small convolution of ``x`` whose kernel
    sums the taps that read the same input pixel (a 5x5 kernel becomes four 3x3 ones), run as one
    convolution with 4x the output channels and a pixel shuffle. The same function and the same
    parameters (and their gradients) as the Upsample -> Conv2d pair, in 36 % of the
    multiply-adds for 5x5 kernels (bench/bench_throughput.py measures the training speed-up)."""
    k = conv.kernel_size[0]
    taps = phase_taps(k).to(conv.weight)  # (2, T, k)
    w = torch.einsum("ary,bsx,ocyx->oabcrs", taps, taps, conv.weight)  # (O, 2, 2, C, T, T)
    w = w.reshape(-1, *w.shape[3:])  # (4 O, C, T, T): channel o * 4 + a * 2 + b
    bias = None if conv.bias is None else conv.bias.repeat_interleave(4)
    y = F.conv2d(x, w, bias, padding=taps.shape[1] // 2)  # (B, 4 O, h, w)
    return F.pixel_shuffle(y, 2)  # (B, O, 2 h, 2 w)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with its mask drawn by ``rand_like`` (uniform floats) instead of
    ``bernoulli_``, which is about twice as slow on CPU (bench/bench_throughput.py): the same
    inverted dropout (keep with probability 1 - p, scale by 1 / (1 - p)), another random stream."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0
        return x * (torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p))


class TextbookDiscriminator(nn.Module):
    def __init__(self, cfg: ConvGANConfig, shape: tuple[int, ...]):
        super().__init__()
        c_in, size = shape[0] * cfg.pack, shape[1]
        sn = cfg.spectral_norm
        self.net = nn.Sequential(
            maybe_sn(nn.Conv2d(c_in, 64, 5, 2, 2), sn),
            nn.LeakyReLU(0.2),
            Dropout(0.3),
            maybe_sn(nn.Conv2d(64, 128, 5, 2, 2), sn),
            nn.LeakyReLU(0.2),
            Dropout(0.3),
            Flatten(),
            maybe_sn(nn.Linear(128 * ((size + 3) // 4) ** 2, 1), sn),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,)


def make_generator(
    cfg: ConvGANConfig,
    shape: tuple[int, ...],
    tanh: bool = True,
    n_components: int = 0,
    clusters: int = 0,
) -> nn.Module:
    """The configured architecture's G for images of ``shape`` (C, H, W), taking ``[z,
    one_hot(c)]`` with a categorical code of ``n_components`` (or ``clusters``) values;
    ``tanh=False`` leaves the output layer linear (pre-activations, e.g. for a likelihood on
    logits)."""
    if cfg.arch == "textbook":
        assert not clusters, "self-conditioning needs the standard generator"
        return TextbookGenerator(cfg, shape, tanh, n_components)
    return Generator(cfg, shape, tanh, n_components, clusters)


def make_discriminator(cfg: ConvGANConfig, shape: tuple[int, ...]) -> nn.Module:
    """The configured architecture's D; its ``net`` ends with the Linear that gives the logit."""
    return (TextbookDiscriminator if cfg.arch == "textbook" else Discriminator)(cfg, shape)


class ProjectionDiscriminator(nn.Module):
    """``D(x, label) = w . phi(x) + <embed(label), phi(x)>`` with phi = DCGAN's D minus its head
    (Miyato & Koyama 2018, "cGANs with Projection Discriminator")."""

    def __init__(self, cfg: ConvGANConfig, shape: tuple[int, ...], num_classes: int):
        super().__init__()
        dcgan_d = make_discriminator(cfg, shape)
        self.phi = dcgan_d.net[:-1]  # everything up to the final Linear: (B, F)
        self.head = dcgan_d.net[-1]  # Linear(F, 1)
        embed = nn.Embedding(num_classes, self.head.in_features)
        nn.init.normal_(embed.weight, 0.0, 0.02)
        self.embed = maybe_sn(embed, cfg.spectral_norm)

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        h = self.phi(x)  # (B, F)
        return self.head(h).squeeze(1) + (self.embed(label) * h).sum(1)  # (B,)
