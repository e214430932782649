"""evaluate(): registry, defaults by data kind, passports, warnings and the table."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

import gankit
from gankit.errors import ConfigError, DataError
from gankit.metrics import (
    MetricUnavailable,
    compare_passports,
    evaluate,
    format_table,
    make_context,
)
from gankit.metrics.evaluate import default_metrics
from gankit.registry import METRICS

RING = np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1)
PASSPORT_KEYS = set(
    "metric extractor extractor_sha256 n_fake n_real reference seed params gankit_version".split()
)


def ring(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return RING[rng.integers(0, 8, n)] + 0.01 * rng.standard_normal((n, 2))


def test_registered_names():
    expected = set(
        "fid kid inception-score precision-recall density-coverage memorization label-accuracy "
        "tstr stacked-mnist-modes modes jsd kl".split()
    )
    assert expected <= set(METRICS.names())


def test_toy_defaults_and_values():
    info = SimpleNamespace(
        name="ring", kind="points", modes=RING.tolist(), sigma=0.01, num_classes=0
    )
    results = evaluate(ring(2500, 0), ring(2500, 1), info=info, reference="ring:fresh")
    by = {r.name: r for r in results}
    assert [r.metric for r in results] == ["modes", "modes", "modes", "jsd"]
    assert by["modes-covered"].value == 8 and by["high-quality"].value > 0.98
    assert by["reverse-kl"].value < 0.01 and by["jsd"].value < 0.05
    for r in results:
        assert PASSPORT_KEYS <= set(r.passport)
        assert r.passport["gankit_version"] == gankit.__version__
        assert r.passport["reference"] == "ring:fresh"


def test_collapsed_toy():
    results = evaluate(np.tile(RING[:1], (2500, 1)), ring(2500, 1), modes=RING, sigma=0.01)
    by = {r.name: r for r in results}
    assert by["modes-covered"].value == 1 and by["reverse-kl"].value == pytest.approx(math.log(8))


def test_stacked_mnist_kl_comes_with_its_two_parts(digits_heldout):
    from gankit.metrics.modes import stacked_mnist

    x, y = digits_heldout
    images, _ = stacked_mnist(x, 2000, seed=0, y=y)
    by = {
        r.name: r
        for r in evaluate(images, images, ["stacked-mnist-modes"], dataset="stacked-mnist")
    }
    assert by["modes-covered"].value > 800 and by["kl-to-uniform"].metric == "stacked-mnist-modes"
    parts = by["kl-channels"].value + by["kl-dependence"].value
    assert parts == pytest.approx(by["kl-to-uniform"].value)
    assert by["kl-channels"].value < 0.02 < by["kl-dependence"].value  # real digits: chance only
    # One channel's digits made all alike: the channel part carries it, not the dependence.
    images[:, 0] = images[0, 0]
    by = {
        r.name: r
        for r in evaluate(images, images, ["stacked-mnist-modes"], dataset="stacked-mnist")
    }
    assert math.log(10) <= by["kl-channels"].value < math.log(10) + 0.02


def test_digit_defaults(digits_train, digits_heldout):
    (xt, _), (xh, _) = digits_train, digits_heldout
    rng = np.random.default_rng(0)  # the digits are sorted by label: shuffle before slicing
    fake, real = xt[rng.permutation(len(xt))[:300]], xh[rng.permutation(len(xh))[:300]]
    ctx = make_context(fake, real, dataset="mnist5k", train=xt)
    assert default_metrics(ctx) == [
        *("fid", "kid", "inception-score", "precision-recall", "density-coverage"),
        "memorization",
    ]
    kid_opts = {"kid": {"num_subsets": 10}}
    results = evaluate(
        fake, real, dataset="mnist5k", train=xt, reference="mnist5k:heldout", options=kid_opts
    )
    by = {r.name: r for r in results}
    assert all(r.value is not None and np.isfinite(r.value) for r in results)
    assert by["fid"].passport["extractor"] == "mnist-classifier"
    assert len(by["fid"].passport["extractor_sha256"]) == 64
    assert by["kid"].passport["params"] == {"num_subsets": 10, "subset_size": 300}
    assert by["inception-score"].value > 6  # balanced, confident digits (30 per split)
    assert by["precision"].value > 0.7 and by["coverage"].value > 0.7
    json.dumps([r.to_dict() for r in results])  # JSON-ready


def test_digits_by_shape_are_noted(digits_heldout):
    x = digits_heldout[0]
    (r,) = evaluate(x[:100], x[100:200], metrics=["fid"])
    assert "assumed MNIST digits" in r.passport["extractor_choice"]


def test_images_without_extractor_say_so(monkeypatch):
    monkeypatch.delenv("GANKIT_INCEPTION_WEIGHTS", raising=False)
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (20, 3, 32, 32), dtype=np.uint8)
    results = evaluate(imgs, imgs[::-1].copy(), dataset="celeba")
    assert [(r.metric, r.value) for r in results] == [("fid", None)]
    assert "no feature extractor" in results[0].note and "Inception" in results[0].note
    assert "n/a" in format_table(results)


def test_unavailable_metric_is_a_row_not_a_crash():
    (r,) = evaluate(ring(100, 0), ring(100, 1), metrics=["fid"])
    assert r.value is None and "images" in r.note
    (r,) = evaluate(ring(100, 0), ring(100, 1), metrics=["memorization"])
    assert r.value is None


def test_bad_inputs():
    with pytest.raises(ConfigError, match="choose one of"):
        evaluate(ring(10, 0), ring(10, 1), metrics=["nope"])
    with pytest.raises(DataError, match="uint8"):
        evaluate(np.zeros((4, 1, 8, 8), np.float32), np.zeros((4, 1, 8, 8), np.float32))
    with pytest.raises(ConfigError, match="mnist-classifier"):
        evaluate(ring(10, 0), ring(10, 1), extractor="vgg")
    with pytest.raises(MetricUnavailable, match="Inception"):
        evaluate(ring(10, 0), ring(10, 1), extractor="inception-v3", inception_weights="/nope")
    with pytest.raises(DataError, match="points"):
        evaluate(ring(10, 0), np.zeros((10, 1, 8, 8), np.uint8))


def test_compare_passports():
    a = evaluate(ring(500, 0), ring(500, 1), metrics=["jsd"], reference="ring:a")[0]
    assert compare_passports(a, a) == []
    b = evaluate(ring(400, 0), ring(500, 1), metrics=["jsd"], reference="ring:b")[0]
    warnings = compare_passports(a, b)
    assert any("n_fake" in w for w in warnings) and any("reference" in w for w in warnings)
    pa = dict(a.passport, extractor="mnist-classifier", extractor_sha256="a" * 64)
    pb = dict(pa, extractor_sha256="b" * 64, gankit_version="9.9")
    warnings = compare_passports(pa, pb)
    assert any("weights differ" in w for w in warnings)
    assert any("gankit versions" in w for w in warnings)
    assert any("extractors differ" in w for w in compare_passports(pa, dict(pa, extractor="x")))
    assert compare_passports(a.to_dict(), a.to_dict()) == []


def test_format_table():
    results = evaluate(ring(2500, 0), ring(2500, 1), modes=RING, sigma=0.01)
    table = format_table(results)
    assert "modes/modes-covered" in table and "jsd" in table and "2500/" in table
    assert len(table.splitlines()) == len(results) + 2
