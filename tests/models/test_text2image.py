"""text2image: the alphabet (Hangul as jamo, unknown characters, limits), the matching loss that
trains the text encoder, the matching-aware D, and the export that carries the encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gankit
from gankit.errors import ConfigError
from gankit.models.text import (
    MAX_CHARS,
    UNK,
    MatchingModel,
    TextEncoder,
    as_buffers,
    encode_texts,
    tokenize,
    train_matching,
)
from gankit.presets import resolve
from gankit.train.trainer import Trainer, write_config

TINY = {
    "z_dim": 8,
    "g_channels": 8,
    "d_channels": 8,
    "embed_dim": 8,
    "proj_dim": 4,
    "encoder_channels": 16,
    "encoder_steps": 3,
    "encoder_batch": 16,
}


def tiny_trainer(run_dir=None, steps=2, **model) -> Trainer:
    cfg = resolve(
        family="text2image",
        flags={
            "data": {"name": "digit-captions", "limit": 20},
            "train": {"steps": steps, "batch_size": 8, "device": "cpu", "sample_every": 2},
        },
        overrides=[{"model": {**TINY, **model}}],
    )
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, cfg)
    return Trainer(cfg, run_dir=run_dir, progress=False)


def test_hangul_is_spelled_in_jamo_and_case_and_spaces_do_not_matter():
    assert len(tokenize("굵은 7")) == 3 + 3 + 1 + 1  # 굵 = ㄱ ㅜ ㄺ, 은 = ㅇ ㅡ ㄴ, space, 7
    assert len(tokenize("오기")) == 2 + 2  # no final consonants
    assert tokenize("  A Thick\tSEVEN ") == tokenize("a thick seven")
    assert tokenize("오른쪽") != tokenize("왼쪽")


def test_unknown_characters_become_unk_and_bad_text_is_one_clear_error():
    ids = tokenize("thick 7 😀 Ж")
    assert ids.count(UNK) == 2 and len(ids) == len("thick 7 😀 ж")
    with pytest.raises(ConfigError, match="text is empty"):
        tokenize("   ")
    with pytest.raises(ConfigError, match="has no character the text encoder knows"):
        tokenize("😀 漢字")
    with pytest.raises(ConfigError, match=f"is {MAX_CHARS + 1} characters long; the limit is"):
        tokenize("a" * (MAX_CHARS + 1))
    assert len(tokenize("굵" * MAX_CHARS)) == 3 * MAX_CHARS  # the limit counts characters


def test_frozen_encoder_weights_are_buffers_saved_but_never_trained():
    enc = as_buffers(TextEncoder(8, 16))
    assert list(enc.parameters()) == [] and "convs.0.weight" in enc.state_dict()
    out = enc(encode_texts(["thin 1", "굵은 7"]))
    assert out.shape == (2, 8) and torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)


def _strokes(width: int, n: int) -> torch.Tensor:
    x = torch.zeros(n, 1, 16, 16, dtype=torch.uint8)
    x[:, :, 3:13, 8 - width // 2 : 8 - width // 2 + width] = 255
    return x


def test_matching_loss_teaches_the_encoder_which_caption_fits_which_image():
    torch.manual_seed(0)
    images = torch.cat([_strokes(1, 32), _strokes(5, 32)])
    tokens = encode_texts(["a thin line"] * 32 + ["굵은 선"] * 32)
    model = MatchingModel((1, 16, 16), 16, 32)
    train_matching(model, images, tokens, 60, 16, 3e-3, 0.0, seed=0)
    with torch.no_grad():
        t = model.text(encode_texts(["a thin line", "굵은 선"]))
        v = model.image(torch.cat([_strokes(1, 1), _strokes(5, 1)]).float() / 127.5 - 1)
    sim = t @ v.T
    assert sim[0, 0] > sim[0, 1] and sim[1, 1] > sim[1, 0]


def test_matching_aware_d_also_rejects_real_images_with_the_wrong_text():
    trainer = tiny_trainer()
    trainer.prepare()
    fam = trainer.family
    batch = trainer.data.batch(torch.arange(8))
    torch.manual_seed(1)
    loss, logs = fam.step("D", batch)
    assert "D/wrong" in logs
    fam.cfg = fam.cfg.model_copy(update={"matching_aware": False})
    torch.manual_seed(1)
    loss_plain, logs_plain = fam.step("D", batch)
    assert "D/wrong" not in logs_plain and not torch.isclose(loss, loss_plain)
    # the same fake and real logits: the difference is the wrong pairs' term alone
    D, e = fam.nets["D"], batch["embedding"]
    s_r, s_w = D(batch["real"], e), D(batch["real"], e.roll(1, 0))
    torch.manual_seed(1)
    z = fam.latent(fam.cfg, fam.info, 8)["z"]
    s_f = D(fam.G.generate(z, e).detach(), e)
    bce = torch.nn.functional.softplus
    expected = bce(-s_r).mean() + 0.5 * (bce(s_f).mean() + bce(s_w).mean())
    assert torch.isclose(loss, expected, atol=1e-5)


def test_export_carries_the_trained_encoder_and_loads_alone(tmp_path):
    run = tmp_path / "run"
    trainer = tiny_trainer(run)
    trainer.fit()
    assert int(trainer.family.G.encoder_trained) == 1
    trained = trainer.family.nets["M"].text.state_dict()
    G = gankit.load(run / "generator")
    assert [s.kind for s in G.inputs] == ["noise", "text"]
    for k, v in G.module.encoder.state_dict().items():  # the frozen copy is the trained encoder
        assert torch.equal(v, trained[k])
    x = G.sample(3, seed=5, text=["a thick seven leaning right", "굵은 7"])
    assert x.shape == (6, 1, 28, 28) and x.dtype == torch.uint8
    assert torch.equal(x, G.sample(3, seed=5, text=["a thick seven leaning right", "굵은 7"]))
    tokens = G.text_tokens(["a thick seven leaning right"]).expand(3, -1)
    z = G.latent(3, 5)["z"]
    ema = trainer.ema.model.eval() if trainer.ema else trainer.family.G.eval()
    with torch.no_grad():
        np.testing.assert_allclose(
            G(z=z, text=tokens).numpy(), ema(z=z, text=tokens).numpy(), atol=1e-6
        )
    walk = G.interpolate("thin 1", "굵은 8", steps=4, rows=2)
    assert walk.shape == (8, 1, 28, 28)
    with pytest.raises(ConfigError, match="give text"):
        G.sample(2)


def test_a_resumed_run_keeps_its_encoder(tmp_path):
    run = tmp_path / "run"
    first = tiny_trainer(run, steps=2)
    first.fit()
    assert hasattr(first.family, "encoder_stats")  # trained in prepare
    enc = {k: v.clone() for k, v in first.family.G.encoder.state_dict().items()}
    second = tiny_trainer(run, steps=3)
    second.resume_from(run / "checkpoints")
    second.fit()
    assert not hasattr(second.family, "encoder_stats")  # not trained again
    for k, v in second.family.G.encoder.state_dict().items():
        assert torch.equal(v, enc[k]), k


def test_text2image_needs_captions():
    cfg = resolve(
        family="text2image",
        flags={"data": {"name": "mnist5k", "limit": 20}, "train": {"device": "cpu"}},
        overrides=[{"model": TINY}],
    )
    with pytest.raises(gankit.errors.DataError, match="needs captioned images"):
        Trainer(cfg, progress=False)
