"""CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks"): two generators, G_AB: A → B and G_BA: B → A, two PatchGAN
discriminators, D_B (real B vs G_AB's outputs) and D_A (real A vs G_BA's), and a
cycle-consistency loss that makes A → B → A and B → A → B return their inputs. Training never sees
a matching pair: a batch is A images and B images drawn independently (``data/unpaired.py``).

As in the paper and its reference code (junyanz/pytorch-CycleGAN-and-pix2pix, ``resnet_9blocks``,
``basic`` D, ``lsgan``): a ResNet generator (7×7 conv, two stride-2 convs, ``n_blocks`` residual
blocks, two transposed convs, 7×7 conv, tanh; reflection padding, instance norm), least-squares
adversarial loss, λ_cycle = 10, an identity loss G_AB(b) ≈ b, G_BA(a) ≈ a weighted
``identity`` · λ_cycle (0.5, the reference's setting), and a 50-image history pool per
discriminator (``ImagePool``): D judges a mix of the newest and older fakes, which steadies the
game. Phases follow the reference's order: both generators together (``G``), then ``D_A``, then
``D_B``, on the batch G saw, with the fakes G just made (detached) passed through the pools.
Learning rates: Adam 2e-4 / β1 0.5; the presets decay them linearly to 0 over the second half
(``train.lr_decay_start=0.5``).

G_AB is the exported generator (``generator/``); G_BA is exported beside it
(``generator_BA/``, ``gankit.load(run, direction="BA")``).
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from gankit.data.base import ArrayDataset, DataInfo
from gankit.data.unpaired import check_two_domains
from gankit.errors import ConfigError
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import LossName, d_step, g_step
from gankit.models.patchgan import (
    PatchGANConfig,
    build_patch_discriminator,
    init_normal,
    norm_layer,
)
from gankit.registry import register_model


class CycleGANConfig(PatchGANConfig):
    loss: LossName = "lsgan"
    norm: str = Field("instance", description="normalisation in G and D: batch or instance")
    g_channels: int = Field(64, ge=4, le=1024, description="ResNet G width at full resolution")
    n_down: int = Field(2, ge=1, le=4, description="stride-2 convolutions in G (and up-convs)")
    n_blocks: int = Field(9, ge=0, le=32, description="residual blocks (paper: 6 or 9)")
    cycle: float = Field(10.0, ge=0.0, le=1000.0, description="λ_cycle of the L1 cycle losses")
    identity: float = Field(
        0.5, ge=0.0, le=10.0, description="identity loss weight, times λ_cycle (0: off)"
    )
    pool_size: int = Field(50, ge=0, le=10_000, description="fakes each D's history pool holds")


class ResidualBlock(nn.Module):
    def __init__(self, c: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(c, c, 3, bias=norm == "instance"),
            norm_layer(norm, c),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(c, c, 3, bias=norm == "instance"),
            norm_layer(norm, c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNetGenerator(nn.Module):
    """The reference ``ResnetGenerator``: c7s1-k, d2k, d4k, R4k × n, u2k, uk, c7s1-out. It pads its
    input to a multiple of ``2^n_down`` and crops the output back, so any size works."""

    def __init__(self, in_ch: int, out_ch: int, cfg: CycleGANConfig):
        super().__init__()
        bias, k = cfg.norm == "instance", cfg.g_channels
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_ch, k, 7, bias=bias),
            norm_layer(cfg.norm, k),
            nn.ReLU(True),
        ]
        for i in range(cfg.n_down):
            c = k * 2**i
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), norm_layer(cfg.norm, 2 * c)]
            layers.append(nn.ReLU(True))
        c = k * 2**cfg.n_down
        layers += [ResidualBlock(c, cfg.norm) for _ in range(cfg.n_blocks)]
        for _ in range(cfg.n_down):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                norm_layer(cfg.norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_ch, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.multiple = 2**cfg.n_down
        self.apply(init_normal)

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        h, w = source.shape[-2:]
        m = self.multiple
        ph, pw = (-h) % m, (-w) % m
        x = source
        if ph or pw:
            pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
            x = nn.functional.pad(x, pad, mode="replicate")
        return self.net(x)[..., ph // 2 : ph // 2 + h, pw // 2 : pw // 2 + w]


class ImagePool:
    """The reference ``ImagePool``: until it holds ``size`` images every fake is stored and
    returned as is; then each fake is, with probability 1/2, swapped for a random stored one
    (which is returned, the new one stored in its place), else returned as is. Draws come from
    torch's global RNG, which checkpoints restore; the stored images are in ``extra_state``."""

    def __init__(self, size: int):
        self.size = size
        self.images: torch.Tensor | None = None  # (k, C, H, W), k <= size

    def __len__(self) -> int:
        return 0 if self.images is None else len(self.images)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return fakes
        fakes = fakes.detach()
        out = []
        for img in fakes:
            if len(self) < self.size:
                img = img.clone()
                stored = img[None]
                self.images = stored if self.images is None else torch.cat([self.images, stored])
                out.append(img)
            elif torch.rand(()).item() > 0.5:
                i = int(torch.randint(0, self.size, ()).item())
                old = self.images[i].clone()
                self.images[i] = img
                out.append(old)
            else:
                out.append(img)
        return torch.stack(out)

    def state(self) -> torch.Tensor:
        return self.images.cpu() if self.images is not None else torch.zeros(0)

    def load(self, images: torch.Tensor, device: torch.device) -> None:
        self.images = images.to(device) if images.numel() else None


