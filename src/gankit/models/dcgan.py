"""DCGAN (Radford et al. 2015): convolutional G and D, no pooling, batch norm, LeakyReLU in D.

The networks (the paper's ``standard`` design and the seed's ``textbook`` one) are in
``convnets.py``, which cgan, infogan and the autoencoders build on too. This family adds the
unconditional options: a categorical code (``n_components``), self-conditioning on image
clusters (``clusters``, ``selfcond.py``) and the mode-seeking term (``mode_seeking``).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family, Input
from gankit.models.blocks import adversarial_phases, d_step, g_step
from gankit.models.convnets import (
    ConvGANConfig,
    ProjectionDiscriminator,
    check_images,
    make_discriminator,
    make_generator,
)
from gankit.models.selfcond import (
    SelfConditioning,
    code_inputs,
    code_latent,
    code_traversal,
    image_clusters,
)
from gankit.registry import register_model


class DCGANConfig(ConvGANConfig):
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


@register_model("dcgan")
class DCGAN(SelfConditioning, Family):
    """Deep convolutional GAN (self-conditioned on image clusters with ``clusters=K``)."""

    name = "dcgan"
    Config = DCGANConfig

    def __init__(self, cfg: DCGANConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        # the mode-seeking term needs its own pairs of noise in the generator phase
        self.reuse_fakes = not cfg.mode_seeking

    @classmethod
    def build_generator(cls, cfg: DCGANConfig, info: DataInfo) -> nn.Module:
        check_images(info, cls.name)
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
        return make_generator(cfg, info.shape, n_components=cfg.n_components, clusters=cfg.clusters)

    def build(self, cfg: DCGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        G = self.build_generator(cfg, info)
        if cfg.clusters:
            return {"G": G, "D": ProjectionDiscriminator(cfg, info.shape, cfg.clusters)}
        return {"G": G, "D": make_discriminator(cfg, info.shape)}

    @classmethod
    def inputs(cls, cfg: DCGANConfig, info: DataInfo) -> list[Input]:
        return code_inputs(cfg)

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return code_latent(cfg, n, generator)

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
        z, cond, fake = self.fakes(phase, lambda: self._draw(phase, batch))
        if phase == "D":
            return d_step(self.nets["D"], self.cfg, batch["real"], fake, **cond)
        loss, logs = g_step(self.nets["D"], self.cfg, fake, **cond)
        if self.cfg.mode_seeking:
            ms = mode_seeking_loss(fake, z["z"])
            logs["loss/mode_seeking"] = ms.detach()
            loss = loss + self.cfg.mode_seeking * ms
        return loss, logs

    def _draw(self, phase, batch):
        """Noise (with the real batch's clusters when self-conditioned) and G's samples."""
        z, cond = self.step_inputs(batch)
        if phase == "G" and self.cfg.mode_seeking and "c" in z:
            half = len(z["c"]) // 2  # pairs (i, i + half) share a code for the mode-seeking term
            z["c"] = torch.cat([z["c"][:half], z["c"][:half], z["c"][2 * half :]])
            cond = {"label": z["c"]} if cond else {}
        return z, cond, self.G(**z)


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """MSGAN (Mao et al. 2019, "Mode Seeking GANs", eq. 3): 1 / (mean|G(z1) - G(z2)| / mean|z1 -
    z2|) over the pairs (i, i + B/2) of the batch; small when different noise gives different
    images, so a conditional G cannot ignore z."""
    half = len(z) // 2
    d_img = (fake[:half] - fake[half : 2 * half]).abs().mean()
    d_z = (z[:half] - z[half : 2 * half]).abs().mean()
    return 1.0 / (d_img / d_z + eps)
