"""``gankit inpaint``: an image and its mask, folders, an .npz (and ``gankit translate`` on the same
.npz); only the hole changes; every bad input is one ``error:`` line, exit 2, nothing written.

The first test runs the real command in a subprocess; the others call the same entry point
(``gankit.cli.main.main``) in this process, to keep the file fast."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from tests.conftest import TINY_DCGAN, gankit

TINY_INPAINT = [
    "inpaint",
    "--data",
    "mnist5k",
    "--steps",
    "2",
    "--batch-size",
    "8",
    "--set",
    "data.limit=100",
    "--set",
    "model.g_channels=8",
    "--set",
    "model.d_channels=8",
    "-q",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished tiny inpaint run (0) and a noise-only run (1), in one runs/ folder."""
    root = tmp_path_factory.mktemp("inpaint")
    for args in (TINY_INPAINT, [*TINY_DCGAN, "--steps", "2", "-q"]):
        assert _main("train", *args, "--runs-dir", str(root / "runs")) == 0
    return root


def _main(*args: str) -> int:
    from gankit.cli.main import main

    try:
        main(list(args))
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture
def cli(runs, capsys):
    """``cli(*args)`` -> (exit code, stdout, stderr) of ``gankit ARGS`` on the runs/ folder."""

    def run(*args: str) -> SimpleNamespace:
        capsys.readouterr()
        code = _main(*args, "--runs-dir", str(runs / "runs"))
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

    return run


def _one_error_line(res) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    return lines[0]


def _image_and_mask(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (h, w), dtype=np.uint8)
    m = np.zeros((h, w), np.uint8)
    m[h // 4 : h // 2, w // 3 : w // 3 + 7] = 255
    return x, m


def test_image_and_mask_only_the_hole_changes(runs, tmp_path):
    x, m = _image_and_mask(33, 40)  # not the trained 28x28: filled at its own size
    Image.fromarray(x).save(tmp_path / "photo.png")
    Image.fromarray(m).save(tmp_path / "mask.png")
    res = gankit(
        "inpaint", "0", "--input", str(tmp_path / "photo.png"), "--mask",
        str(tmp_path / "mask.png"), "--out", str(tmp_path / "filled.png"),
        "--grid", str(tmp_path / "pairs.png"), cwd=runs,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "filled 1 image(s)" in res.stdout
    out = np.asarray(Image.open(tmp_path / "filled.png"))
    assert out.shape == x.shape and out.dtype == np.uint8
    hole = m > 127
    assert np.array_equal(out[~hole], x[~hole])
    assert (out[hole] != x[hole]).mean() > 0.5
    assert Image.open(tmp_path / "pairs.png").size[0] > 80


def test_folders_matched_by_name_and_one_mask_for_all(cli, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "masks").mkdir()
    images = {}
    for i, name in enumerate(("a", "b")):
        x, m = _image_and_mask(28, 28 + 4 * i, seed=i)
        images[name] = (x, m)
        Image.fromarray(x).save(tmp_path / "in" / f"{name}.png")
        Image.fromarray(m).save(tmp_path / "masks" / f"{name}.png")
    res = cli(
        "inpaint", "0", "--input", str(tmp_path / "in"), "--mask", str(tmp_path / "masks"),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    for name, (x, m) in images.items():
        out = np.asarray(Image.open(tmp_path / "out" / f"{name}.png"))
        assert out.shape == x.shape and np.array_equal(out[m == 0], x[m == 0])

    (tmp_path / "same").mkdir()
    x, m = _image_and_mask(28, 28)
    for name in ("c", "d"):
        Image.fromarray(x).save(tmp_path / "same" / f"{name}.png")
    Image.fromarray(m).save(tmp_path / "one_mask.png")
    res = cli(
        "inpaint", "0", "--input", str(tmp_path / "same"), "--mask", str(tmp_path / "one_mask.png"),
        "--out", str(tmp_path / "out2"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["c.png", "d.png"]

    (tmp_path / "masks" / "b.png").unlink()
    res = cli(
        "inpaint", "0", "--input", str(tmp_path / "in"), "--mask", str(tmp_path / "masks"),
        "--out", str(tmp_path / "out3"),
    )  # fmt: skip
    assert "no mask in" in _one_error_line(res) and "for b" in res.stderr
    assert not (tmp_path / "out3").exists()


def test_npz_through_inpaint_and_translate(cli, tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 1, 28, 28), dtype=np.uint8)
    mask = np.zeros((5, 1, 28, 28), np.uint8)
    mask[:, :, 7:21, 7:21] = 255
    np.savez(tmp_path / "holes.npz", images=images, mask=mask)
    res = cli(
        "inpaint", "0", "--input", str(tmp_path / "holes.npz"), "--out", str(tmp_path / "a.npz"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = cli(
        "translate", "0", "--input", str(tmp_path / "holes.npz"), "--out",
        str(tmp_path / "b.npz"), "--grid", str(tmp_path / "pairs.png"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    a, b = np.load(tmp_path / "a.npz")["images"], np.load(tmp_path / "b.npz")["images"]
    assert a.shape == images.shape and a.dtype == np.uint8 and np.array_equal(a, b)
    assert np.array_equal(a[mask == 0], images[mask == 0])
    assert (tmp_path / "pairs.png").is_file()


def test_bad_inputs_are_one_clear_error(cli, tmp_path):
    x, m = _image_and_mask(33, 40)
    Image.fromarray(x).save(tmp_path / "photo.png")
    Image.fromarray(m[:30]).save(tmp_path / "short.png")
    out = tmp_path / "filled.png"

    def run(*args):
        return cli(*args, "--out", str(out))

    photo = str(tmp_path / "photo.png")
    line = _one_error_line(
        run("inpaint", "0", "--input", photo, "--mask", str(tmp_path / "short.png"))
    )
    assert "is 40x30 but image" in line and "is 40x33" in line and "size of its image" in line
    assert "--mask is required" in _one_error_line(run("inpaint", "0", "--input", photo))
    assert "fills holes" in _one_error_line(run("translate", "0", "--input", photo))
    assert "takes no mask" in _one_error_line(
        run("inpaint", "1", "--input", photo, "--mask", photo)
    )
    np.savez(tmp_path / "nomask.npz", images=np.zeros((2, 1, 28, 28), np.uint8))
    line = _one_error_line(run("inpaint", "0", "--input", str(tmp_path / "nomask.npz")))
    assert "no 'mask' array" in line
    np.savez(
        tmp_path / "badmask.npz",
        images=np.zeros((2, 1, 28, 28), np.uint8),
        mask=np.zeros((2, 1, 20, 28), np.uint8),
    )
    line = _one_error_line(run("translate", "0", "--input", str(tmp_path / "badmask.npz")))
    assert "'mask'" in line and "(2, 1, 28, 28)" in line
    colour = np.zeros((33, 40, 3), np.uint8)
    colour[..., 0] = 255
    Image.fromarray(colour).save(tmp_path / "red.png")
    line = _one_error_line(
        run("inpaint", "0", "--input", str(tmp_path / "red.png"), "--mask", photo)
    )
    assert "colour image" in line
    assert not out.exists()
