"""``gankit upscale``: any size in, exactly ×scale out; colour stays colour and grayscale keeps one
channel whichever kind the run trained on; files, folders and .npz; tiles change nothing; bad
input is one ``error:`` line, exit 2, nothing written. ``gankit translate`` takes LR .npz too."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from tests.conftest import TINY_DCGAN, gankit

from gankit.cli.main import main

TINY_SR = [
    "--steps",
    "2",
    "--batch-size",
    "4",
    "--image-size",
    "16",
    "--set",
    "model.g_channels=8",
    "--set",
    "model.blocks=1",
    "--set",
    "model.d_channels=8",
    "--set",
    "model.receptive_field=16",
    "--set",
    "model.warmup_steps=1",
    "-q",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A colour srgan run trained on a folder of RGB images, a grey one on the textures, and a
    noise-only run."""
    root = tmp_path_factory.mktemp("upscale")
    folder = root / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    for args in (
        ["srgan", "--data", str(folder), "--name", "colour", *TINY_SR],
        ["srgan", "--data", "textures", "--name", "grey", *TINY_SR],
        [*TINY_DCGAN, "--steps", "1", "--name", "noise", "-q"],
    ):
        _cli("train", *args, "--runs-dir", str(root / "runs"))
    runs = root / "runs"
    return {name: runs / f"{i:05d}-{name}" for i, name in enumerate(("colour", "grey", "noise"))}


def _cli(*args: str) -> None:
    """The real command line, in this process."""
    with pytest.raises(SystemExit) as e:
        main(list(args))
    assert e.value.code == 0


def test_odd_rgb_image_is_exactly_x4_in_a_subprocess(runs, tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)).save(tmp_path / "s.png")
    out = tmp_path / "big.png"
    res = gankit(
        "upscale", str(runs["colour"]), "--input", str(tmp_path / "s.png"), "--out", str(out)
    )
    assert res.returncode == 0, res.stderr
    assert "x4" in res.stdout
    img = Image.open(out)
    assert img.size == (148, 92) and img.mode == "RGB"
    # a grey run upscales each colour channel
    _cli("upscale", str(runs["grey"]), "-i", str(tmp_path / "s.png"), "-o", str(out))
    img = Image.open(out)
    assert img.size == (148, 92) and img.mode == "RGB"


def test_grayscale_keeps_one_channel_and_tiles_change_nothing(runs, tmp_path):
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 256, (30, 41), dtype=np.uint8), "L").save(tmp_path / "g.png")
    for run in ("colour", "grey"):
        whole, tiled = tmp_path / f"{run}-whole.png", tmp_path / f"{run}-tiled.png"
        _cli("upscale", str(runs[run]), "-i", str(tmp_path / "g.png"), "-o", str(whole))
        _cli("upscale", str(runs[run]), "-i", str(tmp_path / "g.png"), "-o", str(tiled))
        _cli(
            "upscale",
            str(runs[run]),
            "-i",
            str(tmp_path / "g.png"),
            "-o",
            str(tiled),
            "--tile",
            "8",
        )
        a, b = Image.open(whole), Image.open(tiled)
        assert a.mode == "L" and a.size == (164, 120)
        diff = np.abs(np.asarray(a, int) - np.asarray(b, int))
        assert diff.max() <= 1 and diff.mean() < 0.01  # float rounding at most


def test_folder_and_npz_and_translate_npz(runs, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 256, (6, 5), dtype=np.uint8), "L").save(folder / "b.png")
    _cli("upscale", str(runs["colour"]), "-i", str(folder), "-o", str(tmp_path / "out"))
    a, b = Image.open(tmp_path / "out" / "a.png"), Image.open(tmp_path / "out" / "b.png")
    assert (a.size, a.mode, b.size, b.mode) == ((52, 36), "RGB", (20, 24), "L")

    lr = rng.integers(0, 256, (3, 3, 4, 4), dtype=np.uint8)  # the colour run's own 4x4 inputs
    np.savez(tmp_path / "lr.npz", images=lr)
    _cli(
        "upscale",
        str(runs["colour"]),
        "-i",
        str(tmp_path / "lr.npz"),
        "-o",
        str(tmp_path / "u.npz"),
    )
    _cli(
        "translate",
        str(runs["colour"]),
        "-i",
        str(tmp_path / "lr.npz"),
        "-o",
        str(tmp_path / "t.npz"),
    )
    with np.load(tmp_path / "u.npz") as u, np.load(tmp_path / "t.npz") as t:
        assert u["images"].shape == (3, 3, 16, 16) and u["images"].dtype == np.uint8
        assert np.array_equal(u["images"], t["images"])  # the same generator either way
    # translate keeps another size too (fully convolutional: no resizing to the trained 4x4)
    np.savez(tmp_path / "lr7.npz", images=lr[:, :, :3, :3].repeat(2, 2).repeat(2, 3)[..., :7, :5])
    _cli(
        "translate",
        str(runs["colour"]),
        "-i",
        str(tmp_path / "lr7.npz"),
        "-o",
        str(tmp_path / "t7.npz"),
    )
    with np.load(tmp_path / "t7.npz") as t:
        assert t["images"].shape == (3, 3, 24, 20)


@pytest.mark.parametrize(
    "case, needle",
    [
        ("noise", "not a super-resolution run"),
        ("missing", "does not exist"),
        ("badnpz", "must be uint8 (N, C, H, W)"),
        ("corrupt", "cannot read image"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(runs, tmp_path, case, needle, capsys):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 3, 8, 8), np.float32))
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    run, inp = {
        "noise": ("noise", tmp_path / "ok.png"),
        "missing": ("colour", tmp_path / "nope.png"),
        "badnpz": ("colour", tmp_path / "bad.npz"),
        "corrupt": ("colour", corrupt),
    }[case]
    before = set(tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as e:
        main(["upscale", str(runs[run]), "-i", str(inp), "-o", str(tmp_path / "out.png")])
    assert e.value.code == 2
    lines = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], lines
    assert set(tmp_path.rglob("*")) == before
