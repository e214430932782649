"""Exported generators, loaded once per run and described by what their family declares.

``gankit.load(run)`` rebuilds a generator; its ``inputs`` (``gankit.models.base.Input``) say what
it takes: noise, a class label, latent codes (the sliders), or images to translate.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError

import gankit
from gankit.models.base import FROM_DATA, Input
from gankit.web.schemas import MAX_N, GeneratorOut, InputOut, LatentInput

GENERATOR_CACHE = 4  # loaded generators kept in memory
BA_FOLDER = "generator_BA"  # a two-way family's B -> A generator (CycleGAN), beside generator/
CODE_RANGE = 2.0  # sliders of a zero-centred code span at least [-2, 2] (InfoGAN trains on ±1)


def code_control(spec: Input) -> LatentInput | None:
    """The control a declared code gets: a category picker, or sliders over its range.

    A continuous code centred on zero (InfoGAN's U(-1, 1)) gets sliders past its training range,
    as the InfoGAN paper's Figure 2 traverses [-2, 2]; one that is not (a self-conditioned
    DCGAN's quantile ``u`` in [0, 1]) keeps its declared range, outside which it means nothing.
    """
    if spec.categories:
        if spec.categories < 2:
            return None  # a single category: nothing to choose
        return LatentInput(name=spec.name, size=spec.categories, kind="categorical", low=0, high=1)
    size = math.prod(spec.shape)
    if size == 0:
        return None
    low, high = spec.low, spec.high
    if low < 0 < high or low == high:  # zero-centred, or no range declared
        low, high = min(low, -CODE_RANGE), max(high, CODE_RANGE)
    return LatentInput(name=spec.name, size=size, kind="continuous", low=low, high=high)


class LoadedGenerator:
    def __init__(self, run_dir: Path, stamp: tuple, direction: str = "AB") -> None:
        self.stamp = stamp
        self.direction = direction
        self.g = gankit.load(run_dir, direction=direction)
        self.inputs = self.g.inputs
        self.codes = [
            control
            for spec in self.inputs
            if spec.kind == "code" and (control := code_control(spec)) is not None
        ]
        noise = [s for s in self.inputs if s.kind == "noise"]
        info = self.g.info
        self.out = GeneratorOut(
            family=self.g.family,
            kind=info.kind,
            shape=list(info.shape),
            step=self.g.meta.get("step"),
            conditional=self.g.conditional,
            num_classes=info.num_classes,
            class_names=list(info.class_names),
            z_dim=math.prod(noise[0].shape) if noise else None,
            codes=self.codes,
            inputs=[InputOut(**s.to_dict()) for s in self.inputs],
            directions=["AB", "BA"] if (run_dir / BA_FOLDER / "config.json").is_file() else ["AB"],
            max_n=MAX_N,
            tags=self.g.tags,
            tag_groups=self.g.tag_groups,
        )

    def given(self) -> list[Input]:
        """The inputs a user supplies rather than the generator draws (images, masks, ...)."""
        return [s for s in self.inputs if s.kind in FROM_DATA and s.kind != "text"]


class GeneratorCache:
    """Loaded generators by run, reloaded when the exported weights change on disk."""

    def __init__(self, size: int = GENERATOR_CACHE) -> None:
        self.size = size
        self.items: OrderedDict[str, LoadedGenerator] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, run_id: str, run_dir: Path, direction: str = "AB") -> LoadedGenerator | None:
        """The run's generator for ``direction`` ("BA": a two-way run's B -> A one), or None
        while it has none exported."""
        folder = run_dir / ("generator" if direction == "AB" else BA_FOLDER)
        key = run_id if direction == "AB" else f"{run_id}:{direction}"
        try:
            stamp = tuple(
                (s.st_mtime_ns, s.st_size)
                for s in (os.stat(folder / "model.safetensors"), os.stat(folder / "config.json"))
            )
        except OSError:
            return None
        with self.lock:
            item = self.items.get(key)
            if item is None or item.stamp != stamp:
                try:
                    item = LoadedGenerator(run_dir, stamp, direction)
                except Exception as e:  # a half-copied run, a family this install lacks, ...
                    raise HTTPException(409, f"the run's generator cannot be loaded: {e}") from e
                self.items[key] = item
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
            return item

    def need(self, run_id: str, run_dir: Path, direction: str = "AB") -> LoadedGenerator:
        """The run's generator, or 404 while it has none exported (for "BA": none that learns
        B -> A)."""
        lg = self.get(run_id, run_dir, direction)
        if lg is None:
            if direction != "AB" and self.get(run_id, run_dir) is not None:
                raise HTTPException(
                    404, f"run {run_id!r} has no B -> A generator: only cyclegan runs learn both"
                )
            raise HTTPException(404, f"run {run_id!r} has no exported generator yet")
        return lg


def get_generators(request: Request) -> GeneratorCache:
    return request.app.state.generators


def get_slots(request: Request) -> threading.BoundedSemaphore:
    return request.app.state.generation_slots


Generators = Annotated[GeneratorCache, Depends(get_generators)]
Slots = Annotated[threading.BoundedSemaphore, Depends(get_slots)]


def invalid(loc: tuple[str, ...], message: str, value: Any) -> RequestValidationError:
    """A 422 in FastAPI's own format, for checks that need the run (label range, code names)."""
    return RequestValidationError(
        [{"type": "value_error", "loc": loc, "msg": message, "input": value}]
    )


