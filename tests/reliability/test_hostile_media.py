"""Hostile media of the third round (issue 22): a variable frame rate with a gap of an hour,
and local names FFmpeg would read as a protocol (``concat:b.mp4|b.mp4``) or files it would
follow to other files (an ffconcat script, an HLS playlist). Each test runs the real command
(``python -m acsumgan summarize``) in a subprocess on real files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import pytest

from acsumgan.synthetic.media import plain_scene_frame, scene_video

from .conftest import assert_one_line_error, cli

SMALL = {"size": (96, 72), "painter": plain_scene_frame, "options": {"preset": "ultrafast"}}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """The files of this module, by name; the protocol-like names lie in ``media["cwd"]``."""
    d = tmp_path_factory.mktemp("hostile_media")
    m: dict[str, Path] = {"cwd": d}
    # frames at 0, 1, 2 and 3,600 s (90 kHz clock): the average rate is one frame in 15 minutes
    m["gap4"] = scene_video(
        d / "gap4.mp4", [2, 2], fps=1, pts=[0, 90000, 180000, 3600 * 90000], time_base=Fraction(1, 90000), **SMALL
    ).path
    # 3 s at 10 fps, then one frame an hour later (milliseconds)
    pts = [100 * i for i in range(30)] + [3_600_000]
    m["gap31"] = scene_video(d / "gap31.mp4", [10, 10, 11], fps=10, pts=pts, time_base=Fraction(1, 1000), **SMALL).path
    m["b"] = scene_video(d / "b.mp4", [20, 20, 20, 20], fps=10, **SMALL).path
    shutil.copy(m["b"], d / "clip:1.mp4")  # a real video whose name holds a colon
    m["clip"] = d / "clip:1.mp4"
    (d / "concat:b.mp4|b.mp4").write_text("a text file, not a video\n" * 20)
    m["concat_name"] = d / "concat:b.mp4|b.mp4"
    (d / "ffc.mp4").write_text("ffconcat version 1.0\nfile b.mp4\nfile b.mp4\n")
    m["ffconcat"] = d / "ffc.mp4"
    hls = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:8\n#EXTINF:8.0,\nb.mp4\n#EXT-X-ENDLIST\n"
    (d / "list.m3u8").write_text(hls)
    m["m3u8"] = d / "list.m3u8"
    (d / "x.mp4").write_text(hls)
    m["hls_mp4"] = d / "x.mp4"
    return m


# --- a variable frame rate with a gap of an hour ------------------------------------------

GAP_ROWS = ("gap4", "gap31")


@pytest.fixture(scope="module")
def gap_runs(media, models, tmp_path_factory) -> dict:
    """``summarize V --seconds 2`` of each gap video, two at a time; ``{row: (proc, out)}``."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for row in GAP_ROWS:
            out = tmp_path_factory.mktemp(row) / "out"
            argv = ["summarize", media[row], "--model", models["m1280"], "--seconds", "2", "--out", out, "--no-page"]
            futures[row] = (pool.submit(cli, *argv, timeout=600), out)
        return {row: (f.result(), out) for row, (f, out) in futures.items()}


def mp4_seconds(path: Path) -> tuple[float, float, float]:
    """(video stream duration, container duration, end of the last packet) in seconds."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        end = max(float((p.pts + p.duration) * p.time_base) for p in c.demux(v) if p.size)
        return float(v.duration * v.time_base), c.duration / av.time_base, end


@pytest.mark.slow
@pytest.mark.parametrize("row", GAP_ROWS)
def test_a_gap_of_an_hour_gives_a_summary_as_long_as_segments_say(gap_runs, row):
    proc, out = gap_runs[row]
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    seg = json.loads((out / "segments.json").read_text())
    assert seg["constant_frame_rate"] is False and seg["duration_seconds"] > 3600
    kept = sum(s["duration_seconds"] for s in seg["shots"])
    assert 0 < kept <= 2.0 + 1e-6 and seg["summary_seconds"] == pytest.approx(kept, abs=1e-5)
    step = 1.0 if row == "gap4" else 0.1  # the video's median frame step
    for seconds in mp4_seconds(out / "summary.mp4"):  # was 1,002 s (gap4) and 121.5 s (gap31)
        assert seconds == pytest.approx(kept, abs=step / 2), (seconds, kept)
    with av.open(str(out / "summary.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == seg["summary_frames"]


# --- names FFmpeg would take for a protocol, files it would follow ------------------------


def test_a_text_file_named_like_the_concat_protocol_is_that_file(media, models):
    before = sha256(media["b"])
    proc = cli("summarize", media["concat_name"].name, "--model", models["m1280"], "--out", "out-c", cwd=media["cwd"])
    assert_one_line_error(proc, 7, media["concat_name"].name, "not a video file (unrecognised format)")
    assert sha256(media["b"]) == before and not (media["cwd"] / "out-c").exists()


@pytest.mark.parametrize("name", ["ffconcat", "m3u8", "hls_mp4"])
def test_a_concat_script_or_playlist_is_not_followed(media, models, name):
    """An ffconcat script named .mp4 and an HLS playlist (.m3u8, or named .mp4) name b.mp4 beside
    them; FFmpeg's concat and hls demuxers would summarize b.mp4 through them."""
    before = sha256(media["b"])
    proc = cli("summarize", media[name].name, "--model", models["m1280"], "--out", f"out-{name}", cwd=media["cwd"])
    assert_one_line_error(proc, 7, media[name].name, "not a video file (unrecognised format)")
    assert sha256(media["b"]) == before and not (media["cwd"] / f"out-{name}").exists()


@pytest.mark.slow
def test_a_real_video_whose_name_holds_a_colon_works(media, models, tmp_path):
    out = "out:1"  # relative, in the cwd: the output's name holds a colon as well
    proc = cli("summarize", "clip:1.mp4", "--model", models["m1280"], "--out", out, cwd=media["cwd"])
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    folder = media["cwd"] / out
    seg = json.loads((folder / "segments.json").read_text())
    assert seg["video"] == "clip:1.mp4" and seg["n_frames"] == 80
    with av.open(str(folder / "summary.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == seg["summary_frames"] > 0
    assert 'src="../clip%3A1.mp4"' in (folder / "summary.html").read_text()  # quoted: not a URL scheme
