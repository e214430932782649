"""Routes for translation runs (pix2pix, ...): generators that take an image, not noise.

A run is a translation run when its generator declares an input of kind ``image``. Its trainer
writes ``samples/bank.npz`` once: the fixed held-out inputs (by input name) and their true outputs
(``target``). The page picks one of those, or uploads a PNG or JPEG: the upload is held in memory
only (never written to disk), bounded in bytes (by ``Guard``) and in pixels before it is decoded,
opened with Pillow's PNG and JPEG decoders alone, and converted to the input's channels.

An inpainting run (its generator also takes a ``mask``) fills held-out images in their fixed
holes, and fills the holes a user brushes: the page sends one PNG whose transparent pixels are the
hole (``POST .../inpaint``), so the image and its mask travel, and are checked, together.
"""

from __future__ import annotations

import io
from typing import Literal

import numpy as np
import torch
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool

from gankit.data.images import to_rgb
from gankit.errors import DataError
from gankit.models.base import Input
from gankit.web.generators import Generators, LoadedGenerator, Slots, invalid
from gankit.web.schemas import (
    ERRORS,
    GENERATION_ERRORS,
    NOT_FOUND,
    PNG,
    TRANSLATED,
    UPLOAD_ERRORS,
    Direction,
    HeldOutList,
    Index,
    InputOut,
    RunId,
)
from gankit.web.security import MAX_UPLOAD, generation_slot
from gankit.web.store import RunStore, Store

MAX_PIXELS = 4096 * 4096  # of an uploaded image, checked from its header before decoding
FORMATS = ("PNG", "JPEG")

router = APIRouter()
RUN = {**ERRORS, **NOT_FOUND}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": f"a PNG or JPEG file of at most {MAX_UPLOAD} bytes",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("image/png", "image/jpeg")
        },
    }
}


def image_input(lg: LoadedGenerator, run_id: str) -> Input:
    """The generator's (first) image input; 422 for a generator that draws from noise."""
    specs = [s for s in lg.inputs if s.kind == "image"]
    if not specs:
        raise invalid(
            ("path", "run_id"),
            f"run {run_id!r} has a {lg.g.family} generator that draws from noise and takes no "
            "image to translate: generate samples instead",
            run_id,
        )
    return specs[0]


def held_out(
    store: RunStore, run_id: str, spec: Input, direction: str = "AB"
) -> tuple[np.ndarray, np.ndarray | None]:
    """The held-out inputs for ``spec`` (N, C, H, W) and their targets (or None), uint8.

    A two-way run's bank holds held-out images of both domains (``source``: A, ``domain_b``: B,
    not pairs): B -> A translates the B images, and has no targets."""
    bank = store.bank(store.get(run_id))
    if direction == "BA":
        x = bank.get("domain_b")
        if x is None:
            raise HTTPException(404, f"run {run_id!r} has no held-out B images yet")
        return x, None
    x = bank.get(spec.name)
    if x is None:
        raise HTTPException(404, f"run {run_id!r} has no held-out inputs (samples/bank.npz) yet")
    target = bank.get("target")
    return x, target if target is not None and len(target) == len(x) else None


def one(images: np.ndarray, index: int, run_id: str) -> np.ndarray:
    """Held-out image ``index`` as a batch of one (404 past the end)."""
    if not 0 <= index < len(images):
        raise HTTPException(
            404, f"run {run_id!r} has no held-out input {index} (it has {len(images)})"
        )
    return np.asarray(images[index : index + 1])  # (1, C, H, W)


def png_of(image: np.ndarray | torch.Tensor) -> bytes:
    """One uint8 image (1, C, H, W) as PNG bytes."""
    from gankit.viz import image_grid, png_bytes

    return png_bytes(image_grid(image, nrow=1, pad=0))


def png_response(data: bytes, notes: list[str]) -> Response:
    headers = {"Cache-Control": "no-store"}
    if notes:
        headers["X-Gankit-Note"] = "; ".join(notes)
    return Response(data, media_type="image/png", headers=headers)


def mask_input(lg: LoadedGenerator) -> Input | None:
    return next((s for s in lg.inputs if s.kind == "mask"), None)