def prepare_inputs(
    lg: LoadedGenerator,
    n: int,
    seed: int,
    label: int | None,
    codes: dict[str, list[float]],
    text: str | None = None,
    tags: list[str] | None = None,
) -> dict[str, torch.Tensor]:
    """Generator inputs for ``n`` samples with ``codes`` fixed, the class label set and, for a
    text2image generator, the caption's embedding (a float input, so interpolation walks it);
    for a tag-conditioned one, ``tags`` set and the others drawn."""
    g = lg.g
    given = lg.given()
    if given:
        names = ", ".join(repr(s.name) for s in given)
        raise HTTPException(
            409, f"this {g.family} generator takes {names} as input, not noise: translate images"
        )
    inputs = g.latent(n, seed)
    known = {c.name: c for c in lg.codes}
    for name, values in codes.items():
        spec = known.get(name)
        if spec is None:
            allowed = ", ".join(known) or "none"
            raise invalid(
                ("body", "codes"),
                f"unknown latent code {name!r}; this generator has: {allowed}",
                name,
            )
        if len(values) != spec.size:
            raise invalid(
                ("body", "codes"),
                f"code {name!r} takes {spec.size} values, got {len(values)}",
                values,
            )
        if not all(math.isfinite(v) and spec.low <= v <= spec.high for v in values):
            raise invalid(
                ("body", "codes"),
                f"code {name!r} values must lie in [{spec.low}, {spec.high}]",
                values,
            )
        t = inputs.get(name)
        if t is None:
            raise HTTPException(409, f"the generator declares code {name!r} but does not draw it")
        if t.is_floating_point():
            value = torch.tensor(values, dtype=t.dtype).view(1, *t.shape[1:])
            inputs[name] = value.expand_as(t).clone()
        else:  # a category index per sample, chosen by the one-hot list
            inputs[name] = torch.full_like(t, int(np.argmax(values)))
    if g.conditional:
        k = g.info.num_classes
        if label is not None and not 0 <= label < k:
            raise invalid(
                ("body", "label"), f"label {label} is out of range; allowed: 0..{k - 1}", label
            )
        inputs["label"] = g.labels(n, label, seed)
    elif label is not None:
        raise invalid(
            ("body", "label"), f"family {g.family!r} is not conditional: give no label", label
        )
    inputs.update(text_input(lg, n, text))
    inputs.update(tag_input(lg, n, seed, tags))
    return inputs


def tag_input(
    lg: LoadedGenerator, n: int, seed: int, tags: list[str] | None
) -> dict[str, torch.Tensor]:
    """``{name: tag vectors (n, T)}`` with ``tags`` set and the others drawn as ``latent`` draws
    them, for a generator that takes tags and was given some; else {}."""
    from gankit.errors import ConfigError

    spec = lg.g.tag_input()
    if spec is None:
        if tags:
            raise invalid(("body", "tags"), f"family {lg.g.family!r} takes no tags", tags)
        return {}
    if not tags:
        return {}  # every tag drawn by ``latent``
    try:
        return {spec.name: lg.g.tag_vectors(n, tags, seed)}
    except ConfigError as e:
        raise invalid(("body", "tags"), str(e), tags) from None


def text_input(lg: LoadedGenerator, n: int, text: str | None) -> dict[str, torch.Tensor]:
    """``{name: embedding (n, E)}`` of the caption for a generator that takes text, else {}."""
    from gankit.errors import ConfigError

    specs = lg.g.text_inputs()
    if not specs:
        if text is not None:
            raise invalid(("body", "text"), f"family {lg.g.family!r} takes no text", text)
        return {}
    if text is None:
        raise invalid(
            ("body", "text"), f"this {lg.g.family} generator draws a caption: give text", text
        )
    try:
        tokens = lg.g.text_tokens([text]).to(lg.g.device)
    except ConfigError as e:
        raise invalid(("body", "text"), str(e), text) from None
    with torch.inference_mode():
        embedding = lg.g.module.embed(tokens)
    return {specs[0].name: embedding.expand(n, -1).clone()}


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation per row (a, b: (N, D)), the path that keeps Gaussian norms."""
    a_n, b_n = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    omega = torch.acos((a_n * b_n).sum(1, keepdim=True).clamp(-1, 1))
    so = torch.sin(omega)
    lerp = (1 - t) * a + t * b
    out = (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
    return torch.where(so.abs() < 1e-6, lerp, out)


_PLOT_LOCK = threading.Lock()  # matplotlib's pyplot is not thread-safe


def render(lg: LoadedGenerator, out: torch.Tensor, nrow: int | None, real=None) -> bytes:
    """Images -> a PNG grid; points -> a PNG scatter over the latest real points."""
    from gankit.data import to_uint8
    from gankit.viz import image_grid, png_bytes, scatter_png

    if lg.g.info.kind == "images":
        shown = lg.g.family_cls.pictures(lg.g.cfg, lg.g.info, out)  # voxels: rendered views
        return png_bytes(image_grid(to_uint8(shown), nrow=nrow))
    pts = out.float().cpu().numpy().reshape(-1, 2)  # (N, 2)
    with _PLOT_LOCK:
        return scatter_png(real if real is not None else np.zeros((0, 2)), pts)
