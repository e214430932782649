"""The original fully-connected GAN (Goodfellow et al. 2014), for 2-D toys and small images.

G: z -> MLP -> a point in R^2 (linear output) or an image (tanh output).
D: sample -> MLP -> one logit. ``loss="minimax"`` is the paper's saturating game;
``"nonsaturating"`` (the default) is the paper's practical G objective -log D(G(z)).

``n_components=K`` adds a categorical latent: G gets ``[z, one_hot(c)]`` with c uniform over K
values, i.e. K generators that share their weights. A generator that is continuous in a
connected latent cannot cover disconnected modes without putting samples between them
(Khayatkhoei et al. 2018, "Disconnected Manifold Learning for Generative Adversarial
Networks", whose DMWGAN mixes several generators); the discrete code lets G jump between modes.
With ``diversity=beta > 0`` a classifier C on D's features learns to tell which code made a
sample and G is rewarded when it can: G's loss adds ``beta * CE(C(G(z, c)), c)``, the MGAN term
(Hoang et al. 2018, "MGAN: Training Generative Adversarial Nets with Multiple Generators"; C
shares D's layers but its last, and is trained with G, like InfoGAN's Q). Codes that land on the
same mode cannot be told apart, so the term pushes the K codes onto different modes.

``clusters=K`` self-conditions the game instead (Liu et al. 2020, "Diverse Image Generation via
Self-Conditioned GANs", whose 2-D experiments this follows): before the first step the training
samples are clustered with k-means (points as they are, images as dcgan clusters them), G gets
the cluster as its one-hot code, drawn as often as the data has it, and D judges (sample,
cluster) pairs through a projection. A mode no cluster of G reaches shows up as real samples of
that cluster that D tells apart at once, so no mode can be left behind.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import AdversarialConfig, adversarial_phases, d_step, g_step, maybe_sn
from gankit.models.selfcond import (
    SelfConditioning,
    check_cluster_count,
    cluster_of,
    code_inputs,
    code_latent,
    code_traversal,
    image_clusters,
)
from gankit.registry import register_model


class MLPGANConfig(AdversarialConfig):
    z_dim: int = Field(64, ge=1, le=4096)
    hidden: list[int] = Field(default_factory=lambda: [256, 256], min_length=1)
    d_hidden: list[int] | None = Field(None, description="D's widths (default: hidden)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout in D, as in the paper")
    n_components: int = Field(
        0, ge=0, le=1024, description="categorical latent: K equally likely one-hot codes (0: off)"
    )
    diversity: float = Field(
        0.0, ge=0.0, description="MGAN weight of the code classifier's loss in G's step (0: off)"
    )
    clusters: int = Field(
        0,
        ge=0,
        le=1024,
        description="self-conditioning: K k-means clusters of the training data label G's "
        "categorical code and a projection D; drawn as often as in the data (0: off)",
    )


def point_clusters(x: torch.Tensor, k: int, seed: int = 0) -> torch.Tensor:
    """k-means cluster ids (N,) of float points ``x`` (N, F); deterministic for a ``seed``."""
    from sklearn.cluster import KMeans

    check_cluster_count(k, len(x))
    km = KMeans(k, n_init=10, random_state=seed).fit(x.double().numpy())
    return torch.from_numpy(km.labels_.astype(np.int64))


class MLPGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int,
        hidden: list[int],
        shape: tuple[int, ...],
        images: bool,
        n_components: int = 0,
        clusters: int = 0,
    ):
        super().__init__()
        self.shape = tuple(shape)
        self.n_components = n_components = n_components or clusters
        if clusters:
            # P(cluster) in the training data; set by MLPGAN.prepare, saved with the weights.
            self.register_buffer("prior", torch.full((clusters,), 1.0 / clusters))
        layers: list[nn.Module] = []
        width = z_dim + n_components
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, math.prod(shape)))
        if images:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(
        self, z: torch.Tensor, c: torch.Tensor | None = None, u: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``c``: the categorical code (B,); or ``u`` ~ U(0, 1) (B,), mapped to a cluster drawn
        with the data's frequencies (self-conditioning)."""
        if c is None and u is not None:
            c = cluster_of(u, self.prior)
        if self.n_components:
            z = torch.cat([z, F.one_hot(c, self.n_components).to(z.dtype)], dim=1)  # (B, z+K)
        return self.net(z).view(z.shape[0], *self.shape)  # (B, *shape)


