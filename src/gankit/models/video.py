"""Next-frame video prediction (Mathieu, Couprie & LeCun 2016, "Deep multi-scale video prediction
beyond mean square error"): G sees the last ``data.context`` frames and draws the next one.

A network trained with a pixel loss alone predicts the average of the futures it cannot tell
apart, which is blurry; the paper keeps predictions sharp with two more terms:

    L_G = λ_adv · L_adv + λ_p · ℓ_p + λ_gdl · GDL

where ``ℓ_p = mean |Ŷ - Y|^p`` and the image gradient difference loss
``GDL = mean ||Y_{i,j} - Y_{i-1,j}| - |Ŷ_{i,j} - Ŷ_{i-1,j}||^α + (the same along j)`` asks the
prediction to have the target's edges. The paper's weights are the defaults: λ_adv 0.05,
λ_p 1, λ_gdl 1, p = 2, α = 1 (here the terms are means over pixels).

Generator (multi-scale, as in the paper): scale k (1/2^(S-1-k) of the frame, coarsest first)
sees the context frames average-pooled to its size and the coarser scale's prediction upsampled
(bilinearly) and adds a correction to it: ``Ŷ_k = up(Ŷ_{k-1}) + G'_k(X_k, up(Ŷ_{k-1}))``. Each G'_k
is the paper's stack of padded convolutions and ReLUs with no pooling, at a CPU-sized width
(``model.g_channels``; the finest scale has half of it). The outputs are linear while training
(a tanh on them saturates at the black background within a few hundred steps and G stops
learning) and clamped to [-1, 1] when sampling. ℓ_p and GDL apply at every scale against the
target pooled to that size.

Discriminator (multi-scale): one small convolutional D_k per scale judges the context frames
followed by a next frame, both pooled to its size, and gives one logit; the adversarial loss is
the mean over scales. D_k sees the pooled final prediction (not G's own scale-k output as in the
paper), so the standard D/G steps of ``models.blocks`` (loss choice, R1, spectral norm) apply
unchanged. ``model.adv=0`` trains the pixel-loss baselines (G alone).

Rollouts (``rollout``) feed each prediction back as the newest context frame. A prediction error
compounds over a rollout; with ``data.future`` = K > 1 each training window carries K future
frames, and ℓ_p and GDL also follow G's own rollout through the K - 1 after the next one
(gradients through the whole rollout; each frame's loss weighs 1/K), so G learns from the
inputs it will actually be fed. The adversarial term stays on the next frame.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import nn

from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import AdversarialConfig, d_step, g_step, maybe_sn
from gankit.registry import register_model

HORIZON = 10  # future frames the sample bank shows (t+1 .. t+10)


class VideoConfig(AdversarialConfig):
    scales: int = Field(3, ge=1, le=4, description="G and D scales (each halves the frame)")
    g_channels: int = Field(32, ge=4, le=512, description="G width per scale (finest: half)")
    d_channels: int = Field(16, ge=4, le=512, description="D width per scale")
    adv: float = Field(0.05, ge=0.0, le=100.0, description="λ_adv (0: pixel-loss baseline)")
    lp: float = Field(1.0, ge=0.0, le=1000.0, description="λ_p, weight of the ℓ_p loss")
    p: Literal[1, 2] = Field(2, description="ℓ_p: 1 (L1) or 2 (L2)")
    gdl: float = Field(1.0, ge=0.0, le=1000.0, description="λ_gdl, weight of the GDL")
    alpha: Literal[1, 2] = Field(1, description="GDL exponent α")
    motion: int = Field(
        0,
        ge=0,
        le=15,
        description="side of a motion kernel G predicts and applies to the last frame, which "
        "its scales then correct (odd; 0: none, G draws the frame itself)",
    )

    @field_validator("motion")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v and v % 2 == 0:
            raise ValueError(f"model.motion={v} must be odd (a kernel with a centre) or 0")
        return v


def gdl_loss(
    pred: torch.Tensor, target: torch.Tensor, alpha: int = 1, per_sample: bool = False
) -> torch.Tensor:
    """Mathieu et al.'s image gradient difference loss, as a mean over the gradient maps:
    ``mean ||∂_i Y| - |∂_i Ŷ||^α + mean ||∂_j Y| - |∂_j Ŷ||^α`` on (N, C, H, W); with
    ``per_sample`` one value per sample (N,)."""
    di_p, di_t = (
        (pred[..., 1:, :] - pred[..., :-1, :]).abs(),
        (target[..., 1:, :] - target[..., :-1, :]).abs(),
    )
    dj_p, dj_t = (
        (pred[..., :, 1:] - pred[..., :, :-1]).abs(),
        (target[..., :, 1:] - target[..., :, :-1]).abs(),
    )
    if per_sample:
        return (di_t - di_p).abs().pow(alpha).flatten(1).mean(1) + (dj_t - dj_p).abs().pow(
            alpha
        ).flatten(1).mean(1)
    return (di_t - di_p).abs().pow(alpha).mean() + (dj_t - dj_p).abs().pow(alpha).mean()


def pool(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Average-pool the last two axes of (..., H, W) by ``factor`` (1: unchanged)."""
    if factor == 1:
        return x
    lead = x.shape[:-2]
    y = F.avg_pool2d(x.reshape(-1, 1, *x.shape[-2:]), factor)
    return y.reshape(*lead, *y.shape[-2:])


