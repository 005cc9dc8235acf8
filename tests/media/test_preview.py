"""Animated previews (GIF, WebP) of frame ranges: the frames asked for, their size, the cap."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageSequence

from acsumgan.errors import ConfigError
from acsumgan.media.preview import write_preview
from acsumgan.synthetic.media import counter_video

RANGES = [(5, 24), (40, 49), (80, 109)]  # 60 frames of a 10 fps counter video: 6 s


@pytest.fixture(scope="module")
def counter(tmp_path_factory):
    d = tmp_path_factory.mktemp("preview")
    return counter_video(d / "counter.mp4", 120, fps=10, size=(160, 120)).path


def frames_back(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def level(img: np.ndarray) -> float:
    return float(np.median(img))


def played(ranges) -> list[int]:
    return [i for a, b in ranges for i in range(a, b + 1)]


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_preview_has_the_frames_and_size_asked_for(counter, tmp_path, fmt):
    out = tmp_path / f"p.{fmt}"
    res = write_preview(counter, RANGES, out, source_fps=10, width=96, fps=5)
    assert res.path == out and res.format == fmt and res.reductions == 0
    assert (res.frames, res.width, res.height, res.fps) == (30, 96, 72, 5.0)
    assert res.bytes == out.stat().st_size <= 8 * 1024 * 1024
    with Image.open(out) as im:
        assert im.format == fmt.upper() and im.n_frames == 30 and im.size == (96, 72)
        durations = []
        for f in ImageSequence.Iterator(im):
            f.load()
            durations.append(f.info.get("duration"))
        assert durations == [200] * 30  # ms: 5 frames per second
    frames = frames_back(out)
    # every second frame of the ranges played one after another: the counter's grey levels
    want = played(RANGES)[::2]
    tol = 1 if fmt == "gif" else 6
    for got, i in zip(frames, want):
        assert abs(level(got) - (i * 37) % 256) <= tol + 3, (i, level(got))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_never_wider_nor_faster_than_the_source(counter, tmp_path):
    res = write_preview(counter, [(0, 9)], tmp_path / "p.gif", source_fps=10, width=1000, fps=30)
    assert (res.width, res.height, res.frames, res.fps) == (160, 120, 10, 10.0)
    assert [round(level(f)) for f in frames_back(res.path)] == pytest.approx([(i * 37) % 256 for i in range(10)], abs=4)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_a_small_cap_makes_it_smaller_until_it_fits(counter, tmp_path, fmt):
    big = write_preview(counter, RANGES, tmp_path / f"big.{fmt}", source_fps=10, width=160, fps=10)
    cap = big.bytes // 4
    small = write_preview(counter, RANGES, tmp_path / f"small.{fmt}", source_fps=10, width=160, fps=10, max_bytes=cap)
    assert small.bytes <= cap < big.bytes and small.reductions >= 1
    assert small.frames < big.frames or small.width < big.width
    with Image.open(small.path) as im:
        assert im.n_frames == small.frames and im.size == (small.width, small.height)
    # its frames still come from the ranges, in order
    want = played(RANGES)
    levels = [(i * 37) % 256 for i in want]
    tol = 4 if fmt == "gif" else 10
    for f in frames_back(small.path):
        assert min(abs(level(f) - v) for v in levels) <= tol


def test_bad_requests_are_one_line(counter, tmp_path):
    for kwargs, needle in [
        ({"fmt": "png"}, "gif or webp"),
        ({"frame_ranges": []}, "no frame range"),
        ({"frame_ranges": [(5, 3)]}, "ascending"),
        ({"frame_ranges": [(0, 5), (3, 9)]}, "ascending"),
        ({"width": 4}, "at least 16"),
        ({"fps": 0}, "preview fps"),
        ({"max_bytes": 10}, "at least 1 KB"),
    ]:
        args = {"frame_ranges": [(0, 9)], "fmt": "gif", "width": 64, "fps": 5, "max_bytes": 1 << 20, **kwargs}
        ranges = args.pop("frame_ranges")
        with pytest.raises(ConfigError, match=needle) as e:
            write_preview(counter, ranges, tmp_path / "x.gif", source_fps=10, **args)
        assert "\n" not in str(e.value)
    assert not (tmp_path / "x.gif").exists()
