"""What three or more adversarial families share: the loss choice, packing and the D/G losses."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, field_validator
from torch import nn

from gankit import losses
from gankit.errors import ConfigError
from gankit.models.augment import diff_augment, parse_policy
from gankit.models.base import ModelConfig, Phase

LossName = Literal["minimax", "nonsaturating", "lsgan", "hinge", "wgan-gp"]


class AdversarialConfig(ModelConfig):
    """Options of the adversarial game, selectable on any unconditional family."""

    loss: LossName = "nonsaturating"
    n_critic: int = Field(1, ge=1, le=100, description="D updates per G update")
    gp_weight: float = Field(10.0, ge=0.0, description="gradient-penalty weight for wgan-gp")
    r1: float = Field(
        0.0,
        ge=0.0,
        le=1000.0,
        description="R1 penalty weight gamma: D's loss gains gamma/2 * E||grad_x D(x)||^2 on real "
        "samples (Mescheder et al. 2018; 0: off)",
    )
    spectral_norm: bool = Field(False, description="spectral normalisation on D's layers")
    pack: int = Field(1, ge=1, le=16, description="PacGAN: samples per D input")
    diffaugment: str = Field(
        "", description="DiffAugment policy for D's inputs (images): e.g. 'translation,cutout'"
    )

    @field_validator("diffaugment")
    @classmethod
    def _known_policy(cls, v: str) -> str:
        try:
            return ",".join(parse_policy(v))
        except ConfigError as e:
            raise ValueError(str(e)) from None


def adversarial_phases(cfg: AdversarialConfig) -> list[Phase]:
    """``D`` x n_critic (a new batch each pass), then ``G`` on the last batch."""
    return [Phase("D", ("D",), repeats=cfg.n_critic), Phase("G", ("G",), new_batch=False)]


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN: join ``m`` consecutive samples into one D input along the feature/channel axis.

    (B, C, H, W) -> (B/m, m*C, H, W); (B, F) -> (B/m, m*F).
    """
    if m == 1:
        return x
    if x.shape[0] % m:
        raise ConfigError(f"batch size {x.shape[0]} is not divisible by model.pack={m}")
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


def maybe_sn(layer: nn.Module, on: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(layer) if on else layer


def loss_key(cfg: AdversarialConfig) -> str:
    """The name of the loss pair in ``gankit.losses`` (``wgan-gp`` uses the Wasserstein pair)."""
    return "wgan" if cfg.loss == "wgan-gp" else cfg.loss


def d_step(
    D, cfg: AdversarialConfig, real: torch.Tensor, fake: torch.Tensor, **cond
) -> tuple[torch.Tensor, dict]:
    """D's loss on real vs (detached) fake samples, with the gradient penalty for wgan-gp and
    the R1 penalty with ``cfg.r1``.

    ``D(x, **cond)`` returns logits of shape (B/pack,). With ``cfg.diffaugment`` both sets are
    augmented (independently per sample) before D sees them; the penalties then use the augmented
    samples, as in the DiffAugment reference code.
    """
    real = diff_augment(real, cfg.diffaugment)
    if cfg.r1 > 0:
        real = real.detach().requires_grad_(True)  # R1 is the gradient at D's real inputs
    fake = diff_augment(fake.detach(), cfg.diffaugment)
    real_logits = D(pack(real, cfg.pack), **cond)
    fake_logits = D(pack(fake, cfg.pack), **cond)
    key = loss_key(cfg)
    loss = losses.D_LOSSES[key](real_logits, fake_logits)
    logs = {"loss/D": loss.detach()}
    if cfg.loss == "wgan-gp" and cfg.gp_weight > 0:
        gp = losses.gradient_penalty(
            lambda x: D(x, **cond), pack(real, cfg.pack), pack(fake, cfg.pack)
        )
        loss = loss + cfg.gp_weight * gp
        logs["loss/GP"] = gp.detach()
        logs["W_estimate"] = (real_logits.mean() - fake_logits.mean()).detach()
    if cfg.r1 > 0:
        r1 = losses.r1_penalty(real_logits, real)
        loss = loss + 0.5 * cfg.r1 * r1
        logs["loss/R1"] = r1.detach()
    logs.update(losses.equilibrium_stats(real_logits, fake_logits, key))
    return loss, logs


def g_step(D, cfg: AdversarialConfig, fake: torch.Tensor, **cond) -> tuple[torch.Tensor, dict]:
    """G's adversarial loss on its own samples (augmented like D's inputs, differentiably)."""
    fake = diff_augment(fake, cfg.diffaugment)
    fake_logits = D(pack(fake, cfg.pack), **cond)
    loss = losses.G_LOSSES[loss_key(cfg)](fake_logits)
    return loss, {"loss/G": loss.detach()}
