"""Decoding and sampling: the sampling rule, timestamps, frame counts, bad inputs."""

from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np
import pytest

from acsumgan.errors import ConfigError, VideoError
from acsumgan.media.decode import FrameSampler, probe
from acsumgan.media.sampling import sample_steps
from acsumgan.synthetic.media import counter_video

from .conftest import REAL_VIDEOS


def sampled(path, rate=2.0, size=(32, 24)):
    s = FrameSampler(path, rate=rate, size=size)
    frames = list(s)
    return s, frames


def expected_cfr(n: int, fps, rate=2) -> list[int]:
    """First frame at or after each k / rate for a constant-rate video (frame i at i / fps)."""
    out = []
    for k in range(0, 10 * n):
        i = math.ceil(Fraction(k) / Fraction(rate) * Fraction(fps))
        if i >= n:
            break
        if not out or i != out[-1]:
            out.append(i)
    return out


def flat_level(img: np.ndarray) -> float:
    return float(np.median(img))


def test_30fps_gives_every_15th_frame(cfr30):
    s, frames = sampled(cfr30.path)
    assert s.picks == [0, 15, 30, 45, 60, 75, 90]
    assert [f.index for f in frames] == s.picks
    assert s.timestamps == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert s.n_frames == 100
    assert s.fps == 30.0 and s.constant_rate
    # the sampled images really are those frames (grey level (i * 37) % 256)
    for f in frames:
        assert abs(flat_level(f.image) - (f.index * 37) % 256) <= 4, f.index
    assert frames[0].image.shape == (24, 32, 3) and frames[0].image.dtype == np.uint8


def test_25fps_and_10fps_follow_the_rule(cfr25, cfr10):
    s, _ = sampled(cfr25.path)
    assert s.picks == expected_cfr(80, 25) == [0, 13, 25, 38, 50, 63, 75]
    assert s.timestamps == pytest.approx([i / 25 for i in s.picks], abs=1e-9)
    s, _ = sampled(cfr10.path)
    assert s.picks == expected_cfr(33, 10) == [0, 5, 10, 15, 20, 25, 30]
    assert s.n_frames == 33 and s.fps == 10.0


def test_other_rates(cfr30):
    s, _ = sampled(cfr30.path, rate=1.0)
    assert s.picks == [0, 30, 60, 90]
    s, _ = sampled(cfr30.path, rate=3.0)
    assert s.picks == list(range(0, 100, 10))
    # above the frame rate every frame is one step, no duplicates
    s, _ = sampled(cfr30.path, rate=45.0)
    assert s.picks == list(range(100))


def test_variable_frame_rate_is_time_based(vfr):
    s, frames = sampled(vfr.path)
    times = [Fraction(p) * vfr.time_base for p in vfr.pts]
    expected = []
    for k in range(0, 20):
        later = [i for i, t in enumerate(times) if t >= Fraction(k, 2)]
        if later and later[0] not in expected:
            expected.append(later[0])
    assert s.picks == expected == [0, 6, 8, 11, 13, 14, 17]
    assert s.timestamps == pytest.approx([float(times[i]) for i in expected], abs=1e-9)
    assert s.n_frames == len(vfr.pts)
    assert not s.constant_rate
    assert np.allclose(s.frame_times, [float(t) for t in times])
    for f in frames:
        assert abs(flat_level(f.image) - (f.index * 37) % 256) <= 4


def test_frames_without_pts_use_index_over_fps(vdir):
    path = vdir / "raw.h264"
    counter_video(path, 40, fps=30, fmt="h264")
    with av.open(str(path)) as c:
        assert all(f.pts is None for f in c.decode(video=0)), "raw H.264 should carry no timestamps"
    s, frames = sampled(path)
    assert s.picks == [0, 15, 30]
    assert s.timestamps == pytest.approx([0.0, 0.5, 1.0])
    assert s.n_frames == 40


