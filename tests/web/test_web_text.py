"""A text2image run in the dashboard: the Generate tab's caption reaches the generator (two
captions draw different digits from the same noise), a sentence walk, and the refusals, against a
real server over a real tiny run."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import start_server, train
from .test_web_api import png_array

TINY = [
    "data.limit=20",
    "train.steps=2",
    "train.batch_size=8",
    "model.encoder_steps=3",
    "model.encoder_batch=16",
    "model.encoder_channels=16",
    "model.embed_dim=8",
    "model.g_channels=8",
    "model.d_channels=8",
    "model.z_dim=8",
]


@pytest.fixture(scope="module")
def t2i(tmp_path_factory):
    runs = tmp_path_factory.mktemp("t2i-runs")
    train(runs, "text2image", "digit-captions", TINY)
    (run,) = [p.name for p in runs.iterdir()]
    srv = start_server(runs)
    yield srv, f"/api/runs/{run}"
    srv.stop()


def test_generator_declares_a_text_input(t2i):
    srv, run = t2i
    with srv.client() as c:
        g = c.get(run).json()["generator"]
    assert [s["kind"] for s in g["inputs"]] == ["noise", "text"]


def test_caption_drives_the_samples(t2i):
    srv, run = t2i
    with srv.client() as c:
        a = c.post(f"{run}/generate", json={"n": 4, "text": "a thick seven leaning right"})
        b = c.post(f"{run}/generate", json={"n": 4, "text": "굵은 7"})
        a2 = c.post(f"{run}/generate", json={"n": 4, "text": "a thick seven leaning right"})
        walk = c.post(
            f"{run}/interpolate",
            json={"seed_a": 3, "seed_b": 3, "steps": 5, "rows": 2, "text": "1", "text_b": "8"},
        )
    assert a.status_code == b.status_code == walk.status_code == 200
    assert np.array_equal(png_array(a.content), png_array(a2.content))
    assert not np.array_equal(png_array(a.content), png_array(b.content))
    assert png_array(walk.content).shape[1] > png_array(walk.content).shape[0]  # 5 across, 2 down


@pytest.mark.parametrize(
    "body, message",
    [
        ({"n": 2}, "give text"),
        ({"n": 2, "text": ""}, "text is empty"),
        ({"n": 2, "text": "😀"}, "has no character the text encoder knows"),
        ({"n": 2, "text": "x" * 65}, "the limit is 64"),
    ],
)
def test_bad_captions_are_422_naming_the_field(t2i, body, message):
    srv, run = t2i
    with srv.client() as c:
        r = c.post(f"{run}/generate", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "text"] and message in detail["msg"]


def test_text_on_a_noise_only_run_is_refused(client):
    from .conftest import DIGITS

    r = client.post(f"/api/runs/{DIGITS}/generate", json={"n": 2, "text": "a thick seven"})
    assert r.status_code == 422 and "takes no text" in r.json()["detail"][0]["msg"]
