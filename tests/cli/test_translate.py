"""``gankit translate``: an image file, a folder and an .npz in; the same out; every bad input is
one ``error:`` line, exit 2, and nothing written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from tests.conftest import TINY_DCGAN, gankit

TINY_PIX2PIX = [
    "pix2pix",
    "--data",
    "edges2digits",
    "--steps",
    "3",
    "--batch-size",
    "8",
    "--set",
    "data.limit=100",
    "--set",
    "model.g_channels=8",
    "--set",
    "model.d_channels=8",
    "--set",
    "model.depth=3",
    "-q",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished tiny pix2pix run and a finished noise-only run, in one runs/ folder."""
    root = tmp_path_factory.mktemp("translate")
    for args in (TINY_PIX2PIX, [*TINY_DCGAN, "--steps", "2", "-q"]):
        res = gankit("train", *args, cwd=root)
        assert res.returncode == 0, res.stderr
    return root


def _one_error_line(res) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    return lines[0]


def _edges(n: int, size: int = 28) -> np.ndarray:
    x = np.zeros((n, 1, size, size), np.uint8)
    x[:, :, size // 4 : 3 * size // 4, size // 2] = 255  # a vertical stroke's edge
    return x


def test_file_folder_and_npz(runs, tmp_path):
    Image.fromarray(_edges(1)[0, 0]).save(tmp_path / "one.png")
    res = gankit(
        "translate",
        "0",
        "--input",
        str(tmp_path / "one.png"),
        "--out",
        str(tmp_path / "out.png"),
        "--grid",
        str(tmp_path / "pairs.png"),
        cwd=runs,
    )
    assert res.returncode == 0, res.stderr
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert Image.open(tmp_path / "pairs.png").size[0] > 56

    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(("a", "b", "c")):
        Image.fromarray(_edges(1, size=56)[0, 0] // (i + 1)).save(folder / f"{name}.png")
    res = gankit(
        "translate", "0", "--input", str(folder), "--out", str(tmp_path / "outs"), cwd=runs
    )
    assert res.returncode == 0, res.stderr
    assert "resized 56x56 input to 28x28" in res.stdout
    assert sorted(p.name for p in (tmp_path / "outs").iterdir()) == ["a.png", "b.png", "c.png"]

    np.savez(tmp_path / "in.npz", images=_edges(4))
    res = gankit(
        "translate",
        "0",
        "--input",
        str(tmp_path / "in.npz"),
        "--out",
        str(tmp_path / "o.npz"),
        cwd=runs,
    )
    assert res.returncode == 0, res.stderr
    with np.load(tmp_path / "o.npz") as z:
        assert z["images"].shape == (4, 1, 28, 28) and z["images"].dtype == np.uint8
        # the same input gives the same output whichever way it arrives
        assert np.array_equal(z["images"][0, 0], out)


def _bad_inputs(tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    colour = tmp_path / "colour.png"
    Image.new("RGB", (28, 28), (255, 0, 0)).save(colour)
    np.savez(tmp_path / "rgb.npz", images=np.zeros((2, 3, 28, 28), np.uint8))
    (tmp_path / "empty").mkdir()
    return {
        "no such run": (["7"], "--input", str(colour), "run '7' not found"),
        "noise-only run": (["1"], "--input", str(colour), "takes no input image"),
        "corrupt image": (["0"], "--input", str(corrupt), "cannot read image"),
        "colour for grayscale": (["0"], "--input", str(colour), "colour image"),
        "wrong channels": (["0"], "--input", str(tmp_path / "rgb.npz"), "3 channel(s)"),
        "empty folder": (["0"], "--input", str(tmp_path / "empty"), "no images in folder"),
        "missing input": (["0"], "--input", str(tmp_path / "nope.png"), "does not exist"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no such run",
        "noise-only run",
        "corrupt image",
        "colour for grayscale",
        "wrong channels",
        "empty folder",
        "missing input",
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(runs, tmp_path, case):
    run, flag, value, needle = _bad_inputs(tmp_path)[case]
    before = set(tmp_path.rglob("*"))
    res = gankit(
        "translate",
        *run,
        flag,
        value,
        "--out",
        str(tmp_path / "out"),
        "--grid",
        str(tmp_path / "g.png"),
        cwd=runs,
    )
    assert needle in _one_error_line(res)
    assert set(tmp_path.rglob("*")) == before  # no output file, folder or grid


def test_several_outputs_refuse_one_image_file(runs, tmp_path):
    np.savez(tmp_path / "in.npz", images=_edges(3))
    res = gankit(
        "translate",
        "0",
        "--input",
        str(tmp_path / "in.npz"),
        "--out",
        str(tmp_path / "o.png"),
        cwd=runs,
    )
    assert "3 outputs" in _one_error_line(res)
    assert not (tmp_path / "o.png").exists()
