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
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family, Phase
from gankit.models.blocks import AdversarialConfig, adversarial_phases, d_step, g_step, maybe_sn
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


class MLPGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int,
        hidden: list[int],
        shape: tuple[int, ...],
        images: bool,
        n_components: int = 0,
    ):
        super().__init__()
        self.shape = tuple(shape)
        self.n_components = n_components
        layers: list[nn.Module] = []
        width = z_dim + n_components
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, math.prod(shape)))
        if images:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_components:
            z = torch.cat([z, F.one_hot(c, self.n_components).to(z.dtype)], dim=1)  # (B, z+K)
        return self.net(z).view(z.shape[0], *self.shape)  # (B, *shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, in_dim: int, hidden: list[int], dropout: float, sn: bool):
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

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations (B, hidden[-1]), shared with the code classifier."""
        return self.net[:-1](x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)  # (B,)


@register_model("mlp-gan")
class MLPGAN(Family):
    """Vanilla GAN with fully-connected networks."""

    name = "mlp-gan"
    Config = MLPGANConfig

    @classmethod
    def build_generator(cls, cfg: MLPGANConfig, info: DataInfo) -> nn.Module:
        images = info.kind == "images"
        return MLPGenerator(cfg.z_dim, cfg.hidden, info.shape, images, cfg.n_components)

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        z = torch.randn(n, cfg.z_dim, generator=generator)
        if not cfg.n_components:
            return {"z": z}
        return {"z": z, "c": torch.randint(cfg.n_components, (n,), generator=generator)}

    def build(self, cfg: MLPGANConfig, info: DataInfo) -> dict[str, nn.Module]:
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
        D = MLPDiscriminator(in_dim, d_hidden, cfg.dropout, cfg.spectral_norm)
        nets = {"G": self.build_generator(cfg, info), "D": D}
        if cfg.diversity:
            nets["C"] = nn.Linear(d_hidden[-1], cfg.n_components)  # which code made the sample
        return nets

    def phases(self):
        phases = adversarial_phases(self.cfg)
        if self.cfg.diversity:  # C is trained with G on the same fakes (MGAN, InfoGAN's Q)
            phases[-1] = Phase("G", ("G", "C"), new_batch=False)
        return phases

    def step(self, phase, batch):
        inputs = self.noise_like(batch)
        fake = self.G(**inputs)
        D = self.nets["D"]
        if phase == "D":
            return d_step(D, self.cfg, batch["real"], fake)
        loss, logs = g_step(D, self.cfg, fake)
        if self.cfg.diversity:
            code_logits = self.nets["C"](D.features(fake))  # (B, K)
            ce = F.cross_entropy(code_logits, inputs["c"])
            loss = loss + self.cfg.diversity * ce
            logs["loss/C"] = ce.detach()
        return loss, logs

    def critic(self, points):
        if self.cfg.pack != 1:
            return None
        logits = self.nets["D"](points)
        return logits if self.cfg.loss in ("wgan-gp", "hinge", "lsgan") else torch.sigmoid(logits)
