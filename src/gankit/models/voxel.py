"""3-D shapes: a voxel GAN and a 3-D model from one picture (3D-GAN and 3D-VAE-GAN, Wu, Zhang,
Xue, Freeman & Tenenbaum 2016, "Learning a probabilistic latent space of object shapes via 3D
generative-adversarial modeling").

``voxel-gan`` (3D-GAN): G maps z to a 32³ occupancy grid with 3-D transposed convolutions
(4³ → 8³ → 16³ → 32³, batch norm and ReLU between them, as in the paper, at a CPU width: most of
the work happens at 16³ and below, one transposed convolution with a single output channel
makes the 32³ grid); D mirrors it with stride-2 3-D convolutions and leaky ReLUs down to one
logit. G's output is ``tanh(logit / 2) = 2·sigmoid(logit) - 1``, an occupancy probability in
[-1, 1]: a voxel is occupied when its probability is above ``threshold`` (0.5, i.e. an output
above 0). The paper's adaptive update trains D on a batch only while its accuracy on that batch
is below ``d_threshold`` (0.8): a D that already wins skips the step (no gradient reaches its
parameters, so Adam leaves them alone) and the GAN keeps G's gradient alive. Every option of
``models.blocks`` (loss, WGAN-GP, R1, spectral norm) applies as well.

``clusters=K`` self-conditions the voxel GAN against mode dropping (Liu et al. 2020, "Diverse
Image Generation via Self-Conditioned GANs", as dcgan and mlp-gan do, ``selfcond.py``): the
training grids' k-means clusters become G's categorical code and the label of a projection D, and
G draws the clusters as often as the data has them. D then rejects a G that makes one cluster's
shapes for another's code, so G cannot drop the shapes of a whole cluster.

``voxel-vae-gan`` (3D-VAE-GAN): an image encoder E maps one view (a 32×32 grey rendering) to a
Gaussian over z (VAE: mean and log-variance), and the same voxel G decodes z. G's exported
module is E followed by G, fed E's mean: one picture in, one grid out. Per step

    L_D = the GAN loss of D on real grids vs G(z), z ~ N(0, I)
    L_EG = λ_adv · GAN loss of G(z) + λ_rec · BCE(G(E(y)), x) + λ_KL · KL(E(y) || N(0, I))

with the reconstruction drawn through the reparameterisation. The paper's L2 reconstruction
is a binary cross-entropy here (occupancy is binary; it trains faster on a CPU budget).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import AdversarialConfig, adversarial_phases, d_step, g_step, maybe_sn
from gankit.models.convnets import with_code
from gankit.models.selfcond import (
    SelfConditioning,
    cluster_of,
    code_inputs,
    code_latent,
    image_clusters,
)
from gankit.registry import register_model

THRESHOLD = 0.5  # occupancy probability above which a voxel is solid
PRIOR_LOGIT = -2.5  # G's initial output logit: sigmoid(-2.5) = 7.6 % occupancy
SHOW = (45.0, 25.0)  # azimuth and elevation (degrees) of the sample grids' renderings


class VoxelGANConfig(AdversarialConfig):
    z_dim: int = Field(64, ge=1, le=1024, description="size of z (the paper: 200)")
    g_channels: int = Field(16, ge=1, le=512, description="G width at 16³ (x2 at 8³, x4 at 4³)")
    d_channels: int = Field(16, ge=1, le=512, description="D width at 16³ (x2 at 8³, x4 at 4³)")
    d_threshold: float = Field(
        0.8,
        gt=0.0,
        le=1.0,
        description="train D on a batch only while its accuracy there is below this (the "
        "paper's 0.8; 1: always)",
    )
    clusters: int = Field(
        0,
        ge=0,
        le=1024,
        description="self-conditioning: K k-means clusters of the training grids label G's "
        "categorical code and a projection D; drawn as often as in the data (0: off)",
    )


class VoxelVAEGANConfig(VoxelGANConfig):
    e_channels: int = Field(32, ge=1, le=512, description="image encoder width at 16×16")
    adv: float = Field(1.0, ge=0.0, le=100.0, description="λ_adv, the GAN term of E and G")
    recon: float = Field(20.0, ge=0.0, le=1e4, description="λ_rec, voxel cross-entropy weight")
    kl: float = Field(0.01, ge=0.0, le=100.0, description="λ_KL, weight of E's KL term")


def voxel_shape(info: DataInfo) -> int:
    """The side of the (cubic) voxel grids in ``info``; 32 is the only size the networks make."""
    if info.kind != "images" or len(info.shape) != 3 or set(info.shape) != {32}:
        raise ConfigError(
            f"the voxel families make 32³ grids; dataset {info.name!r} holds {info.kind} of shape "
            f"{tuple(info.shape)}. Use --data shapes"
        )
    return 32


class VoxelGenerator(nn.Module):
    """z (N, z_dim) -> occupancy in [-1, 1] (N, 32, 32, 32); with ``clusters=K``, ``G(z, c)`` or
    ``G(z, u=u)`` with a categorical code of K values and their prior (a buffer)."""

    def __init__(self, z_dim: int, ch: int, clusters: int = 0):
        super().__init__()
        self.z_dim, self.n_components = z_dim, clusters
        if clusters:
            # P(cluster) in the training data; set by the family's prepare, saved with the weights.
            self.register_buffer("prior", torch.full((clusters,), 1.0 / clusters))
        self.net = nn.Sequential(
            nn.ConvTranspose3d(z_dim + clusters, 4 * ch, 4, 1, 0, bias=False),  # 4³
            nn.BatchNorm3d(4 * ch),
            nn.ReLU(True),
            nn.ConvTranspose3d(4 * ch, 2 * ch, 4, 2, 1, bias=False),  # 8³
            nn.BatchNorm3d(2 * ch),
            nn.ReLU(True),
            nn.ConvTranspose3d(2 * ch, ch, 4, 2, 1, bias=False),  # 16³
            nn.BatchNorm3d(ch),
            nn.ReLU(True),
            nn.ConvTranspose3d(ch, 1, 4, 2, 1),  # 32³ logits
        )
        # start near the shapes' occupancy (5-15 %), not at 50 %: a G that begins half full is
        # far from every real grid and D rejects it wholesale
        nn.init.constant_(self.net[-1].bias, PRIOR_LOGIT)

    def logits(
        self, z: torch.Tensor, c: torch.Tensor | None = None, u: torch.Tensor | None = None
    ) -> torch.Tensor:
        if c is None and u is not None:
            c = cluster_of(u, self.prior)
        h = with_code(z, c, self.n_components)  # (N, z_dim + K)
        return self.net(h.view(*h.shape, 1, 1, 1)).squeeze(1)

    def forward(
        self, z: torch.Tensor, c: torch.Tensor | None = None, u: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``c``: the cluster (N,); or ``u`` ~ U(0, 1) (N,), mapped to a cluster drawn with the
        data's frequencies (self-conditioning)."""
        return torch.tanh(self.logits(z, c, u) / 2)


