"""Exponential moving average of the generator's weights (Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"); buffers such as BN statistics are copied."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float, start: int = 0) -> None:
        self.decay, self.start = decay, start
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """After G's update at ``step``: ema = d * ema + (1 - d) * G (plain copy before ``start``)."""
        d = self.decay if step >= self.start else 0.0
        ema, live = list(self.model.parameters()), [p.detach() for p in model.parameters()]
        if len(ema) != len(live):
            raise ValueError(f"EMA holds {len(ema)} parameters, the model {len(live)}")
        torch._foreach_lerp_(ema, live, 1.0 - d)  # one call for all tensors
        self.copy_buffers(model)

    @torch.no_grad()
    def copy_buffers(self, model: nn.Module) -> None:
        """Buffers (BN statistics, a generator's cluster prior) are copied, not averaged."""
        for e, b in zip(self.model.buffers(), model.buffers(), strict=True):
            e.copy_(b)
