"""The summary writer with a crop (reframing): the windows' frames, the asked size, audio in
sync, the same bytes without a crop; on the issue's known-answer video, written and decoded."""

from __future__ import annotations

import hashlib

import av
import numpy as np
import pytest

from acsumgan.errors import ConfigError
from acsumgan.media import encode_parts as E
from acsumgan.media.encode import SourceFrames, full_frame, write_summary_video
from acsumgan.media.geometry import Crop
from acsumgan.media.reframe import plan_reframe
from acsumgan.media.saliency import video_saliency
from acsumgan.media.times import FrameTimes
from acsumgan.synthetic.media import SAMPLE_RATE, counter_video

from .test_encode import RANGES, decode_audio, decode_yuv, first_pass, psnr, switch_time, tone_at
from .test_saliency import moving  # noqa: F401 (the session fixture)

MOVING_RANGES = [(0, 70), (80, 149)]


def decode_rgb(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def object_at(img: np.ndarray) -> tuple[float, float] | None:
    """Centre of the bright disc in a frame (None when less than half of it shows)."""
    bright = img.min(axis=2) > 215  # the disc is (255, 255, 240); the background at most ~150
    if bright.sum() < 0.5 * np.pi * 40**2:
        return None
    ys, xs = np.nonzero(bright)
    return float(xs.mean()), float(ys.mean())


def write_reframed(src, ranges, out, mode, tmp_path, **kw):
    ff = full_frame(src)
    n = first_pass(src)
    times = FrameTimes(n.n_frames, n.fps)
    maps = video_saliency(src, (ff.width, ff.height), ff.rotation)
    r = plan_reframe(maps, ranges, times, "9:16", mode)
    crop = r.crop(times)
    return write_summary_video(src, ranges, out, crop=crop, **kw), r, crop


def test_follow_keeps_the_object_in_the_written_frames_center_loses_it(moving, tmp_path):  # noqa: F811
    src_frames = decode_rgb(moving.path)
    found = {}
    for mode in ("follow", "center"):
        out = tmp_path / f"{mode}.mp4"
        st, r, crop = write_reframed(moving.path, MOVING_RANGES, out, mode, tmp_path)
        assert (st.width, st.height) == (404, 720) and st.frames_written == 71 + 70
        got = decode_rgb(out)
        assert len(got) == 141 and got[0].shape == (720, 404, 3)
        with av.open(str(out)) as c:
            assert (c.streams.video[0].width, c.streams.video[0].height) == (404, 720)
        kept = [i for a, b in MOVING_RANGES for i in range(a, b + 1)]
        seen = 0
        for k, i in enumerate(kept):
            x, y = crop.at(i)
            # the written frame is the source frame's window
            if k % 10 == 0:
                assert psnr(got[k], src_frames[i][y : y + 720, x : x + 404]) > 30
            pos = object_at(got[k])
            if pos is not None:
                seen += 1
                # where it is in the written frame is where it truly is, less the window's left
                want = moving.centres[i, 0, 0] - x
                if 45 <= want <= 404 - 45:  # (the whole disc shows)
                    assert pos[0] == pytest.approx(want, abs=4)
        found[mode] = seen / len(kept)
    assert found["follow"] >= 0.95
    assert found["center"] < 0.5


def test_no_crop_writes_the_same_bytes_and_a_full_frame_crop_too(scenes_audio_video, tmp_path):
    src = scenes_audio_video.path
    a = write_summary_video(src, RANGES, tmp_path / "a.mp4")
    b = write_summary_video(src, RANGES, tmp_path / "b.mp4", crop=None)
    frames = [i for r0, r1 in RANGES for i in range(r0, r1 + 1)]
    full = Crop(96, 72, frames, [0] * len(frames), [0] * len(frames))
    c = write_summary_video(src, RANGES, tmp_path / "c.mp4", crop=full)
    assert sha(tmp_path / "a.mp4") == sha(tmp_path / "b.mp4") == sha(tmp_path / "c.mp4")
    assert (a.width, a.height) == (b.width, b.height) == (c.width, c.height) == (96, 72)


def moving_crop(frames, w=40, h=72, frame_w=96):
    """A window that walks right 2 px a frame, wrapping (a test of the cut, not of taste)."""
    x = [(2 * k) % (frame_w - w + 2) for k in range(len(frames))]
    return Crop(w, h, frames, x, [0] * len(frames))


def test_cropped_frames_are_the_windows_and_audio_stays_in_sync(scenes_audio_video, tmp_path):
    src = scenes_audio_video.path
    frames = [i for a, b in RANGES for i in range(a, b + 1)]
    crop = moving_crop(frames)
    out = tmp_path / "s.mp4"
    fp = first_pass(src)
    source = SourceFrames(frame_pts=fp.frame_pts, key_frames=fp.key_frames)
    st = write_summary_video(src, RANGES, out, crop=crop, source=source)
    assert (st.width, st.height) == (40, 72)
    got = decode_yuv(out)
    whole = decode_yuv(src)
    assert len(got) == len(frames)
    for k, i in enumerate(frames):
        x, _ = crop.at(i)
        y_plane = whole[i][:72, x : x + 40]
        assert psnr(got[k][:72], y_plane) > 30
    # audio: as the uncropped writer (tests/media/test_encode.py)
    assert st.has_audio and st.audio_seconds == pytest.approx(st.duration, abs=1 / SAMPLE_RATE)
    audio, rate = decode_audio(out)
    tones = scenes_audio_video.tones
    scene = np.searchsorted(scenes_audio_video.scene_starts, frames, side="right") - 1
    expected = np.asarray(tones)[scene]
    changes = np.flatnonzero(np.diff(expected)) + 1
    bounds = np.concatenate([[0], changes, [len(expected)]]) / 25
    for t0, t1 in zip(bounds[:-1], bounds[1:]):
        assert tone_at(audio, rate, t0 + 0.04, t1 - 0.04) == pytest.approx(expected[int(round(t0 * 25))], abs=25)
    for c in changes:
        t = c / 25
        assert switch_time(audio, rate, expected[c - 1], expected[c], t - 0.3, t + 0.3) == pytest.approx(t, abs=0.015)


def test_parts_writer_crops_as_the_one_writer(scenes_audio_video, tmp_path, monkeypatch):
    monkeypatch.setattr(E, "MIN_ENCODE_PART_SECONDS", 1.0)
    src = scenes_audio_video.path
    ranges = [(10, 60), (80, 140), (160, 230), (290, 350), (380, 470)]
    frames = [i for a, b in ranges for i in range(a, b + 1)]
    crop = moving_crop(frames)
    fp = first_pass(src)
    source = SourceFrames(frame_pts=fp.frame_pts, key_frames=fp.key_frames)
    one = write_summary_video(src, ranges, tmp_path / "one.mp4", source=source, crop=crop, crf=0)
    two = E.write_in_parts(src, ranges, tmp_path / "two.mp4", parts=2, source=source, crop=crop, crf=0)
    assert two is not None and two.parts == 2
    assert (two.width, two.height) == (one.width, one.height) == (40, 72)
    a, b = decode_yuv(tmp_path / "one.mp4"), decode_yuv(tmp_path / "two.mp4")
    assert len(a) == len(b) == len(frames)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_a_window_outside_the_frame_is_refused(tmp_path):
    v = counter_video(tmp_path / "c.mp4", 10, size=(64, 48))
    with pytest.raises(ConfigError, match="outside"):
        write_summary_video(v.path, [(0, 9)], tmp_path / "o.mp4", crop=Crop(40, 48, [0], [26], [0]))
    with pytest.raises(ValueError):
        Crop(41, 48, [0], [0], [0])  # odd
    with pytest.raises(ValueError):
        Crop(40, 48, [0], [1], [0])  # odd left


def test_a_rotated_source_is_cropped_upright(tmp_path):
    """A phone video (coded 64x48, rotated 90): the window lies in the upright 48x64 frame."""
    v = counter_video(tmp_path / "r.mp4", 12, size=(64, 48), rotation=90)
    ff = full_frame(v.path)
    assert (ff.width, ff.height, ff.rotation) == (48, 64, 90)
    whole = write_summary_video(v.path, [(0, 11)], tmp_path / "whole.mp4")
    crop = Crop(48, 48, list(range(12)), [0] * 12, [16] * 12)
    st = write_summary_video(v.path, [(0, 11)], tmp_path / "crop.mp4", crop=crop)
    assert (whole.width, whole.height) == (48, 64) and (st.width, st.height) == (48, 48)
    a, b = decode_yuv(tmp_path / "whole.mp4"), decode_yuv(tmp_path / "crop.mp4")
    for x, y in zip(a, b):
        assert psnr(y[:48], x[16:64]) > 30