def test_probe_reports_metadata(scenes_audio_video, cfr30):
    info = probe(scenes_audio_video.path)
    assert (info.width, info.height) == (96, 72)
    assert info.fps == 25.0
    assert info.n_frames == 500
    assert info.has_audio
    assert info.duration == pytest.approx(20.0, abs=0.1)
    info = probe(cfr30.path)
    assert not info.has_audio and info.n_frames == 100 and info.fps == 30.0


def test_mkv_and_webm(mkv_video, webm_video):
    for v in (mkv_video, webm_video):
        s, frames = sampled(v.path)
        assert s.n_frames == v.n_frames
        assert s.picks == expected_cfr(v.n_frames, v.fps)
    assert probe(webm_video.path).has_audio


def test_one_frame_video(one_frame):
    s, frames = sampled(one_frame.path)
    assert s.picks == [0] and s.n_frames == 1 and len(frames) == 1


def test_full_size_frames(cfr30):
    s = FrameSampler(cfr30.path, rate=2.0, size=None)
    frames = list(s)
    assert frames[0].image.shape == (48, 64, 3)


def test_truncated_matroska_decodes_what_is_there(truncated_mkv):
    path, full = truncated_mkv
    s, frames = sampled(path)
    assert 5 < s.n_frames < full
    assert s.picks == expected_cfr(s.n_frames, 30)
    for f in frames:
        assert abs(flat_level(f.image) - (f.index * 37) % 256) <= 4