def translate_one(lg: LoadedGenerator, x: np.ndarray, spec: Input) -> tuple[bytes, list[str]]:
    """The output for one uint8 input image (1, C, H, W), as PNG, and what was done to fit it."""
    from gankit.generator import fit_input

    if mask_input(lg) is not None:
        raise invalid(
            ("body",),
            f"this {lg.g.family} generator fills holes: send a PNG whose transparent pixels are "
            "the hole to .../inpaint",
            None,
        )

    try:
        x, note = fit_input(x, spec)
    except DataError as e:
        raise invalid(("body",), str(e), None) from e
    with torch.inference_mode():
        out = lg.g.pictures(lg.g.translate(x))  # (1, C', H', W') uint8; voxels rendered
    return png_of(out), [note] if note else []


def decode_upload(data: bytes, channels: int) -> tuple[np.ndarray, list[str]]:
    """An uploaded PNG or JPEG as uint8 (1, C, H, W) with the input's ``channels``, and notes."""
    with open_upload(data) as im:
        return to_channels(im, channels)


def decode_holes(data: bytes, channels: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """An uploaded PNG whose transparent pixels (alpha < 128) are the hole: the image as uint8
    (1, C, H, W) and its mask (1, 1, H, W), 255 = hole."""
    with open_upload(data) as im:
        if im.mode == "P" or "A" not in im.getbands():
            im = im.convert("RGBA") if "transparency" in im.info else im
        if "A" not in im.getbands():
            raise invalid(
                ("body",),
                "the image has no transparency: its transparent pixels are the hole",
                None,
            )
        alpha = np.array(im.getchannel("A"), dtype=np.uint8)
        if not (alpha < 128).any():
            raise invalid(("body",), "no hole: make the pixels to remove transparent", None)
        x, notes = to_channels(im, channels)
    mask = np.where(alpha < 128, 255, 0).astype(np.uint8)[None, None]
    return x, mask, notes


def open_upload(data: bytes) -> Image.Image:
    """An uploaded PNG or JPEG, checked (size from its header first) and decoded."""
    if not data:
        raise invalid(("body",), "no image in the request: send a PNG or JPEG file", None)
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
    except Image.DecompressionBombError as e:
        raise HTTPException(413, f"image has too many pixels: {e}") from e
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise invalid(("body",), "not a PNG or JPEG image", None) from e
    with im:
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise HTTPException(
                413, f"image is {w}x{h} pixels; at most {MAX_PIXELS:,} pixels (4096x4096)"
            )
        try:
            im.load()
            return ImageOps.exif_transpose(im)  # a phone photo stands the way it was taken
        except Exception as e:  # a truncated or corrupt file: Pillow raises several kinds
            raise invalid(("body",), f"the {im.format} image cannot be decoded: {e}", None) from e


def to_channels(im: Image.Image, channels: int) -> tuple[np.ndarray, list[str]]:
    """A decoded image as uint8 (1, C, H, W): grayscale (C=1) or RGB (C=3), transparency over
    white, 16-bit values scaled to 8 bits."""
    mode = "L" if channels == 1 else "RGB"
    notes = []
    if im.mode != mode:
        notes.append(f"converted {im.mode} to {'grayscale' if channels == 1 else 'RGB'}")
        im = to_rgb(im).convert(mode)  # transparency over white, 16-bit scaled to 8 bits
    x = np.array(im, dtype=np.uint8)  # (H, W) or (H, W, 3), a copy Pillow no longer holds
    x = x[None, None] if x.ndim == 2 else x.transpose(2, 0, 1)[None]  # (1, C, H, W)
    return np.ascontiguousarray(x), notes


@router.get("/api/runs/{run_id}/heldout", summary="Held-out inputs", responses=RUN)
def heldout(
    run_id: RunId, store: Store, generators: Generators, direction: Direction = "AB"
) -> HeldOutList:
    """The fixed held-out inputs of a translation run, and whether their targets are known."""
    lg = generators.need(run_id, store.get(run_id), direction)
    spec = image_input(lg, run_id)
    x, target = held_out(store, run_id, spec, direction)
    return HeldOutList(
        input=InputOut(**spec.to_dict()),
        count=len(x),
        targets=target is not None,
        max_upload=MAX_UPLOAD,
    )


@router.get(
    "/api/runs/{run_id}/heldout/{index}/{part}.png",
    summary="A held-out input or its target (PNG)",
    response_class=Response,
    responses={200: PNG, **RUN},
)
def heldout_png(
    run_id: RunId,
    index: Index,
    part: Literal["input", "target"],
    store: Store,
    generators: Generators,
    direction: Direction = "AB",
) -> Response:
    """Held-out input ``index`` as the generator takes it, or the output it should give."""
    lg = generators.need(run_id, store.get(run_id), direction)
    x, target = held_out(store, run_id, image_input(lg, run_id), direction)
    if part == "target" and target is None:
        raise HTTPException(404, f"run {run_id!r} keeps no targets for its held-out inputs")
    image = one(x if part == "input" else target, index, run_id)
    return Response(png_of(image), media_type="image/png", headers={"Cache-Control": "no-cache"})


@router.post(
    "/api/runs/{run_id}/heldout/{index}/translate",
    summary="Translate a held-out input (PNG)",
    response_class=Response,
    responses={**TRANSLATED, **RUN, **GENERATION_ERRORS},
)
def translate_heldout(
    run_id: RunId,
    index: Index,
    store: Store,
    generators: Generators,
    slots: Slots,
    direction: Direction = "AB",
) -> Response:
    """The generator's output for held-out input ``index``."""
    lg = generators.need(run_id, store.get(run_id), direction)
    spec = image_input(lg, run_id)
    x, _ = held_out(store, run_id, spec, direction)
    x = one(x, index, run_id)
    if mask_input(lg) is not None:  # an inpainting: the held-out image in its fixed hole
        m = one(store.bank(store.get(run_id)).get("mask", x[:0]), index, run_id)
        with generation_slot(slots), torch.inference_mode():
            return png_response(png_of(lg.g.inpaint(x, m)), [])
    with generation_slot(slots):
        png, notes = translate_one(lg, x, spec)
    return png_response(png, notes)


@router.post(
    "/api/runs/{run_id}/translate",
    summary="Translate an uploaded image (PNG)",
    response_class=Response,
    responses={**TRANSLATED, **RUN, **GENERATION_ERRORS, **UPLOAD_ERRORS},
    openapi_extra=UPLOAD_BODY,
)
async def translate_upload(
    run_id: RunId,
    request: Request,
    store: Store,
    generators: Generators,
    slots: Slots,
    direction: Direction = "AB",
) -> Response:
    """The generator's output for an uploaded PNG or JPEG (resized to the size it was trained
    on; converted to its channels). The image is held in memory only."""
    data = await request.body()  # bounded by the Guard (413 over MAX_UPLOAD)

    def work() -> Response:
        lg = generators.need(run_id, store.get(run_id), direction)
        spec = image_input(lg, run_id)
        with generation_slot(slots):  # decoding a large image costs as much as the model
            x, notes = decode_upload(data, spec.shape[0])
            png, fit_notes = translate_one(lg, x, spec)
        return png_response(png, notes + fit_notes)

    return await run_in_threadpool(work)


@router.post(
    "/api/runs/{run_id}/inpaint",
    summary="Fill the transparent pixels of an uploaded PNG (PNG)",
    response_class=Response,
    responses={**TRANSLATED, **RUN, **GENERATION_ERRORS, **UPLOAD_ERRORS},
    openapi_extra=UPLOAD_BODY,
)
async def inpaint_upload(
    run_id: RunId, request: Request, store: Store, generators: Generators, slots: Slots
) -> Response:
    """An inpainting run's fill of an uploaded PNG whose transparent pixels are the hole (what
    the page's mask brush sends), at the image's own size; every other pixel comes back as sent.
    The image is held in memory only."""
    data = await request.body()  # bounded by the Guard (413 over MAX_UPLOAD)

    def work() -> Response:
        lg = generators.need(run_id, store.get(run_id))
        spec = image_input(lg, run_id)
        if mask_input(lg) is None:
            raise invalid(
                ("path", "run_id"),
                f"run {run_id!r} has a {lg.g.family} generator that takes no mask: translate "
                "the image instead",
                run_id,
            )
        with generation_slot(slots):
            x, m, notes = decode_holes(data, spec.shape[0])
            with torch.inference_mode():
                out = lg.g.inpaint(x, m)
        return png_response(png_of(out), notes)

    return await run_in_threadpool(work)
