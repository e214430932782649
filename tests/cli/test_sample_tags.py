"""``gankit sample --tags``: a tag-gan generator loaded from its exported folder draws one grid row
per request with the requested tags set; an unknown tag lists the allowed ones, two tags of one
group say so, ``--tags`` on a generator without tags is refused: one ``error:`` line, exit 2,
nothing written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image
from tests.cli.test_sample_text import run_cli
from tests.conftest import TINY_DCGAN

from gankit.data.characters import HAIR_COLOURS, TAGS

TINY_TAGS = [
    *("tag-gan", "--data", "characters", "--steps", "2", "--batch-size", "8"),
    *("--set", "data.limit=60"),
    *("--set", "model.g_channels=8", "--set", "model.d_channels=8", "--set", "model.z_dim=8"),
    "-q",
]


@pytest.fixture(scope="module")
def generators(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample-tags")
    out = {}
    for name, args in (("tags", TINY_TAGS), ("dcgan", [*TINY_DCGAN, "--steps", "2", "-q"])):
        code = run_cli("train", *args, "--name", name, "--runs-dir", str(root / "runs"))
        assert code == 0
        run = next((root / "runs").glob(f"*-{name}"))
        shutil.copytree(run / "generator", root / f"{name}-generator")
        out[name] = root / f"{name}-generator"
    return out


def test_sample_tags_sets_the_requested_tags(generators, tmp_path):
    code = run_cli(
        "sample",
        str(generators["tags"]),
        *("--tags", "blue hair, glasses, smile", "--tags", "Pink Hair"),
        *("--n", "12", "--seed", "5"),
        *("--out", str(tmp_path / "s.npz"), "--grid", str(tmp_path / "g.png")),
    )
    assert code == 0
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (24, 3, 32, 32) and list(f["tag_names"]) == list(TAGS)
        tags, index = f["tags"], f["request_index"]
        assert list(f["requests"]) == ["blue hair, glasses, smile", "Pink Hair"]
    col = {t: i for i, t in enumerate(TAGS)}
    first, second = tags[index == 0], tags[index == 1]
    assert (first[:, [col["blue hair"], col["glasses"], col["smile"]]] == 1).all()
    assert (first[:, [col[f"{c} hair"] for c in HAIR_COLOURS]].sum(1) == 1).all()
    assert (second[:, col["pink hair"]] == 1).all() and (second[:, col["blue hair"]] == 0).all()
    assert 0 < first[:, col["hat"]].sum() < 12  # not asked for: drawn, some with and some without
    w, h = Image.open(tmp_path / "g.png").size
    assert w > h  # 12 across, one row per request


@pytest.mark.parametrize(
    "gen, tags, message",
    [
        ("tags", "purple hair", "unknown tag 'purple hair'; allowed: " + ", ".join(TAGS)),
        ("tags", "blue hair, red hair", "tags 'red hair' and 'blue hair' conflict"),
        ("dcgan", "blue hair", "takes none"),
    ],
)
def test_bad_tags_are_one_clear_line(generators, tmp_path, capsys, gen, tags, message):
    out = tmp_path / "x.npz"
    code = run_cli("sample", str(generators[gen]), "--tags", tags, "--out", str(out))
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), err
    assert message in lines[0]
    assert not out.exists()
