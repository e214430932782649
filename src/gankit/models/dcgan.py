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

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from gankit.data.base import ArrayDataset, DataInfo
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
    n_components: int = Field(
        0, ge=0, le=1024, description="categorical latent: K equally likely one-hot codes (0: off)"
    )
    clusters: int = Field(
        0,
        ge=0,
        le=1024,
        description="self-conditioning: K k-means clusters of the training images label G's "
        "categorical code and a projection D; drawn as often as in the data (0: off)",
    )
    mode_seeking: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description="weight of the mode-seeking term: G is rewarded when two noise vectors with "
        "the same code give different images (MSGAN; 0: off)",
    )

    @model_validator(mode="after")
    def _extra_layers_need_the_standard_d(self) -> DCGANConfig:
        if self.d_extra_layers and self.arch != "standard":
            raise ValueError(
                f"model.d_extra_layers={self.d_extra_layers} deepens the standard D only; "
                f"model.arch={self.arch} has its own (use model.arch=standard or d_extra_layers=0)"
            )
        return self


# DCGAN_ONLY: options of the unconditional DCGAN that its subclasses (cgan, infogan) do not use.
DCGAN_ONLY = ("clusters", "mode_seeking")


def refuse_dcgan_only(cfg: DCGANConfig, family: str) -> None:
    """A one-line error for a DCGAN-only option set on a family that would ignore it."""
    for key in DCGAN_ONLY:
        if getattr(cfg, key):
            raise ConfigError(
                f"{family} does not use model.{key}={getattr(cfg, key)} (a dcgan option); remove it"
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


def cluster_of(u: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Inverse CDF: uniform ``u`` (B,) -> category index (B,) with probabilities ``prior`` (K,)."""
    cdf = prior.cumsum(0)
    return torch.searchsorted(cdf / cdf[-1], u.contiguous(), right=True).clamp_(max=len(prior) - 1)


def check_cluster_count(k: int, n: int) -> None:
    if k > n:
        raise ConfigError(
            f"model.clusters={k} is more than the {n} training images; "
            "set a smaller model.clusters, or 0 (off)"
        )


def image_clusters(x: torch.Tensor, k: int, seed: int = 0) -> torch.Tensor:
    """k-means cluster ids (N,) of uint8 images ``x`` (N, C, H, W).

    Images are shrunk to at most 32 px, projected on their first 64 principal components and
    clustered with k-means (fitted on at most 20,000 of them, then every image assigned), which
    is deterministic for a given ``seed``.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    check_cluster_count(k, len(x))
    feats = x.float().div(255.0)
    if feats.shape[-1] > 32:
        feats = F.adaptive_avg_pool2d(feats, 32)
    feats = feats.flatten(1).numpy()
    rng = np.random.default_rng(seed)
    fit = feats[rng.choice(len(feats), 20_000, replace=False)] if len(feats) > 20_000 else feats
    pca = PCA(min(64, *fit.shape), random_state=seed).fit(fit)
    km = KMeans(k, n_init=4, random_state=seed).fit(pca.transform(fit))
    return torch.from_numpy(km.predict(pca.transform(feats)).astype(np.int64))


class SelfConditioning:
    """The cluster bookkeeping of a self-conditioned family (``model.clusters=K``; dcgan and
    mlp-gan): ids assigned once and kept in every checkpoint, G's prior set from their share."""

    _cluster_ids: torch.Tensor | None = None  # (N,) the training samples' clusters

    def check_data(self, data: ArrayDataset) -> None:
        check_cluster_count(self.cfg.clusters, len(data))

    def assign_clusters(
        self, data: ArrayDataset, cluster: Callable[[torch.Tensor, int], torch.Tensor]
    ) -> ArrayDataset:
        """``data`` with each sample's cluster id under ``extra["cluster"]`` (``cluster(x, K)``
        runs only when no checkpoint supplied the ids), and G's prior set to their share."""
        k = self.cfg.clusters
        ids = self._cluster_ids
        if ids is None or len(ids) != len(data):  # a resumed run reuses its checkpoint's ids
            ids = cluster(data.x, k)
        self._cluster_ids = ids
        self.G.prior.copy_(torch.bincount(ids, minlength=k).float() / len(ids))
        return dataclasses.replace(data, extra={**data.extra, "cluster": ids})

    def extra_state(self) -> dict[str, Any]:
        """The training samples' cluster ids, so a resume neither reclusters nor can differ."""
        ids = self._cluster_ids
        return {} if ids is None else {"cluster_ids": ids.to(torch.int32)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "cluster_ids" in state:
            self._cluster_ids = state["cluster_ids"].long().cpu()


def code_traversal(
    cfg: Any, code: str, rows: int, cols: int | None, generator: torch.Generator | None, family: str
) -> dict[str, torch.Tensor]:
    """Inputs for a grid, row-major: each row one z, each column one value of the categorical
    code (all K values, at most 100): ``cluster`` (with ``clusters=K``) or ``c`` (with
    ``n_components=K``). Shared by the families with these two options (dcgan, mlp-gan)."""
    k = cfg.clusters if code == "cluster" else cfg.n_components if code == "c" else 0
    if not k:
        allowed = "cluster" if cfg.clusters else "c" if cfg.n_components else None
        if allowed is None:
            raise ConfigError(
                f"this {family} has no categorical code to traverse; train with "
                "model.clusters=K or model.n_components=K"
            )
        raise ConfigError(f"unknown code {code!r} to traverse; allowed: {allowed}")
    cols = cols or min(k, 100)
    z = torch.randn(rows, cfg.z_dim, generator=generator).repeat_interleave(cols, dim=0)
    return {"z": z, "c": (torch.arange(cols) % k).repeat(rows)}  # (rows*cols,) each


def g_norm(cfg: DCGANConfig, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if cfg.g_norm == "batch" else PixelNorm()


class Generator(nn.Module):
    def __init__(self, cfg: DCGANConfig, shape: tuple[int, ...], tanh: bool = True):
        super().__init__()
        self.n_components = cfg.n_components
        if cfg.clusters:
            # P(cluster) in the training data; set by DCGAN.prepare, saved with the weights.
            self.register_buffer("prior", torch.full((cfg.clusters,), 1.0 / cfg.clusters))
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

    def forward(
        self, z: torch.Tensor, c: torch.Tensor | None = None, u: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``c``: the categorical code (B,); or ``u`` ~ U(0, 1) (B,), mapped to a cluster drawn
        with the data's frequencies (self-conditioning)."""
        if c is None and u is not None:
            c = cluster_of(u, self.prior)
        return self.body(self.project(with_code(z, c, self.n_components)))  # (B, C, H, W)


class Discriminator(nn.Module):
    def __init__(self, cfg: DCGANConfig, shape: tuple[int, ...]):
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


class ProjectionDiscriminator(nn.Module):
    """``D(x, label) = w . phi(x) + <embed(label), phi(x)>`` with phi = DCGAN's D minus its head."""

    def __init__(self, cfg: DCGANConfig, shape: tuple[int, ...], num_classes: int):
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
class DCGAN(SelfConditioning, Family):
    """Deep convolutional GAN (self-conditioned on image clusters with ``clusters=K``)."""

    name = "dcgan"
    Config = DCGANConfig

    @classmethod
    def build_generator(cls, cfg: DCGANConfig, info: DataInfo) -> nn.Module:
        check_images(info)
        clash = (
            "model.n_components (both give G a categorical code)"
            if cfg.n_components
            else f"model.arch={cfg.arch}"
            if cfg.arch != "standard"
            else f"model.pack={cfg.pack}"
            if cfg.pack != 1
            else None
        )
        if cfg.clusters and clash:
            raise ConfigError(
                f"model.clusters={cfg.clusters} (self-conditioning) does not combine with {clash}; "
                "add --set model.clusters=0 to turn it off"
            )
        if cfg.clusters:
            cfg = cfg.model_copy(update={"n_components": cfg.clusters})
        return make_generator(cfg, info.shape)

    def build(self, cfg: DCGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        G = self.build_generator(cfg, info)
        if cfg.clusters:
            return {"G": G, "D": ProjectionDiscriminator(cfg, info.shape, cfg.clusters)}
        return {"G": G, "D": make_discriminator(cfg, info.shape)}

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        z = torch.randn(n, cfg.z_dim, generator=generator)
        if cfg.clusters:
            return {"z": z, "u": torch.rand(n, generator=generator)}
        if cfg.n_components:
            return {"z": z, "c": torch.randint(cfg.n_components, (n,), generator=generator)}
        return {"z": z}

    @classmethod
    def traversal(cls, cfg, info, code, rows, cols=None, generator=None):
        return code_traversal(cfg, code, rows, cols, generator, cls.name)

    def prepare(self, data: ArrayDataset) -> ArrayDataset:
        """Self-conditioning (Liu et al. 2020, "Diverse Image Generation via Self-Conditioned
        GANs"; here the clusters are k-means on pixels, fixed for the run): each training image
        gets its cluster id, and G's prior is the clusters' share of the data."""
        return self.assign_clusters(data, image_clusters) if self.cfg.clusters else data

    def phases(self):
        return adversarial_phases(self.cfg)

    def step(self, phase, batch):
        z = self.noise_like(batch)
        if self.cfg.clusters:  # G draws the clusters of the real batch, D judges (image, cluster)
            z = {"z": z["z"], "c": batch["cluster"]}
        if phase == "G" and self.cfg.mode_seeking and "c" in z:
            half = len(z["c"]) // 2  # pairs (i, i + half) share a code for the mode-seeking term
            z["c"] = torch.cat([z["c"][:half], z["c"][:half], z["c"][2 * half :]])
        cond = {"label": z["c"]} if self.cfg.clusters else {}
        fake = self.G(**z)
        if phase == "D":
            return d_step(self.nets["D"], self.cfg, batch["real"], fake, **cond)
        loss, logs = g_step(self.nets["D"], self.cfg, fake, **cond)
        if self.cfg.mode_seeking:
            ms = mode_seeking_loss(fake, z["z"])
            logs["loss/mode_seeking"] = ms.detach()
            loss = loss + self.cfg.mode_seeking * ms
        return loss, logs


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """MSGAN (Mao et al. 2019, "Mode Seeking GANs", eq. 3): 1 / (mean|G(z1) - G(z2)| / mean|z1 -
    z2|) over the pairs (i, i + B/2) of the batch; small when different noise gives different
    images, so a conditional G cannot ignore z."""
    half = len(z) // 2
    d_img = (fake[:half] - fake[half : 2 * half]).abs().mean()
    d_z = (z[:half] - z[half : 2 * half]).abs().mean()
    return 1.0 / (d_img / d_z + eps)
