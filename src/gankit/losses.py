"""Adversarial losses as pure functions of discriminator logits.

Each takes raw logits (before any sigmoid) and returns a scalar to minimise.
References: Goodfellow et al. 2014 (minimax, non-saturating); Mao et al. 2017 (least squares);
Lim & Ye 2017 / Miyato et al. 2018 (hinge); Arjovsky et al. 2017 and Gulrajani et al. 2017
(Wasserstein, gradient penalty). The formulas match stylegan2-ada's ``training/loss.py`` for the
non-saturating pair and the WGAN-GP reference code for the penalty.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSSES = ("minimax", "nonsaturating", "lsgan", "hinge", "wgan")


def d_minimax(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # -E[log D(x)] - E[log(1 - D(G(z)))], with D = sigmoid(logit); softplus keeps it stable.
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_minimax(fake: torch.Tensor) -> torch.Tensor:
    # The original saturating objective: minimise E[log(1 - D(G(z)))] = -E[softplus(logit)].
    return -F.softplus(fake).mean()


def d_nonsaturating(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # D's loss is the same binary cross-entropy as in the minimax game.
    return d_minimax(real, fake)


def g_nonsaturating(fake: torch.Tensor) -> torch.Tensor:
    # -E[log D(G(z))]: strong gradients early, when D easily rejects the fakes.
    return F.softplus(-fake).mean()


def d_lsgan(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def g_lsgan(fake: torch.Tensor) -> torch.Tensor:
    # 1/2 E[(D(G(z)) - 1)^2]
    return 0.5 * (fake - 1).pow(2).mean()


def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    # -E[D(G(z))]
    return -fake.mean()


def d_wasserstein(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # E[D(G(z))] - E[D(x)]: the critic's estimate of -W(p_data, p_g).
    return fake.mean() - real.mean()


def g_wasserstein(fake: torch.Tensor) -> torch.Tensor:
    # -E[D(G(z))]
    return -fake.mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates x_hat."""
    alpha = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), device=real.device)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 penalty E[||grad D(x)||^2] on real data (Mescheder et al. 2018); ``real`` requires grad."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()


D_LOSSES = {
    "minimax": d_minimax,
    "nonsaturating": d_nonsaturating,
    "lsgan": d_lsgan,
    "hinge": d_hinge,
    "wgan": d_wasserstein,
}
G_LOSSES = {
    "minimax": g_minimax,
    "nonsaturating": g_nonsaturating,
    "lsgan": g_lsgan,
    "hinge": g_hinge,
    "wgan": g_wasserstein,
}


def equilibrium_stats(real: torch.Tensor, fake: torch.Tensor, loss: str) -> dict[str, torch.Tensor]:
    """D(x), D(G(z)) and D's accuracy on real and fake, from logits (sigmoid for BCE losses).

    For least-squares, hinge and Wasserstein critics the outputs are scores, not probabilities:
    accuracy uses the decision threshold (0.5 for least squares, 0 otherwise). The values are
    0-d tensors on the logits' device: the trainer reads them at log ticks, not every step.
    """
    with torch.no_grad():
        real, fake = real.float(), fake.float()
        if loss in ("minimax", "nonsaturating"):
            pr, pf = torch.sigmoid(real), torch.sigmoid(fake)
            stats = {"D(x)": pr.mean(), "D(G(z))": pf.mean()}
            thr_r, thr_f = pr, pf
            thr = 0.5
        else:
            stats = {"D(x)": real.mean(), "D(G(z))": fake.mean()}
            thr_r, thr_f = real, fake
            thr = 0.5 if loss == "lsgan" else 0.0
        stats["acc/D_real"] = (thr_r > thr).float().mean()
        stats["acc/D_fake"] = (thr_f <= thr).float().mean()
        stats["acc/D"] = 0.5 * (stats["acc/D_real"] + stats["acc/D_fake"])
        if loss in ("minimax", "nonsaturating"):
            # V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))]; at the optimal D, V = -log 4 + 2 JSD.
            v = (-F.softplus(-real)).mean() + (-F.softplus(fake)).mean()
            stats["V(D,G)"] = v
            stats["JSD_D"] = (v + math.log(4.0)) / 2  # lower bound unless D is optimal
        return stats
