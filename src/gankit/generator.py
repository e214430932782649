"""The exported generator: ``generator/config.json`` + ``generator/model.safetensors``.

``gankit.load(path)`` rebuilds the generator from the config alone and loads its weights with
safetensors (no pickle). It needs none of the training state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save

import gankit
from gankit.data.base import DataInfo, to_uint8
from gankit.errors import ConfigError, DataError, RunError
from gankit.files import atomic_write_bytes
from gankit.models.base import FROM_DATA, Input
from gankit.registry import MODELS


def export_generator(
    folder: Path, family: str, model_cfg: dict, info: DataInfo, G: torch.nn.Module, step: int
) -> None:
    """Write the generator's weights and the config that rebuilds it, each file atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in G.state_dict().items()}
    atomic_write_bytes(folder / "model.safetensors", save(tensors, metadata={"step": str(step)}))
    family_cls = MODELS.get(family)
    cfg = family_cls.Config.model_validate(model_cfg)
    meta = {
        "format": "gankit-generator/1",
        "gankit_version": gankit.__version__,
        "family": family,
        "inputs": [s.to_dict() for s in family_cls.inputs(cfg, info)],
        "model": model_cfg,
        "data": info.model_dump(mode="json"),
        "step": step,
    }
    atomic_write_bytes(folder / "config.json", (json.dumps(meta, indent=2) + "\n").encode())


