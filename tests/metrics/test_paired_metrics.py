"""Translation metrics against targets: each moves the right way on images whose answer is known."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from gankit.metrics.paired import l1, psnr, sharpness, ssim, translation_results


def _images(n=8, c=1, size=28, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, c, size, size))
    for i in range(n):  # a few bright rectangles: sharp edges
        for _ in range(3):
            y0, x0 = rng.integers(0, size - 8, 2)
            x[i, :, y0 : y0 + 8, x0 : x0 + 4] = 255
    return x.astype(np.uint8)


def test_identical_blurred_and_noisy():
    t = _images()
    blur = np.stack([gaussian_filter(im.astype(float), (0, 1.5, 1.5)) for im in t])
    blur = blur.round().astype(np.uint8)
    assert l1(t, t) == 0 and psnr(t, t) == 100 and abs(ssim(t, t) - 1) < 1e-9
    assert 0 < l1(blur, t) < 0.2 and psnr(blur, t) < 40 and ssim(blur, t) < 1
    assert sharpness(blur) < 0.7 * sharpness(t)  # blur is what the L1-only network draws
    rgb = _images(c=3)
    assert 0.999 < ssim(rgb, rgb) <= 1


def test_results_for_digits_include_the_classifier():
    t = _images()
    res = {r.name: r for r in translation_results(t, t, np.zeros(8, int), "test", seed=0)}
    assert res["sharpness_ratio"].value == 1 and res["l1"].value == 0
    assert "accuracy" in res and "fid" in res
    res = {r.name: r for r in translation_results(t, t, None, "test")}
    assert "accuracy" not in res  # no labels: no classifier accuracy
