"""``gankit export RUN --onnx``: every family with a generator exports a model that onnxruntime
runs at any batch size with PyTorch's result (to 1e-4), inputs named as the generator declares
them; a run without a generator, or an output that cannot be written, is one line, exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx  # the test extra installs onnx and onnxruntime: a missing one fails, never skips
import onnxruntime as ort
import pytest
import torch

import gankit
from gankit.cli.main import main
from gankit.presets import resolve
from gankit.train.trainer import Trainer, write_config

# Tiny runs (the configurations of tests/test_families.py); "dcgan-clusters" is the default
# dcgan preset's self-conditioning, "inpaint-coarse" the photo preset's push-pull start.
CASES = {
    "mlp-gan": ("mlp-gan", {"name": "ring", "limit": 256}, {"hidden": [16, 16]}),
    "mlp-gan-clusters": (
        "mlp-gan",
        {"name": "digits", "limit": 60},
        {"hidden": [16], "clusters": 3},
    ),
    "dcgan": ("dcgan", {"name": "digits"}, {"g_channels": 8, "d_channels": 8, "clusters": 0}),
    "dcgan-clusters": (
        "dcgan",
        {"name": "digits", "limit": 60},
        {"g_channels": 8, "d_channels": 8, "clusters": 4},
    ),
    "dcgan-code": (
        "dcgan",
        {"name": "digits"},
        {"g_channels": 8, "d_channels": 8, "clusters": 0, "n_components": 3},
    ),
    "cgan": ("cgan", {"name": "digits"}, {"g_channels": 8, "d_channels": 8}),
    "infogan": ("infogan", {"name": "digits"}, {"g_channels": 8, "d_channels": 8}),
    "autoencoder": ("autoencoder", {"name": "digits"}, {"g_channels": 8, "e_channels": 8}),
    "vae": ("vae", {"name": "digits"}, {"g_channels": 8, "e_channels": 8}),
    "pix2pix": (
        "pix2pix",
        {"name": "edges2digits", "limit": 100},
        {"g_channels": 8, "d_channels": 8, "depth": 3},
    ),
    "cyclegan": (
        "cyclegan",
        {"name": "digits2mnist", "limit": 20},
        {"g_channels": 4, "n_blocks": 1, "d_channels": 8, "receptive_field": 16},
    ),
    "srgan": (
        "srgan",
        {"name": "digits", "image_size": 8, "limit": 60},
        {"g_channels": 8, "blocks": 1, "d_channels": 8, "receptive_field": 16},
    ),
    "inpaint": (
        "inpaint",
        {"name": "mnist5k", "limit": 60, "masks": "boxes,strokes", "hole": 12},
        {"g_channels": 8, "d_channels": 8},
    ),
    "inpaint-coarse": (
        "inpaint",
        {"name": "mnist5k", "limit": 60, "masks": "boxes,strokes", "hole": 12},
        {"g_channels": 8, "d_channels": 8, "coarse": True},
    ),
    "text2image": (
        "text2image",
        {"name": "digit-captions", "limit": 20},
        {"g_channels": 8, "d_channels": 8, "encoder_steps": 3, "encoder_channels": 16},
    ),
    "video": (
        "video",
        {"name": "moving-mnist", "limit": 16, "image_size": 32},
        {"g_channels": 8, "d_channels": 8, "scales": 2},
    ),
}
CAPTIONS = ["a thick seven leaning right", "굵은 3", "1", "a small thin zero, upright"]


def _train(case: str, run_dir: Path, steps: int = 1) -> Path:
    family, data, model = CASES[case]
    train = {"steps": steps, "batch_size": 8, "device": "cpu", "log_every": 1}
    train.update(checkpoint_every=1, sample_every=100, grid_size=4)
    cfg = resolve(family=family, flags={"data": data, "train": train}, overrides=[{"model": model}])
    run_dir.mkdir(parents=True)
    write_config(run_dir, cfg)
    Trainer(cfg, run_dir=run_dir, progress=False).fit()
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every case trained once for one step (the module's tests share them)."""
    root = tmp_path_factory.mktemp("onnx-runs")
    torch.manual_seed(0)
    return {case: _train(case, root / case) for case in CASES}


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def _inputs(G, n: int, seed: int) -> dict[str, torch.Tensor]:
    """Inputs for ``n`` samples, as the PyTorch generator takes them, made here from the
    declaration (not by the exporter's own example inputs)."""
    rng = np.random.default_rng(seed)
    out = dict(G.latent(n, seed))
    for s in G.inputs:
        if s.name in out:
            continue
        if s.kind == "label":
            out[s.name] = torch.from_numpy(rng.integers(0, s.categories, n))
        elif s.kind in ("image", "frames"):
            out[s.name] = torch.from_numpy(rng.uniform(-1, 1, (n, *s.shape)).astype(np.float32))
        elif s.kind == "mask":  # one big box (a deep push-pull pyramid) or scattered pixels
            _, h, w = s.shape
            hole = rng.random((n, 1, h, w)) < 0.2
            hole[0, :, 2 : h - 3, 1 : w - 6] = True
            out[s.name] = torch.from_numpy(np.where(hole, 1.0, -1.0).astype(np.float32))
        elif s.kind == "text":  # captions of different lengths: the graph must not fix one
            out[s.name] = G.text_tokens([CAPTIONS[(seed + i) % len(CAPTIONS)] for i in range(n)])
        else:
            raise AssertionError(f"no test inputs for kind {s.kind!r}")
    return out


