"""``gankit synth``: a cgan run writes one class folder per class, atomically; an unconditional
run is refused with one line. An image run with held-out images shows its samples beside their
nearest training images, reports its near-copy share, and ``gankit eval`` measures memorisation
in pixels and in a feature space."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tests.conftest import TINY_DCGAN

TINY = ["--batch-size", "16", *("--set", "model.g_channels=8"), *("--set", "model.d_channels=8")]


def run_cli(*args: str) -> int:
    from gankit.cli.main import main

    try:
        main(list(args))
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny cgan run and a tiny dcgan run on the 8x8 digits, and a tiny faces run."""
    root = tmp_path_factory.mktemp("synth") / "runs"
    out = {}
    for name, args in (
        ("cgan", ["cgan", "--data", "digits", *TINY, "--set", "model.z_dim=8"]),
        ("dcgan", TINY_DCGAN),
        ("faces", ["--data", "faces", *TINY, "--set", "model.z_dim=8"]),
    ):
        code = run_cli(
            "train", *args, "--steps", "2", "-q", "--name", name, "--runs-dir", str(root)
        )
        assert code == 0
        out[name] = next(root.glob(f"*-{name}"))
    return out


def test_synth_writes_a_folder_per_class(runs, tmp_path, capsys):
    out = tmp_path / "synthetic"
    assert (
        run_cli("synth", str(runs["cgan"]), "--n", "25", "--out", str(out), "--batch-size", "7")
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [str(k) for k in range(10)]
    counts = [len(list((out / str(k)).glob("*.png"))) for k in range(10)]
    assert counts == [3] * 5 + [2] * 5 and sum(counts) == 25
    img = np.asarray(Image.open(out / "3" / "000003.png"))
    assert img.shape == (8, 8) and img.dtype == np.uint8
    assert "wrote 25 images" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic"]  # no temporary folder left
    # the same seed gives the same images; an existing folder is refused
    again = tmp_path / "again"
    assert (
        run_cli("synth", str(runs["cgan"]), "--n", "25", "--out", str(again), "--batch-size", "25")
        == 0
    )
    assert (out / "3" / "000003.png").read_bytes() == (again / "3" / "000003.png").read_bytes()
    assert run_cli("synth", str(runs["cgan"]), "--n", "5", "--out", str(out)) == 2
    assert "already exists" in capsys.readouterr().err


def test_synth_refuses_an_unconditional_run(runs, tmp_path, capsys):
    out = tmp_path / "synthetic"
    assert run_cli("synth", str(runs["dcgan"]), "--n", "5", "--out", str(out)) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "needs a conditional run" in err[0] and "unconditional" in err[0]
    assert not out.exists() and not list(tmp_path.iterdir())


def test_faces_run_shows_nearest_faces_and_eval_measures_memorisation(runs, capsys):
    run = runs["faces"]
    report = json.loads((run / "memorization.json").read_text())
    assert report["n_train"] == 75 and report["n_heldout"] == 25
    assert 0.0 <= report["copies_pixels"] <= 1.0 and report["feature_space"].startswith("HOG")
    grid = Image.open(run / "nearest.png")
    assert grid.size[0] > 2 * 32 and grid.size[1] > 32
    capsys.readouterr()
    assert run_cli("eval", str(run), "--n", "60") == 0
    rows = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["results"]
    by = {r["name"]: r for r in rows}
    assert by["copies"]["passport"]["reference"] == "holdout:faces n=25"
    assert by["copies-features"]["passport"]["extractor"] == "hog"
    assert by["copies-features"]["value"] is not None


def test_eval_without_held_out_images_uses_leave_one_out(runs, capsys):
    assert run_cli("eval", str(runs["dcgan"]), "--n", "50") == 0
    rows = json.loads((runs["dcgan"] / "metrics.jsonl").read_text().splitlines()[-1])["results"]
    by = {r["name"]: r for r in rows}
    assert by["copies"]["passport"]["params"]["baseline"] == "leave-one-out training images"
    assert by["copies-features"]["value"] is not None


def test_synth_of_a_tag_run_writes_labels_csv(tmp_path, capsys):
    """A tag-conditioned run: ``images/`` and ``labels.csv`` with one 0/1 column per tag, one
    hair colour per row (an exclusive group), each row's image written."""
    import csv

    import gankit

    root = tmp_path / "runs"
    args = ["tag-gan", "--data", "characters", "--set", "data.limit=40", *TINY]
    assert (
        run_cli("train", *args, "--steps", "2", "-q", "--name", "tags", "--runs-dir", str(root))
        == 0
    )
    run = next(root.glob("*-tags"))
    out = tmp_path / "synthetic"
    assert run_cli("synth", str(run), "--n", "12", "--out", str(out), "--batch-size", "5") == 0
    rows = list(csv.DictReader((out / "labels.csv").open()))
    G = gankit.load(run)
    assert len(rows) == 12 and list(rows[0]) == ["file", *G.tags]
    hair = G.tag_groups[0]
    for row in rows:
        assert row["file"].startswith("images/") and (out / row["file"]).is_file()
        assert set(row[t] for t in G.tags) <= {"0", "1"}
        assert sum(int(row[t]) for t in hair) == 1
