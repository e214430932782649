"""Tag-conditioned GAN: G(z, tags) draws a character with the tags asked for (multi-label).

Paper: Jin et al. 2017, "Towards the Automatic Anime Characters Creation with Generative
Adversarial Networks" (arXiv 1708.05509), at CPU scale on DCGAN's networks
(``gankit.models.convnets``). A tag vector is multi-hot: one tag of each exclusive group (hair
colour, eye colour, hair style) and any of the independent ones (smile, glasses, ...); the names,
groups and training frequencies come with the data (``DataInfo.tags``, ``tag_groups``,
``tag_freq``).

- **G**: ``[z, tags]`` concatenated, DCGAN's generator (the paper's input, noise + tag vector).
- **D**: DCGAN's discriminator features ``h(x)`` with two heads: the adversarial logit (it does
  not see the tags) and ``T`` tag logits, a multi-label classifier (ACGAN, Odena et al. 2017,
  with a sigmoid per tag). ``model.conditioning="projection"`` adds the projection term
  ``<W tags, h(x)>`` to the adversarial logit (Miyato & Koyama 2018) for the ablation.
- **Losses** (the paper's): D minimises its adversarial loss plus ``tag_weight`` x the tag BCE on
  *real* images only (a classifier trained on early, poor fakes learns their artefacts);
  G minimises its adversarial loss plus ``tag_weight`` x the tag BCE of its fakes against the tags
  it was given. ``model.classify_fakes=true`` also trains D's classifier on fakes (ACGAN's
  original form).
- **Why a classifier head rather than projection alone**: what is measured is whether a separate
  tag classifier finds the requested tags; the auxiliary head trains G on exactly that signal,
  one independent term per tag, which suits many overlapping binary tags (projection D was
  designed for one label out of K).
- **Tags G is trained on** are drawn from the training frequencies, each group and tag
  independently (``draw_tags``), not copied from the real batch, so G also meets combinations
  the data never shows (the held-out ones); the paper samples them likewise.

``latent`` draws both ``z`` and tags, so everything that samples a generator (grids, ``gankit
eval``, the dashboard) gets tags in their training proportions; ``Generator.sample(n,
tags=[...])`` sets the given ones and draws the rest (``condition_tags``).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit import losses
from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError, DataError
from gankit.models.augment import diff_augment
from gankit.models.base import Family, Input
from gankit.models.blocks import adversarial_phases, loss_key
from gankit.models.convnets import (
    ConvGANConfig,
    PixelNorm,
    Unflatten,
    check_images,
    make_discriminator,
    make_generator,
)
from gankit.registry import register_model


class TagGANConfig(ConvGANConfig):
    tag_weight: float = Field(
        1.0, ge=0.0, le=100.0, description="weight of the tag classification loss (D and G)"
    )
    conditioning: Literal["aux", "projection"] = Field(
        "aux", description="aux: a tag classifier head; projection: also <W tags, h(x)> in D"
    )
    classify_fakes: bool = Field(
        False, description="D's classifier also learns the fakes' tags (ACGAN's original form)"
    )
    tag_inject: Literal["input", "film"] = Field(
        "input",
        description="input: tags concatenated to z only; film: also a per-channel scale and shift "
        "from the tags after every normalisation of G (conditional normalisation)",
    )


# ---------------------------------------------------------------------------------------------
# Tag vectors


def _tag_info(info: DataInfo) -> tuple[list[str], list[list[int]], list[int], torch.Tensor]:
    """Names, exclusive groups (as indices), independent tags and frequencies of ``info``."""
    names = list(info.tags)
    groups = [[names.index(t) for t in g] for g in info.tag_groups]
    grouped = {i for g in groups for i in g}
    free = [i for i in range(len(names)) if i not in grouped]
    freq = torch.tensor(info.tag_freq or [0.5] * len(names), dtype=torch.float32)
    return names, groups, free, freq


def draw_tags(info: DataInfo, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` multi-hot tag vectors float (n, T) drawn by the training frequencies: one tag of each
    exclusive group by the group's shares, each independent tag with its own. One uniform number
    per group and tag per sample, so the same generator state always gives the same tags."""
    names, groups, free, freq = _tag_info(info)
    u = torch.rand(n, len(groups) + len(free), generator=generator)
    out = torch.zeros(n, len(names))
    for j, g in enumerate(groups):
        p = freq[g].clamp_min(1e-6)
        cdf = p.cumsum(0) / p.sum()
        pick = torch.searchsorted(cdf, u[:, j].contiguous(), right=True).clamp_(max=len(g) - 1)
        out[torch.arange(n), torch.tensor(g)[pick]] = 1.0
    for j, i in enumerate(free):
        out[:, i] = (u[:, len(groups) + j] < freq[i]).float()
    return out


