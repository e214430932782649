"""Training health: non-finite losses stop the run; D dominating and collapse are reported."""

from __future__ import annotations

import math

import torch

from gankit.errors import GankitError


class TrainingDiverged(GankitError):
    """A loss became NaN or infinite."""


def check_finite(step: int, phase: str, loss: torch.Tensor) -> None:
    if not torch.isfinite(loss).all():
        raise TrainingDiverged(
            f"loss of phase {phase!r} is {loss.item()} at step {step}; training stopped. "
            "Try a lower learning rate, another loss (--set model.loss=hinge) or --precision fp32"
        )


class HealthMonitor:
    """Turns logged scalars into warnings a person can act on.

    - D dominating: a discriminator's accuracy (``acc/D``, or ``acc/D_A``, ``acc/D_B`` of a
      family with several) stays above 0.98 for ``patience`` ticks (its G gets no signal).
    - Mode collapse: generated samples vary far less than real ones (std ratio < 0.1) for
      ``patience`` ticks.
    """

    def __init__(self, patience: int = 5) -> None:
        self.patience = patience
        self.d_strong: dict[str, int] = {}  # ticks in a row above 0.98, by discriminator
        self.collapsed = 0  # ticks in a row with diversity below 0.1

    def check(self, stats: dict[str, float]) -> list[str]:
        warnings = []
        for key, acc in stats.items():
            net = discriminator_of(key)
            if net is None or acc is None or math.isnan(acc):
                continue
            self.d_strong[net] = self.d_strong.get(net, 0) + 1 if acc > 0.98 else 0
            if self.d_strong[net] == self.patience:
                warnings.append(
                    f"{net} dominating: its accuracy has stayed above 0.98 for {self.patience} "
                    "ticks, so G gets little signal"
                )
        ratio = stats.get("diversity/fake_over_real")
        if ratio is not None:
            # Every G starts collapsed (its first samples are near one image): the warning
            # waits until low diversity persists, and comes once until it recovers.
            self.collapsed = self.collapsed + 1 if ratio < 0.1 else 0
            if self.collapsed == self.patience:
                warnings.append(
                    f"possible mode collapse: generated samples vary {ratio:.3f}x as much as "
                    f"real ones ({self.patience} ticks in a row below 0.1)"
                )
        return warnings


def discriminator_of(key: str) -> str | None:
    """The discriminator whose overall accuracy ``key`` is: ``acc/D`` -> D, ``acc/D_A`` -> D_A
    (a family with several names each one's); None for other keys (``acc/D_real``, ...)."""
    if not key.startswith("acc/D") or key.endswith(("_real", "_fake")):
        return None
    net = key[len("acc/") :]
    return net if net == "D" or net.startswith("D_") else None


def diversity_ratio(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Mean per-feature std of fakes over that of reals, across the batch."""
    f = fake.detach().float().flatten(1).std(0).mean()
    r = real.detach().float().flatten(1).std(0).mean()
    return (f / r.clamp_min(1e-8)).item()
