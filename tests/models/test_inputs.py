"""Every family's declared generator inputs (``Family.inputs``) are exactly what ``latent`` draws
and ``G.forward`` takes: names, shapes, dtypes, categories and ranges."""

from __future__ import annotations

import pytest
import torch

from gankit.data.base import DataInfo
from gankit.errors import ConfigError
from gankit.models.base import DRAWN, FROM_DATA, Input
from gankit.registry import MODELS

IMAGES = DataInfo(name="digits", kind="images", shape=(1, 8, 8), num_classes=10)
POINTS = DataInfo(name="ring", kind="points", shape=(2,))
PAIRED = DataInfo(name="pairs", kind="images", shape=(3, 16, 16), inputs={"source": (1, 16, 16)})
VIDEOS = DataInfo(
    name="videos", kind="images", shape=(1, 32, 32), inputs={"frames": (4, 1, 32, 32)}
)
MASKED = DataInfo(
    name="holes",
    kind="images",
    shape=(3, 16, 16),
    inputs={"image": (3, 16, 16), "mask": (1, 16, 16)},
)
SHAPES = DataInfo(
    name="shapes", kind="images", shape=(32, 32, 32), num_classes=6, inputs={"image": (1, 32, 32)}
)
TAGGED = DataInfo(
    name="tagged",
    kind="images",
    shape=(3, 16, 16),
    tags=["red", "blue", "round", "square", "hat"],
    tag_groups=[["red", "blue"], ["round", "square"]],
    tag_freq=[0.3, 0.7, 0.5, 0.5, 0.2],
)

# Config variants that change what a family's generator takes; a family not named here is
# checked with its defaults, on 8x8 digits, 2-D points, paired images, videos, images with
# holes or voxel grids with views (the first it builds on).
VARIANTS = {
    "dcgan": [{}, {"clusters": 4}, {"n_components": 3}, {"arch": "textbook", "n_components": 3}],
    "mlp-gan": [{}, {"clusters": 4}, {"n_components": 3}],
    "cgan": [{}, {"conditioning": "concat"}],
    "infogan": [{}, {"n_cat": 0}, {"n_cont": 0}, {"n_cat": 3, "n_cont": 5}, {"arch": "infogan"}],
    "autoencoder": [{}, {"prior": "standard"}],
}
N = 512  # draws: enough for every category of a code to appear and a range to be covered


def _cases():
    for family in MODELS.names():
        for variant in VARIANTS.get(family, [{}]):
            if family in VARIANTS:
                yield pytest.param(family, variant, IMAGES, id=f"{family}-{variant}-images")
            else:
                yield pytest.param(family, variant, None, id=f"{family}-{variant}")
    for variant in VARIANTS["mlp-gan"]:
        yield pytest.param("mlp-gan", variant, POINTS, id=f"mlp-gan-{variant}-points")
    yield pytest.param("voxel-gan", {"clusters": 4}, SHAPES, id="voxel-gan-clusters-shapes")


def _declared(family: str, variant: dict, info: DataInfo | None):
    """The family, its config, the data info it builds on, and its declared inputs."""
    cls = MODELS.get(family)
    small = {
        k: 8 for k in ("g_channels", "d_channels", "e_channels") if k in cls.Config.model_fields
    }
    cfg = cls.Config(**{**small, **variant})
    if info is None:  # a family this file does not know: the first kind of data it accepts
        infos = (IMAGES, POINTS, PAIRED, VIDEOS, MASKED, SHAPES, TAGGED)
        info = next((d for d in infos if _builds(cls, cfg, d)), None)
        assert info is not None, f"{family} builds on none of the test's data kinds: add one"
    return cls, cfg, info, cls.inputs(cfg, info)


def _builds(cls, cfg, info: DataInfo) -> bool:
    try:
        cls.build_generator(cfg, info)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize(("family", "variant", "info"), list(_cases()))