class VoxelDiscriminator(nn.Module):
    """(N, 32, 32, 32) in [-1, 1] -> one logit per grid (N,). With ``num_classes`` it is a
    projection discriminator (Miyato & Koyama 2018), ``D(x, label) = head(phi(x)) +
    <embed(label), phi(x)>``, phi(x) the 4³ features flattened."""

    def __init__(self, ch: int, sn: bool = False, num_classes: int = 0):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(maybe_sn(nn.Conv3d(a, b, 4, 2, 1), sn), nn.LeakyReLU(0.2, True))
            for a, b in ((1, ch), (ch, 2 * ch), (2 * ch, 4 * ch))  # 16³, 8³, 4³
        )
        self.head = maybe_sn(nn.Conv3d(4 * ch, 1, 4, 1, 0), sn)
        if num_classes:
            embed = nn.Embedding(num_classes, 4 * ch * 4**3)
            nn.init.normal_(embed.weight, 0.0, 0.02)
            self.embed = maybe_sn(embed, sn)

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        h = x.unsqueeze(1)
        for block in self.blocks:
            h = block(h)
        out = self.head(h).flatten()
        if label is not None:
            out = out + (self.embed(label) * h.flatten(1)).sum(1)
        return out

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Every block's activations max-pooled to 2³ and concatenated (N, F): the features the
        paper's linear classifier reads from D."""
        h, out = x.unsqueeze(1), []
        for block in self.blocks:
            h = block(h)
            out.append(F.adaptive_max_pool3d(h, 2).flatten(1))
        return torch.cat(out, 1)


