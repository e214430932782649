"""Inpainting runs in the dashboard's API, against a real server over a real inpaint run: held-out
images filled in their fixed holes, an uploaded PNG filled where it is transparent (what the
page's mask brush sends), and the refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import gankit

from .conftest import TRANSLATION, spawn_serve, start_server, train
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


@pytest.fixture
def chromium() -> str:
    from .test_web_e2e import chromium_or_fail

    return chromium_or_fail()


def test_mask_brush_in_chromium(chromium, inpaint_runs, tmp_path):
    """The Translate tab of an inpainting run: a held-out image comes filled in its fixed hole;
    painting a stroke over it and pressing Fill sends it with the stroke transparent, and the
    filled image differs from the original only under the stroke."""
    from playwright.sync_api import sync_playwright

    from .test_web_e2e import CHROMIUM_ARGS

    with np.load(inpaint_runs / INPAINT / "samples" / "bank.npz") as bank:
        target = bank["target"][0, 0]  # (28, 28): the image the brush paints on
    srv = spawn_serve(inpaint_runs)
    errors: list[str] = []
    rendered = """([id, alt]) => {
        const img = document.querySelector(`[data-testid=${id}]`);
        return img && !img.hidden && img.alt.includes(alt) && img.complete
            && img.naturalWidth === 28;
    }"""
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            page.goto(f"{srv.url}/#/run/{INPAINT}/translate")
            page.wait_for_function(rendered, arg=["translate-output", "held-out input 0"])
            canvas = page.locator('[data-testid="mask-canvas"]')
            canvas.wait_for()
            fill = page.locator('[data-testid="mask-fill"]')
            assert fill.is_disabled()  # nothing painted yet
            box = canvas.bounding_box()
            y = box["y"] + box["height"] / 2  # a horizontal stroke through the middle row
            page.mouse.move(box["x"] + box["width"] * 0.25, y)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=8)
            page.mouse.up()
            fill.click()
            page.wait_for_function(rendered, arg=["translate-output", "(painted)"])
            link = page.locator('[data-testid="translate-download"]')
            with page.expect_download() as download:
                link.click()
            out = np.asarray(Image.open(download.value.path()))
            browser.close()
    finally:
        srv.stop()
    assert errors == []
    assert out.shape == (28, 28)
    changed = np.argwhere(out != target)
    assert len(changed)  # the stroke was filled
    rows, cols = changed[:, 0], changed[:, 1]
    assert rows.min() >= 11 and rows.max() <= 16  # 4 px brush on row 14
    assert cols.min() >= 5 and cols.max() <= 22  # from 1/4 to 3/4 of the width