def conv_stack(
    c_in: int, widths: tuple[int, ...], kernels: tuple[int, ...], c_out: int
) -> nn.Sequential:
    """Padded convolutions with ReLUs between them (the paper's G'_k: no pooling, no norm)."""
    layers: list[nn.Module] = []
    chans = (c_in, *widths)
    for a, b, k in zip(chans[:-1], chans[1:], kernels[:-1], strict=True):
        layers += [nn.Conv2d(a, b, k, padding=k // 2), nn.ReLU(True)]
    layers.append(nn.Conv2d(chans[-1], c_out, kernels[-1], padding=kernels[-1] // 2))
    return nn.Sequential(*layers)


class MotionKernel(nn.Module):
    """Where the scene moves: one ``k`` x ``k`` kernel per video, a softmax over the shifts within
    ``k // 2`` px (so a convex mix of shifted copies), predicted from the context frames, and the
    last frame moved by it (Finn et al. 2016's CDNA, one kernel; De Brabandere et al. 2016,
    "Dynamic Filter Networks"). What is drawn keeps its shape however long a rollout runs; the
    generator's scales only correct what a shift cannot say (a bounce, an edge). The features
    end in a linear layer over a coarse map, not a global pool, so the kernel can depend on
    where the content is (near a wall it bounces)."""

    def __init__(self, context: int, channels: int, size: int, k: int, width: int):
        super().__init__()
        self.k = k
        layers: list[nn.Module] = []
        c, s = context * channels, size
        while s > 8:
            layers += [nn.Conv2d(c, width, 3, 2, 1), nn.ReLU(True)]
            c, s = width, (s + 1) // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c * s * s, k * k)
        nn.init.zeros_(self.head.weight)  # starts as the mean of all shifts, then learns
        nn.init.zeros_(self.head.bias)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        h, w = frames.shape[-2:]
        weights = self.head(self.features(frames.flatten(1, 2)).flatten(1)).softmax(1)
        r = self.k // 2
        last = F.pad(frames[:, -1], (r, r, r, r), value=-1.0)  # background outside the frame
        out = torch.zeros_like(frames[:, -1])
        for i in range(self.k):  # k² shifted slices: plain ops that any exporter takes
            for j in range(self.k):
                wij = weights[:, i * self.k + j].view(-1, 1, 1, 1)
                out = out + wij * last[..., i : i + h, j : j + w]
        return out


class MultiScaleGenerator(nn.Module):
    """(N, T, C, H, W) context in [-1, 1] -> the next frame (N, C, H, W) in [-1, 1]."""

    def __init__(
        self, context: int, channels: int, scales: int, width: int, motion: int = 0, size: int = 0
    ):
        super().__init__()
        self.scales, self.context, self.channels = scales, context, channels
        nets = []
        for k in range(scales):
            c_in = context * channels + (channels if k else 0)
            w = max(4, width // 2) if k == scales - 1 and scales > 1 else width
            kernels = (3, 3, 3, 3) if k == 0 else (5, 3, 3, 5)
            nets.append(conv_stack(c_in, (w, 2 * w, w), kernels, channels))
        self.nets = nn.ModuleList(nets)
        self.motion = MotionKernel(context, channels, size, motion, width) if motion else None
        if motion:  # an untrained G predicts the moved frame, uncorrected
            for net in self.nets:
                nn.init.zeros_(net[-1].weight)
                nn.init.zeros_(net[-1].bias)

    def pyramid(self, frames: torch.Tensor) -> list[torch.Tensor]:
        """The prediction at every scale, coarsest first (the last one is full size), before
        clamping: the training losses see these, so no pixel's gradient is cut off."""
        outs: list[torch.Tensor] = []
        moved = self.motion(frames) if self.motion is not None else None
        res: torch.Tensor | None = None  # the scales' correction (all of it without motion)
        for k, net in enumerate(self.nets):
            factor = 2 ** (self.scales - 1 - k)
            x = pool(frames, factor).flatten(1, 2)  # (N, T*C, h, w)
            if res is None:
                res = net(x)
            else:
                size = x.shape[-2:]
                up = F.interpolate(outs[-1], size=size, mode="bilinear", align_corners=False)
                res = F.interpolate(res, size=size, mode="bilinear", align_corners=False)
                res = res + net(torch.cat([x, up], 1))
            # with motion, every scale corrects the moved last frame at its own size (sharp at
            # the finest); without, the corrections are the prediction
            outs.append(res if moved is None else pool(moved, factor) + res)
        return outs

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.pyramid(frames)[-1].clamp(-1.0, 1.0)


class ScaleDiscriminator(nn.Module):
    """One scale of D: stride-2 convolutions down to 4×4 or less, then one logit."""

    def __init__(self, c_in: int, size: int, width: int, sn: bool):
        super().__init__()
        layers: list[nn.Module] = []
        c, s, i = c_in, size, 0
        while s > 4 or i == 0:
            c_next = width * min(2**i, 8)
            layers += [maybe_sn(nn.Conv2d(c, c_next, 3, 2, 1), sn), nn.LeakyReLU(0.2, True)]
            c, s, i = c_next, (s + 1) // 2, i + 1
        self.body = nn.Sequential(*layers)
        self.head = maybe_sn(nn.Linear(c * s * s, 1), sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)


class MultiScaleDiscriminator(nn.Module):
    """D(next frame, context): one logit per scale, (N, S)."""

    def __init__(self, context: int, channels: int, size: int, scales: int, width: int, sn: bool):
        super().__init__()
        self.scales = scales
        self.nets = nn.ModuleList(
            ScaleDiscriminator((context + 1) * channels, size // 2 ** (scales - 1 - k), width, sn)
            for k in range(scales)
        )

    def forward(self, x: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        seq = torch.cat([source, x.unsqueeze(1)], 1)  # (N, T+1, C, H, W)
        return torch.stack(
            [
                net(pool(seq, 2 ** (self.scales - 1 - k)).flatten(1, 2))
                for k, net in enumerate(self.nets)
            ],
            1,
        )


@torch.no_grad()
def rollout(G, frames: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` future frames (N, steps, C, H, W) from context ``frames`` (N, T, C, H, W) in
    [-1, 1]: each prediction becomes the newest context frame for the next."""
    preds = []
    for _ in range(steps):
        nxt = G(frames=frames).float()
        preds.append(nxt)
        frames = torch.cat([frames[:, 1:], nxt.unsqueeze(1).to(frames)], 1)
    return torch.stack(preds, 1).to(frames.device)


@register_model("video")
class Video(Family):
    """Next-frame prediction: multi-scale G(context frames), multi-scale D(context, next)."""

    name = "video"
    Config = VideoConfig
    folder_dataset = "videos"

    @classmethod
    def frames_shape(cls, info: DataInfo) -> tuple[int, int, int, int]:
        shape = info.inputs.get("frames")
        if info.kind != "images" or shape is None or len(shape) != 4:
            raise ConfigError(
                f"video predicts frames from past frames; dataset {info.name!r} has no videos. "
                "Use --data moving-mnist or a folder of videos (GIFs, or sub-folders of frames)"
            )
        return tuple(shape)

    @classmethod
    def check_size(cls, cfg: VideoConfig, info: DataInfo) -> None:
        _, _, h, w = cls.frames_shape(info)
        m = 2 ** (cfg.scales - 1)
        if h != w or h % m or h // m < 8:
            raise ConfigError(
                f"model.scales={cfg.scales} needs square frames whose side is a multiple of {m} "
                f"and at least {8 * m} px; the frames are {w}x{h} (set data.image_size)"
            )

    @classmethod
    def inputs(cls, cfg: VideoConfig, info: DataInfo) -> list[Input]:
        return [Input("frames", "frames", cls.frames_shape(info), doc="past frames, oldest first")]

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return {}  # deterministic: the past frames are G's only input

    @classmethod
    def build_generator(cls, cfg: VideoConfig, info: DataInfo) -> nn.Module:
        cls.check_size(cfg, info)
        t, c, h, _ = cls.frames_shape(info)
        return MultiScaleGenerator(t, c, cfg.scales, cfg.g_channels, cfg.motion, h)

    def build(self, cfg: VideoConfig, info: DataInfo) -> dict[str, nn.Module]:
        if cfg.pack != 1 or cfg.diffaugment:
            raise ConfigError(
                "video's D judges a next frame against its context; model.pack and "
                "model.diffaugment do not apply"
            )
        G = self.build_generator(cfg, info)
        t, c, h, _ = self.frames_shape(info)
        D = MultiScaleDiscriminator(t, c, h, cfg.scales, cfg.d_channels, cfg.spectral_norm)
        return {"G": G, "D": D}

    def phases(self) -> list[Phase]:
        if self.cfg.adv == 0:  # the pixel-loss baselines: G alone
            return [Phase("G", ("G",))]
        return [Phase("D", ("D",), repeats=self.cfg.n_critic), Phase("G", ("G",), new_batch=False)]

    def step(self, phase: str, batch: dict[str, torch.Tensor]):
        frames, target = batch["frames"], batch["real"]
        cfg, D = self.cfg, self.nets["D"]
        if phase == "D":
            return d_step(D, cfg, target, self.G(frames=frames), source=frames)
        pyr = self.G.pyramid(frames)
        logs: dict[str, torch.Tensor] = {}
        loss = target.new_zeros(())
        if cfg.adv:
            adv, logs = g_step(D, cfg, pyr[-1].clamp(-1.0, 1.0), source=frames)
            loss = loss + cfg.adv * adv
        lp, gdl = self.pixel_losses(pyr, target)
        logs["loss/lp"], logs["loss/gdl"] = lp.detach(), gdl.detach()
        later = batch.get("later")
        if later is not None and later.shape[1]:  # data.future > 1: follow G's own rollout
            lp_r, gdl_r = self.rollout_losses(frames, pyr[-1], later, batch["later_n"])
            steps = 1 + later.shape[1]
            lp, gdl = (lp + lp_r) / steps, (gdl + gdl_r) / steps
            logs["loss/lp_rollout"] = lp_r.detach() / later.shape[1]
        return loss + cfg.lp * lp + cfg.gdl * gdl, logs

    def pixel_losses(
        self, pyr: list[torch.Tensor], target: torch.Tensor, weight: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ℓ_p and GDL of a prediction pyramid against ``target``, averaged over the scales (and
        over samples, weighted by ``weight`` (N,) where given)."""
        lp, gdl = target.new_zeros(()), target.new_zeros(())
        for k, pred in enumerate(pyr):
            y = pool(target, 2 ** (len(pyr) - 1 - k))
            if weight is None:
                lp = lp + (pred - y).abs().pow(self.cfg.p).mean() / len(pyr)
                gdl = gdl + gdl_loss(pred, y, self.cfg.alpha) / len(pyr)
            else:
                per = (pred - y).abs().pow(self.cfg.p).flatten(1).mean(1)
                norm = weight.sum().clamp(min=1.0) * len(pyr)
                lp = lp + (per * weight).sum() / norm
                gdl = (
                    gdl + (gdl_loss(pred, y, self.cfg.alpha, per_sample=True) * weight).sum() / norm
                )
        return lp, gdl

    def rollout_losses(
        self, frames: torch.Tensor, first: torch.Tensor, later: torch.Tensor, count: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The pixel losses of G's rollout past the next frame: each prediction (clamped, as a
        rollout feeds it) becomes the newest context frame, and gradients flow back through
        the whole rollout, so G learns to keep what it draws usable as its own input. Summed
        over the ``later`` frames (N, K, C, H, W) uint8; a window whose video ends sooner
        (``count`` (N,)) counts only its frames."""
        lp, gdl = first.new_zeros(()), first.new_zeros(())
        nxt = first
        for k in range(later.shape[1]):
            frames = torch.cat([frames[:, 1:], nxt.clamp(-1.0, 1.0).unsqueeze(1)], 1)
            pyr = self.G.pyramid(frames)
            y = later[:, k].to(first.dtype).div(127.5).sub(1.0)
            step_lp, step_gdl = self.pixel_losses(pyr, y, (count > k).to(first.dtype))
            lp, gdl, nxt = lp + step_lp, gdl + step_gdl, pyr[-1]
        return lp, gdl

    @classmethod
    def sample_bank(cls, cfg, info, n, data: ArrayDataset, generator=None):
        """Fixed held-out videos: their first ``context`` frames, and as targets their next
        ``HORIZON`` frames (N, K, C, H, W) for rollouts (K is less for shorter videos)."""
        starts, k = video_starts(data, HORIZON)
        n = min(n, len(starts))
        starts = starts[torch.linspace(0, len(starts) - 1, n).round().long()]
        frames = data.batch(starts, augment=False)["frames"]
        target = torch.stack([data.batch(starts + i, augment=False)["real"] for i in range(k)], 1)
        return {"frames": frames}, target


def video_starts(data: ArrayDataset, horizon: int) -> tuple[torch.Tensor, int]:
    """The first window of every video in ``data`` and how many consecutive windows (up to
    ``horizon``) all of them have: windows ``s, s+1, ..., s+k-1`` continue video ``seq[s]``."""
    seq, off = data.extra.get("seq"), data.extra.get("offset")
    if seq is None or off is None:
        return torch.arange(len(data)), 1
    starts = (off == 0).nonzero().squeeze(1)
    k = horizon
    for s in starts.tolist():
        run = 1
        while run < k and s + run < len(seq) and seq[s + run] == seq[s] and off[s + run] == run:
            run += 1
        k = min(k, run)
    return starts, max(k, 1)
