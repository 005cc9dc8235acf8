"""Saliency maps of sampled steps (acsumgan.media.saliency): known answers on generated video."""

from __future__ import annotations

import numpy as np
import pytest

from acsumgan.media.decode import FrameSampler
from acsumgan.media.saliency import (
    DECODE_SIZE,
    SaliencyTracker,
    grid_shape,
    motion_energy,
    phase_shift,
    video_saliency,
)
from acsumgan.synthetic.media import moving_object_video, still_video, textured_background


@pytest.fixture(scope="session")
def moving(tmp_path_factory):
    """The issue's known answer: 1280x720, a bright disc left to right and back at 240 px/s,
    a drifting textured background (10 s at 15 fps)."""
    return moving_object_video(tmp_path_factory.mktemp("reframe") / "moving.mp4")


def grey_texture(h=36, w=64, seed=0) -> np.ndarray:
    return textured_background(w, h, seed, cell=4)[..., 1].astype(np.float32)


@pytest.mark.parametrize("shift", [(0, 0), (2, 3), (-1, 5), (0.5, -2.25)])
def test_phase_correlation_finds_a_known_camera_shift(shift):
    from scipy import ndimage

    a = grey_texture()
    b = ndimage.shift(a, shift, order=3, mode="grid-wrap")
    dy, dx = phase_shift(a, b)
    assert (dy, dx) == pytest.approx(shift, abs=0.2)


def test_motion_ignores_a_cut_and_a_camera_shift():
    cur = grey_texture(seed=1)
    nxt = np.roll(cur, (1, 2), axis=(0, 1))  # the camera moved: no motion of its own
    cut = grey_texture(seed=7)  # the step before is another shot
    m = motion_energy(cut, cur, nxt)
    assert m.max() < 0.25  # compensated shift, the cut left out: nearly nothing moves
    moving = nxt.copy()
    moving[10:16, 30:36] = 255  # something appears
    m = motion_energy(cut, cur, moving)
    peak = np.unravel_index(np.argmax(m), m.shape)
    assert 9 <= peak[0] <= 16 and 29 <= peak[1] <= 36


def test_maps_follow_the_moving_object(moving):
    maps = video_saliency(moving.path, (1280, 720))
    assert maps.maps.shape == (20, 36, 64) and maps.maps.dtype == np.uint8
    assert list(maps.frames) == [int(round(k * 7.5 + 0.49)) for k in range(20)]  # the steps, 2 per second
    cols = np.argmax(maps.profile("x"), axis=1)
    centre_px = (cols + 0.5) * 1280 / 64
    truth = moving.centres[maps.frames, 0, 0]
    assert np.mean(np.abs(centre_px - truth) <= 60) >= 0.9


def test_the_hook_gets_the_frames_the_features_see(moving):
    """Fed the summarizer's sampled frames (224x224, the whole frame squeezed) step by step, as
    extract_features would, it gives the maps of video_saliency."""
    tracker = SaliencyTracker((1280, 720))
    for sf in FrameSampler(moving.path, size=DECODE_SIZE):
        tracker.add(sf.image, sf.time, sf.index)
    fed = tracker.finish()
    again = video_saliency(moving.path, (1280, 720))
    assert np.array_equal(fed.maps, again.maps) and np.array_equal(fed.times, again.times)


def test_still_video_gives_the_same_map_every_step(tmp_path):
    v = still_video(tmp_path / "still.mp4")
    maps = video_saliency(v.path, (v.width, v.height))
    prof = maps.profile("x")
    assert len(set(np.argmax(prof, axis=1).tolist())) == 1
    assert np.abs(maps.maps.astype(int) - maps.maps[0]).max() <= 30  # no motion: the static term only


def test_rotated_steps_are_mapped_upright():
    """A phone video (coded 64x36, rotated 90 degrees): maps of the upright 36x64-wide frame,
    turned as the writer turns frames (counter-clockwise)."""
    assert grid_shape(720, 1280) == (114, 64)
    img = np.zeros((36, 64, 3), np.uint8)
    img[2:6, 50:60] = 255  # near the top right of the coded picture
    t = SaliencyTracker((36, 64), rotation=90, grid_width=18)
    grid = t._grid(img)
    assert grid.shape == (32, 18)
    r, c = np.unravel_index(np.argmax(grid), grid.shape)
    assert r < 8 and c < 6  # counter-clockwise: the top right comes to the top left
    for k in range(3):
        t.add(img, k / 2, k)
    assert t.finish().maps.shape == (3, 32, 18)


def test_steps_out_of_order_give_the_same_maps(moving):
    """As parts decoded at once deliver them: the same maps, and only a few grids held."""
    steps = list(FrameSampler(moving.path, size=(32, 32)))
    ordered = SaliencyTracker((1280, 720))
    for sf in steps:
        ordered.add(sf.image, sf.time, sf.index)
    shuffled = SaliencyTracker((1280, 720))
    order = list(range(10, 20)) + list(range(10))  # the second half first
    held = 0
    for k in order:
        sf = steps[k]
        shuffled.add(sf.image, sf.time, sf.index, step=sf.step)
        held = max(held, len(shuffled._grids))
    a, b = ordered.finish(), shuffled.finish()
    assert np.array_equal(a.maps, b.maps) and np.array_equal(a.frames, b.frames)
    assert held <= 12
    with pytest.raises(ValueError):
        t = SaliencyTracker((64, 36))
        t.add(steps[0].image, 0.0, 0)
        t.add(steps[0].image, 0.0, 0, step=0)