def test_latent_draws_exactly_the_declared_inputs(family, variant, info):
    cls, cfg, info, specs = _declared(family, variant, info)
    latent = cls.latent(cfg, info, N, generator=torch.Generator().manual_seed(0))

    drawn = [s.name for s in specs if s.kind in DRAWN]
    assert drawn == list(latent), "the drawn inputs, in G.forward's order"
    given = [s for s in specs if s.kind not in (*DRAWN, *FROM_DATA)]
    assert [(s.name, s.kind) for s in given] == ([("label", "label")] if cls.conditional else [])
    for s in specs:  # inputs the data carries: the shapes the dataset says (an input a family
        # makes from the clean image itself, srgan's low-resolution copy, is not in the data)
        if s.kind == "text":  # symbol ids of a caption (the dataset's extra["text"])
            assert len(s.shape) == 1 and s.categories > 2, s.name
        elif s.kind in FROM_DATA and info.inputs:
            assert s.shape == info.inputs[s.name], s.name
    assert len({s.name for s in specs}) == len(specs)

    for s in specs:
        assert Input.from_dict(s.to_dict()) == s  # as it travels in the export's config.json
        if s.kind == "label":
            assert s.shape == () and s.categories == info.num_classes
            continue
        if s.kind in FROM_DATA:
            continue
        x = latent[s.name]
        assert tuple(x.shape) == (N, *s.shape), s.name
        if s.kind == "noise":
            assert x.dtype == torch.float32 and s.categories == 0, s.name
        elif s.kind == "tags":  # multi-hot: one of each exclusive group, both values drawn
            assert x.dtype == torch.float32 and s.shape == (len(info.tags),), s.name
            assert set(x.unique().tolist()) == {0.0, 1.0}, s.name
            for group in info.tag_groups:
                idx = [info.tags.index(t) for t in group]
                assert torch.all(x[:, idx].sum(1) == 1), s.name
        elif s.categories:  # a categorical code: integer indices, every value drawn
            assert s.shape == () and x.dtype == torch.int64, s.name
            assert x.min() == 0 and x.max() == s.categories - 1, s.name
        else:  # a continuous code: within [low, high], and spread over it
            assert x.dtype == torch.float32 and s.low < s.high, s.name
            assert s.low <= x.min() and x.max() <= s.high, s.name
            margin = 0.05 * (s.high - s.low)
            assert x.min() < s.low + margin and x.max() > s.high - margin, s.name


@pytest.mark.parametrize(("family", "variant", "info"), list(_cases()))
def test_generator_takes_the_declared_inputs_at_their_limits(family, variant, info):
    cls, cfg, info, specs = _declared(family, variant, info)
    G = cls.build_generator(cfg, info).eval()
    n = 4
    inputs = cls.latent(cfg, info, n, generator=torch.Generator().manual_seed(1))
    for s in specs:
        if s.kind == "label":
            inputs[s.name] = torch.arange(n) % s.categories
        elif s.kind == "text":  # any symbols, and a row of padding only
            inputs[s.name] = torch.randint(0, s.categories, (n, *s.shape))
            inputs[s.name][0] = 0
        elif s.kind in FROM_DATA:
            inputs[s.name] = torch.rand(n, *s.shape) * 2 - 1
    with torch.no_grad():
        assert G(**inputs).shape == (n, *info.shape)
        assert torch.isfinite(G(**inputs)).all()
        for s in specs:  # each code at both ends of what it declares, the others as drawn
            if s.kind != "code":
                continue
            for value in (0, s.categories - 1) if s.categories else (s.low, s.high):
                at_limit = {**inputs, s.name: torch.full_like(inputs[s.name], value)}
                out = G(**at_limit)
                assert out.shape == (n, *info.shape) and torch.isfinite(out).all(), (s, value)


def test_infogan_draws_no_empty_code():
    """Without categorical (or continuous) codes, neither is declared nor drawn."""
    cls = MODELS.get("infogan")
    for variant, absent in (({"n_cat": 0}, "c_cat"), ({"n_cont": 0}, "c_cont")):
        cfg = cls.Config(**variant)
        assert absent not in cls.latent(cfg, IMAGES, 3)
        assert absent not in [s.name for s in cls.inputs(cfg, IMAGES)]


def test_self_conditioned_quantile_picks_clusters_by_the_prior():
    """``u`` is a quantile: G's clusters come out as often as the prior has them."""
    from gankit.models.selfcond import cluster_of

    cls = MODELS.get("dcgan")
    cfg = cls.Config(g_channels=8, clusters=4)
    (u_spec,) = [s for s in cls.inputs(cfg, IMAGES) if s.name == "u"]
    assert (u_spec.kind, u_spec.low, u_spec.high) == ("code", 0.0, 1.0)
    prior = torch.tensor([0.5, 0.0, 0.25, 0.25])
    u = torch.linspace(u_spec.low, u_spec.high, 1001)
    share = torch.bincount(cluster_of(u, prior), minlength=4).float() / len(u)
    assert torch.allclose(share, prior, atol=0.01)