def parse_tags(info: DataInfo, tags: str | list[str]) -> list[str]:
    """Tags as given by a user ("blue hair, glasses" or a list) -> known tag names; an unknown
    tag, or two tags of one exclusive group, is a one-line ConfigError naming what is allowed."""
    if not info.tags:
        raise ConfigError(
            f"tags given, but this generator takes none (trained on {info.name!r}; only "
            "tag-conditioned generators, e.g. tag-gan on --data characters, do)"
        )
    items = tags.split(",") if isinstance(tags, str) else [p for t in tags for p in t.split(",")]
    wanted = [" ".join(t.strip().lower().split()) for t in items]
    wanted = [t for t in wanted if t]
    unknown = [t for t in wanted if t not in info.tags]
    if unknown:
        raise ConfigError(f"unknown tag {unknown[0]!r}; allowed: {', '.join(info.tags)}")
    for g in info.tag_groups:
        clash = [t for t in g if t in wanted]
        if len(clash) > 1:
            raise ConfigError(
                f"tags {' and '.join(repr(t) for t in clash)} conflict: a character has one of "
                f"{', '.join(g)}"
            )
    return list(dict.fromkeys(wanted))


def condition_tags(info: DataInfo, drawn: torch.Tensor, given: list[str]) -> torch.Tensor:
    """``drawn`` tag vectors (n, T) with the ``given`` tags set: a given tag's exclusive group
    becomes that tag alone, a given independent tag is on; everything else stays as drawn (so
    unrequested tags keep their training frequencies)."""
    names, groups, _, _ = _tag_info(info)
    out = drawn.clone()
    for t in given:
        i = names.index(t)
        group = next((g for g in groups if i in g), None)
        if group is not None:
            out[:, group] = 0.0
        out[:, i] = 1.0
    return out


# ---------------------------------------------------------------------------------------------
# Networks


