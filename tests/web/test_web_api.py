"""The dashboard's JSON API against a real server over runs this session trained."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file, save_file

from gankit.web.app import STATIC
from gankit.web.schemas import MAX_N

from .conftest import CODED, DIGITS, RING, SYNTHETIC

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_array(data: bytes) -> np.ndarray:
    assert data[:8] == PNG_MAGIC
    return np.asarray(Image.open(io.BytesIO(data)))


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def test_info(client, runs_dir):
    info = client.get("/api/info").json()
    assert info["name"] == "gankit" and info["runs_dir"] == str(runs_dir.resolve())
    assert info["max_n"] == MAX_N


def test_runs_list(client):
    runs = {r["id"]: r for r in client.get("/api/runs").json()}
    assert list(runs) == [RING, DIGITS, CODED, SYNTHETIC]
    ring, digits = runs[RING], runs[DIGITS]
    assert (ring["family"], ring["data"], ring["kind"]) == ("mlp-gan", "ring", "points")
    assert (digits["family"], digits["data"], digits["kind"]) == ("dcgan", "digits", "images")
    for r in (ring, digits):
        assert r["state"] == "finished" and r["step"] == r["total_steps"] > 0
        assert r["has_generator"] and r["samples"] > 0 and r["health"] == []
        assert {"loss/D", "loss/G", "D(x)", "D(G(z))", "acc/D"} <= set(r["latest"])
    assert runs[SYNTHETIC]["state"] == "stale"  # 'running' but not refreshed for an hour
    assert not runs[SYNTHETIC]["has_generator"]


def test_run_detail(client):
    d = client.get(f"/api/runs/{RING}").json()
    assert d["config"]["family"] == "mlp-gan" and d["config"]["train"]["steps"] == 60
    assert d["sample_steps"] == d["toy_steps"] == [20, 40, 60]
    g = d["generator"]
    assert g["kind"] == "points" and g["shape"] == [2] and g["z_dim"] == 2
    assert g["codes"] == [] and not g["conditional"] and g["step"] == 60
    d = client.get(f"/api/runs/{DIGITS}").json()
    assert d["sample_steps"] == [10, 20] and d["toy_steps"] == []
    assert d["generator"]["shape"] == [1, 8, 8] and d["generator"]["z_dim"] == 16


def test_stats_incremental(client):
    full = client.get(f"/api/runs/{RING}/stats").json()
    assert full["steps"] == [10, 20, 30, 40, 50, 60] and full["last_step"] == 60
    assert len(full["values"]["loss/D"]) == 6 and "step" not in full["values"]
    new = client.get(f"/api/runs/{RING}/stats", params={"since": 30}).json()
    assert new["steps"] == [40, 50, 60] and new["version"] == full["version"]
    assert new["values"]["loss/G"] == full["values"]["loss/G"][3:]
    none = client.get(f"/api/runs/{RING}/stats", params={"since": 60}).json()
    assert none["steps"] == [] and none["values"] == {} and none["last_step"] == 60


def test_awkward_files(client):
    """NaN/inf become null, text is not a curve, a torn last line waits, health is collected."""
    s = client.get(f"/api/runs/{SYNTHETIC}/stats").json()
    assert s["steps"] == [10, 20, 30]
    assert s["values"]["loss/D"] == [1.2, None, 0.1]
    assert s["values"]["loss/G"] == [0.8, None, 5.0]
    assert s["values"]["extra"] == [None, 3.0, None]
    assert "note" not in s["values"] and "flag" not in s["values"]
    assert s["health"] == [{"step": 30, "message": "D dominating: test warning"}]
    m = client.get(f"/api/runs/{SYNTHETIC}/metrics").json()
    assert m["steps"] == [10, 20]
    assert m["values"] == {"fid": [12.5, None], "recall": [None, 0.25]}
    run = client.get(f"/api/runs/{SYNTHETIC}").json()
    assert run["metrics"] == {"recall": 0.25} and run["health"][0]["step"] == 30
    assert run["generator"] is None and run["kind"] == "points"
    frame = client.get(f"/api/runs/{SYNTHETIC}/toy/30").json()
    assert frame["fake"] == [[0.5, 0.5]]  # the NaN point and the junk are dropped
    assert frame["surface"]["D"] == [[0.1, None], [0.7, 0.9]]


def test_metrics_absent(client):
    m = client.get(f"/api/runs/{RING}/metrics").json()
    assert m["steps"] == [] and m["last_step"] is None


def test_samples(client, runs_dir):
    assert client.get(f"/api/runs/{DIGITS}/samples").json() == {"steps": [10, 20], "toy_steps": []}
    r = client.get(f"/api/runs/{DIGITS}/samples/20.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content == (runs_dir / DIGITS / "samples" / "step_000000020.png").read_bytes()
    assert client.get(f"/api/runs/{DIGITS}/samples/15.png").status_code == 404
    assert client.get(f"/api/runs/{DIGITS}/toy/20").status_code == 404


def test_toy_frame(client):
    f = client.get(f"/api/runs/{RING}/toy/40").json()
    assert f["step"] == 40 and len(f["real"]) == len(f["fake"]) == 500
    s = f["surface"]
    assert len(s["x"]) == len(s["y"]) == 60 and len(s["D"]) == 60 and len(s["D"][0]) == 60
    assert all(0 <= v <= 1 for row in s["D"] for v in row)  # D's probability of 'real'


def test_generate_images(client):
    url = f"/api/runs/{DIGITS}/generate"
    r = client.post(url, json={"seed": 3, "n": 16})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    grid = png_array(r.content)
    assert grid.shape == (4 * 10 + 2, 4 * 10 + 2)  # 4x4 images of 8x8, 2-pixel padding
    assert client.post(url, json={"seed": 3, "n": 16}).content == r.content  # same seed
    assert client.post(url, json={"seed": 4, "n": 16}).content != r.content
    wide = png_array(client.post(url, json={"seed": 3, "n": 6, "nrow": 6}).content)
    assert wide.shape == (12, 62)
    assert png_array(client.post(url, json={"n": MAX_N}).content).shape == (162, 162)


def test_generate_points(client):
    r = client.post(f"/api/runs/{RING}/generate", json={"seed": 1, "n": 200})
    assert r.status_code == 200 and png_array(r.content).ndim == 3  # a scatter plot
    r = client.post(f"/api/runs/{RING}/interpolate", json={})
    assert r.status_code == 409 and "image" in r.json()["detail"]


def test_interpolate_starts_at_seed_a_and_ends_at_seed_b(client):
    r = client.post(
        f"/api/runs/{DIGITS}/interpolate",
        json={"seed_a": 5, "seed_b": 9, "steps": 5, "rows": 3, "spherical": True},
    )
    assert r.status_code == 200
    strip = png_array(r.content)
    assert strip.shape == (3 * 10 + 2, 5 * 10 + 2)
    for seed, col in ((5, 0), (9, 4)):
        column = png_array(
            client.post(
                f"/api/runs/{DIGITS}/generate", json={"seed": seed, "n": 3, "nrow": 1}
            ).content
        )
        assert column.shape == (32, 12)
        x0 = col * 10
        assert np.abs(strip[:, x0 : x0 + 12].astype(int) - column.astype(int)).max() <= 1
    lerp = client.post(
        f"/api/runs/{DIGITS}/interpolate",
        json={"seed_a": 5, "seed_b": 9, "steps": 5, "rows": 3, "spherical": False},
    )
    assert lerp.status_code == 200 and lerp.content != r.content


def test_latent_codes_and_labels(client):
    """Code sliders come from the generator's latent inputs other than z (InfoGAN-ready)."""
    g = client.get(f"/api/runs/{CODED}").json()["generator"]
    assert g["conditional"] and g["num_classes"] == 3 and g["z_dim"] == 4
    codes = {c["name"]: c for c in g["codes"]}
    assert codes["c_cat"]["kind"] == "categorical" and codes["c_cat"]["size"] == 3
    assert codes["c_cont"]["kind"] == "continuous" and codes["c_cont"]["size"] == 2
    url = f"/api/runs/{CODED}/generate"
    base = {"seed": 1, "n": 6}
    a = client.post(url, json={**base, "label": 1, "codes": {"c_cont": [1.0, -1.0]}})
    b = client.post(url, json={**base, "label": 1, "codes": {"c_cont": [-1.0, 1.0]}})
    c = client.post(url, json={**base, "label": 2, "codes": {"c_cat": [0, 0, 1]}})
    assert a.status_code == b.status_code == c.status_code == 200
    assert len({a.content, b.content, c.content}) == 3
    every_class = png_array(client.post(url, json=base).content)
    assert every_class.shape == (22, 32)  # conditional, no label: one row per class cycle
    for body, field in (
        ({"label": 3}, "label"),  # classes are 0..2
        ({"codes": {"c_nope": [0.0]}}, "codes"),
        ({"codes": {"c_cont": [0.0]}}, "codes"),  # two values needed
        ({"codes": {"c_cont": [0.0, 9.0]}}, "codes"),  # outside the slider range
    ):
        r = client.post(url, json={**base, **body})
        assert r.status_code == 422, body
        assert r.json()["detail"][0]["loc"] == ["body", field]
    r = client.post(f"/api/runs/{DIGITS}/generate", json={"label": 0})
    assert r.status_code == 422 and "not conditional" in r.json()["detail"][0]["msg"]
    r = client.post(f"/api/runs/{CODED}/interpolate", json={"rows": 2, "steps": 3, "label": 2})
    assert r.status_code == 200 and png_array(r.content).shape == (22, 32)


