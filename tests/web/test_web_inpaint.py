"""Inpainting runs in the dashboard's API, against a real server over a real inpaint run: held-out
images filled in their fixed holes, an uploaded PNG filled where it is transparent (what the
page's mask brush sends), and the refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import gankit

from .conftest import TRANSLATION, start_server, train
from .test_web_api import png_array

INPAINT = "00000-inpaint-mnist5k"
RUN = f"/api/runs/{INPAINT}"


@pytest.fixture(scope="module")
def inpaint_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inpaint-runs")
    train(
        d,
        "inpaint",
        "mnist5k",
        ["data.limit=100", "train.steps=2", "train.batch_size=8", "train.sample_every=2",
         "model.g_channels=8", "model.d_channels=8"],
    )  # fmt: skip
    assert (d / INPAINT / "samples" / "bank.npz").is_file()
    return d


@pytest.fixture(scope="module")
def client(inpaint_runs):
    srv = start_server(inpaint_runs)
    with srv.client() as c:
        yield c
    srv.stop()


def holes_png(gray: np.ndarray, hole: np.ndarray) -> bytes:
    """A grayscale image with its hole transparent (an 'LA' PNG), as the brush sends it."""
    alpha = np.where(hole, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.stack([gray, alpha], -1), mode="LA").save(buf, format="PNG")
    return buf.getvalue()


def test_heldout_is_filled_in_its_fixed_hole(client, inpaint_runs):
    info = client.get(f"{RUN}/heldout").json()
    assert info["input"]["name"] == "image" and info["targets"] is True
    with np.load(inpaint_runs / INPAINT / "samples" / "bank.npz") as bank:
        image, mask = bank["image"][3:4], bank["mask"][3:4]
    r = client.post(f"{RUN}/heldout/3/translate")
    assert r.status_code == 200, r.text
    want = gankit.load(inpaint_runs / INPAINT).inpaint(image, mask)[0, 0].numpy()
    assert np.array_equal(png_array(r.content), want)


def test_upload_filled_where_transparent_at_its_own_size(client, inpaint_runs):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (33, 40), dtype=np.uint8)
    hole = np.zeros((33, 40), bool)
    hole[10:20, 12:30] = True
    r = client.post(
        f"{RUN}/inpaint", content=holes_png(gray, hole), headers={"Content-Type": "image/png"}
    )
    assert r.status_code == 200, r.text
    out = png_array(r.content)
    assert out.shape == (33, 40)
    assert np.array_equal(out[~hole], gray[~hole])  # only the hole changes
    want = gankit.load(inpaint_runs / INPAINT).inpaint(
        gray[None, None], hole[None, None].astype(np.uint8) * 255
    )
    assert np.array_equal(out, want.numpy()[0, 0].astype(np.uint8))
    assert "converted LA to grayscale" in r.headers.get("X-Gankit-Note", "")


def test_refusals(client, translation_runs):
    gray = np.full((28, 28), 200, np.uint8)
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    opaque = buf.getvalue()
    png = {"Content-Type": "image/png"}
    r = client.post(f"{RUN}/inpaint", content=opaque, headers=png)
    assert r.status_code == 422 and "transparent pixels are the hole" in r.text
    full = holes_png(gray, np.zeros((28, 28), bool))
    r = client.post(f"{RUN}/inpaint", content=full, headers=png)
    assert r.status_code == 422 and "no hole" in r.text
    r = client.post(f"{RUN}/translate", content=opaque, headers=png)
    assert r.status_code == 422 and ".../inpaint" in r.text
    r = client.post(f"{RUN}/inpaint", content=b"\0" * (5 * 1024 * 1024), headers=png)
    assert r.status_code == 413
    srv = start_server(translation_runs)  # a pix2pix run takes no mask
    try:
        with srv.client() as c:
            hole = np.zeros((28, 28), bool)
            hole[:5] = True
            r = c.post(
                f"/api/runs/{TRANSLATION}/inpaint", content=holes_png(gray, hole), headers=png
            )
            assert r.status_code == 422 and "takes no mask" in r.text
    finally:
        srv.stop()
