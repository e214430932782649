"""Every kind of generator input a family can declare works end to end, whatever the family:
build, train a few steps, checkpoint, resume bit-exactly, export, load, and use the exported
generator as its declaration says (sample from noise, or translate new input images)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import gankit
from gankit.models.base import FROM_DATA
from gankit.presets import resolve
from gankit.registry import MODELS
from gankit.train.trainer import Trainer, write_config

# One small configuration per input kind; each declares the kind named first.
CASES = {
    "noise": ("dcgan", "digits", {"g_channels": 8, "d_channels": 8, "clusters": 0}),
    "label": ("cgan", "digits", {"g_channels": 8, "d_channels": 8}),
    "code": ("infogan", "digits", {"g_channels": 8, "d_channels": 8}),
    "image": ("pix2pix", "edges2digits", {"g_channels": 8, "d_channels": 8, "depth": 3}),
    # the family's preset draws the holes (data.masks)
    "mask": ("inpaint", "mnist5k", {"g_channels": 8, "d_channels": 8}),
    "text": (
        "text2image",
        "digit-captions",
        {"g_channels": 8, "d_channels": 8, "encoder_steps": 3, "encoder_channels": 16},
    ),
    "frames": ("video", "moving-mnist", {"g_channels": 8, "d_channels": 8, "scales": 2}),
    "tags": ("tag-gan", "characters", {"g_channels": 8, "d_channels": 8}),
}


def _trainer(kind: str, run_dir: Path | None, steps: int) -> Trainer:
    family, data, model = CASES[kind]
    cfg = resolve(
        family=family,
        flags={
            "data": {"name": data, "limit": 100},
            "train": {
                "steps": steps,
                "batch_size": 10,
                "device": "cpu",
                "log_every": 1,
                "sample_every": 2,
                "checkpoint_every": 2,
                "grid_size": 6,
            },
        },
        overrides=[{"model": model}],
    )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


def test_every_declared_kind_has_a_case():
    """A family that declares a new kind of input needs a case here."""
    declared = set()
    for name in MODELS.names():
        kind_case = next((k for k, (f, _, _) in CASES.items() if f == name), None)
        if kind_case is None:
            cfg = resolve(family=name)
            trainer_info = _info_for(cfg)
            fam = MODELS.get(name)
            model_cfg = fam.Config.model_validate(cfg.model)
            declared |= {s.kind for s in fam.inputs(model_cfg, trainer_info)}
    declared |= set(CASES)
    assert declared <= set(CASES), f"no end-to-end case for input kinds {declared - set(CASES)}"


def _info_for(cfg):
    from gankit.data import load_dataset

    return load_dataset(cfg.data.model_copy(update={"limit": 20}), 0).info


@pytest.mark.parametrize("kind", sorted(CASES))
def test_declared_input_trains_resumes_exports_and_runs(kind, tmp_path):
    straight = _trainer(kind, None, steps=4)
    straight.fit()
    specs = straight.family.inputs(straight.family.cfg, straight.data.info)
    assert kind in {s.kind for s in specs}

    first = _trainer(kind, tmp_path / "run", steps=2)
    first.fit()
    second = _trainer(kind, tmp_path / "run", steps=4)
    second.resume_from(tmp_path / "run" / "checkpoints")
    assert second.step == 2
    second.fit()
    for name, net in straight.family.nets.items():
        other = second.family.nets[name].state_dict()
        for k, v in net.state_dict().items():
            assert torch.equal(v, other[k]), f"{kind}: {name}.{k} differs after resume"

    G = gankit.load(tmp_path / "run")
    assert [s.to_dict() for s in G.inputs] == G.meta["inputs"] == [s.to_dict() for s in specs]
    grids = sorted((tmp_path / "run" / "samples").glob("step_*.png"))
    assert [p.name for p in grids] == ["step_000000002.png", "step_000000004.png"]
    images = G.image_inputs()
    if G.text_inputs():  # a caption in, n samples of it out
        out = G.sample(5, seed=1, text=["a thick seven leaning right", "굵은 3"])
        assert torch.equal(out, G.sample(5, seed=1, text=["a thick seven leaning right", "굵은 3"]))
        assert out.shape == (10, *G.info.shape) and out.dtype == torch.uint8
        with pytest.raises(gankit.errors.ConfigError, match="give text"):
            G.sample(4)
        return
    if not images:
        out = G.sample(5, seed=1)
        assert torch.equal(out, G.sample(5, seed=1))
        assert out.shape == (5, *G.info.shape) and out.dtype == torch.uint8
        return
    assert all(s.kind in FROM_DATA for s in images)
    if images[0].kind == "frames":  # past frames in, the next frames out (fed back)
        t, c, h, w = images[0].shape
        rng = np.random.default_rng(0)
        new = torch.from_numpy(rng.integers(0, 256, (3, t + 2, c, h, w), dtype=np.uint8))
        out = G.predict(new, steps=2)
        assert out.shape == (3, 2, c, h, w) and out.dtype == torch.uint8
        assert torch.equal(out, G.predict(new, steps=2))
        with pytest.raises(gankit.errors.ConfigError, match="use predict"):
            G.sample(4)
        bank = np.load(tmp_path / "run" / "samples" / "bank.npz")
        assert set(bank.files) == {"frames", "target"} and len(bank["target"]) == 6
        return
    c, h, w = images[0].shape
    rng = np.random.default_rng(0)
    new = torch.from_numpy(rng.integers(0, 256, (5, c, h, w), dtype=np.uint8))
    takes_mask = any(s.kind == "mask" for s in images)

    def holes(n: int, hh: int, ww: int) -> dict[str, torch.Tensor]:
        m = (rng.random((n, 1, hh, ww)) < 0.3).astype(np.uint8) * 255
        return {"mask": torch.from_numpy(m)} if takes_mask else {}

    other = holes(5, h, w)
    out = G.translate(new, **other)
    assert out.shape == (5, *G.info.shape) and out.dtype == torch.uint8
    assert torch.equal(out, G.translate(new, **other))  # eval mode: no noise at inference
    bigger = torch.from_numpy(rng.integers(0, 256, (2, c, 2 * h, 2 * w), dtype=np.uint8))
    # resized to the trained size; an inpainting keeps the image's own size (and pixels)
    size = bigger.shape[1:] if takes_mask else G.info.shape
    assert G.translate(bigger, **holes(2, 2 * h, 2 * w)).shape == (2, *size)
    with pytest.raises(gankit.errors.DataError, match="channel"):
        G.translate(torch.zeros(1, c + 2, h, w, dtype=torch.uint8), **holes(1, h, w))
    with pytest.raises(gankit.errors.ConfigError, match="use translate"):
        G.sample(4)
    bank = np.load(tmp_path / "run" / "samples" / "bank.npz")
    assert set(bank.files) == {s.name for s in images} | {"target"}
    assert bank["target"].dtype == np.uint8 and len(bank["target"]) == 6