def cycle_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of a round trip (the paper's L1 cycle-consistency loss)."""
    return (reconstructed - original).abs().mean()


def reverse_info(info: DataInfo) -> DataInfo:
    """The data as G_BA sees it: B images in, A images out."""
    return info.model_copy(
        update={"shape": info.inputs["source"], "inputs": {"source": info.shape}, "margins": {}}
    )


@register_model("cyclegan")
class CycleGAN(Family):
    """Unpaired translation: G_AB, G_BA, D_A, D_B; cycle and identity losses; history pools."""

    name = "cyclegan"
    Config = CycleGANConfig
    generator = "G_AB"
    folder_dataset = "unpaired"
    two_folder_dataset = "unpaired"
    bank_targets_match = False  # the bank's B images are not the translations of its A images

    def __init__(self, cfg: CycleGANConfig, info: DataInfo) -> None:
        super().__init__(cfg, info)
        self.pools = {"A": ImagePool(cfg.pool_size), "B": ImagePool(cfg.pool_size)}
        self._fakes: dict[str, torch.Tensor] = {}

    @classmethod
    def source_shape(cls, info: DataInfo) -> tuple[int, int, int]:
        if info.kind != "images" or "source" not in info.inputs:
            raise ConfigError(
                f"cyclegan translates between two image domains; dataset {info.name!r} has one. "
                "Use --data digits2mnist, photo2cartoon, a folder with A/ and B/, or "
                "--set data.path_a=DIR_A --set data.path_b=DIR_B"
            )
        return tuple(info.inputs["source"])

    @classmethod
    def inputs(cls, cfg: CycleGANConfig, info: DataInfo) -> list[Input]:
        shape, margin = cls.source_shape(info), info.margins.get("source", 0)
        return [Input("source", "image", shape, doc="the image to translate", margin=margin)]

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return {}  # deterministic translation: no z

    @classmethod
    def build_generator(cls, cfg: CycleGANConfig, info: DataInfo) -> nn.Module:
        return ResNetGenerator(cls.source_shape(info)[0], info.shape[0], cfg)

    def build(self, cfg: CycleGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        if cfg.pack != 1 or cfg.diffaugment or cfg.loss == "wgan-gp":
            raise ConfigError(
                "cyclegan's discriminators judge single images with a least-squares (or "
                "nonsaturating / hinge) loss; model.pack, model.diffaugment and wgan-gp do not apply"
            )
        a, b = self.source_shape(info), tuple(info.shape)
        if cfg.identity and a[0] != b[0]:
            raise ConfigError(
                f"model.identity={cfg.identity} feeds B images to G_AB, but domain A has {a[0]} "
                f"channel(s) and B {b[0]}; set model.identity=0 or data.channels"
            )
        return {
            "G_AB": self.build_generator(cfg, info),
            "G_BA": self.build_generator(cfg, reverse_info(info)),
            "D_A": build_patch_discriminator(a[0], cfg, a[1:]),
            "D_B": build_patch_discriminator(b[0], cfg, b[1:]),
        }

    def check_data(self, data) -> None:
        check_two_domains(data, self.name)

    def phases(self) -> list[Phase]:
        return [
            Phase("G", ("G_AB", "G_BA")),
            Phase("D_A", ("D_A",), new_batch=False),
            Phase("D_B", ("D_B",), new_batch=False),
        ]

    def step(self, phase: str, batch: dict[str, torch.Tensor]):
        a, b, cfg = batch["source"], batch["real"], self.cfg
        if phase == "G":
            return self.generator_step(a, b)
        domain = phase[-1]  # D_A judges A images: real a vs G_BA(b)
        real = a if domain == "A" else b
        fake = self.pools[domain].query(self._fakes[domain])
        loss, logs = d_step(self.nets[phase], cfg, real, fake)
        return loss, {rename(k, phase): v for k, v in logs.items()}

    def generator_step(self, a: torch.Tensor, b: torch.Tensor):
        cfg, nets = self.cfg, self.nets
        fake_b = nets["G_AB"](source=a)
        fake_a = nets["G_BA"](source=b)
        self._fakes = {"A": fake_a.detach(), "B": fake_b.detach()}
        adv_ab, _ = g_step(nets["D_B"], cfg, fake_b)
        adv_ba, _ = g_step(nets["D_A"], cfg, fake_a)
        cyc_a = cycle_loss(nets["G_BA"](source=fake_b), a)
        cyc_b = cycle_loss(nets["G_AB"](source=fake_a), b)
        loss = adv_ab + adv_ba + cfg.cycle * (cyc_a + cyc_b)
        logs = {
            "loss/G_AB": adv_ab.detach(),
            "loss/G_BA": adv_ba.detach(),
            "loss/cycle_A": cyc_a.detach(),
            "loss/cycle_B": cyc_b.detach(),
        }
        if cfg.identity:
            idt_a = cycle_loss(nets["G_BA"](source=a), a)
            idt_b = cycle_loss(nets["G_AB"](source=b), b)
            loss = loss + cfg.identity * cfg.cycle * (idt_a + idt_b)
            logs.update({"loss/idt_A": idt_a.detach(), "loss/idt_B": idt_b.detach()})
        return loss, logs

    # -- samples, exports and state ---------------------------------------------------------
    @classmethod
    def sample_bank(cls, cfg, info, n, data, generator=None):
        """Held-out A images as G_AB's inputs and as many held-out B images (the ``target``
        slot: what the outputs should look like, not their matches), each spread over its
        domain."""
        data = check_two_domains(data, cls.name)
        n = min(n, len(data.a), len(data.b))

        def spread(d: ArrayDataset) -> torch.Tensor:
            idx = torch.linspace(0, len(d) - 1, n).round().long()
            return d.batch(idx, augment=False)["real"]

        return {"source": spread(data.a)}, spread(data.b)

    @torch.no_grad()
    def sample_columns(self, bank: dict[str, torch.Tensor], target, G: nn.Module):
        """Grid cells input | translation | round trip: A → B → A for the bank's A images, then
        B → A → B for its B images (``G`` is the sampling G_AB, the EMA copy when there is one)."""
        G_BA = self.nets["G_BA"]
        device = next(G_BA.parameters()).device
        modes = [(net, net.training) for net in (G, G_BA)]
        for net, _ in modes:
            net.eval()
        try:
            a, b = bank["source"].to(device), target.to(device)
            fake_b, fake_a = G(source=a), G_BA(source=b)
            rec_a, rec_b = G_BA(source=fake_b), G(source=fake_a)
        finally:
            for net, mode in modes:
                net.train(mode)
        return [torch.cat(c) for c in ((a, b), (fake_b, fake_a), (rec_a, rec_b))]

    def exports(self) -> dict[str, tuple[nn.Module, DataInfo]]:
        """G_BA, exported as ``generator_BA/`` with the data seen from B."""
        return {"generator_BA": (self.nets["G_BA"], reverse_info(self.info))}

    def extra_state(self) -> dict[str, Any]:
        return {f"pool_{k}": p.state() for k, p in self.pools.items()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        device = next(self.nets.parameters()).device
        for k, p in self.pools.items():
            if f"pool_{k}" in state:
                p.load(state[f"pool_{k}"], device)


def rename(key: str, net: str) -> str:
    """A discriminator's log key under its own name: ``loss/D`` -> ``loss/D_A``, ``acc/D`` ->
    ``acc/D_A``, ``D(x)`` -> ``D_A(x)``."""
    return key.replace("D", net, 1) if "D" in key else key