class MLPDiscriminator(nn.Module):
    """An MLP to one logit; with ``num_classes`` it is a projection discriminator (Miyato & Koyama
    2018): ``D(x, label) = w . phi(x) + <embed(label), phi(x)>``, phi = the hidden layers."""

    def __init__(
        self, in_dim: int, hidden: list[int], dropout: float, sn: bool, num_classes: int = 0
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            layers += [maybe_sn(nn.Linear(width, h), sn), nn.LeakyReLU(0.2)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(maybe_sn(nn.Linear(width, 1), sn))
        self.net = nn.Sequential(*layers)
        if num_classes:
            embed = nn.Embedding(num_classes, width)
            nn.init.normal_(embed.weight, 0.0, 0.02)
            self.embed = maybe_sn(embed, sn)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations (B, hidden[-1]), shared with the code classifier."""
        return self.net[:-1](x.flatten(1))

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        if label is None:
            return self.net(x.flatten(1)).squeeze(1)  # (B,)
        h = self.features(x)  # (B, F)
        return self.net[-1](h).squeeze(1) + (self.embed(label) * h).sum(1)  # (B,)


@register_model("mlp-gan")
class MLPGAN(SelfConditioning, Family):
    """Vanilla GAN with fully-connected networks."""

    name = "mlp-gan"
    Config = MLPGANConfig
    _centres: torch.Tensor | None = None  # (K, 2) the clusters' means, for points

    @classmethod
    def build_generator(cls, cfg: MLPGANConfig, info: DataInfo) -> nn.Module:
        clash = (
            "model.n_components (both give G a categorical code)"
            if cfg.n_components
            else f"model.diversity={cfg.diversity}"
            if cfg.diversity
            else f"model.pack={cfg.pack}"
            if cfg.pack != 1
            else None
        )
        if cfg.clusters and clash:
            raise ConfigError(
                f"model.clusters={cfg.clusters} (self-conditioning) does not combine with {clash}; "
                "add --set model.clusters=0 to turn it off"
            )
        images = info.kind == "images"
        return MLPGenerator(
            cfg.z_dim, cfg.hidden, info.shape, images, cfg.n_components, cfg.clusters
        )

    @classmethod
    def inputs(cls, cfg: MLPGANConfig, info: DataInfo) -> list[Input]:
        return code_inputs(cfg)

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return code_latent(cfg, n, generator)

    @classmethod
    def traversal(cls, cfg, info, code, rows, cols=None, generator=None):
        return code_traversal(cfg, code, rows, cols, generator, cls.name)

    def build(self, cfg: MLPGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        G = self.build_generator(cfg, info)  # first: it refuses options that clash with clusters
        if cfg.diffaugment and info.kind != "images":
            raise ConfigError(
                f"model.diffaugment={cfg.diffaugment!r} needs images; {info.name!r} has points"
            )
        if cfg.diversity and (cfg.n_components < 2 or cfg.pack != 1):
            raise ConfigError(
                "model.diversity needs model.n_components >= 2 codes to tell apart and "
                f"model.pack=1 (got n_components={cfg.n_components}, pack={cfg.pack})"
            )
        in_dim = math.prod(info.shape) * cfg.pack
        d_hidden = cfg.d_hidden or cfg.hidden
        D = MLPDiscriminator(in_dim, d_hidden, cfg.dropout, cfg.spectral_norm, cfg.clusters)
        nets = {"G": G, "D": D}
        if cfg.diversity:
            nets["C"] = nn.Linear(d_hidden[-1], cfg.n_components)  # which code made the sample
        return nets

    def prepare(self, data: ArrayDataset) -> ArrayDataset:
        """Self-conditioning: each training sample gets its k-means cluster id, and G's prior is
        the clusters' share of the data; for points, the clusters' means too (for the plot)."""
        k = self.cfg.clusters
        if not k:
            return data
        images = data.info.kind == "images"
        data = self.assign_clusters(data, image_clusters if images else point_clusters)
        if not images:  # (K, F) cluster means: which cluster a point falls in
            ids = data.extra["cluster"]
            sums = torch.zeros(k, data.x.shape[1]).index_add_(0, ids, data.x)
            self._centres = sums / torch.bincount(ids, minlength=k).clamp(min=1)[:, None]
        return data

    def phases(self):
        phases = adversarial_phases(self.cfg)
        if self.cfg.diversity:  # C is trained with G on the same fakes (MGAN, InfoGAN's Q)
            phases[-1] = Phase("G", ("G", "C"), new_batch=False)
        return phases

    def step(self, phase, batch):
        inputs, cond = self.step_inputs(batch)
        fake = self.G(**inputs)
        D = self.nets["D"]
        if phase == "D":
            return d_step(D, self.cfg, batch["real"], fake, **cond)
        loss, logs = g_step(D, self.cfg, fake, **cond)
        if self.cfg.diversity:
            code_logits = self.nets["C"](D.features(fake))  # (B, K)
            ce = F.cross_entropy(code_logits, inputs["c"])
            loss = loss + self.cfg.diversity * ce
            logs["loss/C"] = ce.detach()
        return loss, logs

    def critic(self, points):
        """D's output on ``points`` (B, 2); a self-conditioned D judges each point with the
        cluster whose centre is nearest, as k-means would label it."""
        if self.cfg.pack != 1 or (self.cfg.clusters and self._centres is None):
            return None
        cond = {}
        if self.cfg.clusters:
            centres = self._centres.to(points.device)
            cond["label"] = torch.cdist(points, centres).argmin(1)  # (B,)
        logits = self.nets["D"](points, **cond)
        return logits if self.cfg.loss in ("wgan-gp", "hinge", "lsgan") else torch.sigmoid(logits)