def _run_onnx(path: Path, inputs: dict[str, torch.Tensor]) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == list(inputs)
    return sess.run(None, {k: v.numpy() for k, v in inputs.items()})[0]


EXPORTS = [(case, "AB") for case in CASES] + [("cyclegan", "BA")]


@pytest.mark.parametrize(("case", "direction"), EXPORTS, ids=[f"{c}-{d}" for c, d in EXPORTS])
def test_export_matches_pytorch_at_batch_1_and_3(runs, case, direction, tmp_path, capsys):
    out = tmp_path / "model.onnx"
    assert _cli("export", str(runs[case]), "--onnx", str(out), "--direction", direction) == 0
    printed = capsys.readouterr().out
    G = gankit.load(runs[case], direction=direction)
    assert f"wrote {out}" in printed and f"  inputs: {G.inputs[0].name} " in printed
    assert "(batch, " in printed and "onnxruntime matches PyTorch" in printed
    model = onnx.load(str(out))
    names = [s.name for s in G.inputs]
    assert [i.name for i in model.graph.input] == names
    for i in model.graph.input:  # the batch axis is named (dynamic), not a number
        assert i.type.tensor_type.shape.dim[0].dim_param == "batch"
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["gankit.family"] == CASES[case][0] and meta["gankit.direction"] == direction
    for n in (1, 3):
        inputs = _inputs(G, n, seed=n + 10)
        want = G(**inputs).numpy()
        got = _run_onnx(out, inputs)
        assert got.shape == want.shape and got.shape[0] == n
        assert np.abs(got - want).max() <= 1e-4, f"{case}: batch {n} differs"


def test_cyclegan_directions_are_different_generators(runs, tmp_path):
    for d in ("AB", "BA"):
        assert _cli("export", str(runs["cyclegan"]), "--onnx", str(tmp_path / f"{d}.onnx"),
                    "--direction", d) == 0  # fmt: skip
    G = gankit.load(runs["cyclegan"])
    x = _inputs(G, 2, 0)
    ab, ba = _run_onnx(tmp_path / "AB.onnx", x), _run_onnx(tmp_path / "BA.onnx", x)
    assert np.abs(ab - ba).max() > 1e-3


