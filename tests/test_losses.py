"""Loss formulas against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gankit import losses

real = torch.tensor([2.0, -1.0])
fake = torch.tensor([0.5, -3.0])


def sig(x):
    return 1 / (1 + math.exp(-x))


def test_minimax_and_nonsaturating():
    # -mean(log D(x)) - mean(log(1 - D(G(z))))
    expect_d = (
        -(math.log(sig(2)) + math.log(sig(-1))) / 2
        - (math.log(1 - sig(0.5)) + math.log(1 - sig(-3))) / 2
    )
    assert losses.d_minimax(real, fake).item() == pytest.approx(expect_d, rel=1e-6)
    assert losses.d_nonsaturating(real, fake).item() == pytest.approx(expect_d, rel=1e-6)
    expect_g_mm = (math.log(1 - sig(0.5)) + math.log(1 - sig(-3))) / 2
    assert losses.g_minimax(fake).item() == pytest.approx(expect_g_mm, rel=1e-6)
    expect_g_ns = -(math.log(sig(0.5)) + math.log(sig(-3))) / 2
    assert losses.g_nonsaturating(fake).item() == pytest.approx(expect_g_ns, rel=1e-6)


def test_lsgan_hinge_wasserstein():
    assert losses.d_lsgan(real, fake).item() == pytest.approx(
        0.5 * (((2 - 1) ** 2 + (-1 - 1) ** 2) / 2 + (0.25 + 9) / 2)
    )
    assert losses.g_lsgan(fake).item() == pytest.approx(0.5 * ((0.5 - 1) ** 2 + 16) / 2)
    # relu(1 - [2, -1]) = [0, 2]; relu(1 + [0.5, -3]) = [1.5, 0]
    assert losses.d_hinge(real, fake).item() == pytest.approx(1.0 + 0.75)
    assert losses.g_hinge(fake).item() == pytest.approx(1.25)
    assert losses.d_wasserstein(real, fake).item() == pytest.approx(-1.25 - 0.5)
    assert losses.g_wasserstein(fake).item() == pytest.approx(1.25)


def test_gradient_penalty_of_linear_critic():
    # D(x) = w.x has gradient w everywhere: penalty = (||w|| - 1)^2.
    w = torch.tensor([3.0, 4.0])
    gp = losses.gradient_penalty(lambda x: x @ w, torch.randn(8, 2), torch.randn(8, 2))
    assert gp.item() == pytest.approx((5 - 1) ** 2)


def test_equilibrium_stats_at_half():
    s = losses.equilibrium_stats(torch.zeros(4), torch.zeros(4), "nonsaturating")
    assert s["D(x)"] == 0.5 and s["D(G(z))"] == 0.5
    # V = 2 log(1/2) = -log 4: the value of the game at the optimum when p_g = p_data (JSD 0)
    assert s["V(D,G)"] == pytest.approx(-math.log(4))