class TagFiLM(nn.Module):
    """``x * (1 + gamma(tags)) + beta(tags)`` per channel: the tags re-enter G after a
    normalisation (conditional batch norm, de Vries et al. 2017 / FiLM, Perez et al. 2018, here
    after DCGAN's batch or pixel norm). Zero-initialised, so training starts from the plain
    generator."""

    def __init__(self, num_tags: int, channels: int):
        super().__init__()
        self.affine = nn.Linear(num_tags, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(tags.to(x.dtype))[:, :, None, None].chunk(2, dim=1)
        return x * (1 + gamma) + beta  # (B, C, H, W)


class TagGenerator(nn.Module):
    """``G(z, tags)``: DCGAN's generator on ``[z, tags]``; with ``tag_inject="film"`` the tags
    also scale and shift the features after each of its normalisations, so that a part drawn
    late (a hat's brim, glasses at 16 px and up) is set by the tags where it is drawn, not only
    through whatever the first layer passed on of them."""

    def __init__(self, cfg: TagGANConfig, shape: tuple[int, ...], num_tags: int):
        super().__init__()
        self.body = make_generator(cfg.model_copy(update={"z_dim": cfg.z_dim + num_tags}), shape)
        self.film = None
        if cfg.tag_inject == "film":
            widths = _widths_before_norms(self.body)
            self.film = nn.ModuleList(TagFiLM(num_tags, c) for c in widths)

    def forward(self, z: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        x = torch.cat([z, tags.to(z.dtype)], dim=1)
        if self.film is None:
            return self.body(x)  # (B, C, H, W)
        films = iter(self.film)
        for m in [*self.body.project, *self.body.body]:
            x = m(x)
            if isinstance(m, (nn.BatchNorm2d, PixelNorm)):
                x = next(films)(x, tags)
        return x  # (B, C, H, W)


def _widths_before_norms(body: nn.Module) -> list[int]:
    """The channel count entering each normalisation of DCGAN's generator ``body``."""
    out, width = [], 0
    for m in [*body.project, *body.body]:
        if isinstance(m, Unflatten):
            width = m.unflattened_size[0]
        elif isinstance(m, nn.ConvTranspose2d):
            width = m.out_channels
        elif isinstance(m, (nn.BatchNorm2d, PixelNorm)):
            out.append(width)
    return out


class TagDiscriminator(nn.Module):
    """DCGAN's D features ``h(x)``; ``forward`` gives the adversarial logit (B,) and the tag
    logits (B, T)."""

    def __init__(self, cfg: TagGANConfig, shape: tuple[int, ...], num_tags: int):
        super().__init__()
        dcgan_d = make_discriminator(cfg, shape)
        self.phi = dcgan_d.net[:-1]  # (B, F)
        self.head = dcgan_d.net[-1]  # Linear(F, 1)
        self.classify = nn.Linear(self.head.in_features, num_tags)
        self.project = (
            nn.Linear(num_tags, self.head.in_features, bias=False)
            if cfg.conditioning == "projection"
            else None
        )

    def forward(
        self, x: torch.Tensor, tags: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.phi(x)
        logit = self.head(h).squeeze(1)
        if self.project is not None:
            logit = logit + (self.project(tags) * h).sum(1)
        return logit, self.classify(h)


@register_model("tag-gan")
class TagGAN(Family):
    """Multi-label tag-conditioned DCGAN with an auxiliary tag classifier in D (Jin et al.)."""

    name = "tag-gan"
    Config = TagGANConfig

    @classmethod
    def inputs(cls, cfg: TagGANConfig, info: DataInfo) -> list[Input]:
        return [
            Input("z", "noise", (cfg.z_dim,)),
            Input(
                "tags",
                "tags",
                (len(info.tags),),
                doc="multi-hot over DataInfo.tags, e.g. 'blue hair, glasses, smile'",
            ),
        ]

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        z = torch.randn(n, cfg.z_dim, generator=generator)
        return {"z": z, "tags": draw_tags(info, n, generator)}

    @classmethod
    def build_generator(cls, cfg: TagGANConfig, info: DataInfo) -> nn.Module:
        check_images(info, "tag-gan")
        if not info.tags:
            raise ConfigError(
                f"tag-gan needs tagged images; {info.name!r} has no tags (use --data characters)"
            )
        if cfg.pack != 1:
            raise ConfigError(f"tag-gan does not support model.pack={cfg.pack}")
        if cfg.tag_inject == "film" and cfg.arch != "standard":
            raise ConfigError(
                f"tag-gan: model.tag_inject=film needs model.arch=standard, got {cfg.arch!r}"
            )
        if cfg.loss == "wgan-gp":
            raise ConfigError(
                "tag-gan: model.loss=wgan-gp is not supported; "
                "allowed: minimax, nonsaturating, lsgan, hinge"
            )
        return TagGenerator(cfg, info.shape, len(info.tags))

    def build(self, cfg: TagGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        return {
            "G": self.build_generator(cfg, info),
            "D": TagDiscriminator(cfg, info.shape, len(info.tags)),
        }

    def phases(self):
        return adversarial_phases(self.cfg)

    def check_data(self, data: ArrayDataset) -> None:
        if "tags" not in data.extra:
            raise DataError(
                f"tag-gan needs tagged images; dataset {data.info.name!r} has no tags "
                "(use --data characters)"
            )

    def step(self, phase, batch):
        cfg, D = self.cfg, self.nets["D"]
        real, real_tags = batch["real"], batch["tags"]
        n = len(real)
        g = self.latent(cfg, self.info, n)
        z, tags = g["z"].to(real.device), g["tags"].to(real.device)
        fake = self.G(z, tags)
        key = loss_key(cfg)
        if phase == "D":
            s_r, c_r = D(diff_augment(real, cfg.diffaugment), real_tags)
            s_f, c_f = D(diff_augment(fake.detach(), cfg.diffaugment), tags)
            adv = losses.D_LOSSES[key](s_r, s_f)
            cls = F.binary_cross_entropy_with_logits(c_r, real_tags)
            if cfg.classify_fakes:
                cls = 0.5 * (cls + F.binary_cross_entropy_with_logits(c_f, tags))
            loss = adv + cfg.tag_weight * cls
            logs = {"loss/D": adv.detach(), "loss/D_tags": cls.detach()}
            logs["tags/D_acc"] = ((c_r > 0).float() == real_tags).float().mean().detach()
            logs.update(losses.equilibrium_stats(s_r, s_f, key))
            return loss, logs
        s_f, c_f = D(diff_augment(fake, cfg.diffaugment), tags)
        adv = losses.G_LOSSES[key](s_f)
        cls = F.binary_cross_entropy_with_logits(c_f, tags)
        loss = adv + cfg.tag_weight * cls
        return loss, {"loss/G": adv.detach(), "loss/G_tags": cls.detach()}
