"""Non-adversarial baselines: an autoencoder and a variational autoencoder on DCGAN's networks.

Papers: Hinton & Salakhutdinov 2006 (deep autoencoders); Kingma & Welling 2014, "Auto-Encoding
Variational Bayes" (the VAE, its reparameterisation and the Bernoulli decoder for MNIST).
Reference implementation for the VAE loss: pytorch/examples ``vae/main.py`` (binary
cross-entropy summed over pixels plus the analytic KL, averaged over the batch).

They are here so that GANs can be compared with what the seeds compare them against, with the
same commands (``gankit train autoencoder``, ``gankit sample``, evaluation). The encoder E is
DCGAN's discriminator body with a linear head; the decoder is DCGAN's generator and is what gets
averaged, sampled and exported (``generator = "G"``). One phase, ``AE``, updates E and G together.

Likelihood: pixels in [0, 1] as Bernoulli means, ``p = sigmoid(logits)``; the decoder's image is
``2 p - 1 = tanh(logits / 2)`` in [-1, 1] like every other generator's.

- ``autoencoder``: loss = BCE(x, G(E(x))) summed over pixels. An AE has no prior, so ``gankit
  sample`` decodes latents drawn from a Gaussian fitted to the encoded training images
  (``prior="fitted"``: running mean and covariance, kept as buffers of the exported decoder,
  which maps N(0, I) to N(mean, cov) by the covariance's Cholesky factor). ``prior="standard"``
  decodes N(0, I) as is, which shows why a plain AE is not a generative model.
- ``vae``: E gives (mu, log sigma^2); ``z = mu + sigma * eps``; loss = BCE + beta * KL(q(z|x) ||
  N(0, I)). Samples decode z ~ N(0, I).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveFloat
from torch import nn

from gankit.data.base import DataInfo
from gankit.models.base import Family, ModelConfig, Phase
from gankit.models.convnets import ConvGANConfig, check_images, make_discriminator, make_generator
from gankit.registry import register_model


class CodecConfig(ModelConfig):
    """What the autoencoder and the VAE share: the networks' sizes and the optimiser."""

    arch: Literal["standard", "textbook"] = "standard"
    z_dim: int = Field(16, ge=1, le=4096, description="size of the code")
    g_channels: int = Field(32, ge=4, le=1024, description="decoder's width at full resolution")
    e_channels: int = Field(32, ge=4, le=1024, description="encoder's width at full resolution")
    lr: dict[str, PositiveFloat] = Field(default_factory=lambda: {"G": 1e-3, "E": 1e-3})
    betas: tuple[float, float] = (0.9, 0.999)


class AutoencoderConfig(CodecConfig):
    prior: Literal["fitted", "standard"] = Field(
        "fitted", description="sampling: a Gaussian fitted to the codes, or N(0, I)"
    )
    fit_momentum: float = Field(0.01, gt=0.0, le=1.0, description="running-moment momentum")


class VAEConfig(CodecConfig):
    beta: float = Field(1.0, ge=0.0, description="weight of the KL term (1: the ELBO)")


def _conv_cfg(cfg: CodecConfig) -> ConvGANConfig:
    """DCGAN's networks at the autoencoder's sizes (encoder = DCGAN's D with BN, no SN)."""
    return ConvGANConfig(
        arch=cfg.arch, z_dim=cfg.z_dim, g_channels=cfg.g_channels, d_channels=cfg.e_channels
    )


