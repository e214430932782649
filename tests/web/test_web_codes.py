"""The dashboard's controls for latent codes come from the family's declared inputs."""

from __future__ import annotations

import pytest

from gankit.data.base import DataInfo
from gankit.models.base import Input
from gankit.registry import MODELS
from gankit.web.generators import CODE_RANGE, code_control


def test_quantile_code_keeps_its_range():
    u = code_control(Input("u", "code", (), low=0.0, high=1.0))  # a self-conditioned DCGAN's u
    assert (u.kind, u.size, u.low, u.high) == ("continuous", 1, 0, 1)


def test_zero_centred_code_gets_room_past_its_training_range():
    c = code_control(Input("c_cont", "code", (2,), low=-1.0, high=1.0))  # InfoGAN's U(-1, 1)
    assert (c.kind, c.size, c.low, c.high) == ("continuous", 2, -CODE_RANGE, CODE_RANGE)
    wide = code_control(Input("w", "code", (), low=-3.0, high=3.0))
    assert (wide.size, wide.low, wide.high) == (1, -3.0, 3.0)


def test_categorical_codes():
    c = code_control(Input("c_cat", "code", (), categories=10))
    assert (c.kind, c.size) == ("categorical", 10)
    assert code_control(Input("c", "code", (), categories=1)) is None  # nothing to choose


@pytest.mark.parametrize(
    ("family", "settings", "expected"),
    [
        ("infogan", {}, {"c_cat": ("categorical", 10, 0, 1), "c_cont": ("continuous", 2, -2, 2)}),
        ("dcgan", {"clusters": 4}, {"u": ("continuous", 1, 0, 1)}),
        ("dcgan", {"n_components": 3}, {"c": ("categorical", 3, 0, 1)}),
        ("dcgan", {}, {}),
        ("cgan", {}, {}),
    ],
)
def test_real_families_declare_their_codes(family, settings, expected):
    F = MODELS.get(family)
    cfg = F.Config(**settings)
    info = DataInfo(name="digits", kind="images", shape=(1, 8, 8), num_classes=10)
    codes = [c for s in F.inputs(cfg, info) if s.kind == "code" and (c := code_control(s))]
    assert {c.name: (c.kind, c.size, c.low, c.high) for c in codes} == expected
