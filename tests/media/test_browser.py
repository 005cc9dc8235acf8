"""The media files of a review page (acsumgan.media.browser): thumbnails and the browser copy,
with known answers."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from acsumgan.errors import VideoError
from acsumgan.media import browser as pmedia
from acsumgan.media.browser import playable_href, write_thumbnails
from acsumgan.synthetic.media import counter_video, make_scene_video, scene_video


def test_thumbnails_are_the_middle_frames(tmp_path):
    """Known answer: counter frame i is flat grey (i * 37) % 256, so a thumbnail tells its frame."""
    g = counter_video(tmp_path / "c.mp4", 90, fps=30, size=(64, 48))
    shots = [(0, 9), (10, 30), (31, 59), (60, 89), (45, 45)]
    paths = write_thumbnails(g.path, shots, tmp_path / "thumbs")
    assert [p.name for p in paths] == [f"shot{i:04d}.jpg" for i in range(1, 6)]
    assert sorted(p.name for p in (tmp_path / "thumbs").iterdir()) == [p.name for p in paths]  # no temporary left
    for p, (a, b) in zip(paths, shots):
        img = np.asarray(Image.open(p).convert("L"), dtype=float)
        assert img.shape == (48, 64)  # never enlarged
        level = np.median(img[:, :40])  # left of the moving bar
        assert abs(level - ((a + b) // 2 * 37) % 256) <= 4, (p.name, level)


def test_thumbnails_decode_once_and_stop_after_the_last_needed_frame(tmp_path, monkeypatch):
    g = counter_video(tmp_path / "c.mp4", 200, fps=25, size=(64, 48))
    seen = []
    real = pmedia._decoded

    def counting(container, streams):
        for f in real(container, streams):
            seen.append(f.pts)
            yield f

    monkeypatch.setattr(pmedia, "_decoded", counting)
    monkeypatch.setattr(
        av.container.InputContainer,
        "seek",
        lambda *a, **k: pytest.fail("write_thumbnails must not seek"),
        raising=False,
    )
    write_thumbnails(g.path, [(0, 19), (20, 59)], tmp_path / "t")
    assert len(seen) == 40  # frames 0..39: the last middle frame is 39


def test_thumbnail_past_the_end_is_the_last_frame_and_bad_input_fails(tmp_path):
    g = counter_video(tmp_path / "c.mp4", 20, fps=25, size=(64, 48))
    (p,) = write_thumbnails(g.path, [(10, 50)], tmp_path / "t", width=32)
    img = np.asarray(Image.open(p).convert("L"), dtype=float)
    assert img.shape == (24, 32)
    assert abs(np.median(img[:, :12]) - (19 * 37) % 256) <= 4
    with pytest.raises(ValueError):
        write_thumbnails(g.path, [(5, 4)], tmp_path / "t")
    with pytest.raises(VideoError, match="file not found"):
        write_thumbnails(tmp_path / "none.mp4", [(0, 1)], tmp_path / "t")
    assert write_thumbnails(g.path, [], tmp_path / "t") == []


def test_thumbnails_honour_the_rotation_metadata(tmp_path):
    """A landscape frame, red on the left and blue on the right, stored with a display
    rotation of 90 degrees counter-clockwise, is shown portrait with red at the bottom."""
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :32] = (220, 0, 0)
    frame[:, 32:] = (0, 0, 220)
    path = tmp_path / "rot.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.set_display_rotation(90)
        for i in range(10):
            f = av.VideoFrame.from_ndarray(frame, format="rgb24")
            f.pts = i
            for pkt in s.encode(f):
                out.mux(pkt)
        for pkt in s.encode(None):
            out.mux(pkt)
    (p,) = write_thumbnails(path, [(0, 9)], tmp_path / "t")
    img = np.asarray(Image.open(p).convert("RGB"), dtype=int)
    assert img.shape[:2] == (64, 48)  # portrait
    bottom, top = img[48:].reshape(-1, 3).mean(0), img[:16].reshape(-1, 3).mean(0)
    assert bottom[0] > 150 > bottom[2] and top[2] > 150 > top[0]


def test_playable_href_links_a_browser_video_without_copying(tmp_path):
    video = make_scene_video(tmp_path / "videos" / "my clip.mp4", [10, 10], fps=25, size=(64, 48))
    out = tmp_path / "out"
    out.mkdir()
    assert playable_href(video, out) == "../videos/my%20clip.mp4"
    assert list(out.iterdir()) == []


def test_playable_href_copies_an_avi_to_h264_with_the_same_duration(tmp_path):
    g = scene_video(
        tmp_path / "clip.avi", [30, 45, 25], fps=25, size=(800, 450), codec="mpeg4", tones=[220.0, 330.0, 440.0]
    )
    out = tmp_path / "out"
    assert playable_href(g.path, out) == "original.mp4"

    def frames(path):
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            ts = [f.time for f in c.decode(s)]
            return s.codec_context.name, s.codec_context.width, s.codec_context.height, ts, c.streams.audio

    name, w, h, copy_times, audio = frames(out / "original.mp4")
    _, _, _, src_times, _ = frames(g.path)
    assert (name, w, h) == ("h264", 640, 360)
    assert len(copy_times) == len(src_times) == 100
    # the same frame times (relative to the first frame), hence frame rate and duration
    np.testing.assert_allclose(np.array(copy_times) - copy_times[0], np.array(src_times) - src_times[0], atol=1e-3)
    with av.open(str(out / "original.mp4")) as c:
        vs = c.streams.video[0]
        duration = float(vs.duration * vs.time_base)
        assert c.streams.audio[0].codec_context.name == "aac"
    assert abs(float(np.median(np.diff(copy_times))) - 1 / 25) < 1e-6  # the frame rate
    expected = src_times[-1] - src_times[0] + 1 / 25
    assert abs(duration - expected) <= 1 / 25
    assert playable_href(out / "original.mp4", out) == "original.mp4"  # the copy itself plays