class ImageEncoder(nn.Module):
    """A view (N, 1, 32, 32) in [-1, 1] -> (mean, log-variance) of z, each (N, z_dim)."""

    def __init__(self, c_in: int, ch: int, z_dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c_in, ch, 4, 2, 1),  # 16
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False),  # 8
            nn.BatchNorm2d(2 * ch),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * ch, 4 * ch, 4, 2, 1, bias=False),  # 4
            nn.BatchNorm2d(4 * ch),
            nn.LeakyReLU(0.2, True),
            nn.Flatten(),
            nn.Linear(4 * ch * 16, 2 * z_dim),
        )

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net(image).chunk(2, 1)
        return mu, logvar.clamp(-10.0, 10.0)


class ImageToShape(nn.Module):
    """E then G: one view (N, 1, 32, 32) in [-1, 1] -> occupancy (N, 32, 32, 32) in [-1, 1],
    decoded from E's mean (the exported generator of a voxel-vae-gan run)."""

    def __init__(self, c_in: int, e_ch: int, g_ch: int, z_dim: int):
        super().__init__()
        self.encoder = ImageEncoder(c_in, e_ch, z_dim)
        self.decoder = VoxelGenerator(z_dim, g_ch)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(image)[0])


def occupancy(out: torch.Tensor | np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Generator outputs in [-1, 1] (float), or uint8 0..255, -> uint8 occupancy 0/1 where the
    probability ``(out + 1) / 2`` (or ``out / 255``) is above ``threshold``."""
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold {threshold} is not between 0 and 1 (exclusive)")
    a = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
    p = a / 255.0 if a.dtype == np.uint8 else (a.astype(np.float32) + 1) / 2
    return (p > threshold).astype(np.uint8)


def render_grids(out: torch.Tensor, size: int = 32) -> torch.Tensor:
    """Voxel outputs (N, 32, 32, 32) in [-1, 1] rendered from the sample grids' camera: grey
    pictures (N, 1, size, size) in [-1, 1] (a grid is solid where it is above 0)."""
    from gankit.data.shapes import render

    occ = occupancy(out)
    views = [render(g, *SHOW, size=size) for g in occ]
    x = np.stack(views)[:, None] if views else np.zeros((0, 1, size, size), np.uint8)
    return torch.from_numpy(x).float().div(127.5).sub(1.0)


@register_model("voxel-gan")
class VoxelGAN(SelfConditioning, Family):
    """3D-GAN: z -> a 32³ occupancy grid; a 3-D convolutional D with the adaptive update."""

    name = "voxel-gan"
    Config = VoxelGANConfig
    voxels = True  # outputs are voxel grids: sample grids, the CLI and the dashboard render them
    channels_last = False  # 5-D grids: channels_last (a 4-D format) does not apply

    @classmethod
    def build_generator(cls, cfg: VoxelGANConfig, info: DataInfo) -> nn.Module:
        voxel_shape(info)
        return VoxelGenerator(cfg.z_dim, cfg.g_channels, cfg.clusters)

    def build(self, cfg: VoxelGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        if cfg.pack != 1 or cfg.diffaugment:
            raise ConfigError(
                f"{self.name}: model.pack and model.diffaugment apply to images, not voxel grids"
            )
        return {
            "G": self.build_generator(cfg, info),
            "D": VoxelDiscriminator(cfg.d_channels, cfg.spectral_norm, cfg.clusters),
        }

    @classmethod
    def inputs(cls, cfg: VoxelGANConfig, info: DataInfo) -> list[Input]:
        return code_inputs(cfg)

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return code_latent(cfg, n, generator)

    def prepare(self, data):
        """Self-conditioning: each training grid gets its k-means cluster id (``image_clusters``
        reads a grid as an image whose 32 channels are its x slices), G's prior their share."""
        return self.assign_clusters(data, image_clusters) if self.cfg.clusters else data

    def phases(self) -> list[Phase]:
        return adversarial_phases(self.cfg)

    @classmethod
    def pictures(cls, cfg, info, out: torch.Tensor) -> torch.Tensor:
        return render_grids(out)

    def d_phase(self, real: torch.Tensor, fake: torch.Tensor, **cond) -> tuple[torch.Tensor, dict]:
        """D's loss, or, where D already wins (accuracy >= ``d_threshold``, the paper's adaptive
        update), a loss that reaches none of D's parameters: the optimizer then skips them."""
        loss, logs = d_step(self.nets["D"], self.cfg, real, fake, **cond)
        acc = logs["acc/D"]  # on this batch, at the loss's own decision threshold
        update = acc < self.cfg.d_threshold or self.cfg.d_threshold >= 1.0
        logs["D_updated"] = float(update)
        if not update:
            loss = torch.zeros((), device=real.device, requires_grad=True)
        return loss, logs

    def step(self, phase: str, batch: dict[str, torch.Tensor]):
        inputs, cond = self.step_inputs(batch)
        fake = self.G(**inputs)
        if phase == "D":
            return self.d_phase(batch["real"], fake, **cond)
        return g_step(self.nets["D"], self.cfg, fake, **cond)


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) summed over z, batch mean."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()


