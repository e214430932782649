"""Text to image: G(z, text) draws what a caption describes (GAN-CLS with GAN-INT).

Paper: Reed et al. 2016b, "Generative Adversarial Text to Image Synthesis" (arXiv 1605.05396),
at MNIST scale; reference: reedscot/icml2016 (Torch). The text encoder is trained here first
(``gankit.models.text``: a character CNN matched against an image encoder, as in Reed et al.
2016a), then frozen; nothing is downloaded.

- **G**: the caption's embedding ``phi(t)`` (unit vector) is compressed by
  ``Linear -> LeakyReLU(0.2)`` to ``proj_dim`` and concatenated with z; DCGAN's generator
  (``gankit.models.convnets``) maps ``[z, proj]`` to the image. ``G(z, text)`` takes symbol ids
  ``(B, MAX_TOKENS)`` and runs the frozen encoder it carries (its weights are buffers, exported
  with G), or, when ``text`` is a float tensor ``(B, embed_dim)``, takes embeddings directly
  (interpolation between sentences).
- **D**: DCGAN's discriminator features ``h(x)`` and a projection of the embedding:
  ``D(x, t) = w . h(x) + <W phi(t), h(x)>`` (Miyato & Koyama 2018; Reed et al. concatenate the
  replicated embedding at 4x4 instead: both give D the pair, the projection trained better here).
- **Matching-aware D (GAN-CLS)**: D learns (real, right text) as real, and both (real, wrong
  text) and (fake, right text) as fake, half weight each:
  ``L_D = l_real(s_r) + 1/2 l_fake(s_w) + 1/2 l_fake(s_f)``. The wrong text of a sample is the
  next sample's caption in the shuffled batch. ``model.matching_aware=false`` drops the wrong pairs
  (the ablation: a plain conditional GAN on right pairs only).
- **GAN-INT**: G also learns to fool D on embeddings halfway between two captions of the batch,
  ``beta t1 + (1 - beta) t2`` with beta = 0.5 (the paper's value), weight ``model.interpolate``.

The encoder is trained in ``prepare`` (before step 1, not again after a resume): ``encoder_steps``
of the matching loss on the training pairs; its embeddings of the training captions are then
computed once (``extra["embedding"]``), so the GAN steps cost what a cGAN's do.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import nn

from gankit import losses
from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError, DataError
from gankit.models.augment import diff_augment
from gankit.models.base import Family, Input
from gankit.models.blocks import adversarial_phases, loss_key
from gankit.models.convnets import ConvGANConfig, check_images, make_discriminator, make_generator
from gankit.models.text import (
    MAX_TOKENS,
    VOCAB,
    MatchingModel,
    TextEncoder,
    as_buffers,
    encode_texts,
    frozen_copy_into,
    train_matching,
)
from gankit.registry import register_model


class Text2ImageConfig(ConvGANConfig):
    embed_dim: int = Field(64, ge=8, le=1024, description="size of the text embedding")
    proj_dim: int = Field(64, ge=4, le=1024, description="G's compression of the embedding")
    encoder_channels: int = Field(64, ge=16, le=1024, description="the text encoder's width")
    encoder_steps: int = Field(
        1000, ge=0, le=100_000, description="matching-loss steps that train the text encoder"
    )
    encoder_batch: int = Field(128, ge=2, le=4096, description="batch of the matching loss")
    encoder_lr: float = Field(1e-3, gt=0, le=1.0, description="Adam rate of the matching loss")
    char_dropout: float = Field(
        0.05, ge=0.0, lt=1.0, description="fraction of characters read as unknown in training"
    )
    matching_aware: bool = Field(
        True, description="GAN-CLS: D also learns (real image, wrong text) pairs as fake"
    )
    interpolate: float = Field(
        1.0, ge=0.0, le=10.0, description="GAN-INT: weight of G's loss on interpolated captions"
    )
    wrong_pairs: Literal["shift"] = Field(
        "shift", description="wrong text: the next sample's caption in the shuffled batch"
    )


class TextGenerator(nn.Module):
    """``G(z, text)``: a frozen text encoder, then DCGAN's generator on ``[z, proj(phi(text))]``."""

    def __init__(self, cfg: Text2ImageConfig, shape: tuple[int, ...]):
        super().__init__()
        self.encoder = as_buffers(TextEncoder(cfg.embed_dim, cfg.encoder_channels))
        self.register_buffer("encoder_trained", torch.zeros((), dtype=torch.long))
        self.project = nn.Sequential(nn.Linear(cfg.embed_dim, cfg.proj_dim), nn.LeakyReLU(0.2))
        self.body = make_generator(
            cfg.model_copy(update={"z_dim": cfg.z_dim + cfg.proj_dim}), shape
        )

    def embed(self, text: torch.Tensor) -> torch.Tensor:
        """Symbol ids ``(B, L)`` -> embeddings ``(B, E)``; float input is already embeddings."""
        if text.is_floating_point():
            return text
        with torch.no_grad():
            return self.encoder(text)

    def generate(self, z: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, self.project(embedding)], dim=1))  # (B, C, H, W)

    def forward(self, z: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return self.generate(z, self.embed(text))


class TextDiscriminator(nn.Module):
    """``D(x, embedding) = w . h(x) + <W embedding, h(x)>``."""

    def __init__(self, cfg: Text2ImageConfig, shape: tuple[int, ...]):
        super().__init__()
        dcgan_d = make_discriminator(cfg, shape)
        self.phi = dcgan_d.net[:-1]  # (B, F)
        self.head = dcgan_d.net[-1]  # Linear(F, 1)
        self.text = nn.Linear(cfg.embed_dim, self.head.in_features, bias=False)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.phi(x)  # (B, F)
        return self.head(h).squeeze(1) + (self.text(embedding) * h).sum(1)  # (B,)


@register_model("text2image")
class Text2Image(Family):
    """GAN-CLS + GAN-INT on DCGAN's networks, with a text encoder trained by gankit."""

    name = "text2image"
    Config = Text2ImageConfig
    folder_dataset = "captioned"

    @classmethod
    def inputs(cls, cfg: Text2ImageConfig, info: DataInfo) -> list[Input]:
        return [
            Input("z", "noise", (cfg.z_dim,)),
            Input(
                "text",
                "text",
                (MAX_TOKENS,),
                categories=VOCAB,
                doc="a caption, e.g. 'a thick seven leaning right' or '굵은 7'",
            ),
        ]

    @classmethod
    def build_generator(cls, cfg: Text2ImageConfig, info: DataInfo) -> nn.Module:
        check_images(info, "text2image")
        if cfg.pack != 1:
            raise ConfigError(f"text2image does not support model.pack={cfg.pack}")
        if cfg.loss == "wgan-gp":
            raise ConfigError(
                "text2image: model.loss=wgan-gp is not supported; "
                "allowed: minimax, nonsaturating, lsgan, hinge"
            )
        return TextGenerator(cfg, info.shape)

    def build(self, cfg: Text2ImageConfig, info: DataInfo) -> dict[str, nn.Module]:
        return {
            "G": self.build_generator(cfg, info),
            "D": TextDiscriminator(cfg, info.shape),
            "M": MatchingModel(info.shape, cfg.embed_dim, cfg.encoder_channels),
        }

    def phases(self):
        return adversarial_phases(self.cfg)

    def check_data(self, data: ArrayDataset) -> None:
        if "text" not in data.extra:
            raise DataError(
                f"text2image needs captioned images; dataset {data.info.name!r} has no captions "
                "(use --data digit-captions, or a folder with captions.jsonl or .txt files)"
            )

    def prepare(self, data: ArrayDataset) -> ArrayDataset:
        """Train the text encoder (unless a resumed G already holds one), then embed every
        training caption once."""
        G = self.G
        device = next(G.parameters()).device
        if not int(G.encoder_trained):
            stats = train_matching(
                self.nets["M"],
                data.x,
                data.extra["text"],
                self.cfg.encoder_steps,
                self.cfg.encoder_batch,
                self.cfg.encoder_lr,
                self.cfg.char_dropout,
                seed=int(torch.initial_seed()) % (2**31),
            )
            frozen_copy_into(G.encoder, self.nets["M"].text)
            G.encoder_trained.fill_(1)
            self.encoder_stats = stats
        with torch.no_grad():
            emb = torch.cat([G.encoder(t.to(device)).cpu() for t in data.extra["text"].split(1024)])
        data.extra["embedding"] = emb
        return data

    def step(self, phase, batch):
        cfg, D = self.cfg, self.nets["D"]
        e = batch["embedding"]  # (B, E) right text
        z = self.latent(cfg, self.info, len(e))["z"].to(e.device)
        fake = self.G.generate(z, e)
        key = loss_key(cfg)
        if phase == "D":
            real = diff_augment(batch["real"], cfg.diffaugment)
            s_r = D(real, e)
            s_f = D(diff_augment(fake.detach(), cfg.diffaugment), e)
            logs = {}
            if cfg.matching_aware:
                s_w = D(real, e.roll(1, 0))  # the real image with another sample's caption
                loss = losses.D_LOSSES[key](s_r, torch.cat([s_f, s_w]))
                logs["D/wrong"] = torch.sigmoid(s_w).mean().detach()
            else:
                loss = losses.D_LOSSES[key](s_r, s_f)
            logs["loss/D"] = loss.detach()
            logs.update(losses.equilibrium_stats(s_r, s_f, key))
            return loss, logs
        loss = losses.G_LOSSES[key](D(diff_augment(fake, cfg.diffaugment), e))
        logs = {"loss/G": loss.detach()}
        if cfg.interpolate > 0:
            e_int = 0.5 * (e + e.roll(1, 0))
            z2 = self.latent(cfg, self.info, len(e))["z"].to(e.device)
            fake_int = self.G.generate(z2, e_int)
            l_int = losses.G_LOSSES[key](D(diff_augment(fake_int, cfg.diffaugment), e_int))
            loss = loss + cfg.interpolate * l_int
            logs["loss/G_int"] = l_int.detach()
        return loss, logs


def text_tokens(texts: list[str]) -> torch.Tensor:
    """Captions as the ``text`` input of a text2image generator (one clear error per bad one)."""
    return encode_texts(texts)
