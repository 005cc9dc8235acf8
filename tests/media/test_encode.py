"""Summary video writing: exact frames, quality, frame rate, size, audio in sync."""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np
import pytest

from acsumgan.errors import ConfigError, OutputError, VideoError
from acsumgan.media import encode as W
from acsumgan.media.decode import FrameSampler
from acsumgan.media.encode import SourceFrames, write_summary_video
from acsumgan.synthetic.media import SAMPLE_RATE, counter_video

from .conftest import REAL_VIDEOS


def decode_yuv(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.reformat(format="yuv420p").to_ndarray() for f in c.decode(video=0)]


def decode_audio(path) -> tuple[np.ndarray, int]:
    """Mono float audio placed by its timestamps."""
    chunks = []
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        rate = s.codec_context.sample_rate
        for f in c.decode(s):
            a = f.to_ndarray().astype(np.float64)
            a = a.reshape(f.layout.nb_channels, -1) if f.format.is_planar else a.reshape(-1, f.layout.nb_channels).T
            chunks.append((int(round(f.pts * f.time_base * rate)), a.mean(0)))
    end = max(p + len(a) for p, a in chunks)
    out = np.zeros(end)
    for p, a in chunks:
        out[max(p, 0) : p + len(a)] = a[max(0, -p) :]
    return out, rate