BAD = {
    "missing": "file not found",
    "empty": "is empty (0 bytes)",
    "text": "not a video file",
    "folder": "is a folder",
    "audio_only": "no video stream (audio only)",
    "truncated_mp4": "truncated",
    "corrupt_mp4": "corrupt video data",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_inputs_raise_one_line_video_error(bad_files, name):
    path = bad_files[name]
    with pytest.raises(VideoError) as ei:
        list(FrameSampler(path))
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: ")
    assert BAD[name] in msg
    assert ei.value.exit_code == 7


@pytest.mark.parametrize("name", ["missing", "empty", "text", "audio_only", "truncated_mp4"])
def test_probe_rejects_bad_inputs(bad_files, name):
    with pytest.raises(VideoError, match=BAD[name].replace("(", r"\(").replace(")", r"\)")):
        probe(bad_files[name])


def test_no_decodable_frames(vdir):
    # a valid container whose only video packet is garbage
    good = vdir / "garbage_src.mkv"
    counter_video(good, 1, fps=10, fmt="matroska", codec="mpeg4")
    with av.open(str(good)) as c:
        s = c.streams.video[0]
        pkts = [p for p in c.demux(s) if p.size]
    bad = vdir / "garbage.mkv"
    with av.open(str(bad), "w", format="matroska") as out:
        o = out.add_stream("mpeg4", rate=10)
        o.width, o.height, o.pix_fmt = 64, 48, "yuv420p"
        for p in pkts:
            junk = av.Packet(b"\x00\x00\x01\xb6" + b"\xff" * 20)
            junk.pts, junk.dts, junk.time_base, junk.stream = p.pts, p.dts, p.time_base, o
            out.mux(junk)
    with pytest.raises(VideoError, match="no decodable video frames"):
        list(FrameSampler(bad))


def test_bad_rate_is_config_error(cfr30):
    for r in (0, -1, float("nan"), "x"):
        with pytest.raises(ConfigError):
            FrameSampler(cfr30.path, rate=r)


def test_sample_steps_rule():
    times = [Fraction(i, 30) for i in range(61)]
    assert sample_steps(times) == [0, 15, 30, 45, 60]
    # a gap crossing several thresholds takes that frame once
    assert sample_steps([0, Fraction(1, 10), Fraction(23, 10), Fraction(24, 10), 3]) == [0, 2, 4]


@pytest.mark.parametrize("name,n,fps,step", [("vtest.avi", 795, 10, 5), ("bikes.mp4", 250, 25, None)])
def test_real_videos(name, n, fps, step):
    path = REAL_VIDEOS / name
    s, frames = sampled(path, size=(16, 16))
    assert s.n_frames == n and s.fps == fps and s.constant_rate
    assert s.picks == expected_cfr(n, fps)
    if step:
        assert s.picks == list(range(0, n, step))


def test_a_folder_gives_its_videos_and_names_the_other_files(tmp_path):
    from acsumgan.media.decode import folder_videos, skipped_note

    for name in ("b.MTS", "a.mp4", "c.m2ts", "d.3gp", "notes.txt", "cover.jpg", ".DS_Store", ".hidden.mp4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.mp4").mkdir()
    videos, skipped = folder_videos(tmp_path)
    assert [p.name for p in videos] == [".hidden.mp4", "a.mp4", "b.MTS", "c.m2ts", "d.3gp"]
    assert [p.name for p in skipped] == ["cover.jpg", "notes.txt"]
    assert (
        skipped_note(tmp_path, skipped)
        == f"{tmp_path}: skipped 2 files that are not videos (by name): cover.jpg, notes.txt"
    )
    many = [tmp_path / f"f{i}.txt" for i in range(10)]
    assert skipped_note(tmp_path, many).endswith("f7.txt and 2 more")


# --- opening a user's file: the local file, by a demuxer that reads only its bytes (issue 22, item 12)


@pytest.fixture
def beside(tmp_path, monkeypatch):
    """A real ``b.mp4`` in the cwd, and text files FFmpeg would read as other files."""
    monkeypatch.chdir(tmp_path)
    counter_video(tmp_path / "b.mp4", 6, fps=10)
    (tmp_path / "concat:b.mp4|b.mp4").write_text("a text file\n" * 10)
    (tmp_path / "ffc.mp4").write_text("ffconcat version 1.0\nfile b.mp4\n")
    (tmp_path / "list.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nb.mp4\n#EXT-X-ENDLIST\n")
    return tmp_path


def test_open_media_opens_the_local_file_whatever_its_name(beside):
    from acsumgan.fileio import local_url
    from acsumgan.media.decode import open_media

    assert local_url("concat:b.mp4|b.mp4") == f"file:{beside}/concat:b.mp4|b.mp4"
    with av.open("concat:b.mp4|b.mp4") as c:  # what FFmpeg does with the name: b.mp4 twice
        assert c.format.name.startswith("mov")
    with pytest.raises(av.error.InvalidDataError):
        open_media("concat:b.mp4|b.mp4")  # the text file itself
    (beside / "clip:1.mp4").write_bytes((beside / "b.mp4").read_bytes())
    with pytest.raises(av.error.ProtocolNotFoundError):
        av.open("clip:1.mp4")
    with open_media("clip:1.mp4") as c:
        assert sum(1 for _ in c.decode(video=0)) == 6
    assert probe("clip:1.mp4").n_frames == 6


@pytest.mark.parametrize("name, demuxer", [("ffc.mp4", "concat"), ("list.m3u8", "hls")])
def test_open_media_refuses_scripts_and_playlists(beside, name, demuxer):
    from acsumgan.media.decode import open_media

    with av.open(name) as c:  # FFmpeg would follow it to b.mp4
        assert c.format.name == demuxer
    with pytest.raises(av.error.ArgumentError):
        open_media(name)
    with pytest.raises(VideoError) as ei:
        probe(name)
    assert str(ei.value) == f"{name}: not a video file (unrecognised format)"


def test_plain_demuxers_are_those_reading_the_file_given():
    from acsumgan.media.decode import plain_demuxers

    allowed = set(plain_demuxers().split(","))
    assert {"mov", "mp4", "matroska", "webm", "avi", "mpegts", "mpeg", "flv", "h264", "ivf", "gif"} <= allowed
    assert {"concat", "hls", "sdp", "rtp", "rtsp", "image2", "lavfi"}.isdisjoint(allowed)
