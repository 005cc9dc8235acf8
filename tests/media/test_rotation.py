"""Phone videos and odd geometry: display rotation, non-square pixels, odd sizes; and a
variable frame rate keeping its timestamps in summary.mp4 (the writer and thumbnails)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from acsumgan.media.browser import write_thumbnails
from acsumgan.media.decode import FrameSampler
from acsumgan.media.encode import SourceFrames, write_summary_video
from acsumgan.synthetic.media import plain_scene_frame, scene_video, write_video


def halves(w: int, h: int) -> np.ndarray:
    """Red on the left half, blue on the right."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (220, 0, 0)
    img[:, w // 2 :] = (0, 0, 220)
    return img


def rotated_video(path, rotation: int, n: int = 12, size=(96, 72), **kw):
    w, h = size
    return write_video(path, (halves(w, h) for _ in range(n)), fps=10, size=size, rotation=rotation, **kw)


def first_frame(path) -> np.ndarray:
    with av.open(str(path)) as c:
        f = next(c.decode(video=0))
        assert f.rotation == 0  # upright pixels, no display matrix
        return f.to_ndarray(format="rgb24").astype(int)


def red(img) -> float:
    return float(img[..., 0].mean() - img[..., 2].mean())


# rotation (counter-clockwise) -> where the source's left (red) half ends up when shown
WHERE_RED = {90: "bottom", 180: "right", 270: "top"}


def side(img, where):
    h, w = img.shape[:2]
    return {"bottom": img[h // 2 :], "top": img[: h // 2], "right": img[:, w // 2 :], "left": img[:, : w // 2]}[where]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_the_summary_of_a_rotated_phone_video_is_upright(tmp_path, rotation):
    src = rotated_video(tmp_path / f"rot{rotation}.mp4", rotation)
    with av.open(str(src)) as c:
        assert next(c.decode(video=0)).rotation % 360 == rotation  # PyAV reads the display matrix back
    st = write_summary_video(src, [(2, 8)], tmp_path / "s.mp4")
    assert st.rotation == rotation and st.frames_written == 7
    img = first_frame(tmp_path / "s.mp4")
    want = (72, 96) if rotation in (90, 270) else (96, 72)  # (width, height) as shown
    assert (st.width, st.height) == want and img.shape[:2] == want[::-1]
    assert red(side(img, WHERE_RED[rotation])) > 150  # red where a player shows it
    (thumb,) = write_thumbnails(src, [(0, 11)], tmp_path / "t", width=48)
    t = np.asarray(Image.open(thumb).convert("RGB"), dtype=int)
    assert (t.shape[1] < t.shape[0]) == (rotation in (90, 270))
    assert red(side(t, WHERE_RED[rotation])) > 150


def test_non_square_pixels_are_shown_at_their_aspect(tmp_path):
    """96x72 stored with 4:3 pixels is shown 128x72: the summary is written so, and so
    is the thumbnail (PyAV's frames do not carry the aspect; the stream does)."""
    src = rotated_video(tmp_path / "sar.mp4", 0, sample_aspect_ratio=Fraction(4, 3))
    st = write_summary_video(src, [(0, 5)], tmp_path / "s.mp4")
    assert (st.width, st.height) == (128, 72) and st.sample_aspect_ratio == Fraction(4, 3)
    with av.open(str(tmp_path / "s.mp4")) as c:
        sar = c.streams.video[0].sample_aspect_ratio
        assert sar in (None, 0, 1)
    (thumb,) = write_thumbnails(src, [(0, 11)], tmp_path / "t", width=320)
    assert Image.open(thumb).size == (128, 72)
    # both at once: rotated 90 degrees, 4:3 pixels -> shown 72 wide, 128 high
    src = rotated_video(tmp_path / "sar_rot.mp4", 90, sample_aspect_ratio=Fraction(4, 3))
    st = write_summary_video(src, [(0, 5)], tmp_path / "s2.mp4")
    assert (st.width, st.height) == (72, 128)


def test_an_odd_size_is_written_at_the_even_size_below(tmp_path):
    src = tmp_path / "odd.mkv"
    scene_video(src, [6, 6], fps=10, size=(97, 73), painter=plain_scene_frame, codec="ffv1", pix_fmt="yuv444p")
    st = write_summary_video(src, [(0, 11)], tmp_path / "s.mp4")
    assert (st.width, st.height) == (96, 72) and st.rotation == 0


# --- variable frame rate: summary.mp4 keeps the source's timestamps ---------------------------

#: 3 s at 30 fps, 3 s at 7.5 fps, 3 s at 30 fps (millisecond timestamps), a tone per part
VFR_PARTS = [(90, 30), (23, 7.5), (90, 30)]
VFR_TONES = [500.0, 1000.0, 1500.0]


@pytest.fixture(scope="module")
def vfr_video(tmp_path_factory):
    pts, t = [], 0.0
    for n, fps in VFR_PARTS:
        for _ in range(n):
            pts.append(int(round(t)))
            t += 1000 / fps
    path = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    scene_video(
        path,
        [n for n, _ in VFR_PARTS],
        fps=30,
        size=(96, 72),
        painter=plain_scene_frame,
        pts=pts,
        time_base=Fraction(1, 1000),
        tones=VFR_TONES,
        tone_level=0.3,
        options={"preset": "ultrafast"},
    )
    return path, np.asarray(pts) / 1000.0


def test_a_variable_rate_summary_keeps_the_source_timestamps_and_its_audio(vfr_video, tmp_path):
    from .test_encode import decode_audio, tone_at

    path, times = vfr_video
    s = FrameSampler(path, size=(8, 8))
    for _ in s:
        pass
    assert not s.constant_rate
    np.testing.assert_allclose(s.frame_times, times - times[0], atol=1e-6)
    ranges = [(60, 119), (150, 179)]  # 1 s at 30 fps, 3.07 s at 7.5 fps, 0.23 s at 30 fps; 1 s at 30 fps
    st = write_summary_video(
        path,
        ranges,
        tmp_path / "s.mp4",
        source=SourceFrames(frame_pts=s.frame_pts, key_frames=s.key_frames, frame_times=s.frame_times),
    )
    assert st.source_timestamps and st.frames_written == 90
    with av.open(str(tmp_path / "s.mp4")) as c:
        got = np.array([float(f.time) for f in c.decode(video=0)])
    src = s.frame_times
    want = np.concatenate([src[60:120] - src[60], src[150:180] - src[150] + (src[120] - src[60])])
    np.testing.assert_allclose(got - got[0], want, atol=1e-3)
    assert st.duration == pytest.approx((src[120] - src[60]) + (src[180] - src[150]), abs=1e-3)
    audio, rate = decode_audio(tmp_path / "s.mp4")
    first = src[120] - src[60]  # the first range: 1 s of tone 500, 3.07 s of 1000, 0.23 s of 1500
    assert tone_at(audio, rate, 0.1, 0.9) == pytest.approx(500, abs=30)
    assert tone_at(audio, rate, 1.5, first - 0.3) == pytest.approx(1000, abs=30)
    assert tone_at(audio, rate, first + 0.1, first + 0.9) == pytest.approx(1500, abs=30)
    # without the frame times the frames play one after another at the average rate
    st2 = write_summary_video(path, ranges, tmp_path / "avg.mp4")
    assert not st2.source_timestamps and st2.duration == pytest.approx(90 / st2.fps)