def test_no_generator_yet(client):
    r = client.post(f"/api/runs/{SYNTHETIC}/generate", json={})
    assert r.status_code == 404 and "generator" in r.json()["detail"]


def test_unknown_run(client):
    for path in ("/api/runs/99999-nope", "/api/runs/99999-nope/stats"):
        r = client.get(path)
        assert r.status_code == 404 and "99999-nope" in r.json()["detail"]


def test_server_never_writes_into_runs(client, runs_dir):
    before = snapshot(runs_dir)
    for run_id in (RING, DIGITS, CODED, SYNTHETIC):
        client.get(f"/api/runs/{run_id}")
        client.get(f"/api/runs/{run_id}/stats")
        client.get(f"/api/runs/{run_id}/metrics")
        client.post(f"/api/runs/{run_id}/generate", json={"n": 4})
        client.post(f"/api/runs/{run_id}/interpolate", json={"steps": 2})
    client.get(f"/api/runs/{DIGITS}/samples/10.png")
    assert snapshot(runs_dir) == before


def test_live_folder(server_factory, runs_dir, tmp_path):
    """New runs appear, new lines stream with ?since=, a rewritten file changes the version."""
    srv = server_factory(tmp_path)
    with srv.client() as c:
        assert c.get("/api/runs").json() == []
        run = tmp_path / "00005-live"
        shutil.copytree(runs_dir / RING, run)
        assert [r["id"] for r in c.get("/api/runs").json()] == ["00005-live"]
        first = c.get("/api/runs/00005-live/stats").json()
        with open(run / "stats.jsonl", "a") as f:
            f.write(json.dumps({"step": 70, "loss/D": 1.0}) + "\n")
        more = c.get("/api/runs/00005-live/stats", params={"since": 60}).json()
        assert more["steps"] == [70] and more["version"] == first["version"]
        tmp = run / "stats.tmp"
        tmp.write_text(json.dumps({"step": 10, "loss/D": 2.0}) + "\n")
        os.replace(tmp, run / "stats.jsonl")  # what a resume does (atomic rewrite)
        again = c.get("/api/runs/00005-live/stats").json()
        assert again["steps"] == [10] and again["version"] != first["version"]
        (tmp_path / "00006-no-config").mkdir()  # not a run: no config.json
        assert c.get("/api/runs/00006-no-config").status_code == 404
        assert [r["id"] for r in c.get("/api/runs").json()] == ["00005-live"]


