"""End to end in headless Chromium: the page while a real training runs, then generation.

Uses Debian's ``chromium`` driven by Playwright for Python, with no browser download. Without them
the test fails with the install commands, unless GANKIT_SKIP_BROWSER=1 says to skip it.
Screenshots go to the test's temporary folder (or $GANKIT_SCREENSHOTS when set).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np
import pytest
from PIL import Image

from .conftest import DIGITS, TRANSLATION, child_env, gankit_cmd, spawn_serve

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE = "00002-mlp-gan-ring"


def chromium_or_fail() -> str:
    if os.environ.get("GANKIT_SKIP_BROWSER") == "1":
        pytest.skip("GANKIT_SKIP_BROWSER=1: browser test skipped on purpose")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail(
            "the dashboard's browser test needs Playwright for Python: `pip install playwright` "
            "(no `playwright install`: Debian's chromium is used). "
            "Set GANKIT_SKIP_BROWSER=1 to skip this test on purpose."
        )
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).is_file():
        pytest.fail(
            "the dashboard's browser test needs Chromium: `apt-get install -y chromium`. "
            "Set GANKIT_SKIP_BROWSER=1 to skip this test on purpose."
        )
    return exe


@pytest.fixture
def chromium() -> str:
    """Checked first, so that a missing browser fails (or skips) before any training starts."""
    return chromium_or_fail()


@pytest.fixture
def e2e_runs(chromium, runs_dir, tmp_path):
    """A folder with a finished image run and, after a moment, a live 2-D run being trained."""
    d = tmp_path / "runs"
    d.mkdir()
    shutil.copytree(runs_dir / DIGITS, d / DIGITS)
    trainer = subprocess.Popen(
        gankit_cmd(
            "train", "mlp-gan", "--data", "ring", "--steps", "3000", "--runs-dir", str(d), "-q",
            "--set", "train.log_every=10", "--set", "train.sample_every=40",
            "--set", "train.checkpoint_every=1000", "--set", "train.threads=1",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )  # fmt: skip
    stats = d / LIVE / "stats.jsonl"
    deadline = time.monotonic() + 90
    while not (stats.is_file() and stats.stat().st_size > 0):
        if trainer.poll() is not None or time.monotonic() > deadline:
            trainer.kill()
            pytest.fail(f"the training run did not start: {trainer.stderr.read()}")
        time.sleep(0.2)
    yield d
    trainer.kill()
    trainer.wait(10)


@pytest.mark.slow
def test_dashboard_in_chromium(chromium, e2e_runs, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("GANKIT_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    srv = spawn_serve(e2e_runs)
    requests: list[str] = []
    console_errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
            page.on("pageerror", lambda e: console_errors.append(f"uncaught: {e}"))

            # the runs list: both runs, the live one marked as running
            page.goto(srv.url + "/")
            page.locator(f'tr[data-run="{LIVE}"]').wait_for()
            assert page.locator("tr.run-row").count() == 2
            assert page.locator(f'tr[data-run="{LIVE}"] .badge').inner_text() == "running"

            # the live run: the step and the loss curve grow while it trains
            page.locator(f'tr[data-run="{LIVE}"] a').click()
            step = page.locator('[data-testid="run-step"]')
            step.wait_for()
            chart = page.locator('[data-testid="chart-losses"] .chart')
            page.wait_for_function(
                "() => Number(document.querySelector('[data-testid=chart-losses] .chart')"
                "?.dataset.points || 0) > 0"
            )
            step0 = int(step.get_attribute("data-step"))
            points0 = int(chart.get_attribute("data-points"))
            page.wait_for_function(
                """([s, p]) => {
                    const step = document.querySelector('[data-testid=run-step]');
                    const chart = document.querySelector('[data-testid=chart-losses] .chart');
                    return Number(step.dataset.step) > s && Number(chart.dataset.points) > p;
                }""",
                arg=[step0, points0],
                timeout=60_000,
            )
            assert page.locator('[data-testid="toy-canvas"]').is_visible()  # the 2-D view
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / "dashboard-live.png"))

            # the finished image run: generate a grid and an interpolation strip
            page.goto(f"{srv.url}/#/run/{DIGITS}/generate")
            page.get_by_label("Seed", exact=True).fill("7")
            page.locator('[data-testid="generate-btn"]').click()
            rendered = """([id, alt]) => {
                const img = document.querySelector(`[data-testid=${id}]`);
                return img && !img.hidden && img.alt.includes(alt) && img.complete
                    && img.naturalWidth > 0;
            }"""
            page.wait_for_function(rendered, arg=["generate-img", "from seed 7"])
            page.get_by_role("button", name="Interpolate").click()
            page.wait_for_function(rendered, arg=["interp-img", "from seed 1 to seed 2"])
            page.screenshot(path=str(shots / "dashboard-generate.png"))

            # compare: both runs' curves on shared charts
            page.goto(f"{srv.url}/#/compare/{DIGITS},{LIVE}")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.compare .chart')]"
                ".some(c => Number(c.dataset.points) > 0)"
            )
            browser.close()
    finally:
        srv.stop()

    assert console_errors == []
    outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob")]
    outside = [u for u in outside if urlparse(u).hostname != "127.0.0.1"]
    assert outside == [], "requests to other hosts"
    assert any("/generate" in u for u in requests) and any("/stats" in u for u in requests)


@pytest.mark.slow
def test_translate_tab_in_chromium(chromium, translation_runs, tmp_path):
    """A translation run gets a Translate tab: held-out picks with their targets, an upload, and
    the output as the server makes it, downloadable."""
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("GANKIT_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with np.load(translation_runs / TRANSLATION / "samples" / "bank.npz") as bank:
        edges = bank["source"][5, 0]  # (28, 28)
    upload = tmp_path / "my-edges.png"
    big = np.repeat(np.repeat(edges, 2, 0), 2, 1)  # (56, 56): the server resizes it
    Image.fromarray(big[..., None].repeat(3, 2)).save(upload)  # RGB: and converts it
    srv = spawn_serve(translation_runs)
    requests: list[str] = []
    console_errors: list[str] = []
    rendered = """([id, alt, width]) => {
        const img = document.querySelector(`[data-testid=${id}]`);
        return img && !img.hidden && img.alt.includes(alt) && img.complete
            && img.naturalWidth === width;
    }"""
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
            page.on("pageerror", lambda e: console_errors.append(f"uncaught: {e}"))

            page.goto(f"{srv.url}/#/run/{TRANSLATION}/translate")
            page.get_by_role("tab", name="Translate").wait_for()
            assert page.get_by_role("tab", name="Generate").count() == 0

            # the held-out inputs: the first is translated straight away, another on a click
            thumbs = page.locator('[data-testid="heldout-thumb"]')
            thumbs.first.wait_for()
            page.wait_for_function(rendered, arg=["translate-output", "held-out input 0", 28])
            thumbs.nth(2).click()
            page.wait_for_function(rendered, arg=["translate-output", "held-out input 2", 28])
            page.wait_for_function(rendered, arg=["translate-target", "held-out input 2", 28])

            # an upload: shown as given, translated at the size G takes, no target
            page.locator('[data-testid="translate-upload"]').set_input_files(str(upload))
            page.wait_for_function(rendered, arg=["translate-output", "my-edges.png", 28])
            page.wait_for_function(rendered, arg=["translate-input", "my-edges.png", 56])
            assert page.locator('[data-testid="translate-target"]').is_hidden()
            assert "resized 56x56 input to 28x28" in page.get_by_role("status").last.inner_text()
            page.screenshot(path=str(shots / "dashboard-translate.png"))

            link = page.locator('[data-testid="translate-download"]')
            assert link.get_attribute("download") == f"{TRANSLATION}-my-edges-translated.png"
            with page.expect_download() as download:
                link.click()
            downloaded = Path(download.value.path()).read_bytes()
            browser.close()
        r = httpx.post(
            f"{srv.url}/api/runs/{TRANSLATION}/translate",
            content=upload.read_bytes(),
            headers={"Content-Type": "image/png"},
            timeout=60,
        )
        assert r.status_code == 200 and downloaded == r.content  # what the page showed
    finally:
        srv.stop()

    assert console_errors == []
    outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob")]
    assert [u for u in outside if urlparse(u).hostname != "127.0.0.1"] == []
    assert any(u.endswith(f"/api/runs/{TRANSLATION}/translate") for u in requests)
