"""The family protocol: a GAN family is networks + an update rule expressed as phases.

The trainer owns the loop. For each step it runs the family's phases in order (``D`` then ``G``;
``D`` x5 then ``G`` for WGAN-GP; ``G``, ``D_A``, ``D_B`` for CycleGAN). For each pass of a phase it
makes only the phase's networks trainable, zeroes their gradients, calls ``step(phase, batch)``,
backpropagates the returned loss and steps the phase's optimizer. A family never calls
``optimizer.step()`` and never writes a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat
from torch import nn

from gankit.data.base import ArrayDataset, DataInfo
from gankit.errors import ConfigError


@dataclass(frozen=True)
class Phase:
    """One kind of update: which networks it trains, how often, whether it draws new data."""

    name: str
    updates: tuple[str, ...]
    repeats: int = 1
    new_batch: bool = True  # False: reuse the batch the previous phase drew (e.g. G after D)


InputKind = Literal["noise", "label", "code", "image", "mask", "text", "frames", "tags"]
# kinds ``Family.latent`` draws (tags: by their training frequencies, unless a user sets them);
# the others come from the data or a user
DRAWN = ("noise", "code", "tags")
FROM_DATA = ("image", "mask", "text", "frames")  # per-sample inputs a dataset carries


@dataclass(frozen=True)
class Input:
    """One thing a generator takes: the keyword of ``G.forward`` and what kind of value it is.

    ``shape`` is per sample: ``(z_dim,)`` for noise, ``()`` for one label or categorical index,
    ``(n,)`` for n continuous codes, ``(C, H, W)`` for an image. ``categories`` counts the values of
    a label or categorical code; ``low``/``high`` bound a continuous code's training draws.
    ``margin``: an image input whose training images sit inside a black margin of that many
    pixels; an image of another size is resized into the centre the same way.
    """

    name: str
    kind: InputKind
    shape: tuple[int, ...] = ()
    categories: int = 0
    low: float = 0.0
    high: float = 0.0
    doc: str = ""
    margin: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Input:
        return cls(**{**d, "shape": tuple(d.get("shape", ()))})


class ModelConfig(BaseModel):
    """Hyperparameters every family has; a family's config subclasses this."""

    model_config = ConfigDict(extra="forbid")

    lr: dict[str, PositiveFloat] = Field(default_factory=lambda: {"G": 2e-4, "D": 2e-4})
    betas: tuple[float, float] = (0.5, 0.999)


