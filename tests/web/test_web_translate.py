"""Translation runs in the dashboard's API: held-out inputs, translation by index and by upload,
and the refusals (oversized, not an image, a noise-only run), against a real server over a real
pix2pix run trained by ``gankit train``."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

import gankit
from gankit.web.schemas import RUN_ID_PATTERN
from gankit.web.security import MAX_UPLOAD

from .conftest import DIGITS, TRANSLATION, start_server
from .test_web_api import png_array, snapshot
from .test_web_schema import CHECKS

RUN = f"/api/runs/{TRANSLATION}"


@pytest.fixture(scope="module")
def p2p(translation_runs):
    srv = start_server(translation_runs)
    yield srv
    srv.stop()


@pytest.fixture
def tc(p2p):
    """A client of the translation server that checks, after the test, that it still serves."""
    with p2p.client() as c:
        yield c
        r = c.post(f"{RUN}/heldout/0/translate")
        assert r.status_code == 200 and png_array(r.content).shape == (28, 28)


@pytest.fixture(scope="module")
def bank(translation_runs) -> dict[str, np.ndarray]:
    with np.load(translation_runs / TRANSLATION / "samples" / "bank.npz") as npz:
        return {k: npz[k] for k in npz.files}


def encode(image: np.ndarray, fmt: str = "PNG") -> bytes:
    """uint8 (H, W) or (H, W, 3) -> file bytes."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt)
    return buf.getvalue()


def upload(c, data: bytes, media: str = "image/png", run: str = RUN):
    return c.post(f"{run}/translate", content=data, headers={"Content-Type": media})


def test_generator_declares_an_image_input(tc):
    g = tc.get(RUN).json()["generator"]
    assert [(s["name"], s["kind"], s["shape"]) for s in g["inputs"]] == [
        ("source", "image", [1, 28, 28])
    ]
    assert g["z_dim"] is None and g["codes"] == [] and g["shape"] == [1, 28, 28]