def test_generator_reloads_when_weights_change(server_factory, runs_dir, tmp_path):
    shutil.copytree(runs_dir / DIGITS, tmp_path / DIGITS)
    weights = tmp_path / DIGITS / "generator" / "model.safetensors"
    srv = server_factory(tmp_path)
    with srv.client() as c:
        before = c.post(f"/api/runs/{DIGITS}/generate", json={"n": 4}).content
        tensors = {
            k: v + 0.5 if v.is_floating_point() else v for k, v in load_file(weights).items()
        }
        save_file(tensors, weights)
        later = time.time() + 5
        os.utime(weights, (later, later))
        after = c.post(f"/api/runs/{DIGITS}/generate", json={"n": 4}).content
        assert after != before


def test_page_and_static_files(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert '<script src="/static/app.js"' in r.text
    for name in ("app.js", "charts.js", "app.css", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN
    schema = client.get("/api/openapi.json").json()
    assert "/api/runs/{run_id}/generate" in schema["paths"]


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC.iterdir()))
def test_static_files_load_nothing_from_outside(name):
    """The page works offline: no CDN, no web fonts, no external URL of any kind."""
    text = (STATIC / name).read_text()
    text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert "@import" not in text and "url(" not in text


@pytest.mark.parametrize("family", ["infogan", "cgan"])
def test_real_code_and_label_families(server_factory, tmp_path, family):
    """The families that landed: InfoGAN's index + continuous codes, cGAN's class label."""
    import torch

    from gankit.data.base import DataInfo
    from gankit.generator import export_generator
    from gankit.registry import MODELS

    F = MODELS.get(family)
    cfg = F.Config(z_dim=8, g_channels=8, d_channels=8)
    info = DataInfo(name="digits", kind="images", shape=(1, 8, 8), num_classes=10)
    run = tmp_path / f"00000-{family}"
    torch.manual_seed(0)
    export_generator(run / "generator", family, cfg.model_dump(mode="json"), info,
                     F.build_generator(cfg, info), step=1)  # fmt: skip
    (run / "config.json").write_text(json.dumps({"family": family, "data": {"name": "digits"}}))
    srv = server_factory(tmp_path)
    with srv.client() as c:
        g = c.get(f"/api/runs/00000-{family}").json()["generator"]
        url = f"/api/runs/00000-{family}/generate"
        if family == "infogan":
            codes = {k["name"]: k for k in g["codes"]}
            assert codes["c_cat"]["kind"] == "categorical" and codes["c_cat"]["size"] == 10
            assert codes["c_cont"]["kind"] == "continuous" and codes["c_cont"]["size"] == 2
            three = [0.0] * 10
            three[3] = 1.0
            picks = [
                c.post(url, json={"n": 4, "codes": {"c_cat": three, "c_cont": [v, -v]}})
                for v in (-1.5, 1.5)
            ]
            assert [r.status_code for r in picks] == [200, 200]
            assert picks[0].content != picks[1].content
        else:
            assert g["conditional"] and g["num_classes"] == 10 and g["codes"] == []
            r = c.post(url, json={"n": 10, "label": 7})
            assert r.status_code == 200
            assert c.post(url, json={"n": 10, "label": 10}).status_code == 422
        r = c.post(f"/api/runs/00000-{family}/interpolate", json={"rows": 2, "steps": 4})
        assert r.status_code == 200
