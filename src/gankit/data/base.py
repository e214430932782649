"""What every dataset returns: in-memory tensors, a description, and a resumable batch sampler.

Data that fits in memory is served as tensors: a batch is one index operation, never a
per-sample Python loop. Images are kept as uint8 ``(N, C, H, W)`` and scaled to [-1, 1] per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

HOLE_VALUE = 128 / 127.5 - 1.0  # a masked image's hole, scaled (gankit.data.masks.HOLE_FILL)


class DataConfig(BaseModel):
    """Which data to train on and how to shape it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("mnist5k", description="registered dataset name, or 'folder'")
    path: str | None = Field(None, description="folder for 'folder', 'mnist', 'fashion-mnist'")
    image_size: int | None = Field(None, ge=4, le=1024, description="resize images to this size")
    channels: Literal[1, 3] | None = Field(None, description="1 = grayscale, 3 = RGB, None = auto")
    limit: int | None = Field(None, ge=1, description="use only the first N samples")
    download: bool = Field(False, description="download missing files (with checksums)")
    holdout: int = Field(
        0, ge=0, description="samples held out of training (evaluation baseline, memorisation)"
    )
    path_a: str | None = Field(None, description="paired data: folder of inputs (A)")
    path_b: str | None = Field(None, description="paired data: folder of targets (B), same names")
    direction: Literal["AB", "BA"] = Field(
        "AB", description="paired data: AB = A -> B, BA = B -> A"
    )
    on_error: Literal["stop", "skip"] = Field(
        "stop", description="an unreadable image file: stop and name it, or skip it with a warning"
    )
    flip: bool = Field(False, description="random horizontal flips (a pair flips together)")
    jitter: int = Field(
        0,
        ge=0,
        le=64,
        description="random shifts of up to N px (pad + crop; a pair moves together)",
    )
    masks: str | None = Field(
        None,
        description="holes to inpaint, drawn per batch: centre, boxes, strokes (comma-separated "
        "to mix)",
    )
    hole: int | None = Field(
        None, ge=1, le=1024, description="mask size in px (centre side, largest box side)"
    )

    digits: Literal[1, 2] = Field(1, description="moving-mnist: digits bouncing in each video")
    context: int = Field(
        4, ge=1, le=16, description="video: past frames the generator sees to predict the next"
    )
    future: int = Field(
        1,
        ge=1,
        le=10,
        description="video: future frames each training window carries; above 1 the video "
        "family's losses follow G's own rollout through them",
    )

    @model_validator(mode="after")
    def _two_folders_are_pairs(self) -> DataConfig:
        """``data.path_a`` / ``data.path_b`` name a paired dataset, whatever ``name`` says, unless
        it names the unpaired one (a family that learns from two domains reads them so:
        ``Family.two_folder_dataset``)."""
        if (self.path_a or self.path_b) and self.name not in ("paired", "unpaired"):
            self.name = "paired"
        return self

    @field_validator("masks")
    @classmethod
    def _known_masks(cls, v: str | None) -> str | None:
        from gankit.data.masks import parse_kinds

        return None if v is None else ",".join(parse_kinds(v))


