"""A tag-gan run in the dashboard: the generator lists its tags and groups for the Generate tab's
check-boxes, the ticked tags reach the generator (same seed, other tags: other images; same
request: the same images), interpolation strips keep them, and bad tags are 422s naming the
field, against a real server over a real tiny run."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.data.characters import TAGS

from .conftest import start_server, train
from .test_web_api import png_array

TINY = [
    "data.limit=40",
    "train.steps=2",
    "train.batch_size=8",
    "model.g_channels=8",
    "model.d_channels=8",
    "model.z_dim=8",
]


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    runs = tmp_path_factory.mktemp("tag-runs")
    train(runs, "tag-gan", "characters", TINY)
    (run,) = [p.name for p in runs.iterdir()]
    srv = start_server(runs)
    yield srv, f"/api/runs/{run}"
    srv.stop()


def test_generator_lists_its_tags_and_groups(tagged):
    srv, run = tagged
    with srv.client() as c:
        g = c.get(run).json()["generator"]
        js = c.get("/static/app.js").text
    assert [s["kind"] for s in g["inputs"]] == ["noise", "tags"]
    assert g["tags"] == list(TAGS) and g["tag_groups"][0][0] == "black hair"
    assert "tagControl" in js and "tags: this.tagsValue()" in js  # the check-boxes are sent


def test_ticked_tags_drive_the_samples(tagged):
    srv, run = tagged
    with srv.client() as c:
        a = c.post(f"{run}/generate", json={"n": 6, "seed": 2, "tags": ["blue hair", "hat"]})
        a2 = c.post(f"{run}/generate", json={"n": 6, "seed": 2, "tags": ["blue hair", "hat"]})
        b = c.post(f"{run}/generate", json={"n": 6, "seed": 2, "tags": ["pink hair"]})
        drawn = c.post(f"{run}/generate", json={"n": 6, "seed": 2})
        walk = c.post(
            f"{run}/interpolate",
            json={"seed_a": 1, "seed_b": 2, "steps": 4, "rows": 2, "tags": ["glasses"]},
        )
    assert {r.status_code for r in (a, a2, b, drawn, walk)} == {200}
    assert np.array_equal(png_array(a.content), png_array(a2.content))
    assert not np.array_equal(png_array(a.content), png_array(b.content))
    assert not np.array_equal(png_array(a.content), png_array(drawn.content))


@pytest.mark.parametrize(
    "tags, message",
    [
        (["purple hair"], "unknown tag 'purple hair'; allowed: black hair"),
        (["blue hair", "red hair"], "conflict"),
    ],
)
def test_bad_tags_are_422_naming_the_field(tagged, tags, message):
    srv, run = tagged
    with srv.client() as c:
        r = c.post(f"{run}/generate", json={"n": 2, "tags": tags})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "tags"] and message in detail["msg"]


def test_tags_on_a_noise_only_run_are_refused(client):
    from .conftest import DIGITS

    r = client.post(f"/api/runs/{DIGITS}/generate", json={"n": 2, "tags": ["blue hair"]})
    assert r.status_code == 422 and "takes no tags" in r.json()["detail"][0]["msg"]