class Family:
    """Base class for a GAN family. Subclasses set ``Config`` and implement the methods below."""

    name: ClassVar[str]
    Config: ClassVar[type[ModelConfig]]
    generator: ClassVar[str] = "G"  # the network that is averaged (EMA), sampled and exported
    conditional: ClassVar[bool] = False  # True: G takes a class label
    folder_dataset: ClassVar[str] = "folder"  # the loader that reads `--data ./my_folder`
    fully_convolutional: ClassVar[bool] = False  # True: G takes input images of any size
    two_folder_dataset: ClassVar[str] = "paired"  # the loader that reads data.path_a + path_b
    # whether sample_bank's targets are the true outputs of its inputs (pairs), or only images of
    # the output domain (unpaired data: CycleGAN), which are then not shown as targets
    bank_targets_match: ClassVar[bool] = True
    voxels: ClassVar[bool] = False  # True: G makes voxel grids (X, Y, Z), stored like images
    # True: the generator phase reuses the samples G drew for the discriminator phase of the same
    # step (kept with their graph, as pytorch/examples' DCGAN does): one G forward a step instead
    # of two. The family's ``step`` draws them through ``fakes``; a family whose generator phase
    # needs fresh samples (other codes, pairs of noise) leaves it False. The trainer then keeps G
    # trainable in the discriminator phase, whose loss sees the samples detached.
    reuse_fakes: ClassVar[bool] = False
    # False: the trainer keeps this family's networks in the default (NCHW) memory format; conv
    # networks otherwise run channels_last, which is faster on CPU (oneDNN) and GPU (cuDNN).
    channels_last: ClassVar[bool] = True

    def __init__(self, cfg: ModelConfig, info: DataInfo) -> None:
        self.cfg, self.info = cfg, info
        self._reused: Any = None  # the discriminator phase's samples, for the generator phase
        self.nets = nn.ModuleDict(self.build(cfg, info))
        # a key names a network, or a group: "G" covers G_AB and G_BA, "D" covers D_A and D_B
        unknown = {k for k in cfg.lr if not any(n == k or n.startswith(k + "_") for n in self.nets)}
        if unknown:
            raise ConfigError(
                f"config key 'model.lr' names unknown networks {sorted(unknown)}; "
                f"this family has: {', '.join(self.nets)}"
            )

    # -- to implement ---------------------------------------------------------------------------
    @classmethod
    def inputs(cls, cfg: ModelConfig, info: DataInfo) -> list[Input]:
        """What the generator takes, in the order of ``G.forward``'s keywords. The trainer's fixed
        sample bank, the sample grids, the export, ``gankit.load``, the CLI and the dashboard all
        follow this declaration. Default: noise ``z`` (and a class label when conditional)."""
        out = [Input("z", "noise", (cfg.z_dim,))]
        if cls.conditional:
            out.append(Input("label", "label", categories=max(info.num_classes, 1)))
        return out

    @classmethod
    def build_generator(cls, cfg: ModelConfig, info: DataInfo) -> nn.Module:
        """The generator alone: what ``gankit.load`` rebuilds from an exported config."""
        raise NotImplementedError

    def build(self, cfg: ModelConfig, info: DataInfo) -> dict[str, nn.Module]:
        """All networks by name, the generator included."""
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def step(self, phase: str, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        """The loss to minimise for ``phase`` on ``batch``, and scalars to log."""
        raise NotImplementedError

    @classmethod
    def latent(
        cls, cfg: ModelConfig, info: DataInfo, n: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Generator inputs for ``n`` samples, as keyword arguments of ``G.forward``."""
        return {"z": torch.randn(n, cfg.z_dim, generator=generator)}

    @classmethod
    def traversal(
        cls,
        cfg: ModelConfig,
        info: DataInfo,
        code: str,
        rows: int,
        cols: int | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """Generator inputs for a grid that sweeps latent code ``code`` along each row (row-major:
        one row per random draw of the other inputs). Only families with named codes have one."""
        raise ConfigError(f"family {cls.name!r} has no latent codes to traverse")

    # -- provided -------------------------------------------------------------------------------
    @classmethod
    def sample_bank(
        cls,
        cfg: ModelConfig,
        info: DataInfo,
        n: int,
        data: ArrayDataset,
        generator: torch.Generator | None = None,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """Fixed generator inputs for sample grids (the same digits evolve over the run), and the
        targets they should become where the inputs come from the data (else None).

        Noise and codes are drawn by ``latent``; labels cycle through the classes; inputs a
        dataset carries (images, masks, ...) are its first ``n`` samples, scaled like a batch.
        """
        specs = cls.inputs(cfg, info)
        bank: dict[str, torch.Tensor] = {}
        if any(s.kind in DRAWN for s in specs):
            bank.update(cls.latent(cfg, info, n, generator=generator))
        target = None
        for s in specs:
            if s.kind == "label":
                bank[s.name] = torch.arange(n) % max(s.categories, 1)
            elif s.kind in FROM_DATA:
                n = min(n, len(data))  # spread over the data (held-out digits: every class)
                idx = torch.linspace(0, len(data) - 1, n).round().long()
                batch = data.batch(idx, augment=False)
                bank[s.name] = batch[s.name]
                target = batch["real"]
        if target is not None:
            bank = {k: v[: len(target)] for k, v in bank.items()}
        return bank, target

    @classmethod
    def takes(cls, cfg: ModelConfig, info: DataInfo, *kinds: str) -> list[Input]:
        """The declared inputs of the given kinds."""
        return [s for s in cls.inputs(cfg, info) if s.kind in kinds]

    def lr(self, net: str) -> float:
        return self.cfg.lr.get(net, self.cfg.lr.get("G" if net.startswith("G") else "D", 2e-4))

    @property
    def G(self) -> nn.Module:
        return self.nets[self.generator]

    def noise_like(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Fresh generator inputs matching the batch size and device (labels from the batch)."""
        n = next(iter(batch.values())).shape[0]
        device = next(iter(batch.values())).device
        inputs = {k: v.to(device) for k, v in self.latent(self.cfg, self.info, n).items()}
        if self.conditional and "label" in batch:
            inputs["label"] = batch["label"]
        return inputs

    def fakes(self, phase: str, make: Callable[[], Any]) -> Any:
        """G's samples for ``phase``: ``make()``, except that with ``reuse_fakes`` the generator
        phase (``phase == generator``) takes what the phase before it made in the same step."""
        if not self.reuse_fakes:
            return make()
        if phase == self.generator and self._reused is not None:
            out, self._reused = self._reused, None
            return out
        out = make()
        self._reused = None if phase == self.generator else out
        return out

    def check_data(self, data: ArrayDataset) -> None:
        """Cheap checks of the training data against the config, when the trainer is built (so
        bad settings fail before a run directory exists; ``prepare`` runs later)."""

    def prepare(self, data: ArrayDataset) -> ArrayDataset:
        """Called once with the training data before the first step (after a resume too, with
        ``load_extra_state`` already called); may return the data with per-sample fields added
        in ``extra``."""
        return data

    def sample_columns(
        self, bank: dict[str, torch.Tensor], target: torch.Tensor | None, G: nn.Module
    ) -> list[torch.Tensor] | None:
        """The columns of a translation sample grid (one tensor per column, [-1, 1]), where the
        family shows more than input | output | target (CycleGAN: its round trips); ``G`` is
        the sampling generator (the EMA copy when there is one). None: the default grid."""
        return None

    @classmethod
    def pictures(cls, cfg: ModelConfig, info: DataInfo, out: torch.Tensor) -> torch.Tensor:
        """G's outputs ([-1, 1]) as pictures ([-1, 1] (N, C, H, W)) for sample grids, the
        dashboard and the CLI's PNGs: the outputs themselves for image families; families whose
        outputs are not pictures (voxel grids) draw them."""
        return out

    def exports(self) -> dict[str, tuple[nn.Module, DataInfo]]:
        """Generators exported beside ``generator/``, by folder name, with the data as each
        sees it (CycleGAN: ``generator_BA``, the B -> A generator)."""
        return {}

    def critic(self, points: torch.Tensor) -> torch.Tensor | None:
        """D's probability of 'real' for 2-D points, for the decision-surface plot (or None)."""
        return None

    def extra_state(self) -> dict[str, Any]:
        """Family state beyond network weights that a checkpoint must hold (tensors only)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what ``extra_state`` returned (called on resume, before ``prepare``)."""


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