class DataInfo(BaseModel):
    """What a model needs to know about its data; stored in the config and the export."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["points", "images"]
    shape: tuple[int, ...]  # (2,) for points, (C, H, W) for images
    num_classes: int = 0  # 0 = no labels
    class_names: list[str] = Field(default_factory=list)
    modes: list[tuple[float, float]] | None = None  # toy 2-D: mode centres
    sigma: float | None = None  # toy 2-D: std of each mode
    inputs: dict[str, tuple[int, ...]] = Field(
        default_factory=dict, description="per-sample image inputs beside x, by name: (C, H, W)"
    )
    margins: dict[str, int] = Field(
        default_factory=dict,
        description="image inputs whose data frame their content with a black margin (px): an "
        "input of another size is resized into the centre the same way",
    )
    tags: list[str] = Field(
        default_factory=list, description="multi-label data: the tag names, in vector order"
    )
    tag_groups: list[list[str]] = Field(
        default_factory=list, description="tags of which a sample has exactly one (hair colour)"
    )
    tag_freq: list[float] = Field(
        default_factory=list, description="share of the training samples that carry each tag"
    )


@dataclass
class ArrayDataset:
    """A whole dataset in memory.

    ``x``: uint8 ``(N, C, H, W)`` for images, float32 ``(N, 2)`` for points.
    ``y``: int64 ``(N,)`` class labels, or None.
    ``extra``: more per-sample tensors ``(N, ...)`` that each batch carries under their names
    (e.g. the cluster ids a self-conditioned family derives from the images).
    ``inputs``: per-sample uint8 images ``(N, C, H, W)`` a generator takes (a pix2pix source),
    scaled to [-1, 1] in each batch like ``x``; ``info.inputs`` names their shapes.
    ``held``: bool ``(N,)``, the samples the dataset itself holds out (a split by class or by
    photo), or None.
    ``augment``: (flip, jitter) applied per batch, identically to ``x`` and its inputs.
    ``masks``: where set (``data.masks``), training batches draw fresh holes (``mask``) and the
    masked ``image`` from them; unaugmented batches keep the fixed ones in ``inputs``.
    """

    x: torch.Tensor
    y: torch.Tensor | None
    info: DataInfo
    extra: dict[str, torch.Tensor] = field(default_factory=dict)
    inputs: dict[str, torch.Tensor] = field(default_factory=dict)
    held: torch.Tensor | None = None
    augment: tuple[bool, int] = (False, 0)
    masks: Any = None  # gankit.data.masks.MaskSpec

    def __post_init__(self) -> None:
        assert self.y is None or len(self.y) == len(self.x)
        assert all(len(v) == len(self.x) for v in self.extra.values())
        assert all(len(v) == len(self.x) and v.dtype == torch.uint8 for v in self.inputs.values())
        assert self.held is None or (
            self.held.dtype == torch.bool and len(self.held) == len(self.x)
        )
        if self.info.kind == "images":
            assert self.x.dtype == torch.uint8 and self.x.ndim == 4, (self.x.dtype, self.x.shape)
        else:
            assert self.x.dtype == torch.float32 and self.x.ndim == 2, (self.x.dtype, self.x.shape)

    def __len__(self) -> int:
        return len(self.x)

    def batch(
        self, idx: torch.Tensor, device: torch.device | str = "cpu", augment: bool = True
    ) -> dict:
        """The samples at ``idx`` as model input: images scaled to [-1, 1]; with ``augment`` the
        dataset's flips and shifts (drawn from torch's global RNG, which checkpoints restore)."""
        x = self.x[idx].to(device, non_blocking=True)
        real = x.float().div_(127.5).sub_(1.0) if self.info.kind == "images" else x
        out = {"real": real}
        if self.y is not None:
            out["label"] = self.y[idx].to(device, non_blocking=True)
        for name, values in self.extra.items():
            out[name] = values[idx].to(device, non_blocking=True)
        for name, values in self.inputs.items():
            out[name] = values[idx].to(device, non_blocking=True).float().div_(127.5).sub_(1.0)
        flip, jitter = self.augment
        if augment and (flip or jitter) and self.info.kind == "images":
            keys = ["real", *self.inputs]
            out.update(zip(keys, paired_augment([out[k] for k in keys], flip, jitter), strict=True))
        if augment and self.masks is not None:  # fresh holes for every training batch
            m = self.masks.draw_batch(len(idx), *self.info.shape[1:]).to(device)
            out["mask"] = m.float().div_(127.5).sub_(1.0)
            out["image"] = torch.where(m > 127, HOLE_VALUE, out["real"])
        return out

    def sampler(self, batch_size: int, seed: int, rank: int = 0, world: int = 1) -> BatchSampler:
        """The trainer's batch sampler for this data (a two-domain dataset has two)."""
        return BatchSampler(len(self), batch_size, seed, rank, world)

    def subset(self, idx: torch.Tensor) -> ArrayDataset:
        """The samples at ``idx`` (no split mask: a subset is one side of a split)."""
        return ArrayDataset(
            self.x[idx],
            None if self.y is None else self.y[idx],
            self.info,
            {k: v[idx] for k, v in self.extra.items()},
            {k: v[idx] for k, v in self.inputs.items()},
            None,
            self.augment,
            self.masks,
        )


