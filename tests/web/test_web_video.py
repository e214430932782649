"""The dashboard's samples view on a video run: each sample step is an animated PNG of
context | predicted | true frames for fixed held-out videos, served as any sample grid is."""

from __future__ import annotations

import io

from PIL import Image
from tests.web.conftest import train


def test_video_samples_are_animations(tmp_path, server_factory):
    runs = tmp_path / "runs"
    runs.mkdir()
    train(
        runs,
        "video",
        "moving-mnist",
        [
            "data.limit=8",
            "data.image_size=32",
            "model.scales=2",
            "model.g_channels=8",
            "model.d_channels=8",
            "train.steps=4",
            "train.batch_size=4",
            "train.sample_every=2",
            "train.grid_size=3",
        ],
    )
    (run,) = [p.name for p in runs.iterdir()]
    srv = server_factory(runs)
    with srv.client() as c:
        assert c.get(f"/api/runs/{run}/samples").json() == {"steps": [2, 4], "toy_steps": []}
        r = c.get(f"/api/runs/{run}/samples/4.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(r.content)) as img:
            assert img.n_frames == 4 + 10  # the 4 context frames, then a 10-frame rollout
            img.seek(0)
            first = img.convert("L").copy()
            img.seek(img.n_frames - 1)
            last = img.convert("L").copy()
        # a row a video (context | predicted | true), three videos
        assert first.size == last.size == (3 * (32 + 2) + 2, 3 * (32 + 2) + 2)
        assert first.tobytes() != last.tobytes()
