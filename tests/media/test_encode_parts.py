"""Writing a summary in parts (acsumgan.media.encode_parts): the same frames, audio in sync."""

from __future__ import annotations

import av
import numpy as np
import pytest

from acsumgan.media import encode_parts as E
from acsumgan.media.decode import FrameSampler
from acsumgan.media.encode import SourceFrames, write_summary_video
from acsumgan.synthetic.media import SAMPLE_RATE

from .test_encode import decode_audio, decode_yuv, switch_time, tone_at

# scenes_audio_video: 25 fps, scenes start at frames 0, 75, 150, 275, 375 (500 frames)
RANGES = [(10, 60), (80, 140), (160, 230), (290, 350), (380, 470)]


@pytest.fixture(autouse=True)
def short_parts(monkeypatch):
    """Parts of 1 s of summary (20 s in use), so that a 20-s test video is written in parts."""
    monkeypatch.setattr(E, "MIN_ENCODE_PART_SECONDS", 1.0)


def first_pass(path) -> FrameSampler:
    s = FrameSampler(path, size=(8, 8))
    for _ in s:
        pass
    return s


def write_either(src, ranges, out, parts, **kw):
    """As summarize writes it: in parts where they apply, else with one writer."""
    return E.write_in_parts(src, ranges, out, parts=parts, **kw) or write_summary_video(src, ranges, out, **kw)


def write(src, out, parts, **kw):
    fp = first_pass(src)
    source = SourceFrames(frame_pts=fp.frame_pts, key_frames=fp.key_frames)
    return write_either(src, RANGES, out, parts, source=source, **kw)


def test_groups_are_whole_consecutive_ranges_of_about_equal_length():
    ranges = [(0, 99), (200, 249), (300, 449), (500, 599), (700, 749)]  # 100, 50, 150, 100, 50 frames
    # 225 frames each: after 150 or after 300 (a tie; the earlier)
    assert E.plan_groups(ranges, 2, 1.0) == [[(0, 99), (200, 249)], [(300, 449), (500, 599), (700, 749)]]
    assert E.plan_groups(ranges, 3, 1.0) == [[(0, 99), (200, 249)], [(300, 449)], [(500, 599), (700, 749)]]
    assert E.plan_groups(ranges, 1, 1.0) is None
    assert E.plan_groups([(0, 999)], 2, 1.0) is None  # one range: one writer
    assert E.plan_groups(ranges, 2, 300.0) is None  # 450 frames at 300 fps: under 2 x 1 s
    assert E.plan_groups(ranges, 9, 1.0) == [[r] for r in ranges]  # at most one group per range


def test_lossless_summary_in_parts_has_exactly_the_frames_of_one_writer(scenes_audio_video, tmp_path):
    one = write(scenes_audio_video.path, tmp_path / "one.mp4", 1, crf=0)
    calls = []
    two = write(
        scenes_audio_video.path, tmp_path / "two.mp4", 2, crf=0, progress=lambda e: calls.append((e.done, e.total))
    )
    assert (one.parts, two.parts) == (1, 2)
    want = decode_yuv(tmp_path / "one.mp4")
    got = decode_yuv(tmp_path / "two.mp4")
    assert len(got) == len(want) == sum(b - a + 1 for a, b in RANGES) == two.frames_written
    for k, (g, w) in enumerate(zip(got, want)):
        assert np.array_equal(g, w), f"output frame {k} differs"
    assert two.duration == one.duration == pytest.approx(len(want) / 25)
    with av.open(str(tmp_path / "two.mp4")) as c:
        v = c.streams.video[0]
        pts = [f.pts for f in c.decode(v)]
    assert pts == sorted(pts) and len(set(pts)) == len(pts)
    assert pts[-1] * v.time_base == pytest.approx((len(want) - 1) / 25)  # frame k at k / fps
    assert calls and calls[-1][1] == two.frames_written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.mp4", "two.mp4"]  # no temporaries left


def test_audio_in_parts_follows_the_pictures(scenes_audio_video, tmp_path):
    st = write(scenes_audio_video.path, tmp_path / "s.mp4", 3)
    assert st.parts == 3 and st.has_audio
    audio, rate = decode_audio(tmp_path / "s.mp4")
    assert rate == SAMPLE_RATE
    assert len(audio) / rate == pytest.approx(st.duration, abs=0.07)
    assert st.audio_seconds == pytest.approx(st.duration, abs=0.03)
    src_frames = [i for a, b in RANGES for i in range(a, b + 1)]
    scene = np.searchsorted(scenes_audio_video.scene_starts, src_frames, side="right") - 1
    expected = np.asarray(scenes_audio_video.tones)[scene]
    changes = np.flatnonzero(np.diff(expected)) + 1
    bounds = np.concatenate([[0], changes, [len(expected)]]) / 25
    for t0, t1 in zip(bounds[:-1], bounds[1:]):
        assert tone_at(audio, rate, t0 + 0.05, t1 - 0.05) == pytest.approx(expected[int(round(t0 * 25))], abs=25)
    # the tone switches with the picture: within 15 ms inside a part, within one AAC frame
    # (21 ms at 48 kHz) plus 15 ms after a join
    for c in changes:
        t = c / 25
        assert switch_time(audio, rate, expected[c - 1], expected[c], t - 0.3, t + 0.3) == pytest.approx(t, abs=0.04)


def test_a_part_that_fails_means_one_writer(scenes_audio_video, tmp_path, monkeypatch):
    def broken(parts, out_path):
        raise E.JoinFailed("the parts' streams differ")

    monkeypatch.setattr(E, "_join", broken)
    st = write(scenes_audio_video.path, tmp_path / "s.mp4", 2, crf=0)
    assert st.parts == 1 and st.frames_written == sum(b - a + 1 for a, b in RANGES)
    assert [p.name for p in tmp_path.iterdir()] == ["s.mp4"]


def test_variable_rate_and_unknown_pts_are_written_by_one_writer(scenes_audio_video, tmp_path):
    fp = first_pass(scenes_audio_video.path)
    times = fp.frame_times
    st = write_either(
        scenes_audio_video.path,
        RANGES,
        tmp_path / "v.mp4",
        2,
        source=SourceFrames(frame_pts=fp.frame_pts, frame_times=times),
    )
    assert st.parts == 1
    st = write_either(scenes_audio_video.path, RANGES, tmp_path / "n.mp4", 2)
    assert st.parts == 1
