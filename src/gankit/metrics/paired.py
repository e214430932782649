"""Metrics of a translation against its targets (pix2pix and the image-to-image families).

Outputs and targets are uint8 ``(N, C, H, W)`` of the same shape. L1 is in [0, 1] units; PSNR and
SSIM are ``skimage.metrics``'s, per image, then averaged; sharpness is the mean gradient magnitude
(finite differences, [0, 1] units), and ``sharpness_ratio`` the outputs' over the targets' (1 =
as sharp as the real images; an L1-only network's blur shows as a ratio well below 1). For digit
targets (1×28×28 with labels) the project's MNIST classifier scores the outputs: its accuracy
against the source digit's label, and FID on its features against the real targets.
"""

from __future__ import annotations

import numpy as np

import gankit
from gankit.metrics.evaluate import Result


def l1(outputs: np.ndarray, targets: np.ndarray) -> float:
    return float(np.abs(outputs.astype(np.float64) - targets.astype(np.float64)).mean() / 255.0)


def psnr(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean per-image PSNR in dB (data range 255); identical images count as 100 dB."""
    from skimage.metrics import peak_signal_noise_ratio

    vals = []
    for o, t in zip(outputs, targets, strict=True):
        if np.array_equal(o, t):
            vals.append(100.0)
        else:
            vals.append(peak_signal_noise_ratio(t, o, data_range=255))
    return float(np.mean(vals))


def psnr_y(outputs: np.ndarray, targets: np.ndarray, border: int = 0) -> float:
    """Mean per-image PSNR in dB on the luminance, the super-resolution protocol: Y of ITU-R
    BT.601 (``16 + (65.481 R + 128.553 G + 24.966 B) / 255``, MATLAB's ``rgb2ycbcr``) for colour
    images, the image itself for grey ones, ``border`` pixels cropped from every side."""

    def luma(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        if x.shape[1] == 3:
            x = 16.0 + (65.481 * x[:, 0] + 128.553 * x[:, 1] + 24.966 * x[:, 2]) / 255.0
        else:
            x = x[:, 0]
        return x[:, border : x.shape[1] - border, border : x.shape[2] - border]

    o, t = luma(outputs), luma(targets)
    mse = ((o - t) ** 2).reshape(len(o), -1).mean(1)
    return float(np.mean(np.where(mse > 0, 10 * np.log10(255.0**2 / np.maximum(mse, 1e-12)), 100)))


def high_frequency_ratio(outputs: np.ndarray, targets: np.ndarray, cutoff: float) -> float:
    """The outputs' spectral power above ``cutoff`` cycles/px (e.g. 1 / (2 scale): the detail a
    ``scale``-times smaller image cannot hold) over the targets', averaged over images and
    channels; 1 = as much fine detail as the real images, bicubic upsampling is near 0."""

    def power(x: np.ndarray) -> float:
        x = x.astype(np.float64)
        x = x - x.mean(axis=(2, 3), keepdims=True)
        f = np.abs(np.fft.fft2(x)) ** 2
        fy = np.fft.fftfreq(x.shape[2])[:, None]
        fx = np.fft.fftfreq(x.shape[3])[None, :]
        return float(f[..., np.hypot(fy, fx) > cutoff].sum())

    return power(outputs) / max(power(targets), 1e-12)


def hole_psnr(outputs: np.ndarray, targets: np.ndarray, masks: np.ndarray) -> float:
    """Mean per-image PSNR in dB over the hole's pixels only (masks uint8 (N, 1, H, W), > 127 =
    hole): an inpainting's score, not diluted by the pixels it was given. Exact fills count as
    100 dB; images without a hole are skipped."""
    vals = []
    for o, t, m in zip(outputs, targets, masks, strict=True):
        hole = np.broadcast_to(m > 127, o.shape)
        if not hole.any():
            continue
        mse = np.mean((o[hole].astype(np.float64) - t[hole].astype(np.float64)) ** 2)
        vals.append(100.0 if mse == 0 else 10 * np.log10(255.0**2 / mse))
    return float(np.mean(vals)) if vals else float("nan")


def ssim(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean per-image SSIM (7×7 window, or the image's size when smaller)."""
    from skimage.metrics import structural_similarity

    h, w = outputs.shape[2:]
    win = min(7, h, w)
    win -= 1 - win % 2  # odd
    vals = [
        structural_similarity(t, o, data_range=255, channel_axis=0, win_size=win)
        for o, t in zip(outputs, targets, strict=True)
    ]
    return float(np.mean(vals))


def sharpness(images: np.ndarray) -> float:
    """Mean gradient magnitude of uint8 images, in [0, 1] units per pixel."""
    x = images.astype(np.float64) / 255.0
    gy = np.diff(x, axis=2)[..., :, :-1]
    gx = np.diff(x, axis=3)[..., :-1, :]
    return float(np.sqrt(gx**2 + gy**2).mean())


def translation_results(
    outputs: np.ndarray,
    targets: np.ndarray,
    labels: np.ndarray | None,
    reference: str,
    seed: int = 0,
    masks: np.ndarray | None = None,
) -> list[Result]:
    """Every translation metric that fits these images, each with its passport; with ``masks``
    (an inpainting's holes) the PSNR over the holes too."""
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs {outputs.shape} and targets {targets.shape} differ in shape")
    base = {
        "n_fake": len(outputs),
        "n_real": len(targets),
        "reference": reference,
        "seed": seed,
        "gankit_version": gankit.__version__,
    }

    def passport(metric: str, extractor: str | None = None, sha: str | None = None) -> dict:
        return {
            "metric": metric,
            "extractor": extractor,
            "extractor_sha256": sha,
            **base,
            "params": {},
        }

    sharp_out, sharp_real = sharpness(outputs), sharpness(targets)
    results = [
        Result("l1", "l1", l1(outputs, targets), better="lower", passport=passport("l1")),
        Result("psnr", "psnr", psnr(outputs, targets), better="higher", passport=passport("psnr")),
        Result("ssim", "ssim", ssim(outputs, targets), better="higher", passport=passport("ssim")),
        Result(
            "sharpness",
            "sharpness",
            sharp_out,
            better="",
            note=f"real targets: {sharp_real:.4f}",
            passport=passport("sharpness"),
        ),
        Result(
            "sharpness",
            "sharpness_ratio",
            sharp_out / sharp_real if sharp_real else None,
            better="~1",
            passport=passport("sharpness"),
        ),
    ]
    if masks is not None:
        results.append(
            Result(
                "psnr",
                "psnr_hole",
                hole_psnr(outputs, targets, masks),
                better="higher",
                note="PSNR over the holes' pixels only",
                passport=passport("psnr"),
            )
        )
    if labels is not None and outputs.shape[1:] == (1, 28, 28):
        from gankit.metrics import features, fid

        ext = features.mnist_extractor()
        f_out, p_out = ext.outputs(outputs)
        f_real, p_real = ext.outputs(targets)
        acc = float((p_out.argmax(1) == labels).mean())
        real_acc = float((p_real.argmax(1) == labels).mean())
        results.append(
            Result(
                "label-accuracy",
                "accuracy",
                acc,
                better="higher",
                note=f"classifier on the outputs vs the source digit's label (targets: {real_acc:.3f})",
                passport=passport("label-accuracy", ext.name, ext.sha256),
            )
        )
        results.append(
            Result(
                "fid",
                "fid",
                fid.fid_from_features(f_out, f_real),
                better="lower",
                note="classifier features, outputs vs the held-out targets",
                passport=passport("fid", ext.name, ext.sha256),
            )
        )
    return results
