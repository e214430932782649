"""A two-way (cyclegan) run in the dashboard: the Translate tab's API and page translate both
ways, B -> A from the held-out B images (which have no targets: the domains are unpaired)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gankit

from .conftest import spawn_serve, start_server, train
from .test_web_api import png_array
from .test_web_e2e import CHROMIUM_ARGS, chromium_or_fail

TINY = [
    "data.limit=12",
    "model.g_channels=4",
    "model.n_blocks=1",
    "model.d_channels=4",
    "model.receptive_field=16",
    "model.pool_size=3",
    "train.steps=2",
    "train.batch_size=4",
    "train.sample_every=2",
    "train.grid_size=4",
]


@pytest.fixture
def chromium() -> str:
    return chromium_or_fail()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("cyc-runs")
    train(runs, "cyclegan", "digits2mnist", TINY)
    return runs


@pytest.fixture(scope="module")
def run(runs) -> str:
    (run,) = [p.name for p in runs.iterdir()]
    return run


@pytest.fixture(scope="module")
def bank(runs, run) -> dict[str, np.ndarray]:
    with np.load(runs / run / "samples" / "bank.npz") as npz:
        return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module")
def srv(runs):
    srv = start_server(runs)
    yield srv
    srv.stop()


def test_both_directions_listed_and_translated(srv, runs, run, bank):
    base = f"/api/runs/{run}"
    with srv.client() as c:
        assert c.get(base).json()["generator"]["directions"] == ["AB", "BA"]

        ab, ba = c.get(f"{base}/heldout").json(), c.get(f"{base}/heldout?direction=BA").json()
        assert ab["targets"] is False and ba["targets"] is False  # unpaired: nothing to match
        assert (ab["count"], ba["count"]) == (len(bank["source"]), len(bank["domain_b"]))
        r = c.get(f"{base}/heldout/1/input.png?direction=BA")
        assert np.array_equal(png_array(r.content), bank["domain_b"][1, 0])  # a B image
        assert c.get(f"{base}/heldout/1/target.png?direction=BA").status_code == 404

        out = {}
        for d, key in (("AB", "source"), ("BA", "domain_b")):
            r = c.post(f"{base}/heldout/1/translate?direction={d}")
            assert r.status_code == 200, r.text
            expected = gankit.load(runs / run, direction=d).translate(bank[key][1:2])
            assert np.abs(png_array(r.content).astype(int) - expected[0, 0].numpy()).max() <= 1
            out[d] = r.content
        assert out["AB"] != out["BA"]  # two generators, two inputs

        same = c.post(
            f"{base}/translate?direction=BA",
            content=c.get(f"{base}/heldout/1/input.png?direction=BA").content,
            headers={"Content-Type": "image/png"},
        )
        assert same.status_code == 200 and same.content == out["BA"]
        assert c.get(f"{base}/heldout?direction=CA").status_code == 422


def test_a_one_way_run_has_no_b_to_a(srv, runs, run, tmp_path):
    import shutil

    one_way = tmp_path / "runs"
    shutil.copytree(runs / run, one_way / run)
    shutil.rmtree(one_way / run / "generator_BA")
    other = start_server(one_way)
    try:
        with other.client() as c:
            assert c.get(f"/api/runs/{run}").json()["generator"]["directions"] == ["AB"]
            r = c.get(f"/api/runs/{run}/heldout?direction=BA")
            assert r.status_code == 404 and "no B -> A generator" in r.json()["detail"]
    finally:
        other.stop()


def test_direction_switch_in_chromium(chromium, runs, run):
    """The Translate tab of a two-way run switches to B -> A: the held-out B images appear and
    the output is G_BA's."""
    from playwright.sync_api import sync_playwright

    rendered = """([id, alt]) => {
        const img = document.querySelector(`[data-testid=${id}]`);
        return img && !img.hidden && img.alt.includes(alt) && img.complete
            && img.naturalWidth === 28;
    }"""
    server = spawn_serve(runs)
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            seen: list[str] = []
            page.on("request", lambda r: seen.append(r.url))
            page.goto(f"{server.url}/#/run/{run}/translate")
            page.wait_for_function(rendered, arg=["translate-output", "held-out input 0"])
            page.select_option('[data-testid="translate-direction"]', "BA")
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-testid=heldout-thumb] img')]"
                ".some((i) => i.src.includes('direction=BA'))"
            )
            page.locator('[data-testid="heldout-thumb"]').nth(1).click()
            page.wait_for_function(rendered, arg=["translate-output", "held-out input 1"])
            target = page.locator('[data-testid="translate-target"]')
            assert target.is_hidden() or "unpaired" in page.content()
            browser.close()
        assert any("/heldout/1/translate?direction=BA" in u for u in seen)
        assert not errors, errors
    finally:
        server.stop()