class Generator:
    """A trained generator, ready to sample. ``images`` come back as uint8 (N, C, H, W).

    Sampling runs in inference mode, a conv generator channels_last, and large draws in forward
    passes of ``forward_batch`` samples (the fastest on CPU in bench/bench_sampling.py: larger
    batches leave the caches; results do not depend on it, each sample is computed alone).
    ``precision`` is that of ``sample``/``sample_many``: ``auto`` runs bf16 autocast where the
    hardware has bf16 arithmetic (AVX512-BF16 or AMX CPUs, CUDA GPUs that support it), about twice
    as fast there, else fp32 — decided by the hardware alone, so one machine always draws the
    same samples for a seed; ``fp32`` gives the same samples on every machine.
    """

    forward_batch: int = 256
    precision: str = "auto"

    def __init__(self, family_cls: Any, cfg: Any, info: DataInfo, module: torch.nn.Module, meta):
        self.family_cls, self.cfg, self.info, self.module, self.meta = (
            family_cls,
            cfg,
            info,
            module.eval(),
            meta,
        )
        if uses_channels_last(family_cls, info, module):
            module.to(memory_format=torch.channels_last)

    @property
    def family(self) -> str:
        return self.meta["family"]

    @property
    def conditional(self) -> bool:
        return bool(self.family_cls.conditional)

    @property
    def inputs(self) -> list[Input]:
        """What this generator takes (its family's declaration; also in ``config.json``)."""
        return self.family_cls.inputs(self.cfg, self.info)

    def image_inputs(self) -> list[Input]:
        """The inputs a user supplies as images (a pix2pix source, ...)."""
        return [s for s in self.inputs if s.kind in FROM_DATA and s.kind != "text"]

    def text_inputs(self) -> list[Input]:
        """The inputs a user supplies as captions (text2image)."""
        return [s for s in self.inputs if s.kind == "text"]

    def text_tokens(self, texts: str | list[str]) -> torch.Tensor:
        """Captions as this generator's text input (symbol ids); a caption that is empty, too
        long or spelled only with unknown characters, or a generator without a text input, is a
        one-line ConfigError."""
        if not self.text_inputs():
            raise ConfigError(
                f"text given, but this {self.family} generator takes no text "
                "(only text2image generators do)"
            )
        from gankit.models.text import encode_texts

        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            raise ConfigError("no text given; give at least one caption")
        return encode_texts(texts)

    @torch.no_grad()
    def interpolate(
        self, a: str, b: str, steps: int = 8, rows: int = 1, seed: int = 0
    ) -> torch.Tensor:
        """GAN-INT between two captions: ``rows`` noise draws, each across ``steps`` embeddings
        from ``a`` to ``b`` (row-major uint8 (rows * steps, C, H, W); the noise is fixed along a
        row)."""
        if steps < 2:
            raise ConfigError(f"interpolation steps={steps}; needs at least 2")
        spec = self.text_inputs()
        tokens = self.text_tokens([a, b]).to(self.device)
        ea, eb = self.module.embed(tokens)
        beta = torch.linspace(0.0, 1.0, steps, device=self.device)[:, None]
        e = ((1 - beta) * ea + beta * eb).repeat(rows, 1)  # (rows * steps, E)
        z = self.latent(rows, seed)["z"].repeat_interleave(steps, 0)
        return to_uint8(self(z=z, **{spec[0].name: e}))

    @property
    def tags(self) -> list[str]:
        """A tag-conditioned generator's tags (tag-gan), in the order of its tag vectors; [] for
        others. ``tag_groups`` are those of which a sample has exactly one (hair colour, ...)."""
        return list(self.info.tags) if self.tag_input() is not None else []

    @property
    def tag_groups(self) -> list[list[str]]:
        return [list(g) for g in self.info.tag_groups] if self.tags else []

    def tag_input(self) -> Input | None:
        """The generator's tag input (multi-hot over ``tags``), or None."""
        return next((s for s in self.inputs if s.kind == "tags"), None)

    def tag_vectors(self, n: int, tags: str | list[str], seed: int | None = None) -> torch.Tensor:
        """Tag vectors float (n, T) with ``tags`` set ("blue hair, glasses" or a list) and every
        other tag drawn by its training frequency, exactly as ``sample(n, seed, tags=...)`` uses
        them. An unknown tag, two tags of one group, or a generator without tags is a one-line
        ConfigError naming what is allowed."""
        from gankit.models.taggan import condition_tags, parse_tags

        spec = self.tag_input()
        if spec is None:
            raise ConfigError(
                f"tags given, but this {self.family} generator takes none "
                "(only tag-conditioned generators, e.g. tag-gan on --data characters, do)"
            )
        given = parse_tags(self.info, tags)
        return condition_tags(self.info, self.latent(n, seed)[spec.name], given)

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def to(self, device: str | torch.device) -> Generator:
        self.module.to(device)
        return self

    def latent(self, n: int, seed: int | None = None) -> dict[str, torch.Tensor]:
        """Generator inputs for ``n`` samples; the same seed always gives the same inputs."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.family_cls.latent(self.cfg, self.info, n, generator=g)

    def __call__(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Raw output: images in [-1, 1] (N, C, H, W) or points (N, 2)."""
        # a copy made outside inference mode: an ordinary tensor, usable with autograd
        return self._forward(inputs).clone(memory_format=torch.contiguous_format)

    @torch.inference_mode()
    def _forward(self, inputs: dict[str, torch.Tensor], bf16: bool = False) -> torch.Tensor:
        """The module on ``inputs``, ``forward_batch`` samples at a time (an inference tensor;
        bf16 with ``bf16``)."""
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        n, step = len(next(iter(inputs.values()))), self.forward_batch
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            if n <= step:
                return self.module(**inputs)
            parts = [
                self.module(**{k: v[i : i + step] for k, v in inputs.items()})
                for i in range(0, n, step)
            ]
        return torch.cat(parts)

    def sample_bf16(self) -> bool:
        """Whether ``sample`` runs in bf16 (see ``precision``)."""
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"precision {self.precision!r} is not one of: auto, fp32, bf16")
        if self.precision == "auto":
            return native_bf16(self.device)
        return self.precision == "bf16"

    def sample(
        self,
        n: int,
        seed: int | None = None,
        label: int | torch.Tensor | None = None,
        text: str | list[str] | None = None,
        tags: str | list[str] | torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``n`` samples: uint8 images (N, C, H, W), or float32 points (N, 2). A text2image
        generator takes ``text``: ``n`` samples of each caption, caption by caption. A
        tag-conditioned generator takes ``tags``: names ("blue hair, glasses" or a list) set on
        every sample, the other tags drawn by their training frequencies; or the tag vectors
        themselves, float (n, T) over ``Generator.tags``. Without ``tags`` every tag is drawn:
        the vectors used are ``latent(n, seed)["tags"]``."""
        if text is not None or self.text_inputs():
            return self._sample_text(n, seed, text)
        if tags is not None:
            inputs = self.latent(n, seed)
            spec = self.tag_input()
            if isinstance(tags, torch.Tensor):
                if spec is None or tuple(tags.shape) != (n, len(self.tags)):
                    raise ConfigError(
                        f"tag vectors of shape {tuple(tags.shape)} given; this generator takes "
                        + (f"({n}, {len(self.tags)})" if spec else "no tags")
                    )
                inputs[spec.name] = tags.float()
            else:
                vectors = self.tag_vectors(n, tags, seed)
                inputs[self.tag_input().name] = vectors
            return to_uint8(self(**inputs))
        needs = self.image_inputs()
        if needs and needs[0].kind == "frames":
            raise ConfigError(
                f"this {self.family} generator predicts frames from past frames, not noise: "
                "use predict(frames, steps) (CLI: gankit predict)"
            )
        if needs:
            raise ConfigError(
                f"this {self.family} generator takes {', '.join(repr(s.name) for s in needs)} "
                "as input, not noise: use translate(images) (CLI: gankit translate)"
            )
        inputs = self.latent(n, seed)
        if self.conditional:
            inputs["label"] = self.labels(n, label, seed)
        elif label is not None:
            raise ConfigError(f"--label given, but family {self.family!r} is not conditional")
        out = self._forward(inputs, self.sample_bf16())  # to_uint8, float() copy it out
        if self.info.kind == "images":
            return to_uint8(out).contiguous()
        return out.float().cpu().clone()

    def _sample_text(self, n: int, seed: int | None, text: str | list[str] | None) -> torch.Tensor:
        if text is None:
            raise ConfigError(
                f"this {self.family} generator draws what a caption says: give text "
                "(Python: sample(n, text=[...]); CLI: gankit sample --text '...')"
            )
        tokens = self.text_tokens(text)
        spec = self.text_inputs()[0]
        outs = []
        for t in tokens:
            inputs = self.latent(n, seed)  # the same noise for every caption
            inputs[spec.name] = t.expand(n, -1)
            outs.append(to_uint8(self(**inputs)))
        return torch.cat(outs)

    def sample_many(
        self, n: int, seed: int = 0, label: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` samples and their class labels (None unless conditional), drawn 1024 at a time.

        The one way ``gankit sample`` and ``gankit eval`` draw, so one seed gives both the same
        samples: the chunk that starts at sample ``i`` is ``sample(m, seed * 1_000_003 + i)``, and
        labels run 0, 1, ..., K-1, 0, ... over all ``n`` unless ``label`` fixes one class.
        """
        chunk = 1024  # samples per forward pass; changing it changes what a seed draws
        if n < 1:
            raise ConfigError(f"cannot draw n={n} samples; n must be at least 1")
        labels = self.labels(n, label, seed) if self.conditional else None
        parts = []
        for i in range(0, n, chunk):
            m, part_label = min(chunk, n - i), label if labels is None else labels[i : i + chunk]
            parts.append(self.sample(m, seed=seed * 1_000_003 + i, label=part_label))
        return torch.cat(parts), labels

    def labels(self, n: int, label: int | torch.Tensor | None, seed: int | None) -> torch.Tensor:
        k = self.info.num_classes
        if label is None:
            return torch.arange(n) % k
        if isinstance(label, torch.Tensor):
            return label.long()
        if not 0 <= label < k:
            raise ConfigError(f"label {label} is out of range; allowed: 0..{k - 1}")
        return torch.full((n,), int(label), dtype=torch.long)

    def translate(
        self, images: torch.Tensor | np.ndarray, batch_size: int = 64, **other: torch.Tensor
    ) -> torch.Tensor:
        """Outputs for input images, uint8 (N, C, H, W) in, uint8 (N, C', H', W') out.

        ``images`` goes to the generator's (first) image input; images of another size are
        resized to the size it was trained on (``fit_input`` says how), except by a fully
        convolutional family's generator (super-resolution), which takes any size.
        ``other`` gives any further declared inputs by name.
        """
        specs = self.image_inputs()
        if not specs:
            raise ConfigError(
                f"this {self.family} generator takes no image (it draws from noise): "
                "use sample(n) (CLI: gankit sample)"
            )
        if specs[0].kind == "frames":
            raise ConfigError(
                f"this {self.family} generator predicts frames from past frames: "
                "use predict(frames, steps) (CLI: gankit predict)"
            )
        if self.mask_input() is not None:
            if "mask" not in other:
                raise ConfigError(
                    f"this {self.family} generator fills holes: give mask= (uint8 "
                    "(N, 1, H, W), 255 = hole) as well (CLI: gankit inpaint --mask)"
                )
            return self.inpaint(images, other["mask"], batch_size)
        x, _ = fit_input(images, specs[0], any_size=self.family_cls.fully_convolutional)
        outs = []
        for i in range(0, len(x), batch_size):
            part = {specs[0].name: x[i : i + batch_size].float().div(127.5).sub(1.0)}
            part.update({k: v[i : i + batch_size] for k, v in other.items()})
            outs.append(to_uint8(self(**part)))
        return torch.cat(outs) if outs else torch.zeros(0, *self.info.shape, dtype=torch.uint8)

    def pictures(self, out: torch.Tensor) -> torch.Tensor:
        """uint8 outputs (N, C, H, W) as uint8 pictures to show: the outputs themselves, or a
        voxel generator's grids rendered (``Family.pictures``)."""
        if not self.family_cls.voxels:
            return out
        scaled = out.float().div(127.5).sub(1.0)
        return to_uint8(self.family_cls.pictures(self.cfg, self.info, scaled))

    def mask_input(self) -> Input | None:
        """The generator's mask input (an inpainting generator), or None."""
        return next((s for s in self.inputs if s.kind == "mask"), None)

    def predict(self, frames: torch.Tensor | np.ndarray, steps: int = 1, batch_size: int = 64):
        """The next ``steps`` frames of each video, uint8 (N, T, C, H, W) in (or one video
        (T, C, H, W)), uint8 (N, steps, C, H, W) out. The last ``context`` frames of each video
        are the generator's input; every prediction is fed back as the newest frame."""
        from gankit.models.video import rollout

        specs = [s for s in self.inputs if s.kind == "frames"]
        if not specs:
            raise ConfigError(
                f"this {self.family} generator does not predict videos; "
                "use sample(n) or translate(images)"
            )
        if steps < 1:
            raise ConfigError(f"cannot predict {steps} frames; steps must be at least 1")
        x = fit_frames(frames, specs[0])
        outs = []
        for i in range(0, len(x), batch_size):
            part = x[i : i + batch_size].float().div(127.5).sub(1.0).to(self.device)
            outs.append(to_uint8(rollout(self, part, steps)))
        c, h, w = specs[0].shape[1:]
        return torch.cat(outs) if outs else torch.zeros(0, steps, c, h, w, dtype=torch.uint8)

    def inpaint(
        self,
        images: torch.Tensor | np.ndarray,
        masks: torch.Tensor | np.ndarray,
        batch_size: int = 64,
    ) -> torch.Tensor:
        """``images`` uint8 (N, C, H, W) with their holes filled, where ``masks`` uint8
        (N, 1, H, W) is above 127 (white = remove); every other pixel comes back unchanged.

        Images keep their own size (the generator is fully convolutional, and resizing would
        change the pixels outside the hole); a mask must have its image's size.
        """
        spec = self.mask_input()
        if spec is None:
            raise ConfigError(
                f"this {self.family} generator takes no mask: use translate(images) or sample(n)"
            )
        x, m = as_uint8_batch(images, "images"), as_uint8_batch(masks, "mask")
        c = self.image_inputs()[0].shape[0]
        if x.shape[1] != c:
            raise DataError(
                f"input images have {x.shape[1]} channel(s); this generator takes {c} "
                f"({'grayscale' if c == 1 else 'RGB'})"
            )
        if m.shape[1] != 1 or len(m) != len(x) or m.shape[2:] != x.shape[2:]:
            raise DataError(
                f"mask is {tuple(m.shape)} but the images are {tuple(x.shape)}: give one "
                "single-channel mask (N, 1, H, W) of each image's size (255 = hole)"
            )
        outs = []
        for i in range(0, len(x), batch_size):
            part = {
                "image": x[i : i + batch_size].float().div(127.5).sub(1.0),
                "mask": m[i : i + batch_size].float().div(127.5).sub(1.0),
            }
            outs.append(to_uint8(self(**part)))
        return torch.cat(outs) if outs else torch.zeros_like(x)


def native_bf16(device: torch.device) -> bool:
    """bf16 arithmetic in hardware: AVX512-BF16 or AMX on a CPU, or a CUDA GPU that has it."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def uses_channels_last(family_cls: Any, info: DataInfo, module: torch.nn.Module) -> bool:
    """Whether a family's networks run channels_last (faster on CPU and GPU): image data and 2-D
    convolutions, unless the family opts out (``Family.channels_last``)."""
    convs = (torch.nn.Conv2d, torch.nn.ConvTranspose2d)
    return (
        family_cls.channels_last
        and info.kind == "images"
        and any(isinstance(m, convs) for m in module.modules())
    )


def as_uint8_batch(images: torch.Tensor | np.ndarray, what: str) -> torch.Tensor:
    """uint8 (N, C, H, W) as a tensor ((C, H, W) becomes a batch of one); else one clear error."""
    x = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4 or x.dtype != torch.uint8:
        raise DataError(f"{what} must be uint8 (N, C, H, W); got {x.dtype} {tuple(x.shape)}")
    return x


def fit_frames(frames: torch.Tensor | np.ndarray, spec: Input) -> torch.Tensor:
    """uint8 videos (N, T, C, H, W) (or one (T, C, H, W)) checked against a frames input
    (T', C, H, W): at least T' frames (the last T' are kept), the same channels and frame size;
    anything else is one clear error (frames are not resized: motion is measured in pixels)."""
    x = torch.as_tensor(np.asarray(frames)) if not isinstance(frames, torch.Tensor) else frames
    if x.ndim == 4:
        x = x.unsqueeze(0)
    t, c, h, w = spec.shape
    if x.ndim != 5 or x.dtype != torch.uint8:
        raise DataError(
            f"input videos must be uint8 (N, T, C, H, W); got {x.dtype} {tuple(x.shape)}"
        )
    if x.shape[1] < t:
        raise DataError(
            f"the input has {x.shape[1]} frame(s); this generator needs at least {t} "
            "(its context) to predict the next"
        )
    if tuple(x.shape[2:]) != (c, h, w):
        raise DataError(
            f"input frames are {x.shape[2]}x{x.shape[3]}x{x.shape[4]} (C x H x W); this "
            f"generator was trained on {c}x{h}x{w}"
        )
    return x[:, -t:]


def fit_input(
    images: torch.Tensor | np.ndarray, spec: Input, any_size: bool = False
) -> tuple[torch.Tensor, str | None]:
    """uint8 images (N, C, H, W) made to fit an image input: the same channel count is required
    (one clear error otherwise), another size is resized with antialiasing (unless ``any_size``:
    a fully convolutional generator). Returns the images and a note saying what was resized (None
    when nothing was)."""
    x = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4 or x.dtype != torch.uint8:
        raise DataError(f"input images must be uint8 (N, C, H, W); got {x.dtype} {tuple(x.shape)}")
    c, h, w = spec.shape
    if x.shape[1] != c:
        raise DataError(
            f"input images have {x.shape[1]} channel(s); this generator's {spec.name!r} takes {c} "
            f"({'grayscale' if c == 1 else 'RGB'})"
        )
    if tuple(x.shape[2:]) == (h, w) or any_size:
        return x, None
    if spec.margin and h == w:
        from gankit.data.transforms import frame

        inner = h - 2 * spec.margin
        note = (
            f"resized {x.shape[3]}x{x.shape[2]} input to {inner}x{inner} and centred it in "
            f"{w}x{h}, as the generator's training images are framed"
        )
        return frame(x, h, spec.margin), note
    note = (
        f"resized {x.shape[3]}x{x.shape[2]} input to {w}x{h}, the size the generator was trained on"
    )
    y = torch.nn.functional.interpolate(
        x.float(), size=(h, w), mode="bilinear", antialias=True, align_corners=False
    )
    return y.round().clamp(0, 255).to(torch.uint8), note


def load(path: str | Path, device: str | torch.device = "cpu", direction: str = "AB") -> Generator:
    """Load an exported generator from a run directory or its ``generator/`` folder.

    ``direction="BA"``: a two-way family's B -> A generator (CycleGAN's G_BA, exported to
    ``generator_BA/``)."""
    p = Path(path)
    if direction not in ("AB", "BA"):
        raise ConfigError(f"direction {direction!r} is not one of: AB, BA")
    if direction == "BA":
        folder = p / "generator_BA"
        if not (folder / "config.json").is_file():
            raise RunError(
                f"no B -> A generator in {str(p)!r} (expected generator_BA/); only families "
                "that learn both directions (cyclegan) export one"
            )
        p = folder
    folder = p / "generator" if (p / "generator" / "config.json").is_file() else p
    cfg_file, weights = folder / "config.json", folder / "model.safetensors"
    if not cfg_file.is_file() or not weights.is_file():
        raise RunError(
            f"no exported generator in {str(p)!r} (expected config.json and model.safetensors)"
        )
    meta = json.loads(cfg_file.read_text())
    family_cls = MODELS.get(meta["family"])
    cfg = family_cls.Config.model_validate(meta["model"])
    info = DataInfo.model_validate(meta["data"])
    module = family_cls.build_generator(cfg, info)
    module.load_state_dict(load_file(weights))
    return Generator(family_cls, cfg, info, module, meta).to(device)
