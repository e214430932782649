"""The shipped MNIST classifier, its preprocessing, and the Inception extractor's guard rails."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit.errors import GankitError
from gankit.files import file_digest
from gankit.metrics import features
from gankit.metrics.features import (
    MNIST_CLASSIFIER_PATH,
    MetricUnavailable,
    bundled_digits,
    mnist_classifier_info,
    predict,
    to_digit_input,
)


def test_shipped_weights_heldout_accuracy(digits_heldout):
    x, y = digits_heldout
    acc = float(np.mean(predict(x) == y))
    assert acc >= 0.97
    assert acc == pytest.approx(mnist_classifier_info()["heldout_accuracy"], abs=1e-3)


def test_shipped_weights_are_small_safetensors_with_recorded_hash():
    assert MNIST_CLASSIFIER_PATH.suffix == ".safetensors"
    assert MNIST_CLASSIFIER_PATH.stat().st_size < 1_000_000
    assert not list(MNIST_CLASSIFIER_PATH.parent.glob("*.pt*"))  # no pickles shipped
    sha = file_digest(MNIST_CLASSIFIER_PATH)
    assert mnist_classifier_info()["sha256"] == sha == features.weights_sha256()


def test_heldout_split_is_stratified_and_disjoint(digits_train, digits_heldout):
    (xt, _), (xh, yh) = digits_train, digits_heldout
    assert len(xt) == 4000 and len(xh) == 1000
    assert np.bincount(yh).tolist() == [100] * 10
    x_all, _ = bundled_digits("all")
    assert x_all.dtype == np.uint8 and x_all.shape == (5000, 1, 28, 28)
    train_rows = {r.tobytes() for r in xt[:500]}
    assert not any(r.tobytes() in train_rows for r in xh)


def test_features_and_probs_shapes(digits_heldout):
    x = digits_heldout[0][:64]
    f, p = features.features(x, batch_size=20), features.probs(x)
    assert f.shape == (64, 128) and p.shape == (64, 10)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-9)


def test_preprocessing_rgb_and_resize(digits_heldout):
    x = digits_heldout[0][:8]
    base = to_digit_input(x)
    assert base.shape == (8, 1, 28, 28) and base.min() >= -1 and base.max() <= 1
    rgb = np.repeat(x, 3, axis=1)
    assert torch.allclose(to_digit_input(rgb), base)  # gray RGB -> the same gray
    big = torch.nn.functional.interpolate(torch.from_numpy(x).float(), size=56, mode="nearest")
    assert to_digit_input(big.round().to(torch.uint8)).shape == (8, 1, 28, 28)
    # resized digits are still recognised
    assert np.mean(predict(big.to(torch.uint8)) == digits_heldout[1][:8]) >= 0.75


def test_bad_inputs_raise():
    with pytest.raises(GankitError, match="uint8"):
        to_digit_input(np.zeros((2, 1, 28, 28), np.float32))
    with pytest.raises(GankitError, match="shape"):
        to_digit_input(np.zeros((2, 4, 28, 28), np.uint8))


def test_inception_needs_a_weights_file(monkeypatch, tmp_path):
    monkeypatch.delenv(features.INCEPTION_ENV, raising=False)
    with pytest.raises(MetricUnavailable, match="GANKIT_INCEPTION_WEIGHTS"):
        features.inception_extractor()
    with pytest.raises(MetricUnavailable, match="does not exist"):
        features.inception_extractor(path=tmp_path / "missing.pth")


def test_inception_refuses_other_weight_files(tmp_path):
    from gankit.metrics.inception import load_fid_inception

    bogus = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save({"w": torch.zeros(1)}, bogus)
    with pytest.raises(GankitError, match="SHA-256"):
        load_fid_inception(str(bogus))


def test_inception_network_shapes():
    from gankit.metrics.inception import FIDInceptionV3, inception_outputs

    torch.manual_seed(0)
    model = FIDInceptionV3().eval()
    x = np.random.default_rng(0).integers(0, 256, (1, 1, 32, 32), dtype=np.uint8)
    f, p = inception_outputs(x, model)
    assert f.shape == (1, 2048) and p.shape == (1, 1008)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-9)
    # the state dict has the names of pytorch-fid's FID Inception (as torchvision's Inception3)
    keys = model.state_dict().keys()
    assert "Mixed_7c.branch3x3dbl_3b.bn.running_var" in keys and "fc.weight" in keys
    assert not any(k.startswith("AuxLogits") for k in keys)
