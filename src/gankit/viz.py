"""Pictures of samples: image grids (Pillow) and 2-D scatter plots over D's decision surface."""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image


def image_grid(
    images: torch.Tensor | np.ndarray, nrow: int | None = None, pad: int = 2
) -> Image.Image:
    """uint8 (N, C, H, W) with C in {1, 3} -> one PIL image, ``nrow`` images per row."""
    x = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    assert x.dtype == np.uint8 and x.ndim == 4 and x.shape[1] in (1, 3), (x.dtype, x.shape)
    n, c, h, w = x.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    canvas = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        y0, x0 = pad + r * (h + pad), pad + col * (w + pad)
        canvas[y0 : y0 + h, x0 : x0 + w] = x[i].transpose(1, 2, 0)  # (H, W, C)
    return Image.fromarray(canvas[..., 0] if c == 1 else canvas, "L" if c == 1 else "RGB")


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def scatter_png(
    real: np.ndarray,
    fake: np.ndarray,
    surface: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    title: str = "",
) -> bytes:
    """Real (black) and generated (red) 2-D points over D's output (xs, ys, values (ny, nx))."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    if surface is not None:
        xs, ys, values = surface
        cs = ax.contourf(xs, ys, values, levels=20, cmap="RdBu_r", alpha=0.6)
        fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="D(x)")
    ax.scatter(real[:, 0], real[:, 1], s=3, c="black", label="real", alpha=0.6)
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="red", label="generated", alpha=0.6)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def plot_bounds(points: np.ndarray, margin: float = 0.25) -> tuple[float, float, float, float]:
    lo, hi = points.min(0), points.max(0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def translation_grid(columns: list[torch.Tensor | np.ndarray], pad: int = 2) -> Image.Image:
    """Rows of (input | output | target) cells: ``columns`` holds uint8 (N, C, H, W) arrays, one per
    part of a cell (their channels and sizes may differ: grayscale parts become RGB beside colour
    ones, smaller parts are scaled up by pixel repetition), and the cells run left to right."""
    parts = [c.numpy() if isinstance(c, torch.Tensor) else np.asarray(c) for c in columns]
    n = min(len(p) for p in parts)
    h = max(p.shape[2] for p in parts)
    w = max(p.shape[3] for p in parts)
    c = max(p.shape[1] for p in parts)
    fitted = []
    for p in parts:
        p = p[:n]
        if p.shape[1] != c:
            p = np.repeat(p, c, axis=1)
        if p.shape[2:] != (h, w):
            p = np.repeat(np.repeat(p, h // p.shape[2], axis=2), w // p.shape[3], axis=3)
            p = np.pad(p, ((0, 0), (0, 0), (0, h - p.shape[2]), (0, w - p.shape[3])))
        fitted.append(p)
    cells = np.stack(fitted, axis=1).reshape(n * len(parts), c, h, w)  # cell-major
    per_row = max(1, math.ceil(math.sqrt(n / len(parts))))
    return image_grid(cells, nrow=per_row * len(parts), pad=pad)


def rollout_frames(
    context: np.ndarray, predicted: np.ndarray, true: np.ndarray, pad: int = 2
) -> list[Image.Image]:
    """The frames of a context | predicted | true animation, uint8 (N, T, C, H, W) context and
    (N, K, C, H, W) predicted and true futures: during the context every column plays it; then
    the first column holds the last context frame while the others play the futures."""
    t = context.shape[1]
    out = []
    for i in range(t + predicted.shape[1]):
        if i < t:
            cols = [context[:, i]] * 3
        else:
            cols = [context[:, -1], predicted[:, i - t], true[:, i - t]]
        out.append(translation_grid(cols, pad=pad))
    return out


def rollout_apng(
    context: torch.Tensor | np.ndarray,
    predicted: torch.Tensor | np.ndarray,
    true: torch.Tensor | np.ndarray,
    ms: int = 250,
) -> bytes:
    """``rollout_frames`` as an animated PNG (browsers play it where a PNG is shown)."""
    arrays = [
        x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        for x in (context, predicted, true)
    ]
    frames = rollout_frames(*arrays)
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()


def rollout_gif(frames: torch.Tensor | np.ndarray, ms: int = 200) -> bytes:
    """One video uint8 (T, C, H, W) as an animated GIF (loops)."""
    x = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    imgs = [image_grid(f[None], nrow=1, pad=0) for f in x]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=ms, loop=0)
    return buf.getvalue()