@register_model("voxel-vae-gan")
class VoxelVAEGAN(VoxelGAN):
    """3D-VAE-GAN: an image encoder into the voxel GAN's latent space; one view in, a grid out."""

    name = "voxel-vae-gan"
    Config = VoxelVAEGANConfig

    @classmethod
    def view_shape(cls, info: DataInfo) -> tuple[int, int, int]:
        shape = info.inputs.get("image")
        if shape is None or len(shape) != 3 or tuple(shape[1:]) != (32, 32):
            raise ConfigError(
                f"{cls.name} learns shapes from 32×32 views; dataset {info.name!r} has no "
                "'image' input of that size. Use --data shapes"
            )
        return tuple(shape)

    @classmethod
    def inputs(cls, cfg, info) -> list[Input]:
        return [Input("image", "image", cls.view_shape(info), doc="one view of the object")]

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        return {}  # deterministic: the picture is the only input

    @classmethod
    def build_generator(cls, cfg: VoxelVAEGANConfig, info: DataInfo) -> nn.Module:
        voxel_shape(info)
        if cfg.clusters:
            raise ConfigError(
                f"{cls.name}: model.clusters (self-conditioning) applies to voxel-gan; the "
                "encoder already ties each grid to its own code. Leave model.clusters at 0"
            )
        c = cls.view_shape(info)[0]
        return ImageToShape(c, cfg.e_channels, cfg.g_channels, cfg.z_dim)

    def phases(self) -> list[Phase]:
        if self.cfg.adv == 0:  # the reconstruction-only baseline: E and G alone
            return [Phase("G", ("G",))]
        return adversarial_phases(self.cfg)

    def fake(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Grids G decodes from prior noise, as many as the batch has."""
        n = len(batch["real"])
        z = torch.randn(n, self.cfg.z_dim, device=batch["real"].device)
        return self.G.decoder(z)

    def step(self, phase: str, batch: dict[str, torch.Tensor]):
        cfg = self.cfg
        if phase == "D":
            return self.d_phase(batch["real"], self.fake(batch))
        mu, logvar = self.G.encoder(batch["image"])
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        target = (batch["real"] + 1) / 2
        rec = F.binary_cross_entropy_with_logits(self.G.decoder.logits(z), target)
        kl = kl_normal(mu, logvar)
        loss = cfg.recon * rec + cfg.kl * kl
        logs = {"loss/recon": rec.detach(), "loss/KL": kl.detach()}
        if cfg.adv:
            adv, adv_logs = g_step(self.nets["D"], cfg, self.fake(batch))
            loss = loss + cfg.adv * adv
            logs.update(adv_logs)
        return loss, logs

    def sample_columns(self, bank, target, G):
        """view | the grid G makes of it | the true grid, both grids rendered from one camera."""
        if target is None:
            return None
        with torch.no_grad():
            was = G.training
            G.eval()
            out = G(image=bank["image"].to(next(G.parameters()).device)).float().cpu()
            G.train(was)
        return [bank["image"], render_grids(out), render_grids(target)]
