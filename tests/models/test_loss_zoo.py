"""The adversarial options on the unconditional families: every loss, n_critic, the R1 penalty,
spectral norm, PacGAN and DiffAugment, with the loss values checked against hand-computed numbers."""

from __future__ import annotations

import math

import pytest
import torch

from gankit import losses
from gankit.errors import ConfigError
from gankit.models.blocks import AdversarialConfig, d_step, g_step, pack
from gankit.presets import resolve
from gankit.train.trainer import Trainer

LOSSES = ["minimax", "nonsaturating", "lsgan", "hinge", "wgan-gp"]
TINY = {
    "mlp-gan": {"data": {"name": "ring", "limit": 256}, "model": {"hidden": [16, 16]}},
    "dcgan": {
        "data": {"name": "digits", "limit": 256},
        "model": {"g_channels": 8, "d_channels": 8, "z_dim": 8},
    },
}
REAL = torch.tensor([[2.0], [-1.0]])  # with D(x) = x[:, 0] these are the logits themselves
FAKE = torch.tensor([[0.5], [-3.0]])


def sig(v: float) -> float:
    return 1 / (1 + math.exp(-v))


# -mean log D(x) - mean log(1 - D(G(z))), D = sigmoid(logit)
BCE_D = (
    -(math.log(sig(2)) + math.log(sig(-1))) / 2
    - (math.log(1 - sig(0.5)) + math.log(1 - sig(-3))) / 2
)


def identity_D(x: torch.Tensor) -> torch.Tensor:
    return x[:, 0]


def trainer_for(family: str, **model) -> Trainer:
    cfg = resolve(
        family=family,
        flags={**TINY[family], "train": {"batch_size": 8, "device": "cpu"}},
        overrides=[{"model": model}],
    )
    return Trainer(cfg, progress=False)


@pytest.mark.parametrize("family", ["mlp-gan", "dcgan"])
@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_trains_both_networks(family, loss):
    trainer = trainer_for(family, loss=loss, n_critic=2 if loss == "wgan-gp" else 1)
    nets = trainer.family.nets
    before = {n: [p.detach().clone() for p in nets[n].parameters()] for n in ("G", "D")}
    logs = trainer.train_step()
    assert all(math.isfinite(v) for v in logs.values())
    assert {"loss/D", "loss/G", "D(x)", "D(G(z))", "acc/D"} <= set(logs)
    assert ("loss/GP" in logs) == (loss == "wgan-gp")
    for n in ("G", "D"):
        changed = [
            not torch.equal(a, b) for a, b in zip(before[n], nets[n].parameters(), strict=True)
        ]
        assert any(changed), f"{n} did not change"


@pytest.mark.parametrize(
    "loss, expect_d, expect_g",
    [
        ("minimax", BCE_D, (math.log(1 - sig(0.5)) + math.log(1 - sig(-3))) / 2),
        ("nonsaturating", BCE_D, -(math.log(sig(0.5)) + math.log(sig(-3))) / 2),
        ("lsgan", 0.5 * ((1 + 4) / 2 + (0.25 + 9) / 2), 0.5 * (0.25 + 16) / 2),
        ("hinge", (0 + 2) / 2 + (1.5 + 0) / 2, 1.25),
        ("wgan-gp", (0.5 - 3) / 2 - (2 - 1) / 2, 1.25),  # |grad D| = 1: no penalty
    ],
)
def test_d_and_g_losses_match_hand_computed_values(loss, expect_d, expect_g):
    cfg = AdversarialConfig(loss=loss)
    d_loss, logs = d_step(identity_D, cfg, REAL, FAKE)
    assert d_loss.item() == pytest.approx(float(expect_d), rel=1e-5)
    g_loss, _ = g_step(identity_D, cfg, FAKE)
    assert g_loss.item() == pytest.approx(float(expect_g), rel=1e-5)
    assert logs["loss/D"].item() == pytest.approx(d_loss.item())


def test_minimax_generator_saturates_where_nonsaturating_does_not():
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 when D rejects fakes confidently (l << 0);
    # d/dl -log sigmoid(l) = -(1 - sigmoid(l)) -> -1 (Goodfellow et al. 2014, Section 3).
    logit = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(losses.g_minimax(logit), logit)
    (g_ns,) = torch.autograd.grad(losses.g_nonsaturating(logit), logit)
    assert abs(g_mm.item()) < 1e-3 and g_ns.item() == pytest.approx(-1.0, abs=1e-3)


def test_gradient_penalty_is_added_with_its_weight():
    cfg = AdversarialConfig(loss="wgan-gp", gp_weight=10.0)
    d_loss, logs = d_step(lambda x: 3 * x[:, 0], cfg, REAL, FAKE)  # |grad| = 3: GP = (3-1)^2
    assert logs["loss/GP"].item() == pytest.approx(4.0)
    assert d_loss.item() == pytest.approx(3 * ((0.5 - 3) / 2 - (2 - 1) / 2) + 10 * 4.0)


