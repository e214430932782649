"""InfoGAN: G(z, c) with latent codes c that a Q head must recover from G's samples.

Paper: Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets". Reference implementation: openai/InfoGAN
(``infogan/algos/infogan_trainer.py``); the PyTorch layout (Q head on D's shared body, Q trained
with G) follows the paper's Section 5 and common PyTorch ports.

G's input is ``[z, one_hot(c_cat), c_cont]``: ``c_cat`` is a categorical code with ``n_cat``
values drawn uniformly, ``c_cont`` holds ``n_cont`` continuous codes drawn from U(-1, 1). The Q
head shares every layer of D except the last (D's features phi(x), (B, F)) and outputs the
categorical logits and the continuous codes' means. The variational lower bound of the mutual
information I(c; G(z, c)) is, up to the constant H(c),

    L_I = E[ log Q(c_cat | x) ] + E[ log N(c_cont; mu(x), 1) ]

and the G/Q phase minimises ``L_adv(G) - lambda_cat * E[log Q(c_cat|x)]
+ lambda_cont * 1/2 E[||c_cont - mu(x)||^2]`` (unit variance: the Gaussian log-likelihood is the
halved squared error up to a constant). Phases: ``D`` (D's body and adversarial head), then
``G`` (G and the Q head on the same fakes); the trainer freezes D's body in the G phase, so the
body is trained by D's adversarial loss only.

On MNIST the categorical code should pick out digit classes and the continuous codes rotation
and stroke width (the paper's Figure 2). In short runs G can instead satisfy Q with small,
pixel-exact marks that carry the code while z decides the digit; ``model.diffaugment`` (also
applied to what Q reads) makes such marks unreadable, so the code has to change the shape.
``model.arch=infogan`` builds the paper's own MNIST networks (its Table 1); with them the
categorical code finds all ten digits (docs/models/infogan.md).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveFloat
from torch import nn

from gankit import losses
from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.augment import diff_augment
from gankit.models.base import Family, Input, Phase
from gankit.models.blocks import d_step, loss_key, maybe_sn
from gankit.models.convnets import ConvGANConfig, check_images, make_discriminator, make_generator
from gankit.registry import register_model


class InfoGANConfig(ConvGANConfig):
    retired = ("n_components", "clusters", "mode_seeking")  # saved while it extended DCGANConfig

    arch: Literal["standard", "textbook", "infogan"] = Field(
        "standard",
        description="DCGAN's architectures, or infogan: the paper's MNIST networks (fully "
        "connected 1024-unit layers in G and in D's body, which Q shares; fixed widths, so "
        "g_channels and d_channels do not apply)",
    )
    z_dim: int = Field(62, ge=1, le=4096, description="incompressible noise (paper: 62)")
    n_cat: int = Field(10, ge=0, le=1000, description="values of the categorical code (0: none)")
    n_cont: int = Field(2, ge=0, le=64, description="number of continuous codes in U(-1, 1)")
    lambda_cat: float = Field(1.0, ge=0.0, description="weight of the categorical MI term")
    lambda_cont: float = Field(0.1, ge=0.0, description="weight of the continuous MI term")
    q_hidden: int = Field(128, ge=1, le=4096, description="width of the Q head's hidden layer")
    mi_body: bool = Field(
        False,
        description="the information term also trains D's shared body (in D's phase, on the "
        "fakes), as openai/InfoGAN does; off: D's body learns real vs fake only",
    )
    lr: dict[str, PositiveFloat] = Field(default_factory=lambda: {"G": 1e-3, "D": 2e-4, "Q": 1e-3})


class InfoGenerator(nn.Module):
    """``G(z, c_cat, c_cont)``: a DCGAN generator on ``[z, one_hot(c_cat), c_cont]``."""

    def __init__(self, cfg: InfoGANConfig, shape: tuple[int, ...]):
        super().__init__()
        self.n_cat = cfg.n_cat
        width = cfg.z_dim + cfg.n_cat + cfg.n_cont
        if cfg.arch == "infogan":
            self.body = PaperGenerator(width, shape)
        else:
            self.body = make_generator(cfg.model_copy(update={"z_dim": width}), shape)

    def forward(
        self, z: torch.Tensor, c_cat: torch.Tensor | None = None, c_cont: torch.Tensor | None = None
    ) -> torch.Tensor:
        parts = [z]
        if self.n_cat:
            parts.append(F.one_hot(c_cat, self.n_cat).to(z.dtype))  # (B, n_cat)
        if c_cont is not None:
            parts.append(c_cont)  # (B, n_cont)
        return self.body(torch.cat(parts, dim=1))  # (B, C, H, W)


def paper_size(shape: tuple[int, ...]) -> int:
    if shape[1] % 4:
        raise ConfigError(f"model.arch=infogan needs an image size divisible by 4, got {shape[1]}")
    return shape[1] // 4


class PaperGenerator(nn.Module):
    """The InfoGAN paper's MNIST G (its Table 1): FC 1024 -> FC 128 x s x s -> 4x4 stride-2
    up-convolutions to 64 channels and to the image, batch norm and ReLU between."""

    def __init__(self, width: int, shape: tuple[int, ...]):
        super().__init__()
        s = paper_size(shape)
        self.net = nn.Sequential(
            nn.Linear(width, 1024),
            nn.BatchNorm1d(1024),
            nn.ReLU(),
            nn.Linear(1024, 128 * s * s),
            nn.BatchNorm1d(128 * s * s),
            nn.ReLU(),
            nn.Unflatten(1, (128, s, s)),  # (B, 128, s, s)
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, shape[0], 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)  # (B, C, H, W)


def paper_discriminator(cfg: InfoGANConfig, shape: tuple[int, ...]) -> nn.Sequential:
    """The InfoGAN paper's MNIST D: 4x4 stride-2 convolutions to 64 and 128 channels, FC 1024
    (the features Q shares), then the logit; LeakyReLU, and batch norm on every layer but the
    first."""
    s, sn = paper_size(shape), cfg.spectral_norm
    bn = cfg.d_batchnorm and not sn

    def norm(layer: type[nn.Module], n: int) -> list[nn.Module]:
        return [layer(n)] if bn else []

    return nn.Sequential(
        maybe_sn(nn.Conv2d(shape[0], 64, 4, 2, 1), sn),
        nn.LeakyReLU(0.2),
        maybe_sn(nn.Conv2d(64, 128, 4, 2, 1), sn),
        *norm(nn.BatchNorm2d, 128),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        maybe_sn(nn.Linear(128 * s * s, 1024), sn),
        *norm(nn.BatchNorm1d, 1024),
        nn.LeakyReLU(0.2),
        maybe_sn(nn.Linear(1024, 1), sn),
    )


class SharedDiscriminator(nn.Module):
    """D split into the shared body ``phi`` (B, F) and the adversarial ``head``."""

    def __init__(self, cfg: InfoGANConfig, shape: tuple[int, ...]):
        super().__init__()
        if cfg.arch == "infogan":
            net = paper_discriminator(cfg, shape)
        else:
            net = make_discriminator(cfg, shape).net
        self.phi = net[:-1]  # (B, F)
        self.head = net[-1]  # Linear(F, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.phi(x)).squeeze(1)  # (B,)


class QHead(nn.Module):
    """Q(c | x) from D's features: categorical logits (B, n_cat) and continuous means (B, n_cont)."""

    def __init__(self, in_features: int, cfg: InfoGANConfig):
        super().__init__()
        self.n_cat = cfg.n_cat
        self.net = nn.Sequential(
            nn.Linear(in_features, cfg.q_hidden),
            nn.BatchNorm1d(cfg.q_hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(cfg.q_hidden, cfg.n_cat + cfg.n_cont),
        )

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(h)  # (B, n_cat + n_cont)
        return out[:, : self.n_cat], out[:, self.n_cat :]


def sample_codes(
    cfg: InfoGANConfig, n: int, generator: torch.Generator | None = None
) -> dict[str, torch.Tensor]:
    """Uniform categorical indices ``c_cat`` (n,) with ``n_cat`` > 0 and U(-1, 1) continuous codes
    ``c_cont`` (n, n_cont) with ``n_cont`` > 0."""
    codes = {}
    if cfg.n_cat:
        codes["c_cat"] = torch.randint(cfg.n_cat, (n,), generator=generator)
    if cfg.n_cont:
        codes["c_cont"] = torch.rand(n, cfg.n_cont, generator=generator) * 2 - 1
    return codes


@register_model("infogan")
class InfoGAN(Family):
    """InfoGAN on DCGAN networks: categorical + continuous codes, Q head on D's body."""

    name = "infogan"
    Config = InfoGANConfig

    @classmethod
    def build_generator(cls, cfg: InfoGANConfig, info: DataInfo) -> nn.Module:
        check_images(info, "infogan")
        if cfg.pack != 1:
            raise ConfigError(
                f"infogan does not support model.pack={cfg.pack} (Q reads each sample's codes)"
            )
        if cfg.n_cat + cfg.n_cont == 0:
            raise ConfigError("infogan needs at least one code: set model.n_cat or model.n_cont")
        return InfoGenerator(cfg, info.shape)

    def build(self, cfg: InfoGANConfig, info: DataInfo) -> dict[str, nn.Module]:
        G = self.build_generator(cfg, info)
        D = SharedDiscriminator(cfg, info.shape)
        return {"G": G, "D": D, "Q": QHead(D.head.in_features, cfg)}

    def phases(self) -> list[Phase]:
        d_nets = ("D", "Q") if self.cfg.mi_body else ("D",)
        return [
            Phase("D", d_nets, repeats=self.cfg.n_critic),
            Phase("G", ("G", "Q"), new_batch=False),  # Q is trained with G (Chen et al. 2016)
        ]

    @classmethod
    def inputs(cls, cfg: InfoGANConfig, info: DataInfo) -> list[Input]:
        out = [Input("z", "noise", (cfg.z_dim,), doc="incompressible noise")]
        if cfg.n_cat:
            doc = f"categorical code: one of {cfg.n_cat} equally likely values"
            out.append(Input("c_cat", "code", (), categories=cfg.n_cat, doc=doc))
        if cfg.n_cont:
            doc = "continuous codes, drawn from U(-1, 1) in training"
            out.append(Input("c_cont", "code", (cfg.n_cont,), low=-1.0, high=1.0, doc=doc))
        return out

    @classmethod
    def latent(cls, cfg, info, n, generator=None):
        z = torch.randn(n, cfg.z_dim, generator=generator)
        return {"z": z, **sample_codes(cfg, n, generator)}

    @classmethod
    def traversal(
        cls,
        cfg: InfoGANConfig,
        info: DataInfo,
        code: str,
        rows: int,
        cols: int | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """Inputs for a grid, row-major: each row one z (and other codes), each column one value
        of ``code``. ``cat`` sweeps the n_cat categorical values; ``cK`` (c1, c2, ...) sweeps
        continuous code K over [-2, 2] in ``cols`` (default 10) steps, past the training range
        [-1, 1] as in the paper's Figure 2."""
        is_cat = code == "cat" and cfg.n_cat > 0
        is_cont = code[:1] == "c" and code[1:].isdigit() and 1 <= int(code[1:]) <= cfg.n_cont
        if not (is_cat or is_cont):
            allowed = (["cat"] if cfg.n_cat else []) + [f"c{i + 1}" for i in range(cfg.n_cont)]
            raise ConfigError(f"unknown code {code!r} to traverse; allowed: {', '.join(allowed)}")
        cols = cols or (cfg.n_cat if is_cat else 10)
        base = cls.latent(cfg, info, rows, generator)
        inputs = {k: v.repeat_interleave(cols, dim=0) for k, v in base.items()}  # rows*cols first
        if is_cat:
            inputs["c_cat"] = (torch.arange(cols) % cfg.n_cat).repeat(rows)  # (rows*cols,)
        else:
            inputs["c_cont"][:, int(code[1:]) - 1] = torch.linspace(-2, 2, cols).repeat(rows)
        return inputs

    def step(self, phase, batch):
        inputs = self.noise_like(batch)
        fake = self.G(**inputs)
        D = self.nets["D"]
        if phase == "D":
            loss, logs = d_step(D, self.cfg, batch["real"], fake)
            if self.cfg.mi_body:  # D's body learns features that tell the codes apart too
                mi, mi_logs = self.information_loss(
                    D.phi(diff_augment(fake, self.cfg.diffaugment)), inputs
                )
                loss = loss + mi
                logs.update({f"{k}/D": v for k, v in mi_logs.items()})
            return loss, logs
        # (B, F): shared features of the (augmented) fakes, for D's head and for Q. Augmenting
        # Q's input too means G cannot hide a code in pixel-exact detail that a shift or a
        # cut-out destroys: it has to be visible in the digit's shape.
        h = D.phi(diff_augment(fake, self.cfg.diffaugment))
        loss = losses.G_LOSSES[loss_key(self.cfg)](D.head(h).squeeze(1))
        mi, logs = self.information_loss(h, inputs)
        logs["loss/G"] = loss.detach()
        return loss + mi, logs

    def information_loss(
        self, h: torch.Tensor, inputs: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict]:
        """lambda-weighted -E[log Q(c | x)] for the codes in ``inputs``, from D's features ``h``."""
        cat_logits, cont_mu = self.nets["Q"](h)
        loss, logs = h.new_zeros(()), {}
        if self.cfg.n_cat:
            # -E[log Q(c_cat | x)]: cross-entropy of Q's prediction against the drawn code
            loss_cat = F.cross_entropy(cat_logits, inputs["c_cat"])
            loss = loss + self.cfg.lambda_cat * loss_cat
            logs["loss/Q_cat"] = loss_cat.detach()
            logs["acc/Q_cat"] = (cat_logits.argmax(1) == inputs["c_cat"]).float().mean()
        if self.cfg.n_cont:
            # -E[log N(c; mu, 1)] = 1/2 E||c - mu||^2 + const
            loss_cont = 0.5 * (cont_mu - inputs["c_cont"]).pow(2).sum(1).mean()
            loss = loss + self.cfg.lambda_cont * loss_cont
            logs["loss/Q_cont"] = loss_cont.detach()
        return loss, logs

    @torch.no_grad()
    def predict_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q's categorical prediction (B,) and continuous means (B, n_cont) for images in [-1, 1]."""
        D, Q = self.nets["D"], self.nets["Q"]
        was = D.training, Q.training
        D.eval(), Q.eval()
        try:
            cat_logits, cont_mu = Q(D.phi(x))
        finally:
            D.train(was[0]), Q.train(was[1])
        return cat_logits.argmax(1), cont_mu
