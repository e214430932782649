"""The procedural shapes: deterministic objects and views, held out by seed; meshes of grids."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.data import DataConfig, load_dataset, split_holdout
from gankit.data.shapes import CLASSES, TRAIN_PER_CLASS, build_shape, render, turntable
from gankit.errors import DataError
from gankit.mesh import obj_text, read_obj, voxel_mesh


def test_objects_and_views_are_the_same_for_a_seed_and_differ_across_seeds():
    for c in range(len(CLASSES)):
        a, az, el = build_shape(c, 3)
        b, az2, el2 = build_shape(c, 3)
        assert np.array_equal(a, b) and (az, el) == (az2, el2)
        assert np.array_equal(render(a, az, el), render(b, az2, el2))
        other, _, _ = build_shape(c, 4)
        assert not np.array_equal(a, other)  # random proportions
        assert 0.005 < a.mean() < 0.4  # neither empty nor a solid block
        assert a[:, 0, :].any()  # stands on the floor


def test_the_renderer_sees_the_object_from_its_camera():
    g, _, _ = build_shape(CLASSES.index("shelf"), 0)
    front, side = render(g, 0, 20), render(g, 90, 20)
    assert front.dtype == np.uint8 and front.shape == (32, 32)
    assert front[0].max() == 0 and (front > 0).mean() > 0.1  # background, then the object
    # a shelf is wide and shallow: it covers more of the view from the front than from the side
    assert (front > 0).sum() > 1.3 * (side > 0).sum()
    # the lit side differs from the other one: shading, not a silhouette
    assert len(np.unique(front[front > 0])) > 3
    grid = turntable(g[None], views=4, size=24)
    assert grid.shape == (4, 1, 24, 24)
    assert np.array_equal(grid[0, 0], render(g, 0, 25, 24))


def test_dataset_holds_out_other_seeds():
    ds = load_dataset(DataConfig(name="shapes", limit=3))
    train, held = split_holdout(ds, 0)
    assert len(train) == 3 * len(CLASSES) and len(held) == 3 * len(CLASSES)
    assert ds.x.shape[1:] == (32, 32, 32) and set(ds.x.unique().tolist()) == {0, 255}
    assert ds.inputs["image"].shape[1:] == (1, 32, 32)
    first_held, _, _ = build_shape(0, TRAIN_PER_CLASS)
    assert np.array_equal(held.x[0].numpy() > 0, first_held)
    assert not any(np.array_equal(held.x[0].numpy(), t.numpy()) for t in train.x)
    with pytest.raises(DataError, match="image_size"):
        load_dataset(DataConfig(name="shapes", limit=1, image_size=64))


def test_a_written_mesh_reloads_and_lies_on_the_grids_surface(tmp_path):
    g, _, _ = build_shape(CLASSES.index("chair"), 1)
    verts, faces = voxel_mesh(g)
    path = tmp_path / "chair.obj"
    path.write_text(obj_text(verts, faces))
    v2, f2 = read_obj(path)
    assert v2.shape == verts.shape and f2.shape == faces.shape
    assert np.array_equal(f2, faces) and np.allclose(v2, verts, atol=1e-4)
    # every vertex lies halfway between an occupied and an empty voxel centre (the 0.5 level)
    padded = np.pad(g, 1).astype(np.float32)
    lo = np.floor(v2 + 1).astype(int)
    frac = v2 + 1 - lo
    axis = np.argmax(frac > 1e-3, axis=1)  # marching cubes puts each vertex on one grid edge
    hi = lo.copy()
    hi[np.arange(len(hi)), axis] += 1
    a = padded[lo[:, 0], lo[:, 1], lo[:, 2]]
    b = padded[hi[:, 0], hi[:, 1], hi[:, 2]]
    assert np.all(a != b)
    assert np.allclose(frac[np.arange(len(frac)), axis], 0.5, atol=1e-3)
    # the bounding box is the occupied voxels' one, half a voxel in; the surface is closed and
    # outward (positive volume near the voxel count: marching cubes cuts the corners)
    occ = np.argwhere(g)
    assert np.allclose(v2.min(0), occ.min(0) - 0.5) and np.allclose(v2.max(0), occ.max(0) + 0.5)
    a, b, c = v2[f2[:, 0]], v2[f2[:, 1]], v2[f2[:, 2]]
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6
    assert 0.6 * g.sum() < volume <= g.sum()
    edges = np.sort(np.concatenate([f2[:, [0, 1]], f2[:, [1, 2]], f2[:, [2, 0]]]), 1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert np.all(counts == 2)  # every edge shared by two triangles: watertight


def test_an_empty_grid_has_no_mesh_and_a_bad_obj_names_its_line(tmp_path):
    v, f = voxel_mesh(np.zeros((4, 4, 4)))
    assert v.shape == (0, 3) and f.shape == (0, 3)
    bad = tmp_path / "bad.obj"
    bad.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3 4\n")
    with pytest.raises(DataError, match="line 5"):
        read_obj(bad)
