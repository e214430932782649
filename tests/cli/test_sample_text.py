"""``gankit sample --text``: a text2image generator loaded from its exported folder alone draws
one grid row per caption; every bad caption, or ``--text`` on a generator without text, is one
``error:`` line, exit 2, and nothing written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image
from tests.conftest import TINY_DCGAN, gankit

TINY_T2I = [
    "text2image",
    "--data",
    "digit-captions",
    "--steps",
    "2",
    "--batch-size",
    "8",
    *("--set", "data.limit=20"),
    *("--set", "model.encoder_steps=3"),
    *("--set", "model.encoder_batch=16"),
    *("--set", "model.encoder_channels=16"),
    *("--set", "model.embed_dim=8"),
    *("--set", "model.g_channels=8"),
    *("--set", "model.d_channels=8"),
    *("--set", "model.z_dim=8"),
    "-q",
]


def run_cli(*args: str) -> int:
    """The ``gankit`` command in this process (its exit code); output goes to capsys."""
    from gankit.cli.main import main

    try:
        main(list(args))
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture(scope="module")
def generators(tmp_path_factory):
    """The exported generator folders of a tiny text2image run and a tiny DCGAN run, copied out
    of their (then deleted) run directories: nothing but config.json and model.safetensors."""
    root = tmp_path_factory.mktemp("sample-text")
    out = {}
    for name, args in (("t2i", TINY_T2I), ("dcgan", [*TINY_DCGAN, "--steps", "2", "-q"])):
        code = run_cli("train", *args, "--name", name, "--runs-dir", str(root / "runs"))
        assert code == 0
        run = next((root / "runs").glob(f"*-{name}"))
        shutil.copytree(run / "generator", root / f"{name}-generator")
        shutil.rmtree(run)
        out[name] = root / f"{name}-generator"
    assert sorted(p.name for p in out["t2i"].iterdir()) == ["config.json", "model.safetensors"]
    return out


def test_sample_text_from_the_exported_folder_alone(generators, tmp_path):
    captions = tmp_path / "captions.txt"
    captions.write_text("small 3\n\n오른쪽으로 기운 얇은 3\n", encoding="utf-8")
    res = gankit(
        "sample",
        str(generators["t2i"]),
        "--text",
        "a thick seven leaning right",
        "--text",
        "굵은 7",
        "--text-file",
        str(captions),
        "--n",
        "16",
        "--grid",
        str(tmp_path / "g.png"),
        "--out",
        str(tmp_path / "s.npz"),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (64, 1, 28, 28) and f["images"].dtype == np.uint8
        assert list(f["texts"]) == [
            "a thick seven leaning right",
            "굵은 7",
            "small 3",
            "오른쪽으로 기운 얇은 3",
        ]
        assert f["text_index"].tolist() == [i for i in range(4) for _ in range(16)]
        images = f["images"]
    w, h = Image.open(tmp_path / "g.png").size
    assert w > h  # 16 across, one row per caption
    again = run_cli(
        "sample",
        str(generators["t2i"]),
        "-t",
        "굵은 7",
        "--n",
        "16",
        "--out",
        str(tmp_path / "t.npz"),
    )
    assert again == 0
    with np.load(tmp_path / "t.npz") as f:  # same seed, same caption: the same samples
        np.testing.assert_array_equal(f["images"], images[16:32])


def test_interpolate_between_two_captions(generators, tmp_path):
    code = run_cli(
        "sample",
        str(generators["t2i"]),
        *("--text", "thin 1", "--text", "굵은 8"),
        *("--interpolate", "6", "--n", "3"),
        *("--out", str(tmp_path / "walk.npz"), "--grid", str(tmp_path / "walk.png")),
    )
    assert code == 0
    with np.load(tmp_path / "walk.npz") as f:
        assert f["images"].shape == (18, 1, 28, 28)
    assert (tmp_path / "walk.png").is_file()


@pytest.mark.parametrize(
    "gen, args, message",
    [
        ("t2i", ["--text", "  "], "text is empty"),
        ("t2i", ["--text", "😀 漢字"], "has no character the text encoder knows"),
        ("t2i", ["--text", "a thick seven " * 5], "characters long; the limit is 64"),
        ("t2i", [], "give --text"),
        ("t2i", ["--text", "7", "--interpolate", "4"], "walks between two captions; 1 given"),
        ("dcgan", ["--text", "a thick seven"], "takes no text"),
    ],
)
def test_bad_text_is_one_clear_line(generators, tmp_path, capsys, gen, args, message):
    out = tmp_path / "x.npz"
    code = run_cli("sample", str(generators[gen]), *args, "--out", str(out))
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), err
    assert message in lines[0]
    assert not out.exists()


def test_train_on_a_captioned_folder_then_sample(tmp_path, capsys):
    folder = tmp_path / "captioned_images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "captions.jsonl").write_text(
        "".join(f'{{"file": "{i}.png", "text": "noise number {i}"}}\n' for i in range(4)),
        encoding="utf-8",
    )
    (folder / "4.txt").write_text("밝은 잡음\n", encoding="utf-8")
    (folder / "5.txt").write_text("dark noise\n", encoding="utf-8")
    code = run_cli(
        *("train", *TINY_T2I[:1], "--data", str(folder)),
        *TINY_T2I[3:],
        *("--set", "data.image_size=16", "--runs-dir", str(tmp_path / "runs")),
    )
    assert code == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert "--text 'A CAPTION'" in capsys.readouterr().out  # what to run next
    import gankit

    G = gankit.load(run)
    assert G.info.name == "captioned" and G.meta["data"]["shape"] == [1, 16, 16]
    assert G.sample(2, seed=0, text=["dark noise"]).shape == (2, 1, 16, 16)