def test_r1_penalty_is_the_squared_gradient_at_real_samples_only():
    # D(x) = x0^2: grad at x is 2 x0, so R1 = mean((2 * 2)^2, (2 * -1)^2) = 10 on REAL; the fakes
    # (gradients 1 and -6) must not enter it.
    cfg = AdversarialConfig(r1=2.0)
    d_loss, logs = d_step(lambda x: x[:, 0] ** 2, cfg, REAL, FAKE)
    assert logs["loss/R1"].item() == pytest.approx(10.0)
    bce = (
        -(math.log(sig(4)) + math.log(sig(1))) / 2
        - (math.log(1 - sig(0.25)) + math.log(1 - sig(9))) / 2
    )
    assert d_loss.item() == pytest.approx(bce + 0.5 * 2.0 * 10.0, rel=1e-5)
    assert "loss/R1" not in d_step(identity_D, AdversarialConfig(), REAL, FAKE)[1]


@pytest.mark.parametrize("model", [{"r1": 1.0}, {"r1": 1.0, "clusters": 4}])
def test_r1_reaches_d_in_a_training_step(model):
    # The penalty's own gradient reaches D's weights: with a huge weight D's update is dominated
    # by it, so the step differs from the unpenalised one from the same start.
    steps = {}
    for gamma in (0.0, 1e3):
        trainer = trainer_for("dcgan", **{**model, "r1": gamma})
        logs = trainer.train_step()
        assert ("loss/R1" in logs) == (gamma > 0)
        steps[gamma] = [p.detach().clone() for p in trainer.family.nets["D"].parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(steps[0.0], steps[1e3], strict=True))


def test_pack_joins_consecutive_samples_and_checks_the_batch():
    x = torch.arange(12.0).view(4, 3)
    assert torch.equal(pack(x, 2), torch.tensor([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11.0]]))
    img = torch.randn(6, 1, 4, 4)
    packed = pack(img, 3)
    assert packed.shape == (2, 3, 4, 4) and torch.equal(packed[1, 2], img[5, 0])
    with pytest.raises(ConfigError, match="not divisible"):
        pack(torch.randn(5, 2), 2)


@pytest.mark.parametrize("family", ["mlp-gan", "dcgan"])
def test_pacgan_d_sees_m_samples_per_input(family):
    no_clusters = {"clusters": 0} if family == "dcgan" else {}  # one cluster label per image
    trainer = trainer_for(family, pack=4, **no_clusters)
    seen = []
    D = trainer.family.nets["D"]
    handle = D.register_forward_pre_hook(lambda mod, args: seen.append(args[0].shape))
    logs = trainer.train_step()
    handle.remove()
    assert all(s[0] == 8 // 4 for s in seen)  # batch 8 -> 2 packed inputs
    assert seen[0][1] == (2 * 4 if family == "mlp-gan" else 1 * 4)
    assert math.isfinite(logs["loss/D"])


@pytest.mark.parametrize("family", ["mlp-gan", "dcgan"])
def test_spectral_norm_bounds_every_d_layer_near_one(family):
    trainer = trainer_for(family, spectral_norm=True, loss="hinge")
    D = trainer.family.nets["D"]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules())  # SN replaces BN
    trainer.prepare()
    batch = trainer.data.batch(torch.arange(8))
    cond = {"label": batch["cluster"]} if "cluster" in batch else {}  # dcgan's preset: projection D
    for _ in range(30):  # each training-mode forward runs one power iteration
        D(batch["real"], **cond)
    layers = [m for m in D.modules() if hasattr(m, "parametrizations")]
    assert len(layers) >= 2  # every conv and linear layer
    for m in layers:
        w = m.weight.detach().flatten(1)  # conv: (out, in*k*k), the matrix SN normalises
        assert torch.linalg.matrix_norm(w, 2).item() == pytest.approx(1.0, abs=0.05)
    trainer.train_step()


def test_diffaugment_changes_what_d_sees_but_not_the_batch():
    cfg = AdversarialConfig(diffaugment="translation,cutout")
    real = torch.ones(8, 1, 8, 8)
    seen = []
    d_step(lambda x: seen.append(x) or x.mean((1, 2, 3)), cfg, real, -real)
    assert torch.equal(real, torch.ones(8, 1, 8, 8))
    assert (seen[0] == 0).any() and (seen[1] == 0).any()  # cut-out / shifted-in pixels


def test_diffaugment_on_points_is_a_config_error():
    with pytest.raises(ConfigError, match="needs images"):
        trainer_for("mlp-gan", diffaugment="translation")


def test_unknown_diffaugment_policy_is_rejected_at_config_time():
    with pytest.raises(ConfigError, match="diffaugment"):
        resolve(family="dcgan", overrides=[{"model": {"diffaugment": "rotate"}}])