class Decoder(nn.Module):
    """``G(z)``: DCGAN's generator with a linear output; ``forward`` gives images in [-1, 1].

    ``z_mean`` / ``z_second`` are the running first and second moments of the training codes
    (autoencoder with the fitted prior); ``forward`` then maps N(0, I) inputs onto that Gaussian.
    """

    def __init__(self, cfg: CodecConfig, shape: tuple[int, ...], fitted: bool):
        super().__init__()
        self.net = make_generator(_conv_cfg(cfg), shape, tanh=False)
        self.fitted = fitted
        self.register_buffer("z_mean", torch.zeros(cfg.z_dim))
        self.register_buffer("z_second", torch.eye(cfg.z_dim))  # E[z z^T]

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, C, H, W): Bernoulli logits of the pixels in [0, 1]

    @torch.no_grad()
    def observe(self, z: torch.Tensor, momentum: float) -> None:
        """Update the running moments with a batch of codes (B, z_dim)."""
        self.z_mean.lerp_(z.mean(0), momentum)
        self.z_second.lerp_(z.T @ z / len(z), momentum)  # (z_dim, z_dim)

    def fitted_scale(self) -> torch.Tensor:
        """Cholesky factor L of the fitted covariance: z = mean + L eps has that covariance."""
        cov = self.z_second - torch.outer(self.z_mean, self.z_mean)
        eye = torch.eye(len(cov), device=cov.device, dtype=cov.dtype)
        scale = torch.linalg.cholesky(0.5 * (cov + cov.T) + 1e-5 * eye)
        if torch.jit.is_tracing():  # ONNX has no Cholesky: an exported graph holds L as a constant
            scale = torch.tensor(scale.tolist(), dtype=scale.dtype)
        return scale

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.fitted:
            z = self.z_mean + z @ self.fitted_scale().T  # (B, z_dim) ~ N(mean, cov)
        return torch.tanh(self.logits(z) / 2)  # 2 sigmoid(l) - 1, (B, C, H, W)


class Encoder(nn.Module):
    """``E(x)``: DCGAN's discriminator body, then a linear map to ``out`` numbers per image."""

    def __init__(self, cfg: CodecConfig, shape: tuple[int, ...], out: int):
        super().__init__()
        d = make_discriminator(_conv_cfg(cfg), shape)
        self.body = d.net[:-1]  # (B, F)
        self.head = nn.Linear(d.net[-1].in_features, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (B, out)


def reconstruction_loss(logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Bernoulli negative log-likelihood of ``real`` in [-1, 1], summed over pixels, batch mean."""
    target = (real + 1) / 2  # (B, C, H, W) in [0, 1]
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / len(real)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2), batch mean."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()


@register_model("autoencoder")
class Autoencoder(Family):
    """Deterministic autoencoder; samples decode a Gaussian fitted to the codes."""

    name = "autoencoder"
    Config = AutoencoderConfig
    variational = False

    @classmethod
    def build_generator(cls, cfg: CodecConfig, info: DataInfo) -> nn.Module:
        check_images(info, cls.name)
        return Decoder(cfg, info.shape, fitted=getattr(cfg, "prior", None) == "fitted")

    def build(self, cfg: CodecConfig, info: DataInfo) -> dict[str, nn.Module]:
        out = 2 * cfg.z_dim if self.variational else cfg.z_dim
        return {"G": self.build_generator(cfg, info), "E": Encoder(cfg, info.shape, out)}

    def phases(self) -> list[Phase]:
        return [Phase("AE", ("E", "G"))]

    def encode(self, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Codes for ``real`` (B, z_dim) and the loss terms beyond reconstruction."""
        z = self.nets["E"](real)  # (B, z_dim)
        self.G.observe(z.detach(), self.cfg.fit_momentum)  # for sampling from the fitted prior
        return z, {}

    def step(self, phase, batch):
        real = batch["real"]
        z, extra = self.encode(real)
        recon = reconstruction_loss(self.G.logits(z), real)
        loss = recon + sum(extra.values())
        logs = {"loss/recon": recon.detach(), f"loss/{self.name}": loss.detach()}
        logs.update({f"loss/{k}": v.detach() for k, v in extra.items()})
        return loss, logs


@register_model("vae")
class VAE(Autoencoder):
    """Variational autoencoder; samples decode z ~ N(0, I)."""

    name = "vae"
    Config = VAEConfig
    variational = True

    def encode(self, real):
        mu, logvar = self.nets["E"](real).chunk(2, dim=1)  # (B, z_dim) each
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # reparameterisation trick
        return z, {"KL": self.cfg.beta * kl_to_standard_normal(mu, logvar)}
