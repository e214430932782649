"""Procedural 3-D shapes (``shapes``): 32³ voxel objects of six classes, each with a rendered view.

Every object is built from axis-aligned boxes and vertical cylinders (solid, hollow, or tapered)
with proportions drawn at random: chairs (seat, four legs, a back), tables (a thin top on four
legs, no back), beds (a long low mattress, a headboard, a footboard), shelves (two side panels,
a back, two to four boards), lamps (a round base, a pole, a tapered shade) and mugs (a hollow
cylinder with a bottom and a handle). Object ``i`` of class ``c`` comes from the random stream
seeded by ``(c, i)``, so the same object is the same on every machine and in every run; the
held-out objects are those with ``i >= TRAIN_PER_CLASS`` (other seeds, never trained on).

Layout: a voxel grid is indexed ``[x, y, z]`` with ``y`` up; objects stand on ``y = 0`` and are
centred in ``x`` and ``z`` with their backs (chair back, headboard, shelf back, mug handle...) at
the low ``z`` side, as aligned 3-D datasets (ShapeNet) have them. ``ArrayDataset.x`` holds the
grids as uint8 (N, 32, 32, 32) with 255 = occupied: the ``x`` axis is stored where an image's
channel axis is, so batches, checkpoints and exports handle voxels like images ([-1, 1] per
batch: -1 empty, +1 full). ``inputs["image"]`` is each object's view (N, 1, V, V): an
orthographic, shaded rendering from a random camera (azimuth 0-360°, elevation 10-45°, drawn
from the object's own stream); ``extra`` holds those angles in degrees.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.data.base import ArrayDataset, DataConfig, DataInfo
from gankit.errors import DataError
from gankit.registry import register_dataset

GRID = 32  # voxels per side
VIEW = 32  # rendered view, px per side
CLASSES = ("chair", "table", "bed", "shelf", "lamp", "mug")
TRAIN_PER_CLASS, HELD_PER_CLASS = 500, 50
ELEVATION = (10.0, 45.0)  # degrees: the range the views' cameras are drawn from

# -- primitives -----------------------------------------------------------------------------------
_C = np.arange(GRID) + 0.5  # voxel centres


def _axes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.meshgrid(_C, _C, _C, indexing="ij")


def box(v: np.ndarray, x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> None:
    """Fill the voxels whose centres lie in the box [x0, x1] × [y0, y1] × [z0, z1]."""
    xs = (_C >= x0) & (_C <= x1)
    ys = (_C >= y0) & (_C <= y1)
    zs = (_C >= z0) & (_C <= z1)
    v |= xs[:, None, None] & ys[None, :, None] & zs[None, None, :]


def cylinder(
    v: np.ndarray,
    cx: float,
    cz: float,
    r0: float,
    y0: float,
    y1: float,
    r1: float | None = None,
    inner: float = 0.0,
) -> None:
    """Fill a vertical cylinder on axis (cx, cz) from y0 to y1: radius r0 at the bottom tapering
    linearly to r1 at the top (a frustum; default r1 = r0), hollow inside radius ``inner``."""
    x, y, z = _axes()
    r1 = r0 if r1 is None else r1
    t = np.clip((y - y0) / max(y1 - y0, 1e-6), 0.0, 1.0)
    radius = r0 + (r1 - r0) * t
    d = np.hypot(x - cx, z - cz)
    v |= (y >= y0) & (y <= y1) & (d <= radius) & (d >= inner)


# -- the six classes ------------------------------------------------------------------------------
MID = GRID / 2


def _legs(v, rng, w, d, h, t, inset=0.0) -> None:
    """Four square legs of side ``t`` under a ``w`` × ``d`` top, from the floor to height ``h``."""
    for sx in (-1, 1):
        for sz in (-1, 1):
            cx = MID + sx * (w / 2 - inset - t / 2)
            cz = MID + sz * (d / 2 - inset - t / 2)
            box(v, cx - t / 2, cx + t / 2, 0, h, cz - t / 2, cz + t / 2)


def chair(rng: np.random.Generator) -> np.ndarray:
    v = np.zeros((GRID,) * 3, bool)
    w, d = rng.uniform(12, 20), rng.uniform(12, 18)
    seat_h, seat_t = rng.uniform(9, 14), rng.uniform(1.5, 3.0)
    leg = rng.uniform(1.5, 3.0)
    back_h = rng.uniform(9, 30 - seat_h - seat_t)
    back_t = rng.uniform(1.5, 3.0)
    _legs(v, rng, w, d, seat_h, leg)
    box(v, MID - w / 2, MID + w / 2, seat_h, seat_h + seat_t, MID - d / 2, MID + d / 2)
    top = seat_h + seat_t + back_h
    box(v, MID - w / 2, MID + w / 2, seat_h, top, MID - d / 2, MID - d / 2 + back_t)
    return v


def table(rng: np.random.Generator) -> np.ndarray:
    v = np.zeros((GRID,) * 3, bool)
    w, d = rng.uniform(20, 30), rng.uniform(14, 26)
    h, t = rng.uniform(10, 22), rng.uniform(1.5, 3.0)
    leg = rng.uniform(1.5, 3.5)
    _legs(v, rng, w, d, h, leg, inset=rng.uniform(0, 2))
    box(v, MID - w / 2, MID + w / 2, h, h + t, MID - d / 2, MID + d / 2)
    return v


def bed(rng: np.random.Generator) -> np.ndarray:
    v = np.zeros((GRID,) * 3, bool)
    w, d = rng.uniform(14, 22), rng.uniform(24, 30)
    leg = rng.uniform(1, 4)
    mat = rng.uniform(3, 7)
    head_h, foot_h = rng.uniform(6, 14), rng.uniform(0, 5)
    t = rng.uniform(1.5, 3)
    _legs(v, rng, w, d, leg, 2.0)
    box(v, MID - w / 2, MID + w / 2, leg, leg + mat, MID - d / 2, MID + d / 2)
    box(v, MID - w / 2, MID + w / 2, 0, leg + mat + head_h, MID - d / 2, MID - d / 2 + t)
    if foot_h > 1:
        box(v, MID - w / 2, MID + w / 2, 0, leg + mat + foot_h, MID + d / 2 - t, MID + d / 2)
    return v


def shelf(rng: np.random.Generator) -> np.ndarray:
    v = np.zeros((GRID,) * 3, bool)
    w, d, h = rng.uniform(12, 26), rng.uniform(6, 12), rng.uniform(18, 31)
    t = rng.uniform(1.2, 2.2)
    x0, x1, z0, z1 = MID - w / 2, MID + w / 2, MID - d / 2, MID + d / 2
    box(v, x0, x0 + t, 0, h, z0, z1)
    box(v, x1 - t, x1, 0, h, z0, z1)
    box(v, x0, x1, 0, h, z0, z0 + t)  # the back
    boards = int(rng.integers(2, 5))
    for k in range(boards + 1):
        y = k * (h - t) / boards
        box(v, x0, x1, y, y + t, z0, z1)
    return v


def lamp(rng: np.random.Generator) -> np.ndarray:
    v = np.zeros((GRID,) * 3, bool)
    base_r, base_h = rng.uniform(4, 8), rng.uniform(1.5, 3)
    pole_r, pole_h = rng.uniform(0.8, 1.6), rng.uniform(10, 22)
    shade_h = rng.uniform(5, min(10, 31 - pole_h))
    r_bottom, r_top = rng.uniform(5, 10), rng.uniform(2.5, 5)
    cylinder(v, MID, MID, base_r, 0, base_h)
    cylinder(v, MID, MID, pole_r, 0, pole_h + shade_h / 2)
    y0 = pole_h
    cylinder(v, MID, MID, r_bottom, y0, y0 + shade_h, r1=r_top)
    return v


def mug(rng: np.random.Generator) -> np.ndarray:
    v = np.zeros((GRID,) * 3, bool)
    r, h = rng.uniform(6, 10), rng.uniform(10, 22)
    wall, bottom = rng.uniform(1.5, 2.8), rng.uniform(1.5, 3)
    cz = MID + rng.uniform(2, 4)  # room for the handle at the low-z side
    cylinder(v, MID, cz, r, 0, h, inner=r - wall)
    cylinder(v, MID, cz, r, 0, bottom)
    hh, t, reach = rng.uniform(0.4, 0.7) * h, rng.uniform(1.5, 2.5), rng.uniform(3, 5)
    y0, y1, z_out = (h - hh) / 2, (h + hh) / 2, cz - r - reach
    box(v, MID - t / 2, MID + t / 2, y0, y0 + t, z_out, cz - r + 1)
    box(v, MID - t / 2, MID + t / 2, y1 - t, y1, z_out, cz - r + 1)
    box(v, MID - t / 2, MID + t / 2, y0, y1, z_out, z_out + t)
    return v


BUILDERS = {"chair": chair, "table": table, "bed": bed, "shelf": shelf, "lamp": lamp, "mug": mug}


def object_rng(cls: int, index: int) -> np.random.Generator:
    """The random stream of object ``index`` of class ``cls`` (proportions, then its camera)."""
    return np.random.default_rng([20_161_024, cls, index])


def build_shape(cls: int, index: int) -> tuple[np.ndarray, float, float]:
    """Object ``index`` of class ``cls`` (an index into ``CLASSES``): its bool grid (32, 32, 32)
    and the azimuth and elevation (degrees) of its view's camera."""
    if not 0 <= cls < len(CLASSES):
        raise DataError(f"shape class {cls} is out of range; allowed: 0..{len(CLASSES) - 1}")
    rng = object_rng(cls, index)
    grid = BUILDERS[CLASSES[cls]](rng)
    azimuth, elevation = rng.uniform(0, 360), rng.uniform(*ELEVATION)
    return grid, float(azimuth), float(elevation)


