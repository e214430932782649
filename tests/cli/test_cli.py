"""The command line: bad input is one clear line, exit 2, nothing written; the happy paths work."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tests.conftest import TINY_DCGAN

import gankit


def _one_error_line(res) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def _bad_folder(tmp_path, kind):
    d = tmp_path / "imgs"
    if kind == "missing":
        return d
    d.mkdir()
    if kind == "empty":
        return d
    Image.new("RGB", (10, 10)).save(d / "ok.png")
    if kind == "zero":
        (d / "zero.png").write_bytes(b"")
    else:
        (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return d


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "nosuchgan"], "unknown family 'nosuchgan'"),
        (["train", "--data", "nosuchdata"], "unknown dataset 'nosuchdata'"),
        (["train", "--set", "train.nosuchkey=1"], "unknown config key 'train.nosuchkey'"),
        (["train", "--set", "model.nosuch=1"], "unknown config key 'model.nosuch'"),
        (["train", "--lr", "-0.001"], "model.lr.G"),
        (["train", "--preset", "nope"], "unknown preset 'nope'"),
        (["train", "--set", "steps"], "not KEY=VALUE"),
        (["train", "--config", "missing.json"], "missing.json"),
        (["train", "--image-size", "30"], "image size 30"),
        (["train", "--precision", "fp8"], "train.precision"),
        (
            ["train", "--steps", "10", "--set", "train.lr_decay_start=10"],
            "train.lr_decay_start=10 must be below train.steps=10",
        ),
        (
            ["train", "--set", "train.lr_decay_start=1.5"],
            "train.lr_decay_start=1.5 is neither a step (an integer) nor a fraction",
        ),
        (["resume", "nosuchrun"], "run 'nosuchrun' not found"),
        (["sample", "nosuchrun"], "run 'nosuchrun' not found"),
        (["list", "nonsense"], "unknown list 'nonsense'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(run_gankit, tmp_path, args, needle):
    res = run_gankit(*args, "-q") if args[0] == "train" else run_gankit(*args)
    assert needle in _one_error_line(res)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("kind", ["missing", "empty", "zero", "broken"])
def test_bad_image_folder(run_gankit, tmp_path, kind):
    folder = _bad_folder(tmp_path, kind)
    line = _one_error_line(run_gankit("train", "dcgan", "--data", str(folder), "-q"))
    expect = {"missing": "imgs", "empty": "imgs", "zero": "zero.png", "broken": "broken.jpg"}
    assert expect[kind] in line
    assert not (tmp_path / "runs").exists()


def test_dry_run_prints_config_and_writes_nothing(run_gankit, tmp_path):
    res = run_gankit("train", "mlp-gan", "--data", "grid", "--steps", "7", "--dry-run")
    assert res.returncode == 0, res.stderr
    cfg = json.loads(res.stdout[res.stdout.index("{") :])
    assert cfg["family"] == "mlp-gan" and cfg["data"]["name"] == "grid"
    assert cfg["train"]["steps"] == 7 and "hidden" in cfg["model"]
    assert not (tmp_path / "runs").exists()


def test_toy_data_takes_the_preset_that_meets_the_bars(run_gankit):
    res = run_gankit("train", "--data", "grid", "--steps", "300", "--dry-run")
    assert res.returncode == 0, res.stderr
    cfg = json.loads(res.stdout[res.stdout.index("{") :])
    assert cfg["preset"] == "selfcond-grid" and cfg["model"]["clusters"] == 25
    assert cfg["train"]["steps"] == 300  # the decay, a fraction of the steps, follows --steps
    res = run_gankit("train", "mlp-gan", "--data", "grid", "--dry-run")
    assert json.loads(res.stdout[res.stdout.index("{") :])["preset"] == "mlp-gan-grid"
    res = run_gankit("train", "--data", "ring", "--dry-run")
    cfg = json.loads(res.stdout[res.stdout.index("{") :])
    assert cfg["preset"] == "selfcond-ring" and cfg["model"]["clusters"] == 8


def test_config_file_and_overrides(run_gankit, tmp_path):
    (tmp_path / "c.toml").write_text(
        'family = "mlp-gan"\n[data]\nname = "ring"\n[train]\nsteps = 9\n'
    )
    res = run_gankit("train", "--config", "c.toml", "--set", "train.steps=11", "--dry-run")
    cfg = json.loads(res.stdout[res.stdout.index("{") :])
    assert cfg["family"] == "mlp-gan" and cfg["train"]["steps"] == 11


def test_train_sample_list_load(run_gankit, tmp_path):
    res = run_gankit("train", *TINY_DCGAN, "--steps", "6", "-q", "--name", "tiny")
    assert res.returncode == 0, res.stderr
    run_dir = next((tmp_path / "runs").glob("*-tiny"))
    # A short summary on screen; the full config only in config.json (and --dry-run).
    assert f"run directory: {run_dir}" in res.stdout
    assert "dcgan on digits, preset " in res.stdout
    assert "6 steps, batch 16, device cpu" in res.stdout
    assert "{" not in res.stdout and json.loads((run_dir / "config.json").read_text())["model"]
    assert json.loads((run_dir / "summary.json").read_text())["steps"] == 6
    for f in ("config.json", "stats.jsonl", "status.json", "generator/model.safetensors"):
        assert (run_dir / f).is_file(), f
    assert list((run_dir / "samples").glob("*.png")) and list((run_dir / "tb").iterdir())
    rec = json.loads((run_dir / "stats.jsonl").read_text().splitlines()[-1])
    for key in ("loss/D", "loss/G", "D(x)", "D(G(z))", "acc/D", "img_per_s"):
        assert key in rec
    # Sampling needs no dataset and is reproducible by seed.
    res = run_gankit("sample", run_dir.name, "--n", "10", "--out", "a.npz", "--grid", "a.png")
    assert res.returncode == 0, res.stderr
    res = run_gankit("sample", str(run_dir), "--n", "10", "--out", "b.npz")
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert a["images"].dtype == np.uint8 and a["images"].shape == (10, 1, 8, 8)
    assert np.array_equal(a["images"], b["images"])
    assert Image.open(tmp_path / "a.png").size[0] > 8
    res = run_gankit("list")
    assert res.returncode == 0 and run_dir.name in res.stdout and "finished" in res.stdout
    G = gankit.load(run_dir)
    assert G.sample(3, seed=1).shape == (3, 1, 8, 8)
    assert np.array_equal(G.sample(3, seed=1).numpy(), G.sample(3, seed=1).numpy())


def test_toy_run_writes_scatter_and_points(run_gankit, tmp_path):
    res = run_gankit(
        "train",
        "mlp-gan",
        "--data",
        "ring",
        "--steps",
        "20",
        "-q",
        "--set",
        "train.sample_every=10",
        "--set",
        "train.log_every=10",
    )
    assert res.returncode == 0, res.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    doc = json.loads((run_dir / "samples" / "step_000000020.json").read_text())
    assert len(doc["fake"]) == 500 and len(doc["surface"]["D"]) == 60
    res = run_gankit("sample", str(run_dir), "--n", "2500", "--out", "pts.npz")
    pts = np.load(tmp_path / "pts.npz")["points"]
    assert pts.shape == (2500, 2) and pts.dtype == np.float32


def test_sample_bad_output(run_gankit, tmp_path):
    run_gankit("train", *TINY_DCGAN, "--steps", "2", "-q")
    run_dir = next((tmp_path / "runs").iterdir())
    line = _one_error_line(run_gankit("sample", str(run_dir), "--out", "x.txt"))
    assert "x.txt" in line
    line = _one_error_line(run_gankit("sample", str(run_dir), "--out", "nodir/x.npz"))
    assert "nodir" in line
    line = _one_error_line(run_gankit("sample", str(run_dir), "--label", "3"))
    assert "not conditional" in line