def test_super_resolution_takes_any_input_size(runs, tmp_path):
    """srgan is fully convolutional: height and width are dynamic in the ONNX model too."""
    out = tmp_path / "sr.onnx"
    assert _cli("export", str(runs["srgan"]), "--onnx", str(out)) == 0
    G = gankit.load(runs["srgan"])
    rng = np.random.default_rng(0)
    for shape in ((2, 1, 5, 7), (1, 1, 12, 9)):
        x = {"source": torch.from_numpy(rng.uniform(-1, 1, shape).astype(np.float32))}
        want = G(**x).numpy()
        assert want.shape[2:] == (4 * shape[2], 4 * shape[3])
        assert np.abs(_run_onnx(out, x) - want).max() <= 1e-4


def test_library_export_from_a_loaded_generator(runs, tmp_path):
    G = gankit.load(runs["text2image"])
    result = gankit.export_onnx(G, tmp_path / "t2i.onnx")
    assert result.max_abs_diff is not None and result.max_abs_diff <= 1e-4
    assert [d["name"] for d in result.inputs] == ["z", "text"]
    assert result.inputs[1]["dtype"] == "int64" and result.inputs[1]["shape"][1] == "length"
    # the host tokenises: ids padded to the full length or to the longest caption, same images
    tokens = G.text_tokens(["a thick seven leaning right", "굵은 3"])
    z = G.latent(2, 0)["z"]
    full = _run_onnx(tmp_path / "t2i.onnx", {"z": z, "text": tokens})
    short = _run_onnx(tmp_path / "t2i.onnx", {"z": z, "text": tokens[:, :40]})
    assert np.abs(full - short).max() <= 1e-5
    assert np.abs(full - G(z=z, text=tokens).numpy()).max() <= 1e-4


def _one_error_line(capsys) -> str:
    lines = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    return lines[0]


def test_run_without_a_generator_is_one_line(runs, tmp_path, capsys):
    started = tmp_path / "started"
    started.mkdir()
    (started / "config.json").write_text((runs["dcgan"] / "config.json").read_text())
    out = tmp_path / "m.onnx"
    assert _cli("export", str(started), "--onnx", str(out)) == 2
    assert "has no exported generator yet" in _one_error_line(capsys)
    (tmp_path / "plain").mkdir()
    assert _cli("export", str(tmp_path / "plain"), "--onnx", str(out)) == 2
    assert "not a gankit run directory" in _one_error_line(capsys)
    assert _cli("export", str(runs["dcgan"]), "--onnx", str(out), "--direction", "BA") == 2
    assert "no B -> A generator" in _one_error_line(capsys)
    assert not out.exists()


def test_unwritable_output_is_one_line_and_leaves_the_old_file(runs, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    (tmp_path / "folder.onnx").mkdir()
    cases = {
        str(blocker / "m.onnx"): "does not exist",
        str(tmp_path / "folder.onnx"): "is a folder",
        str(tmp_path / "m.txt"): "must end in .onnx",
    }
    for out, needle in cases.items():
        assert _cli("export", str(runs["dcgan"]), "--onnx", out) == 2
        assert needle in _one_error_line(capsys)
    old = tmp_path / "old.onnx"
    old.write_bytes(b"the previous model")
    before = sorted(tmp_path.iterdir())
    assert _cli("export", str(runs["dcgan"]), "--onnx", str(old), "--opset", "9") == 2
    assert "opset 9" in _one_error_line(capsys)
    assert old.read_bytes() == b"the previous model" and sorted(tmp_path.iterdir()) == before


def test_missing_onnx_package_names_the_extra(runs, tmp_path):
    """Without the onnx package (blocked in a real subprocess), one line says what to install."""
    import subprocess

    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "from gankit.cli.main import main\n"
        f"main(['export', {str(runs['dcgan'])!r}, '--onnx', {str(tmp_path / 'm.onnx')!r}])\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert p.returncode == 2 and len(lines) == 1, p.stderr
    assert "pip install 'gankit[export]'" in lines[0]
    assert not (tmp_path / "m.onnx").exists()
