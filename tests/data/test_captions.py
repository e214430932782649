"""The caption writer: measures checked on digits drawn by hand (known stroke width and shear),
captions that follow what is measured, the same captions on every load, the held-out split, and a
user's captioned folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import DataConfig, load_dataset
from gankit.data.captions import (
    HELD_COMBOS,
    KO_WORDS,
    attributes,
    describe,
    measure,
)
from gankit.errors import DataError
from gankit.models.text import tokenize


def bar(width: int, shear: float = 0.0, length: int = 18) -> np.ndarray:
    """A white stroke ``width`` px wide and ``length`` px tall on black, its top moved right by
    ``shear`` px per px of height (a digit "1" drawn by hand)."""
    img = np.zeros((28, 28), np.uint8)
    mid = 5 + length / 2
    for r in range(5, 5 + length):
        c0 = 14 - width / 2 + shear * (mid - r)
        for c in range(28):
            if c0 <= c + 0.5 < c0 + width:
                img[r, c] = 255
    return img


def test_thickness_is_the_stroke_width_of_hand_drawn_strokes():
    m = measure(np.stack([bar(2), bar(3), bar(5)]))
    # area / skeleton length: the skeleton stops short of the stroke's ends, so slightly above w
    for got, width in zip(m["thickness"], (2, 3, 5), strict=True):
        assert width <= got <= 1.15 * width
    words = attributes(m)["thickness"]
    assert words[0] == "thin" and words[2] == "thick"


def test_slant_is_the_shear_of_hand_drawn_strokes():
    m = measure(np.stack([bar(3, 0.0), bar(3, 0.5), bar(3, -0.4), bar(3, 0.15)]))
    np.testing.assert_allclose(m["slant"], [0.0, 0.5, -0.4, 0.15], atol=0.03)
    assert attributes(m)["slant"] == ["upright", "right", "left", "upright"]


def test_real_digits_thicken_and_mirror_as_expected():
    from skimage.morphology import dilation

    x = load_dataset(DataConfig(name="mnist5k", limit=20)).x[:, 0].numpy()
    thick = np.stack([dilation(d, np.ones((2, 2), bool)) for d in x])
    m, m_thick, m_flip = measure(x), measure(thick), measure(x[:, :, ::-1])
    assert (m_thick["thickness"] > m["thickness"]).all()
    np.testing.assert_allclose(
        m_flip["slant"], -m["slant"], atol=1e-9
    )  # a mirror leans the other way
    assert measure(np.zeros((1, 28, 28), np.uint8))["thickness"][0] == 0.0  # no ink, no crash


def test_captions_name_what_was_measured_in_english_and_korean():
    caps = describe(7, "thick", "right", "large", index=123)
    assert caps == describe(7, "thick", "right", "large", index=123)  # deterministic
    assert [c[0] for c in caps] == ["en"] * 4 + ["ko"] * 4
    for lang, text, named in caps:
        tokenize(text)  # every caption fits the encoder
        assert named["digit"] == "7"
        assert "7" in text or ("seven" in text if lang == "en" else "칠" in text)
        if "thickness" in named:
            assert ("thick" in text) if lang == "en" else (KO_WORDS["thick"] in text)
        if "slant" in named:
            assert ("leaning right" in text) if lang == "en" else (KO_WORDS["right"] in text)
    assert any("thickness" in n and "slant" in n for _, _, n in caps)
    assert describe(7, "thick", "right", "large", index=124) != caps  # phrasings vary per digit


def test_dataset_captions_are_deterministic_and_follow_each_image():
    a = load_dataset(DataConfig(name="digit-captions", limit=30))
    b = load_dataset(DataConfig(name="digit-captions", limit=30))
    assert a.captions == b.captions and torch.equal(a.extra["text"], b.extra["text"])
    assert len(a) == 8 * 60  # 3 train + 3 held-out digits of each class, 8 captions each
    words = attributes(measure(a.x.numpy()))
    for i, m in enumerate(a.meta):
        assert int(m["digit"]) == int(a.y[i])
        for key in ("thickness", "slant", "size"):
            if key in m:
                assert m[key] == words[key][i], (a.captions[i], key)


def test_held_out_digits_and_combinations_never_train():
    ds = load_dataset(DataConfig(name="digit-captions"))
    words = attributes(measure(ds.x.numpy()))
    combo = np.array(
        [
            (int(d), t, s) in set(HELD_COMBOS)
            for d, t, s in zip(ds.y.tolist(), words["thickness"], words["slant"], strict=True)
        ]
    )
    held = ds.held.numpy()
    assert combo.sum() > 0 and held[combo].all()  # every sample of those combinations is held out
    assert 100 * 10 * 8 <= held.sum() <= 100 * 10 * 8 + combo.sum()
    assert {m["lang"] for m in ds.meta} == {"en", "ko"}


def _png(path, value=200):
    Image.fromarray(np.full((20, 20), value, np.uint8)).save(path)


def test_captioned_folder_reads_jsonl_and_txt(tmp_path):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png", 50)
    (tmp_path / "captions.jsonl").write_text(
        json.dumps({"file": "a.png", "text": "a bright square"})
        + "\n"
        + json.dumps({"file": "a.png", "text": "밝은 사각형"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "b.txt").write_text("a dark square\n\n", encoding="utf-8")
    ds = load_dataset(DataConfig(name="captioned", path=str(tmp_path), image_size=16))
    assert ds.captions == ["a bright square", "밝은 사각형", "a dark square"]
    assert ds.x.shape == (3, 1, 16, 16) and int(ds.x[2].float().mean()) == 50
    assert ds.extra["text"].shape[0] == 3


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "have no caption (b.png)"),
        (lambda p: (p / "b.txt").write_text("x" * 80), "b.png: text 'xxxx"),
        (lambda p: (p / "captions.jsonl").write_text("{oops\n"), "line 1: expected a JSON"),
    ],
)
def test_captioned_folder_errors_name_the_file(tmp_path, setup, message):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png")
    (tmp_path / "a.txt").write_text("fine")
    setup(tmp_path)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(DataConfig(name="captioned", path=str(tmp_path)))