def tone_at(audio: np.ndarray, rate: int, t0: float, t1: float) -> float:
    seg = audio[int(t0 * rate) : int(t1 * rate)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    return float(np.fft.rfftfreq(len(seg), 1 / rate)[np.argmax(spec)])


def switch_time(audio: np.ndarray, rate: int, f_old: float, f_new: float, t0: float, t1: float) -> float:
    """First time in [t0, t1] where a 20 ms window holds more of ``f_new`` than ``f_old``."""
    win = int(0.02 * rate)
    tt = np.arange(win) / rate
    for start in range(int(t0 * rate), int(t1 * rate) - win, int(0.002 * rate)):
        seg = audio[start : start + win]
        e = [abs(np.dot(seg, np.exp(2j * np.pi * f * tt))) for f in (f_old, f_new)]
        if e[1] > e[0]:
            return (start + win / 2) / rate
    return float("inf")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


# scenes_audio_video: scenes start at frames 0, 75, 150, 275, 375 (25 fps)
RANGES = [(10, 40), (140, 199), (300, 320)]  # the second crosses the scene change at 150


def first_pass(path) -> FrameSampler:
    s = FrameSampler(path, size=(8, 8))
    for _ in s:
        pass
    return s


def first_pass_pts(path) -> list:
    return first_pass(path).frame_pts


@pytest.fixture(params=["one pass", "seeking", "seeking by gap"])
def mode(request, monkeypatch):
    """Decode the whole source; or seek ahead, knowing pts and keyframes (or only pts)."""
    if request.param == "seeking by gap":
        monkeypatch.setattr(W, "SEEK_GAP_SECONDS", 0.5)
    return request.param


def write(mode, src, ranges, out, *, fps=None, frame_times=None, **kw):
    frame_pts = key_frames = None
    if mode != "one pass":
        fp = first_pass(src)
        frame_pts = fp.frame_pts
        if mode == "seeking":
            key_frames = fp.key_frames
    source = SourceFrames(fps=fps, frame_pts=frame_pts, key_frames=key_frames, frame_times=frame_times)
    st = write_summary_video(src, ranges, out, source=source, **kw)
    if mode == "one pass":
        assert st.seeks == 0 and st.decoded_frames == ranges[-1][1] + 1
    return st


def test_lossless_summary_has_exactly_the_source_frames(scenes_audio_video, tmp_path, mode):
    out = tmp_path / "s.mp4"
    calls = []
    st = write(mode, scenes_audio_video.path, RANGES, out, crf=0, progress=lambda e: calls.append((e.done, e.total)))
    if mode != "one pass":
        # frames 0-40 decoded in order, then for each later range a seek to the last
        # keyframe at least 0.5 s (12.5 frames) before it, and decoding from there
        keys = first_pass(scenes_audio_video.path).key_frames
        landing = [max(k for k in keys if k <= a - 12.5) for a, _ in RANGES[1:]]
        assert st.seeks == 2
        assert st.decoded_frames == 41 + sum(b - k + 1 for k, (_, b) in zip(landing, RANGES[1:])) < 321
    src = decode_yuv(scenes_audio_video.path)
    got = decode_yuv(out)
    want = [src[i] for a, b in RANGES for i in range(a, b + 1)]
    assert st.frames_written == len(want) == 112
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert np.array_equal(g, w), f"output frame {k} differs from its source frame"
    assert calls[-1] == (112, 112)
    assert st.duration == pytest.approx(112 / 25)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (96, 72)
        assert v.average_rate == 25 and v.codec_context.name == "h264"
        assert v.codec_context.pix_fmt == "yuv420p"


def test_without_audio_a_seek_lands_on_the_keyframe_at_or_before_the_range(scenes_audio_video, tmp_path):
    """No audio to read ahead for: no 0.5-s margin, so a range that starts on a keyframe
    decodes from that keyframe on; the frames are the same."""
    fp = first_pass(scenes_audio_video.path)
    keys = fp.key_frames
    k1 = min(k for k in keys if k >= 100)
    k2 = min(k for k in keys if k >= k1 + 80)
    ranges = [(10, 40), (k1, k1 + 40), (k2, k2 + 30)]
    out = tmp_path / "s.mp4"
    st = write_summary_video(
        scenes_audio_video.path,
        ranges,
        out,
        crf=0,
        keep_audio=False,
        source=SourceFrames(frame_pts=fp.frame_pts, key_frames=keys),
    )
    assert not st.has_audio and st.seeks == 2
    assert st.decoded_frames == 41 + 41 + 31
    src = decode_yuv(scenes_audio_video.path)
    got = decode_yuv(out)
    want = [src[i] for a, b in ranges for i in range(a, b + 1)]
    assert len(got) == len(want) and all(np.array_equal(g, w) for g, w in zip(got, want))
    # with its audio, the same ranges seek to a keyframe at least 0.5 s (12.5 frames) earlier
    st = write_summary_video(
        scenes_audio_video.path,
        ranges,
        tmp_path / "a.mp4",
        crf=0,
        source=SourceFrames(frame_pts=fp.frame_pts, key_frames=keys),
    )
    landing = max(k for k in keys if k <= k1 - 12.5)
    assert st.has_audio and st.decoded_frames >= 41 + (k1 + 41 - landing) > 41 + 41


def test_default_quality_and_audio_in_sync(scenes_audio_video, tmp_path, mode):
    out = tmp_path / "s.mp4"
    st = write(mode, scenes_audio_video.path, RANGES, out)
    src = decode_yuv(scenes_audio_video.path)
    got = decode_yuv(out)
    want = [src[i] for a, b in RANGES for i in range(a, b + 1)]
    assert len(got) == len(want)
    assert min(psnr(g, w) for g, w in zip(got, want)) > 30
    assert st.has_audio and st.audio_seconds == pytest.approx(st.duration, abs=1 / SAMPLE_RATE)
    audio, rate = decode_audio(out)
    assert rate == SAMPLE_RATE
    assert len(audio) / rate == pytest.approx(st.duration, abs=0.07)
    # the tone heard at each output frame is the tone of the scene its source frame is in
    tones = scenes_audio_video.tones
    src_frames = [i for a, b in RANGES for i in range(a, b + 1)]
    scene = np.searchsorted(scenes_audio_video.scene_starts, src_frames, side="right") - 1
    expected = np.asarray(tones)[scene]
    changes = np.flatnonzero(np.diff(expected)) + 1  # output frames where the tone changes
    assert len(changes) == 3  # two range junctions and one scene change inside a range
    bounds = np.concatenate([[0], changes, [len(expected)]]) / 25
    for k, (t0, t1) in enumerate(zip(bounds[:-1], bounds[1:])):
        f0 = int(round(t0 * 25))
        assert tone_at(audio, rate, t0 + 0.04, t1 - 0.04) == pytest.approx(expected[f0], abs=25)
    # ... switching where the picture switches (within 15 ms)
    for c in changes:
        t = c / 25
        assert switch_time(audio, rate, expected[c - 1], expected[c], t - 0.3, t + 0.3) == pytest.approx(t, abs=0.015)


def test_audio_can_be_dropped(scenes_audio_video, tmp_path):
    st = write_summary_video(scenes_audio_video.path, RANGES[:1], tmp_path / "s.mp4", keep_audio=False)
    assert not st.has_audio
    with av.open(str(tmp_path / "s.mp4")) as c:
        assert not c.streams.audio


def test_variable_rate_source_uses_its_average_rate(vfr, tmp_path, mode):
    st = write(mode, vfr.path, [(0, 4), (8, 12)], tmp_path / "s.mp4", crf=0)
    assert st.frames_written == 10
    src = decode_yuv(vfr.path)
    got = decode_yuv(tmp_path / "s.mp4")
    assert all(np.array_equal(g, w) for g, w in zip(got, src[0:5] + src[8:13]))
    with av.open(str(tmp_path / "s.mp4")) as c:
        v = c.streams.video[0]
        pts = [f.pts * f.time_base for f in c.decode(v)]
    steps = np.diff([float(p) for p in pts])
    assert np.allclose(steps, steps[0])  # written at one constant rate
    assert 1 / steps[0] == pytest.approx(st.fps)


@pytest.mark.parametrize("ranges, seconds", [([(0, 1), (3, 3)], 3.0), ([(0, 0), (1, 1)], 2.0)])
def test_a_gap_of_an_hour_the_summary_lasts_its_frames(vdir, tmp_path, mode, ranges, seconds):
    """Frames at 0, 1, 2 and 3,600 s: each kept frame lasts until the source's next frame, the
    last one of the video the median frame step (1 s); the MP4 muxer made the summary's last
    frame last one frame of the output's rate instead (1,001 s)."""
    src = vdir / "gap.mp4"
    if not src.exists():
        counter_video(src, 4, fps=1, pts=[0, 90000, 180000, 3600 * 90000], time_base=Fraction(1, 90000))
    fp = first_pass(src)
    assert list(fp.frame_times) == [0.0, 1.0, 2.0, 3600.0] and fp.fps == pytest.approx(1 / 1001)
    # as summarize writes it: at the measured rate (3 frame steps in 3,600 s), with the frame times
    st = write(mode, src, ranges, tmp_path / "s.mp4", fps=fp.fps, frame_times=fp.frame_times)
    assert st.source_timestamps and st.duration == pytest.approx(seconds)
    with av.open(str(tmp_path / "s.mp4")) as c:
        v = c.streams.video[0]
        assert float(v.duration * v.time_base) == pytest.approx(seconds)
        assert c.duration / av.time_base == pytest.approx(seconds)
        assert [float(f.time) for f in c.decode(v)] == pytest.approx(np.arange(st.frames_written))


def test_webm_source_with_opus_audio(webm_video, tmp_path, mode):
    st = write(mode, webm_video.path, [(3, 12), (20, 27)], tmp_path / "s.mp4")
    assert st.frames_written == 18 and st.has_audio
    with av.open(str(tmp_path / "s.mp4")) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
    audio, rate = decode_audio(tmp_path / "s.mp4")
    assert tone_at(audio, rate, 0.1, 0.9) == pytest.approx(500, abs=25)
    assert tone_at(audio, rate, 1.1, 1.7) == pytest.approx(800, abs=25)


class Unseekable:
    """A PyAV input container whose seek fails (like a pipe or a broken index)."""

    def __init__(self, real):
        self._real = real

    def seek(self, *a, **k):
        raise OSError("cannot seek")

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._real.__exit__(*exc)


def test_seek_failure_falls_back_to_one_pass(scenes_audio_video, tmp_path, monkeypatch):
    monkeypatch.setattr(W, "SEEK_GAP_SECONDS", 0.5)
    pts = first_pass_pts(scenes_audio_video.path)
    real_open = W.open_container
    opened = []

    def open_once_unseekable(path):
        c = real_open(path)
        opened.append(path)
        return Unseekable(c) if len(opened) == 1 else c

    monkeypatch.setattr(W, "open_container", open_once_unseekable)
    st = write_summary_video(
        scenes_audio_video.path, [(200, 230), (400, 420)], tmp_path / "s.mp4", crf=0, source=SourceFrames(frame_pts=pts)
    )
    src = decode_yuv(scenes_audio_video.path)
    got = decode_yuv(tmp_path / "s.mp4")
    assert len(opened) == 2  # reopened for the one-pass fallback
    assert st.frames_written == len(got) == 52
    assert all(np.array_equal(g, w) for g, w in zip(got, src[200:231] + src[400:421]))
    assert st.seeks == 0 and st.decoded_frames == 421 and st.has_audio


def test_odd_frame_size_is_made_even(vdir, tmp_path):
    src = vdir / "odd.mkv"
    counter_video(src, 12, fps=10, size=(63, 47), fmt="matroska", codec="ffv1", pix_fmt="yuv444p")
    st = write_summary_video(src, [(2, 9)], tmp_path / "s.mp4")
    assert (st.width, st.height) == (62, 46) and st.frames_written == 8
    assert len(decode_yuv(tmp_path / "s.mp4")) == 8


def test_bad_ranges_and_outputs(scenes_audio_video, tmp_path):
    src = scenes_audio_video.path
    for bad in ([], [(5, 2)], [(-1, 3)], [(0, 10), (5, 20)], [(10, 20), (0, 5)], [("a", 2)]):
        with pytest.raises(ConfigError):
            write_summary_video(src, bad, tmp_path / "x.mp4")
    with pytest.raises(ConfigError):
        write_summary_video(src, [(0, 1)], tmp_path / "x.mp4", crf=80)
    with pytest.raises(ConfigError):
        write_summary_video(src, [(0, 1)], tmp_path / "x.mp4", preset="warp")
    # frames past the end: nothing is written, no file (nor temporary file) left
    with pytest.raises(VideoError, match="none of the requested frames"):
        write_summary_video(src, [(900, 950)], tmp_path / "y.mp4")
    assert os.listdir(tmp_path) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError):
        write_summary_video(src, [(0, 1)], tmp_path / "file" / "s.mp4")


