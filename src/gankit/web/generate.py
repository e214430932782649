"""Routes that sample a run's generator from noise: a grid of samples, latent interpolation."""

from __future__ import annotations

import torch
from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from gankit.web.generators import Generators, Slots, prepare_inputs, render, slerp
from gankit.web.schemas import (
    ERRORS,
    GENERATION_ERRORS,
    NOT_FOUND,
    PNG,
    GenerateIn,
    InterpolateIn,
    RunId,
)
from gankit.web.security import generation_slot
from gankit.web.store import Store

router = APIRouter()


@router.post(
    "/api/runs/{run_id}/generate",
    summary="Generate samples (PNG)",
    response_class=Response,
    responses={200: PNG, **ERRORS, **NOT_FOUND, **GENERATION_ERRORS},
)
def generate(
    run_id: RunId, body: GenerateIn, store: Store, generators: Generators, slots: Slots
) -> Response:
    """Sample ``n`` images (a PNG grid) or 2-D points (a PNG scatter) from the generator."""
    run_dir = store.get(run_id)
    lg = generators.need(run_id, run_dir)
    inputs = prepare_inputs(lg, body.n, body.seed, body.label, body.codes, body.text, body.tags)
    nrow = body.nrow
    if nrow is None and lg.g.conditional and body.label is None:
        nrow = min(lg.g.info.num_classes, body.n)
    with generation_slot(slots):
        with torch.inference_mode():
            out = lg.g(**inputs)
        real = store.latest_real(run_dir) if lg.g.info.kind == "points" else None
        png = render(lg, out, nrow, real)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post(
    "/api/runs/{run_id}/interpolate",
    summary="Latent interpolation (PNG)",
    response_class=Response,
    responses={200: PNG, **ERRORS, **NOT_FOUND, **GENERATION_ERRORS},
)
def interpolate(
    run_id: RunId, body: InterpolateIn, store: Store, generators: Generators, slots: Slots
) -> Response:
    """A strip from seed A's noise to seed B's (``rows`` strips, ``steps`` images each)."""
    lg = generators.need(run_id, store.get(run_id))
    if lg.g.info.kind != "images":
        raise HTTPException(409, "interpolation strips are for image generators")
    a = prepare_inputs(lg, body.rows, body.seed_a, body.label, body.codes, body.text, body.tags)
    text_b = body.text if body.text_b is None else body.text_b  # GAN-INT: a walk between captions
    b = prepare_inputs(lg, body.rows, body.seed_b, body.label, body.codes, text_b, body.tags)
    fixed = set(body.codes) | {"label"} | {c.name for c in lg.codes if c.kind == "categorical"}
    fixed |= {s.name for s in lg.inputs if s.kind == "tags"}  # a strip keeps seed A's tags
    frames: list[dict[str, torch.Tensor]] = []
    for i in range(body.steps):
        t = i / (body.steps - 1)
        frame = {}
        for k, va in a.items():
            vb = b[k]
            if k in fixed or not va.is_floating_point():
                frame[k] = va
            elif body.spherical and va.dim() > 1:  # (N,) inputs such as a cluster draw: lerp
                frame[k] = slerp(va.flatten(1), vb.flatten(1), t).view_as(va)
            else:
                frame[k] = (1 - t) * va + t * vb
        frames.append(frame)
    # (steps, rows, ...) -> rows of the grid: row r holds strip r from A to B
    inputs = {k: torch.stack([f[k] for f in frames], 1).flatten(0, 1) for k in a}
    with generation_slot(slots):
        with torch.inference_mode():
            out = lg.g(**inputs)
        png = render(lg, out, body.steps)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
