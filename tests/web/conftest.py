"""Dashboard test fixtures: tiny real runs (trained once per session) and live servers.

Runs, in one session folder:
- ``00000-mlp-gan-ring``: 60 steps on the 8-Gaussian ring (2-D points, D's surface, samples JSON);
- ``00001-dcgan-digits``: 20 steps of a narrow DCGAN on the 8x8 digits (image grids);
- ``00002-coded-test``: an exported generator of a test-only family with a class label and two
  latent codes (categorical and continuous), standing in for cGAN/InfoGAN;
- ``00003-synthetic``: hand-written files with the awkward cases (NaN, a torn last line, health
  warnings, metrics, a stale 'running' status, a 2-D frame with NaN points).

In a second folder (``translation_runs``), ``00000-pix2pix-edges2digits``: a 4-step pix2pix run,
trained by the real ``gankit train`` command.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import torch
from torch import nn

from gankit.web.app import create_app
from gankit.web.server import bind, make_server

RING = "00000-mlp-gan-ring"
DIGITS = "00001-dcgan-digits"
CODED = "00002-coded-test"
SYNTHETIC = "00003-synthetic"
CODED_FAMILY = "web-test-coded"
TRANSLATION = "00000-pix2pix-edges2digits"


def train(runs_dir: Path, family: str, data: str, overrides: list[str]) -> None:
    from gankit.config import parse_override
    from gankit.presets import resolve
    from gankit.train.session import train_run as run

    cfg = resolve(
        family=family,
        flags={"data": {"name": data, "path": None}},
        overrides=[parse_override(s) for s in ["train.threads=1", *overrides]],
    )
    run(cfg, runs_dir, progress=False)


# -- a test-only family: conditional, with an InfoGAN-style categorical and continuous code ------
class CodedGenerator(nn.Module):
    def __init__(self, z_dim: int, classes: int) -> None:
        super().__init__()
        self.classes = classes
        self.net = nn.Sequential(nn.Linear(z_dim + 3 + 2 + classes, 64), nn.Tanh())

    def forward(self, z, c_cat, c_cont, label):
        onehot = nn.functional.one_hot(label, self.classes).float()
        x = torch.cat([z, c_cat, c_cont, onehot], 1)
        return self.net(x).view(-1, 1, 8, 8)  # (B, 1, 8, 8)


def register_coded_family() -> str:
    from gankit.models.base import Family, Input, ModelConfig
    from gankit.registry import MODELS

    name = CODED_FAMILY
    if name in MODELS:
        return name

    class CodedConfig(ModelConfig):
        z_dim: int = 4

    class Coded(Family):
        Config = CodedConfig
        conditional = True

        @classmethod
        def build_generator(cls, cfg, info):
            return CodedGenerator(cfg.z_dim, info.num_classes)

        @classmethod
        def inputs(cls, cfg, info):
            return [
                Input("z", "noise", (cfg.z_dim,)),
                Input("c_cat", "code", categories=3),  # drawn as one-hot rows (n, 3)
                Input("c_cont", "code", (2,), low=-1.0, high=1.0),
                Input("label", "label", categories=info.num_classes),
            ]

        @classmethod
        def latent(cls, cfg, info, n, generator=None):
            cat = torch.randint(0, 3, (n,), generator=generator)
            return {
                "z": torch.randn(n, cfg.z_dim, generator=generator),
                "c_cat": nn.functional.one_hot(cat, 3).float(),
                "c_cont": torch.rand(n, 2, generator=generator) * 2 - 1,
            }

    Coded.name = name
    MODELS.register(name)(Coded)
    return name


def make_coded_run(runs_dir: Path) -> None:
    from gankit.data.base import DataInfo
    from gankit.generator import export_generator

    family = register_coded_family()
    run_dir = runs_dir / CODED
    run_dir.mkdir()
    info = DataInfo(name="tiny", kind="images", shape=(1, 8, 8), num_classes=3)
    torch.manual_seed(0)
    G = CodedGenerator(4, 3)
    export_generator(run_dir / "generator", family, {"z_dim": 4}, info, G, step=5)
    (run_dir / "config.json").write_text(
        json.dumps({"family": family, "data": {"name": "tiny"}, "model": {}, "train": {"steps": 5}})
    )
    (run_dir / "status.json").write_text(
        json.dumps({"state": "finished", "updated": time.time(), "step": 5, "total_steps": 5})
    )


def make_synthetic_run(runs_dir: Path) -> None:
    run_dir = runs_dir / SYNTHETIC
    (run_dir / "samples").mkdir(parents=True)
    (run_dir / "config.json").write_text(
        json.dumps({"family": "mlp-gan", "data": {"name": "ring"}, "train": {"steps": 1000}})
    )
    old = time.time() - 3600  # 'running', but not refreshed for an hour: the process died
    (run_dir / "status.json").write_text(
        json.dumps({"state": "running", "updated": old, "step": 30, "total_steps": 1000})
    )
    lines = [
        {"step": 10, "loss/D": 1.2, "loss/G": 0.8, "note": "text is not a curve", "flag": True},
        {"step": 20, "loss/D": math.nan, "loss/G": math.inf, "extra": 3},
        {"step": 30, "loss/D": 0.1, "loss/G": 5.0, "health": ["D dominating: test warning"]},
    ]
    text = "".join(json.dumps(r, allow_nan=True) + "\n" for r in lines)
    (run_dir / "stats.jsonl").write_text(text + '{"step": 40, "loss/D"')  # torn last line
    metrics = [
        {"step": 10, "time": 1.7e9, "fid": 12.5, "better": {"fid": "lower"}, "results": []},
        {"step": 20, "name": "recall", "value": 0.25, "metric": "precision-recall"},
        {"no_step": 1},
    ]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in metrics))
    frame = {
        "step": 30,
        "real": [[0.0, 1.0], [1.0, 0.0]],
        "fake": [[0.5, 0.5], [math.nan, 1.0], "junk"],
        "surface": {"x": [0.0, 1.0], "y": [0.0, 1.0], "D": [[0.1, math.nan], [0.7, 0.9]]},
    }
    (run_dir / "samples" / "step_000000030.json").write_text(json.dumps(frame, allow_nan=True))


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    """The session's runs: trained once, read by every dashboard test, never written by them."""
    d = tmp_path_factory.mktemp("web-runs")
    train(
        d,
        "mlp-gan",
        "ring",
        [
            "train.steps=60",
            "train.log_every=10",
            "train.sample_every=20",
            "train.checkpoint_every=20",
        ],
    )
    train(
        d,
        "dcgan",
        "digits",
        [
            "train.steps=20",
            "train.batch_size=16",
            "train.log_every=5",
            "train.sample_every=10",
            "model.g_channels=8",
            "model.d_channels=8",
            "model.z_dim=16",
        ],
    )
    make_coded_run(d)
    make_synthetic_run(d)
    assert sorted(p.name for p in d.iterdir()) == [RING, DIGITS, CODED, SYNTHETIC]
    yield d
    from gankit.registry import MODELS

    MODELS.unregister(CODED_FAMILY)  # leave the registry as the session found it


