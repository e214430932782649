"""Resume is exact for the new families too: their extra networks (Q, E), buffers (the AE's
fitted prior) and random draws (codes, DiffAugment, VAE noise) all live in the checkpoint."""

from __future__ import annotations

import pytest
import torch

from gankit.train import checkpoint as ckpt


@pytest.mark.parametrize(
    "family, model",
    [
        ("cgan", {"diffaugment": "translation,cutout", "loss": "hinge", "spectral_norm": True}),
        ("infogan", {}),
        ("dcgan", {"clusters": 4}),
        ("autoencoder", {}),
        ("vae", {}),
    ],
)
def test_two_halves_equal_one_run(family, model, tiny_trainer, tmp_path):
    straight = tiny_trainer(family, steps=6, **model)
    straight.fit()
    first = tiny_trainer(family, tmp_path / "half", steps=3, **model)
    first.fit()  # writes the step-3 checkpoint
    second = tiny_trainer(family, steps=6, **model)
    second.resume_from(tmp_path / "half" / "checkpoints")
    assert second.step == 3
    second.fit()
    for name, net in straight.family.nets.items():
        other = second.family.nets[name].state_dict()
        for k, v in net.state_dict().items():
            assert torch.equal(v, other[k]), f"{name}.{k} differs after resume"
    assert ckpt.list_checkpoints(tmp_path / "half" / "checkpoints")


def test_resume_reuses_the_checkpoints_clusters(tiny_trainer, tmp_path, monkeypatch):
    from gankit.models import dcgan

    first = tiny_trainer("dcgan", tmp_path / "run", steps=2, clusters=4)
    first.fit()
    ids = first.data.extra["cluster"]
    calls = []
    real_clusters = dcgan.image_clusters
    monkeypatch.setattr(
        dcgan, "image_clusters", lambda *a, **k: calls.append(a) or real_clusters(*a, **k)
    )
    _, state = ckpt.load_latest(tmp_path / "run" / "checkpoints")
    assert torch.equal(state["family"]["cluster_ids"].long(), ids)
    second = tiny_trainer("dcgan", steps=4, clusters=4)
    second.resume_from(tmp_path / "run" / "checkpoints")
    second.fit()
    assert calls == []  # no k-means on resume: the ids come from the checkpoint
    assert torch.equal(second.data.extra["cluster"], ids)
    fresh = tiny_trainer("dcgan", steps=1, clusters=4)
    fresh.fit()
    assert len(calls) == 1  # a new run clusters once


def test_resume_with_another_model_config_names_what_differs(tiny_trainer, tmp_path):
    from gankit.errors import ConfigError

    tiny_trainer("infogan", tmp_path / "run", steps=1).fit()
    other = tiny_trainer("infogan", steps=2, z_dim=5)
    with pytest.raises(
        ConfigError, match=r"made with model\.z_dim=16 \(now 5\); resume needs"
    ) as e:
        other.resume_from(tmp_path / "run" / "checkpoints")
    assert "\n" not in str(e.value)
    dcgan = tiny_trainer("dcgan", steps=2)
    with pytest.raises(ConfigError, match=r"another family \(infogan, not dcgan\)"):
        dcgan.resume_from(tmp_path / "run" / "checkpoints")
