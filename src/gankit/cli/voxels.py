"""What ``gankit sample`` and ``gankit translate`` write for a voxel generator (voxel-gan,
voxel-vae-gan): occupancy grids in an .npz, one OBJ mesh per grid, and a PNG turntable.

A generator gives each voxel a probability of being solid; a voxel is occupied where it is
above ``--threshold`` (0.5 by default). The .npz holds ``voxels`` uint8 (N, X, Y, Z) of 0/1
after the threshold (``y`` is up), ``threshold``, and for ``translate`` the input ``names``.
Everything is computed before anything is written, so a bad option leaves no partial output.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from gankit.errors import ConfigError

TURNTABLE_VIEWS = 8  # azimuths per shape in the turntable PNG


def check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"--threshold {threshold} must be between 0 and 1 (exclusive)")


def voxel_files(
    probs: np.ndarray,
    names: list[str],
    threshold: float,
    out: Path | None,
    mesh: Path | None,
    grid: Path | None,
) -> dict[Path, bytes]:
    """The files to write for voxel outputs ``probs`` uint8 (N, X, Y, Z) (probability × 255):
    ``out`` (.npz of occupancy, or a .png turntable), OBJ meshes ``mesh/<name>.obj`` and the
    turntable PNG (``grid``, else ``mesh/turntable.png`` or ``out`` with .png)."""
    from gankit.data.shapes import turntable
    from gankit.mesh import obj_text, voxel_mesh
    from gankit.models.voxel import occupancy
    from gankit.viz import image_grid, png_bytes

    check_threshold(threshold)
    occ = occupancy(probs, threshold)
    files: dict[Path, bytes] = {}
    png_target = grid
    if out is not None:
        suffix = out.suffix.lower()
        if suffix == ".npz":
            buf = io.BytesIO()
            np.savez_compressed(
                buf, voxels=occ, threshold=np.float32(threshold), names=np.array(names)
            )
            files[out] = buf.getvalue()
        elif suffix == ".png":
            png_target = png_target or out
        else:
            raise ConfigError(
                f"--out {str(out)!r}: a voxel generator writes an .npz (occupancy grids) or a "
                ".png (turntable)"
            )
    if mesh is not None:
        if mesh.exists() and not mesh.is_dir():
            raise ConfigError(f"--mesh {str(mesh)!r} exists and is not a folder")
        for name, g in zip(names, occ, strict=True):
            v, f = voxel_mesh(g)
            files[mesh / f"{name}.obj"] = obj_text(v, f, name).encode()
        png_target = png_target or mesh / "turntable.png"
    if png_target is None and out is not None:
        png_target = out.with_suffix(".png")
    if png_target is not None:
        views = turntable(occ[:64], TURNTABLE_VIEWS, size=48)
        files[png_target] = png_bytes(image_grid(views, nrow=TURNTABLE_VIEWS))
    if not files:
        raise ConfigError("nothing to write: give --out FILE.npz, --mesh FOLDER or --grid FILE.png")
    return files


def summary(files: dict[Path, bytes], n: int) -> str:
    objs = [p for p in files if p.suffix == ".obj"]
    parts = [str(p) for p in files if p.suffix != ".obj"]
    if objs:
        parts.append(f"{len(objs)} meshes in {objs[0].parent}")
    return f"{n} shape(s): " + ", ".join(parts)
