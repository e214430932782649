"""The ``faces`` dataset: scikit-image's 100 LFW faces, resized, with a fixed held-out set."""

from __future__ import annotations

import numpy as np
import skimage.data
import torch

from gankit.data import DataConfig, load_dataset, split_holdout


def test_faces_load_resized_with_25_held_out():
    ds = load_dataset(DataConfig(name="faces"))
    assert ds.x.shape == (100, 1, 32, 32) and ds.x.dtype == torch.uint8
    assert ds.info.shape == (1, 32, 32) and ds.y is None
    train, held = split_holdout(ds, 0)
    assert (len(train), len(held)) == (75, 25)
    # held out by a fixed seed: the same faces every time, none of them in training
    again = split_holdout(load_dataset(DataConfig(name="faces")), 0)[1]
    assert torch.equal(held.x, again.x)
    flat_t = train.x.reshape(75, -1)
    assert all(not (flat_t == h.reshape(1, -1)).all(1).any() for h in held.x)


def test_faces_at_their_own_size_are_the_lfw_faces():
    ds = load_dataset(DataConfig(name="faces", image_size=25))
    lfw = skimage.data.lfw_subset()[:100]
    expected = np.clip(np.rint(lfw * 255), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(ds.x[:, 0].numpy(), expected)


def test_train_data_faces_takes_the_faces_preset(run_gankit):
    import json

    res = run_gankit("train", "--data", "faces", "--dry-run")
    cfg = json.loads(res.stdout[res.stdout.index("{") :])
    assert cfg["preset"] == "dcgan-faces" and cfg["data"]["name"] == "faces"
    assert cfg["model"]["diffaugment"] and cfg["train"]["ema"]
