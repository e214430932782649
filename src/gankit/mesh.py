"""Voxel grids as triangle meshes a 3-D program opens: marching cubes, and Wavefront OBJ text.

A grid (X, Y, Z) of occupancy 0/1 is padded with one empty voxel on every side, so every
surface is closed, and its 0.5 iso-surface is extracted with scikit-image's marching cubes.
Vertices are in voxel units with voxel ``(i, j, k)``'s centre at ``(i, j, k)`` and ``y`` up (the
OBJ convention), so every vertex lies halfway between an occupied and an empty voxel centre.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.errors import DataError


def voxel_mesh(grid: np.ndarray, level: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The surface of ``grid`` (X, Y, Z; occupied where > ``level``): vertices float32 (V, 3)
    and triangles int64 (F, 3) (0-based, counter-clockwise seen from outside). An empty or a
    full grid has a surface only where it meets the padding: a full grid is a closed cube, an
    empty one has no vertices."""
    from skimage.measure import marching_cubes

    g = (np.asarray(grid) > level).astype(np.float32)
    if g.ndim != 3:
        raise DataError(f"a voxel grid must be 3-D (X, Y, Z); got shape {g.shape}")
    if not g.any():
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64)
    padded = np.pad(g, 1)
    verts, faces, _, _ = marching_cubes(padded, level=0.5, allow_degenerate=False)
    # marching cubes orients triangles towards increasing values (inwards here): flip them
    return (verts - 1.0).astype(np.float32), faces[:, ::-1].astype(np.int64)


def obj_text(verts: np.ndarray, faces: np.ndarray, name: str = "shape") -> str:
    """Wavefront OBJ: an object name, ``v x y z`` lines, then ``f a b c`` lines (1-based)."""
    lines = [f"# gankit voxel mesh: {len(verts)} vertices, {len(faces)} triangles", f"o {name}"]
    lines += [f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in verts]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    return "\n".join(lines) + "\n"


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) and triangles (F, 3), 0-based, of an OBJ file of triangles (``v`` and
    ``f`` lines; texture and normal indices after ``/`` are ignored)."""
    verts, faces = [], []
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {str(path)!r} as OBJ: {e}") from None
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0] == "v":
                verts.append([float(p) for p in parts[1:4]])
            elif parts[0] == "f":
                idx = [int(p.split("/")[0]) for p in parts[1:]]
                if len(idx) != 3:
                    raise ValueError("only triangles are read")
                faces.append([i - 1 if i > 0 else len(verts) + i for i in idx])
        except ValueError as e:
            raise DataError(f"{str(path)!r} line {n}: {e}") from None
    return np.asarray(verts, np.float32).reshape(-1, 3), np.asarray(faces, np.int64).reshape(-1, 3)