def test_held_out_inputs_and_targets(tc, bank):
    held = tc.get(f"{RUN}/heldout").json()
    assert held["input"]["name"] == "source" and held["targets"] is True
    assert held["count"] == len(bank["source"]) > 3 and held["max_upload"] == MAX_UPLOAD
    for part, key in (("input", "source"), ("target", "target")):
        r = tc.get(f"{RUN}/heldout/3/{part}.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert np.array_equal(png_array(r.content), bank[key][3, 0])  # (28, 28)
    assert tc.get(f"{RUN}/heldout/{held['count']}/input.png").status_code == 404
    assert tc.get(f"{RUN}/heldout/-1/input.png").status_code == 422
    assert tc.get(f"{RUN}/heldout/0/other.png").status_code == 422


def test_translate_held_out_input(tc, bank, translation_runs):
    r = tc.post(f"{RUN}/heldout/3/translate")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert "x-gankit-note" not in r.headers  # the bank is already the size G takes
    expected = gankit.load(translation_runs / TRANSLATION).translate(bank["source"][3:4])
    assert np.abs(png_array(r.content).astype(int) - expected[0, 0].numpy()).max() <= 1
    assert tc.post(f"{RUN}/heldout/3/translate").content == r.content
    assert tc.post(f"{RUN}/heldout/4/translate").content != r.content
    assert tc.post(f"{RUN}/heldout/{len(bank['source'])}/translate").status_code == 404


def test_translate_upload(tc, bank):
    edges = bank["source"][3, 0]  # (28, 28)
    same = upload(tc, encode(edges))
    assert same.status_code == 200 and "x-gankit-note" not in same.headers
    assert same.content == tc.post(f"{RUN}/heldout/3/translate").content  # the same input

    big_rgb = np.repeat(np.repeat(edges, 2, 0), 2, 1)[..., None].repeat(3, 2)  # (56, 56, 3)
    r = upload(tc, encode(big_rgb))
    assert r.status_code == 200 and png_array(r.content).shape == (28, 28)
    note = r.headers["x-gankit-note"]
    assert "converted RGB to grayscale" in note and "resized 56x56 input to 28x28" in note

    jpeg = upload(tc, encode(big_rgb, "JPEG"), "image/jpeg")
    assert jpeg.status_code == 200 and png_array(jpeg.content).shape == (28, 28)

    rgba = np.zeros((28, 28, 4), np.uint8)  # fully transparent: white under it
    r = upload(tc, encode(rgba))
    assert r.status_code == 200 and "converted RGBA" in r.headers["x-gankit-note"]
    white = upload(tc, encode(np.full((28, 28), 255, np.uint8)))
    assert r.content == white.content


def test_oversized_upload_refused(tc):
    r = upload(tc, b"\x89PNG\r\n\x1a\n" + b"x" * (MAX_UPLOAD + 1))
    assert r.status_code == 413 and "4 MB" in r.json()["detail"]

    def chunks():
        for _ in range(MAX_UPLOAD // 65536 + 2):
            yield b"x" * 65536

    assert upload(tc, chunks()).status_code == 413
    bomb = encode(np.zeros((5000, 5000), bool))  # a few KB that decode to 25 megapixels
    assert len(bomb) < MAX_UPLOAD
    r = upload(tc, bomb)
    assert r.status_code == 413 and "5000x5000 pixels" in r.json()["detail"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("text", b"not an image at all", "not a PNG or JPEG image"),
        ("empty", b"", "no image"),
        ("gif", None, "not a PNG or JPEG image"),
        ("truncated", None, "cannot be decoded"),
    ],
)
def test_non_image_upload_refused(tc, name, data, message):
    if name == "gif":
        buf = io.BytesIO()
        Image.new("L", (28, 28)).save(buf, format="GIF")
        data = buf.getvalue()
    if name == "truncated":
        noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        full = encode(noise)
        data = full[: len(full) // 2]  # cut inside the image data
    r = upload(tc, data)
    assert r.status_code == 422
    assert message in r.json()["detail"][0]["msg"]


def test_noise_only_run_cannot_translate(client):
    run = f"/api/runs/{DIGITS}"
    r = upload(client, encode(np.zeros((8, 8), np.uint8)), run=run)
    assert r.status_code == 422
    assert "draws from noise" in r.json()["detail"][0]["msg"]
    assert client.post(f"{run}/heldout/0/translate").status_code == 422
    assert client.get(f"{run}/heldout").status_code == 422
    assert client.post(f"{run}/generate", json={"n": 4}).status_code == 200  # still samples


def test_translation_run_cannot_sample(tc):
    for route, body in (("generate", {"n": 4}), ("interpolate", {})):
        r = tc.post(f"{RUN}/{route}", json=body)
        assert r.status_code == 409 and "'source'" in r.json()["detail"]


def test_guarded_like_every_route(tc, p2p):
    data = encode(np.zeros((28, 28), np.uint8))
    r = tc.post(
        f"{RUN}/translate",
        content=data,
        headers={"Content-Type": "image/png", "Origin": "http://evil.example"},
    )
    assert r.status_code == 403
    r = tc.post(f"{RUN}/translate", content=data, headers={"Host": "evil.example"})
    assert r.status_code == 400 and r.headers["x-content-type-options"] == "nosniff"
    slots = p2p.app.state.generation_slots
    assert slots.acquire(blocking=False) and slots.acquire(blocking=False)  # both slots busy
    try:
        assert upload(tc, data).status_code == 429
        r = tc.post(f"{RUN}/heldout/0/translate")
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
    finally:
        slots.release()
        slots.release()
    r = upload(tc, data)
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_translation_never_writes_into_the_run(tc, translation_runs):
    before = snapshot(translation_runs)
    tc.get(f"{RUN}/heldout")
    tc.get(f"{RUN}/heldout/1/input.png")
    tc.post(f"{RUN}/heldout/1/translate")
    upload(tc, encode(np.zeros((40, 40), np.uint8)))
    upload(tc, b"junk")
    assert snapshot(translation_runs) == before


@pytest.fixture(scope="module")
def translate_schema(p2p):
    schema = schemathesis.openapi.from_url(f"{p2p.url}/api/openapi.json")

    @schema.hook
    def flatmap_path_parameters(ctx, path_parameters):
        run_id = (path_parameters or {}).get("run_id")
        if not isinstance(run_id, str) or not re.match(RUN_ID_PATTERN, run_id):
            return st.just(path_parameters)
        real = st.just(TRANSLATION)
        return st.one_of(st.just(run_id), real).map(lambda r: {**path_parameters, "run_id": r})

    return schema


translate_api = schemathesis.pytest.from_fixture("translate_schema").include(
    path_regex="heldout|translate"
)


@translate_api.parametrize()
@settings(
    max_examples=10,
    deadline=5000,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_translate_routes_conform_to_the_schema(case):
    case.call_and_validate(checks=CHECKS)