@pytest.fixture(scope="session")
def translation_runs(tmp_path_factory) -> Path:
    """A folder with one small real translation run: pix2pix from edges to 28x28 digits, 4 steps
    (``samples/bank.npz`` holds its held-out edge maps and their digits)."""
    d = tmp_path_factory.mktemp("translation-runs")
    done = subprocess.run(
        gankit_cmd(
            "train", "pix2pix", "--data", "edges2digits", "--steps", "4", "-q",
            "--set", "train.sample_every=2", "--set", "train.threads=1", "--runs-dir", str(d),
        ),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (d / TRANSLATION / "samples" / "bank.npz").is_file()
    return d


@dataclass
class LiveServer:
    url: str
    port: int
    app: object
    server: object
    thread: threading.Thread

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kw)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_server(runs_dir: Path, **kw) -> LiveServer:
    """A real uvicorn server on 127.0.0.1 and a free port, in a thread of this process."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(runs_dir, host="127.0.0.1", port=port, **kw)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", port, app, server, thread)


@pytest.fixture(scope="session")
def live(runs_dir):
    srv = start_server(runs_dir)
    yield srv
    srv.stop()


@pytest.fixture
def client(live):
    with live.client() as c:
        yield c


@pytest.fixture
def server_factory():
    """Start extra servers (over other folders) that stop at the end of the test."""
    started: list[LiveServer] = []

    def start(runs_dir: Path, **kw) -> LiveServer:
        srv = start_server(runs_dir, **kw)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


def gankit_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "gankit", *args]


def child_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@dataclass
class ServeProcess:
    proc: subprocess.Popen
    url: str
    output: list[str]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def spawn_serve(runs_dir: Path, *args: str, timeout: float = 60) -> ServeProcess:
    """``gankit serve RUNS_DIR --port 0 ARGS`` in a subprocess; waits for its 'serving URL' line."""
    proc = subprocess.Popen(
        gankit_cmd("serve", str(runs_dir), "--port", "0", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**child_env(), "COLUMNS": "200"},
    )
    output: list[str] = []
    found: list[str] = []

    def read():
        for line in proc.stdout:
            output.append(line)
            m = re.search(r"^serving (http://\S+?)/?$", line.strip())
            if m and not found:
                found.append(m.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("gankit serve did not start:\n" + "".join(output))
        time.sleep(0.05)
    return ServeProcess(proc, found[0], output)