def paired_augment(images: list[torch.Tensor], flip: bool, jitter: int) -> list[torch.Tensor]:
    """The same random horizontal flip and shift for each sample of every tensor in ``images``
    (B, C, H, W): a pix2pix pair stays aligned. Shifts pad by reflection, then crop back."""
    b, _, h, w = images[0].shape
    device = images[0].device
    out = images
    if flip:
        mask = (torch.rand(b) < 0.5).to(device).view(b, 1, 1, 1)
        out = [torch.where(mask, t.flip(-1), t) for t in out]
    if jitter:
        dy = torch.randint(0, 2 * jitter + 1, (b,)).tolist()
        dx = torch.randint(0, 2 * jitter + 1, (b,)).tolist()
        shifted = []
        for t in out:
            padded = torch.nn.functional.pad(t, (jitter,) * 4, mode="reflect")
            shifted.append(
                torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(b)])
            )
        out = shifted
    return out


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Model output in [-1, 1] -> uint8 in [0, 255] (same shape)."""
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()


class BatchSampler:
    """Shuffled batches, epoch by epoch, whose position can be saved and restored exactly.

    Epoch ``e`` uses the permutation seeded by ``(seed, e)``, so the state is two integers.
    With ``world > 1`` each rank takes its own slice of one global batch.
    """

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.rank, self.world = rank, world
        self.global_batch = batch_size * world
        self.epoch = 0
        self.position = 0
        self._perm: torch.Tensor | None = None

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.n, generator=g)

    def next(self) -> torch.Tensor:
        """The indices of this rank's next batch (int64, length ``batch_size``)."""
        parts, need = [], self.global_batch
        while need > 0:
            if self._perm is None:
                self._perm = self._permutation(self.epoch)
            take = self._perm[self.position : self.position + need]
            parts.append(take)
            need -= len(take)
            self.position += len(take)
            if self.position >= self.n:
                self.epoch, self.position, self._perm = self.epoch + 1, 0, None
        idx = torch.cat(parts)
        return idx[self.rank :: self.world]

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position, self._perm = int(state["epoch"]), int(state["position"]), None


def split_holdout(
    ds: ArrayDataset, n: int, seed: int = 0
) -> tuple[ArrayDataset, ArrayDataset | None]:
    """(train, held-out): the dataset's own split where it has one (``ds.held``), else ``n``
    samples chosen by a fixed seed; held-out samples never reach the trainer. Data of several
    parts (two domains) splits each part (``ds.split_holdout``)."""
    if not isinstance(ds, ArrayDataset):
        return ds.split_holdout(n, seed)
    if ds.held is not None:
        if n > 0:
            from gankit.errors import DataError

            raise DataError(
                f"data.holdout={n}: dataset {ds.info.name!r} has its own held-out split "
                f"({int(ds.held.sum())} samples); leave data.holdout at 0"
            )
        held = ds.subset(ds.held.nonzero().squeeze(1))
        held.augment = (False, 0)
        return ds.subset((~ds.held).nonzero().squeeze(1)), held
    if n <= 0:
        return ds, None
    if n >= len(ds):
        from gankit.errors import DataError

        raise DataError(f"data.holdout={n} leaves nothing to train on ({len(ds)} samples)")
    perm = torch.randperm(len(ds), generator=torch.Generator().manual_seed(10_007 + seed))
    held, train = perm[:n].sort().values, perm[n:].sort().values

    held_ds = ds.subset(held)
    held_ds.augment = (False, 0)
    return ds.subset(train), held_ds