# -- rendering ------------------------------------------------------------------------------------
LIGHT = np.array([-0.4, 0.6, 0.7])  # camera space (right, up, towards the viewer)


def camera(azimuth: float, elevation: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, forward) unit vectors of an orthographic camera looking at the grid's centre
    from ``azimuth`` degrees around the vertical axis (0: from the +z side, the objects' front)
    and ``elevation`` degrees above the horizon."""
    a, e = np.radians(azimuth), np.radians(elevation)
    eye = np.array([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)])
    forward = -eye
    right = np.array([np.cos(a), 0.0, -np.sin(a)])
    up = np.cross(right, forward)
    return right, up, forward


def render(
    grid: np.ndarray, azimuth: float, elevation: float, size: int = VIEW, extent: float = 20.0
) -> np.ndarray:
    """A shaded orthographic view of a voxel grid (X, Y, Z), occupied where > 0.5: uint8
    (size, size), black background. Rays march in half-voxel steps; the first occupied voxel
    along a ray is shaded by the angle between a fixed light and the surface normal (the
    gradient of the lightly blurred occupancy). ``extent``: half the view's width, in voxels.
    Pure numpy and deterministic."""
    occ = np.asarray(grid, dtype=np.float32) > 0.5
    n = occ.shape[0]
    right, up, forward = camera(azimuth, elevation)
    centre = np.full(3, n / 2, np.float32)
    u = ((np.arange(size) + 0.5) / size * 2 - 1).astype(np.float32) * extent  # across the image
    depth = np.arange(-0.87 * n, 0.87 * n, 0.5, dtype=np.float32)  # the grid's bounding sphere
    plane = (
        centre
        + u[None, :, None] * right.astype(np.float32)
        - u[:, None, None] * up.astype(np.float32)
    )  # (size, size, 3): rows top to bottom
    pts = plane[:, :, None, :] + depth[None, None, :, None] * forward.astype(np.float32)
    idx = np.floor(pts).astype(np.int64)  # (size, size, steps, 3)
    inside = np.all((idx >= 0) & (idx < n), axis=-1)
    idx = np.clip(idx, 0, n - 1)
    hit = inside & occ[idx[..., 0], idx[..., 1], idx[..., 2]]
    any_hit = hit.any(-1)
    first = hit.argmax(-1)
    where = np.take_along_axis(idx, first[..., None, None], axis=2)[:, :, 0]  # (size, size, 3)
    soft = np.pad(_blur(occ.astype(np.float32)), 1, mode="edge")
    wx, wy, wz = (where[..., k] + 1 for k in range(3))  # central differences at the hits only
    grads = np.stack(
        [
            soft[wx + 1, wy, wz] - soft[wx - 1, wy, wz],
            soft[wx, wy + 1, wz] - soft[wx, wy - 1, wz],
            soft[wx, wy, wz + 1] - soft[wx, wy, wz - 1],
        ],
        -1,
    )
    normal = -grads
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True) + 1e-6
    light = LIGHT[0] * right + LIGHT[1] * up - LIGHT[2] * forward
    light /= np.linalg.norm(light)
    lambert = np.clip(normal @ light, 0.0, 1.0)
    near = 1.0 - (np.take(depth, first) + n) / (2 * n)  # slightly brighter when closer
    shade = 0.25 + 0.6 * lambert + 0.15 * near
    return np.where(any_hit, np.clip(shade, 0, 1) * 255, 0).round().astype(np.uint8)


def _blur(v: np.ndarray) -> np.ndarray:
    """A 3-tap box blur along each axis (edge values repeated): smooth normals on voxel faces."""
    for axis in range(3):
        p = np.pad(v, [(1, 1) if a == axis else (0, 0) for a in range(3)], mode="edge")
        sl = [slice(None)] * 3
        parts = []
        for k in range(3):
            sl[axis] = slice(k, k + v.shape[axis])
            parts.append(p[tuple(sl)])
        v = sum(parts) / 3
    return v


def turntable(grids: np.ndarray, views: int = 8, elevation: float = 25.0, size: int = VIEW):
    """Each grid (N, X, Y, Z) rendered from ``views`` azimuths evenly around it: uint8
    (N * views, 1, size, size), row-major (one row of views per grid)."""
    az = np.arange(views) * 360.0 / views
    out = [render(g, a, elevation, size) for g in grids for a in az]
    return np.stack(out)[:, None] if out else np.zeros((0, 1, size, size), np.uint8)


# -- the dataset ----------------------------------------------------------------------------------
def shapes_arrays(
    per_class: int, start: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Objects ``start .. start + per_class - 1`` of every class, class by class: grids uint8
    (N, 32, 32, 32) (255 = occupied), labels (N,), views uint8 (N, 1, 32, 32) and the cameras'
    (azimuth, elevation) (N, 2) in degrees."""
    grids, labels, views, cams = [], [], [], []
    for c in range(len(CLASSES)):
        for i in range(start, start + per_class):
            g, az, el = build_shape(c, i)
            grids.append(g)
            labels.append(c)
            views.append(render(g, az, el))
            cams.append((az, el))
    return (
        np.stack(grids).astype(np.uint8) * 255,
        np.asarray(labels, np.int64),
        np.stack(views)[:, None],
        np.asarray(cams, np.float32),
    )


def shapes_info() -> DataInfo:
    return DataInfo(
        name="shapes",
        kind="images",
        shape=(GRID, GRID, GRID),
        num_classes=len(CLASSES),
        class_names=list(CLASSES),
        inputs={"image": (1, VIEW, VIEW)},
    )


@register_dataset("shapes")
def load_shapes(cfg: DataConfig, seed: int) -> ArrayDataset:
    """The procedural shapes: ``TRAIN_PER_CLASS`` training objects of each class, then the
    ``HELD_PER_CLASS`` held-out ones (``held``). ``data.limit`` caps the objects per class (both
    sides). The objects are the same for every run seed: they come from their own seeds."""
    if cfg.flip or cfg.jitter or cfg.masks:
        raise DataError("data.flip, data.jitter and data.masks do not apply to shapes (voxels)")
    if cfg.image_size not in (None, VIEW) or cfg.channels not in (None, 1):
        raise DataError(
            f"shapes are {GRID}³ voxels with {VIEW}×{VIEW} grey views; leave data.image_size and "
            "data.channels unset"
        )
    n_train = min(TRAIN_PER_CLASS, cfg.limit or TRAIN_PER_CLASS)
    n_held = min(HELD_PER_CLASS, cfg.limit or HELD_PER_CLASS)
    train = shapes_arrays(n_train, 0)
    held = shapes_arrays(n_held, TRAIN_PER_CLASS)
    x, y, views, cams = (np.concatenate(p) for p in zip(train, held, strict=True))
    held_mask = torch.zeros(len(x), dtype=torch.bool)
    held_mask[len(train[0]) :] = True
    return ArrayDataset(
        x=torch.from_numpy(x),
        y=torch.from_numpy(y),
        info=shapes_info(),
        extra={"camera": torch.from_numpy(cams)},
        inputs={"image": torch.from_numpy(views)},
        held=held_mask,
    )