def test_bad_source(bad_files, tmp_path):
    for name in ("missing", "text", "audio_only"):
        with pytest.raises(VideoError):
            write_summary_video(bad_files[name], [(0, 1)], tmp_path / "s.mp4")
    assert not (tmp_path / "s.mp4").exists()


def test_real_video_with_surround_audio(tmp_path):
    """bigbuckbunny.mp4: 1280x720 25 fps H.264 with 5.1 AAC audio."""
    src = REAL_VIDEOS / "bigbuckbunny.mp4"
    st = write_summary_video(src, [(5, 30), (100, 120)], tmp_path / "s.mp4")
    assert st.frames_written == 47 and (st.width, st.height) == (1280, 720) and st.fps == 25
    assert st.has_audio and st.audio_seconds == pytest.approx(47 / 25, abs=1e-3)
    with av.open(str(tmp_path / "s.mp4")) as c:
        a = c.streams.audio[0]
        assert a.codec_context.name == "aac" and a.codec_context.layout.nb_channels == 6
        assert a.codec_context.sample_rate == 48000
        assert sum(1 for _ in c.decode(video=0)) == 47
    src_frames = decode_yuv(src)
    got = decode_yuv(tmp_path / "s.mp4")
    assert min(psnr(g, w) for g, w in zip(got, src_frames[5:31] + src_frames[100:121])) > 30
