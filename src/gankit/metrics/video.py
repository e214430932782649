"""Metrics of predicted video frames against the true ones, per future frame (t+1, t+2, ...).

As in Mathieu et al. 2016 (section 4.1): PSNR, SSIM and the sharpness difference

    sharp. diff = 10 log10( max² / mean |(∇_i Y + ∇_j Y) - (∇_i Ŷ + ∇_j Ŷ)| )

with ``∇_i Y = |Y_{i,j} - Y_{i-1,j}|`` and ``∇_j Y = |Y_{i,j} - Y_{i,j-1}|`` (dB, higher = the
prediction's edges are closer to the truth's; max = 255 for uint8), each on all pixels and on the
moving pixels only: those where the true frame differs from the last frame the model saw (by more
than ``MOVING_THRESHOLD`` of 255), so the static background does not dominate the average.

Frames are uint8 ``(N, C, H, W)``; every measure is computed per image, then averaged.
"""

from __future__ import annotations

import numpy as np

MOVING_THRESHOLD = 8  # of 255: larger changes than this count as motion
CAP_DB = 100.0  # a perfect prediction (zero error) counts as this many dB


def _db(err: float) -> float:
    return CAP_DB if err <= 0 else float(min(CAP_DB, 10 * np.log10(255.0**2 / err)))


def gradient_sum(x: np.ndarray) -> np.ndarray:
    """``∇_i + ∇_j`` of (N, C, H, W) images as float64 (N, C, H-1, W-1) on pixels i, j >= 1."""
    x = x.astype(np.float64)
    gi = np.abs(x[..., 1:, 1:] - x[..., :-1, 1:])
    gj = np.abs(x[..., 1:, 1:] - x[..., 1:, :-1])
    return gi + gj


def moving_mask(true: np.ndarray, last: np.ndarray) -> np.ndarray:
    """bool (N, C, H, W): the pixels where the true frame differs from the last seen frame."""
    return np.abs(true.astype(np.int16) - last.astype(np.int16)) > MOVING_THRESHOLD


def psnr(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean per-image PSNR in dB (on the masked pixels only with ``mask``; images whose mask is
    empty are left out)."""
    err = (pred.astype(np.float64) - true.astype(np.float64)) ** 2
    return _masked_mean_db(err, mask)


def sharpness_difference(
    pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None
) -> float:
    """Mathieu et al.'s sharpness difference in dB, per image, averaged."""
    err = np.abs(gradient_sum(true) - gradient_sum(pred))
    return _masked_mean_db(err, None if mask is None else mask[..., 1:, 1:])


def _masked_mean_db(err: np.ndarray, mask: np.ndarray | None) -> float:
    vals = []
    for i in range(len(err)):
        if mask is None:
            vals.append(_db(float(err[i].mean())))
        elif mask[i].any():
            vals.append(_db(float(err[i][mask[i]].mean())))
    return float(np.mean(vals)) if vals else float("nan")


def ssim(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean per-image SSIM (``skimage.metrics``, 7×7 window), over the masked pixels of its
    SSIM map with ``mask``."""
    from skimage.metrics import structural_similarity

    vals = []
    for i in range(len(pred)):
        s, full = structural_similarity(
            true[i], pred[i], data_range=255, channel_axis=0, win_size=7, full=True
        )
        if mask is None:
            vals.append(float(s))
        elif mask[i].any():
            vals.append(float(full[mask[i]].mean()))
    return float(np.mean(vals)) if vals else float("nan")


def per_frame(pred: np.ndarray, true: np.ndarray, last: np.ndarray) -> list[dict[str, float]]:
    """Every measure for each future frame: ``pred`` and ``true`` uint8 (N, K, C, H, W), ``last``
    the last context frame (N, C, H, W). Returns one dict per frame t+1 .. t+K."""
    rows = []
    for k in range(pred.shape[1]):
        p, t = pred[:, k], true[:, k]
        m = moving_mask(t, last)
        rows.append(
            {
                "t": k + 1,
                "psnr": psnr(p, t),
                "ssim": ssim(p, t),
                "sharpness": sharpness_difference(p, t),
                "psnr_moving": psnr(p, t, m),
                "ssim_moving": ssim(p, t, m),
                "sharpness_moving": sharpness_difference(p, t, m),
            }
        )
    return rows


def digit_windows(frames: np.ndarray, pos: np.ndarray, box: int = 28) -> np.ndarray:
    """The ``box``² window at each top-left corner ``pos`` (N, 2) of frames (N, C, H, W)."""
    return np.stack([f[:, r : r + box, c : c + box] for f, (r, c) in zip(frames, pos, strict=True)])


def digit_accuracy(frames: np.ndarray, pos: np.ndarray, labels: np.ndarray) -> float:
    """The project's MNIST classifier on the 28×28 window at each digit's true position: the
    fraction of frames (N, 1, H, W) where it names the digit's class ``labels`` (N,)."""
    from gankit.metrics import features

    _, probs = features.mnist_extractor().outputs(digit_windows(frames, pos))
    return float((probs.argmax(1) == labels).mean())


def next_frame_results(pred, true, last, reference: str, seed: int = 0) -> list:
    """``gankit eval`` of a video run: every measure of ``per_frame`` for the predicted next
    frames (N, C, H, W) against the true ones, with their passports."""
    import gankit
    from gankit.metrics.evaluate import Result

    row = per_frame(pred[:, None], true[:, None], last)[0]
    out = []
    for key in ("psnr", "ssim", "sharpness", "psnr_moving", "ssim_moving", "sharpness_moving"):
        passport = {
            "metric": f"next-frame-{key}",
            "extractor": None,
            "extractor_sha256": None,
            "n_fake": len(pred),
            "n_real": len(true),
            "reference": reference,
            "seed": seed,
            "gankit_version": gankit.__version__,
            "params": {"moving_threshold": MOVING_THRESHOLD} if "moving" in key else {},
        }
        out.append(Result(f"next-frame-{key}", key, row[key], better="higher", passport=passport))
    return out
