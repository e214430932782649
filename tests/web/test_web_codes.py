"""How the dashboard describes latent inputs other than z, from a probe of real draws."""

from __future__ import annotations

import torch

from gankit.web.server import describe_code


def test_cluster_quantile_u_is_a_slider_over_zero_to_one():
    u = torch.rand(2048, generator=torch.Generator().manual_seed(0))  # a self-conditioned DCGAN's u
    code = describe_code("u", u)
    assert (code.kind, code.size, code.low, code.high) == ("continuous", 1, 0, 1)


def test_other_inputs_keep_their_kinds():
    g = torch.Generator().manual_seed(0)
    cont = torch.rand(2048, 2, generator=g) * 2 - 1  # InfoGAN's c_cont in U(-1, 1)
    assert describe_code("c_cont", cont).kind == "continuous"
    assert describe_code("c_cont", cont).low < 0
    one = torch.rand(2048, generator=g) * 2 - 1  # a single code that goes negative
    assert describe_code("c", one).low < 0
    cat = torch.randint(10, (2048,), generator=g)
    assert (describe_code("c_cat", cat).kind, describe_code("c_cat", cat).size) == (
        "categorical",
        10,
    )
