"""Reframing paths (acsumgan.media.reframe): known answers on generated video."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from acsumgan.errors import ConfigError
from acsumgan.media.reframe import MAX_PAN, Reframe, ShotPath, parse_aspect, plan_reframe, window_size
from acsumgan.media.saliency import video_saliency
from acsumgan.media.times import FrameTimes
from acsumgan.synthetic.media import still_video, two_regions_video

from .test_saliency import moving  # noqa: F401 (the session fixture)

RANGES = [(0, 70), (80, 149)]  # two kept shots of the 150-frame moving video


def test_aspects_and_window_sizes():
    assert parse_aspect("keep") is None
    assert parse_aspect("9:16") == Fraction(9, 16) and parse_aspect(" 4:5 ") == Fraction(4, 5)
    for bad in ("16/9", "0:1", "9:", "abc", "101:1"):
        with pytest.raises(ConfigError):
            parse_aspect(bad)
    assert window_size(1280, 720, Fraction(9, 16)) == (404, 720)  # the full height
    assert window_size(1280, 720, Fraction(1, 1)) == (720, 720)
    assert window_size(1280, 720, Fraction(4, 5)) == (576, 720)
    assert window_size(720, 1280, Fraction(1, 1)) == (720, 720)  # a vertical source: the full width
    assert window_size(720, 1280, Fraction(16, 9)) == (720, 404)
    assert window_size(1280, 720, Fraction(16, 9)) == (1280, 720)
    assert window_size(1280, 720, None) == (1280, 720)


def windows(r: Reframe, times: FrameTimes):
    frames, x, y = r.frame_windows(times)
    return frames, x, y


def inside_share(r: Reframe, times: FrameTimes, centres: np.ndarray) -> float:
    frames, x, y = windows(r, times)
    c = centres[frames, 0]
    w, h = r.size
    return float(np.mean((c[:, 0] >= x) & (c[:, 0] < x + w) & (c[:, 1] >= y) & (c[:, 1] < y + h)))


def test_follow_keeps_the_object_and_center_loses_it(moving):  # noqa: F811
    times = FrameTimes(moving.n_frames, float(moving.fps))
    maps = video_saliency(moving.path, (1280, 720))
    follow = plan_reframe(maps, RANGES, times, "9:16", "follow")
    center = plan_reframe(maps, RANGES, times, "9:16", "center")
    assert follow.size == center.size == (404, 720)
    assert inside_share(follow, times, moving.centres) >= 0.95
    assert inside_share(center, times, moving.centres) < 0.5
    # the bound: never faster than MAX_PAN of the width per second (+1 px of rounding to even)
    assert follow.max_speed == pytest.approx(MAX_PAN * 1280)
    frames, x, y = windows(follow, times)
    for a, b in RANGES:
        xs = x[(frames >= a) & (frames <= b)]
        assert np.abs(np.diff(xs)).max() <= follow.max_speed / float(moving.fps) + 2
        assert np.all(y == 0)
    for p in follow.paths:  # and between keyframes too
        for k0, k1 in zip(p.keyframes, p.keyframes[1:]):
            assert abs(k1.x - k0.x) <= follow.max_speed * (k1.t - k0.t) + 1e-6
        assert p.moves  # it pans: the object crosses the frame in every shot
    assert not any(p.moves for p in center.paths)
    for aspect, size in (("1:1", (720, 720)), ("4:5", (576, 720))):
        r = plan_reframe(maps, RANGES, times, aspect)
        assert r.size == size and inside_share(r, times, moving.centres) >= 0.95


@pytest.mark.parametrize("make", [two_regions_video, still_video])
def test_two_far_regions_and_a_still_shot_give_a_steady_window(make, tmp_path):
    v = make(tmp_path / "v.mp4")
    times = FrameTimes(v.n_frames, float(v.fps))
    maps = video_saliency(v.path, (v.width, v.height))
    for aspect in ("9:16", "1:1"):
        r = plan_reframe(maps, [(0, v.n_frames - 1)], times, aspect)
        frames, x, y = windows(r, times)
        assert len(frames) == v.n_frames
        assert np.abs(np.diff(x)).max() < 1 and np.abs(np.diff(y)).max() < 1  # no hunting
        assert not r.paths[0].moves and len(r.paths[0].keyframes) == 2
        # the window holds a salient disc whole
        c = v.centres[0]
        w = r.size[0]
        assert any(x[0] + 14 <= cx <= x[0] + w - 14 for cx, _ in c)


def test_paths_round_trip_and_interpolate(moving):  # noqa: F811
    times = FrameTimes(moving.n_frames, float(moving.fps))
    r = plan_reframe(video_saliency(moving.path, (1280, 720)), RANGES, times, "9:16")
    d = r.as_dict()
    assert d["aspect"] == "9:16" and d["mode"] == "follow" and d["size"] == [404, 720]
    assert [s["start_frame"] for s in d["shots"]] == [0, 80]
    p = ShotPath.from_dict(d["shots"][0])
    assert p.window(0.0)[2:] == (404, 720)
    k0, k1 = p.keyframes[0], p.keyframes[1]
    mid = p.window((k0.t + k1.t) / 2)[0]
    assert mid == pytest.approx((k0.x + k1.x) / 2, abs=0.02)
    assert p.window(-5.0)[0] == k0.x and p.window(99.0)[0] == p.keyframes[-1].x  # held outside


def test_center_needs_no_maps_and_bad_options_are_refused():
    times = FrameTimes(100, 25.0)
    r = plan_reframe(None, [(0, 99)], times, "9:16", "center", frame_size=(1280, 720))
    assert r.paths[0].keyframes[0].x == (1280 - 404) / 2
    with pytest.raises(ConfigError):
        plan_reframe(None, [(0, 99)], times, "9:16", "follow", frame_size=(1280, 720))
    with pytest.raises(ConfigError):
        plan_reframe(None, [(0, 99)], times, "9:16", "zoom", frame_size=(1280, 720))
    with pytest.raises(ConfigError):
        plan_reframe(None, [(0, 99)], times, "keep", "center", frame_size=(1280, 720))
