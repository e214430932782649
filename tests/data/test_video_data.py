"""Moving MNIST and folders of videos: deterministic, digits always inside the frame, test
videos only from the held-out digits, windows of (context, next frame)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gankit.data import DataConfig, load_dataset
from gankit.data.mnist import _mnist5k_arrays
from gankit.data.paired import digit_split
from gankit.data.video import HORIZON, bounce_tracks, moving_mnist
from gankit.errors import DataError


def _digits():
    x, y = _mnist5k_arrays()
    return x[:50], y[:50]


def test_moving_mnist_is_deterministic_for_a_seed():
    x, y = _digits()
    a = moving_mnist(x, y, 6, 12, n_digits=2, seed=3)
    b = moving_mnist(x, y, 6, 12, n_digits=2, seed=3)
    c = moving_mnist(x, y, 6, 12, n_digits=2, seed=4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (6, 12, 1, 64, 64) and a[0].dtype == np.uint8


def test_digits_stay_inside_the_frame_and_bounce():
    x, y = _digits()
    frames, tracks, _ = moving_mnist(x, y, 40, 60, n_digits=1, seed=0)
    assert tracks.min() >= 0 and tracks.max() <= 64 - 28
    for i in range(40):
        r, c = tracks[i, 0, 0]
        digit = frames[i, 0, 0, r : r + 28, c : c + 28]
        assert (x == digit).all((1, 2)).any()  # a bundled digit, whole
        for t in range(60):
            r, c = tracks[i, t, 0]
            box = frames[i, t, 0, r : r + 28, c : c + 28]
            np.testing.assert_array_equal(box, digit)  # the same digit, moved, never cut
            assert frames[i, t].sum(dtype=np.int64) == digit.sum(dtype=np.int64)
    step = np.abs(np.diff(tracks, axis=1))
    assert step.max() <= 3 and (step > 0).mean() > 0.9
    assert ((tracks == 0) | (tracks == 36)).any()  # some digits reached an edge


def test_bounce_reflects_at_both_edges():
    rng = np.random.default_rng(0)
    t = bounce_tracks(rng, 200, 40, 1, 36)
    v = np.diff(t, axis=1)
    flips = (np.sign(v[:, 1:]) != np.sign(v[:, :-1])) & (v[:, 1:] != 0) & (v[:, :-1] != 0)
    assert flips.any()
    assert t.min() == 0 and t.max() == 36


def test_dataset_windows_and_heldout_digits():
    ds = load_dataset(DataConfig(name="moving-mnist", limit=20, context=3))
    held = ds.held.numpy()
    assert ds.inputs["frames"].shape[1:] == (3, 1, 64, 64)
    assert ds.x.shape[1:] == (1, 64, 64) and ds.info.inputs["frames"] == (3, 1, 64, 64)
    assert (~held).sum() == 20 and held.sum() == 20 * HORIZON
    # a window's next frame is the following window's last context frame
    i = np.flatnonzero(held)[0]
    np.testing.assert_array_equal(ds.x[i], ds.inputs["frames"][i + 1, -1])
    # the box at pos in each target frame is exactly one of the digits of its own side
    x, y = _mnist5k_arrays()
    split = digit_split(y).numpy()
    for side, digits_side in ((held, x[split]), (~held, x[~split])):
        for j in np.flatnonzero(side)[:15]:
            r, c = ds.extra["pos"][j, 0].tolist()
            box = ds.x[j, 0, r : r + 28, c : c + 28].numpy()
            assert (digits_side == box).all((1, 2)).any()
            assert ds.y[j] == ds.extra["digits"][j, 0]


def test_two_digits_and_config_errors():
    ds = load_dataset(DataConfig(name="moving-mnist", limit=4, digits=2))
    assert ds.extra["pos"].shape[1:] == (2, 2) and ds.extra["digits"].shape[1:] == (2,)
    with pytest.raises(ValueError, match="digits"):
        DataConfig(name="moving-mnist", digits=3)
    with pytest.raises(DataError, match="flip"):
        load_dataset(DataConfig(name="moving-mnist", limit=4, flip=True))


def _gif(path, frames):
    imgs = [Image.fromarray(f) for f in frames]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=100, loop=0)


def _clip(n, size=32, shift=0):
    out = np.zeros((n, size, size), np.uint8)
    for t in range(n):
        out[t, 8:16, (t * 2 + shift) % (size - 8) : (t * 2 + shift) % (size - 8) + 8] = 255
    return out


def test_folder_of_videos(tmp_path, caplog):
    for k in range(9):
        _gif(tmp_path / f"clip{k}.gif", _clip(8, shift=k))
    frames_dir = tmp_path / "zz_frames"
    frames_dir.mkdir()
    for t, f in enumerate(_clip(7)):
        Image.fromarray(f).save(frames_dir / f"{t:03d}.png")
    _gif(tmp_path / "short.gif", _clip(3))
    ds = load_dataset(DataConfig(name="videos", path=str(tmp_path), image_size=32, context=4))
    assert "short.gif" in caplog.text  # too few frames for context 4: skipped, and said so
    assert ds.info.shape == (1, 32, 32) and ds.inputs["frames"].shape[1:] == (4, 1, 32, 32)
    # 9 clips of 8 frames (4 windows each) + the frame folder of 7 (3 windows)
    assert len(ds) == 9 * 4 + 3
    # the last video by name (the frame folder) is held out, whole
    assert ds.held.sum() == 3 and ds.held[-3:].all()
    np.testing.assert_array_equal(ds.x[-1, 0].numpy(), _clip(7)[6])


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="no videos"):
        load_dataset(DataConfig(name="videos", path=str(tmp_path)))
    (tmp_path / "a.mp4").write_bytes(b"not a movie")
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        with pytest.raises(DataError, match="imageio-ffmpeg"):
            load_dataset(DataConfig(name="videos", path=str(tmp_path)))
    else:
        with pytest.raises(DataError, match="a.mp4"):
            load_dataset(DataConfig(name="videos", path=str(tmp_path)))
