"""``gankit predict``: an .npz, a GIF and a folder of frames in; an .npz or a GIF out, from the
exported generator alone; a video shorter than the context or of another size is one ``error:``
line, exit 2, and nothing written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image
from tests.conftest import gankit

import gankit as gk

TINY_VIDEO = [
    "video",
    "--data",
    "moving-mnist",
    "--steps",
    "2",
    "--batch-size",
    "4",
    "--set",
    "data.limit=8",
    "--set",
    "data.image_size=32",
    "--set",
    "model.scales=2",
    "--set",
    "model.g_channels=8",
    "--set",
    "model.d_channels=8",
    "-q",
]


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    """A tiny trained video run's exported generator/ folder, copied away from its run."""
    root = tmp_path_factory.mktemp("predict")
    res = gankit("train", *TINY_VIDEO, cwd=root)
    assert res.returncode == 0, res.stderr
    run = next((root / "runs").iterdir())
    alone = root / "alone"
    shutil.copytree(run / "generator", alone)
    shutil.rmtree(root / "runs")  # nothing of the run is left but the export
    return alone


def _videos(n=2, t=6, size=32):
    x = np.zeros((n, t, 1, size, size), np.uint8)
    for i in range(n):
        for k in range(t):
            c = 2 + 2 * k + i
            x[i, k, 0, 10:18, c : c + 8] = 255  # a square moving right
    return x


def _one_error_line(res) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    return lines[0]


def test_npz_in_npz_out(generator, tmp_path):
    np.savez(tmp_path / "seq.npz", frames=_videos())
    res = gankit(
        "predict", str(generator), "--input", str(tmp_path / "seq.npz"), "--frames", "5",
        "--out", str(tmp_path / "rollout.npz"), cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = np.load(tmp_path / "rollout.npz")["frames"]
    assert out.shape == (2, 5, 1, 32, 32) and out.dtype == np.uint8
    # the CLI's rollout is the library's: the last 4 frames in, predictions fed back
    want = gk.load(generator).predict(_videos()[:, -4:], 5).numpy()
    np.testing.assert_array_equal(out, want)


def test_gif_and_frame_folder_in_gif_out(generator, tmp_path):
    frames = [Image.fromarray(f[0]) for f in _videos(1)[0]]
    frames[0].save(tmp_path / "seq.gif", save_all=True, append_images=frames[1:], loop=0)
    folder = tmp_path / "frames"
    folder.mkdir()
    for k, f in enumerate(frames):
        f.save(folder / f"{k:02d}.png")
    outs = []
    for src in ("seq.gif", "frames"):
        out = tmp_path / f"{src.split('.')[0]}_rollout.gif"
        res = gankit(
            "predict", str(generator), "-i", str(tmp_path / src), "-n", "3", "-o", str(out),
            cwd=tmp_path,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        with Image.open(out) as img:
            assert img.n_frames == 4 + 3  # the context, then the predictions
            img.seek(6)
            outs.append(np.asarray(img.convert("L")))
    np.testing.assert_array_equal(outs[0], outs[1])  # a GIF and its frames predict the same
    want = gk.load(generator).predict(_videos(1)[0], 3).numpy()[0, -1, 0]
    np.testing.assert_array_equal(outs[0], want)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (_videos(t=3), "3 frame(s); this generator needs at least 4"),
        (_videos(size=64), "64x64 (C x H x W); this generator was trained on 1x32x32"),
        (np.zeros((2, 6, 32, 32), np.float32), "uint8 (N, T, C, H, W)"),
    ],
)
def test_short_or_wrong_size_video_is_one_error(generator, tmp_path, frames, message):
    np.savez(tmp_path / "bad.npz", frames=frames)
    out = tmp_path / "rollout.npz"
    res = gankit(
        "predict", str(generator), "-i", str(tmp_path / "bad.npz"), "-o", str(out), cwd=tmp_path
    )
    assert message in _one_error_line(res)
    assert not out.exists()


def test_bad_out_suffix_and_missing_input(generator, tmp_path):
    res = gankit("predict", str(generator), "-i", "nope.npz", "-o", "x.npz", cwd=tmp_path)
    assert "does not exist" in _one_error_line(res)
    np.savez(tmp_path / "seq.npz", frames=_videos())
    res = gankit("predict", str(generator), "-i", "seq.npz", "-o", "x.png", cwd=tmp_path)
    assert ".npz or .gif" in _one_error_line(res)
