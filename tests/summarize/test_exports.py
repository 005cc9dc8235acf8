"""Exports of a real summary folder: OTIO, CMX 3600 EDL, FCP 7 XML read back by OTIO give
segments.json's frame ranges to the frame; the contact sheet shows the kept shots."""

from __future__ import annotations

import json

import av
import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image

from acsumgan.errors import ConfigError, OutputError
from acsumgan.summarize.exports import DEFAULT_NAMES, export_summary, load_segments
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.pipeline import summarize_video

from .conftest import distance_scorer


@pytest.fixture(scope="module")
def summary_dir(scenes_audio_video, backbone, tmp_path_factory):
    """scenes_audio_video (25 fps, 5 scenes, 20 s) summarized at 60 %: several kept shots."""
    out = tmp_path_factory.mktemp("exports") / "out"
    summarize_video(scenes_audio_video.path, distance_scorer, out, SummarizeOptions(budget=0.6, backbone=backbone))
    return out


def kept_ranges(folder) -> list[tuple[int, int]]:
    seg = json.loads((folder / "segments.json").read_text())
    return [(s["start_frame"], s["n_frames"]) for s in seg["shots"]]


def clip_ranges(timeline, fps) -> list[tuple[int, int]]:
    """(first frame, frames) of each clip of the timeline's video track, counted at ``fps``."""
    (track,) = timeline.video_tracks()
    out = []
    for clip in track.find_clips():
        r = clip.source_range
        first = r.start_time.rescaled_to(fps).value
        n = r.duration.rescaled_to(fps).value
        assert first == round(first) and n == round(n)  # whole frames
        out.append((int(round(first)), int(round(n))))
    return out


@pytest.mark.parametrize("fmt,adapter", [("otio", None), ("edl", "cmx_3600"), ("fcpxml", "fcp_xml")])
def test_timelines_read_back_give_the_frame_ranges(summary_dir, tmp_path, fmt, adapter):
    want = kept_ranges(summary_dir)
    assert len(want) >= 2
    path = export_summary(summary_dir, fmt, tmp_path / f"cut.{fmt}")
    assert path == tmp_path / f"cut.{fmt}" and path.stat().st_size > 0
    kw = {"adapter_name": adapter} if adapter else {}
    if adapter == "cmx_3600":
        kw["rate"] = 25
    timeline = otio.adapters.read_from_file(str(path), **kw)
    assert clip_ranges(timeline, 25) == want
    # the timeline's length is the summary's
    seg = load_segments(summary_dir)
    assert timeline.duration().rescaled_to(25).value == seg["summary_frames"]


def test_otio_points_at_the_source(summary_dir, scenes_audio_video, tmp_path):
    timeline = otio.adapters.read_from_file(str(export_summary(summary_dir, "otio", tmp_path / "a.otio")))
    clips = list(timeline.find_clips())
    assert all(c.media_reference.target_url == scenes_audio_video.path.resolve().as_uri() for c in clips)
    seg = load_segments(summary_dir)
    assert [c.name for c in clips] == [f"shot {s['shot'] + 1}" for s in seg["shots"]]
    assert clips[0].media_reference.available_range.duration.value == 500


def test_default_names_and_no_replacing(summary_dir):
    path = export_summary(summary_dir, "otio")
    assert path == summary_dir / DEFAULT_NAMES["otio"]
    before = path.read_bytes()
    with pytest.raises(OutputError, match="exists; --force replaces it"):
        export_summary(summary_dir, "otio")
    assert export_summary(summary_dir, "otio", force=True) == path
    assert path.read_bytes() == before  # the same summary, the same file
    assert not [p for p in summary_dir.iterdir() if p.name.endswith(".tmp")]


def test_contact_sheet_shows_the_kept_shots_middle_frames(summary_dir, scenes_audio_video, tmp_path):
    path = export_summary(summary_dir, "contact-sheet", tmp_path / "sheet.jpg")
    seg = load_segments(summary_dir)
    middles = [(s["start_frame"] + s["end_frame"]) // 2 for s in seg["shots"]]
    with av.open(str(scenes_audio_video.path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    img = np.asarray(Image.open(path).convert("RGB")).astype(np.int16)
    n = len(middles)
    cols = min(4, n)
    rows = -(-n // cols)
    assert img.shape == (rows * 72 + (rows + 1) * 4, cols * 96 + (cols + 1) * 4, 3)  # 96x72: never enlarged
    for k, m in enumerate(middles):
        r, c = divmod(k, cols)
        cell = img[4 + r * 76 : 4 + r * 76 + 72, 4 + c * 100 : 4 + c * 100 + 96]
        err = [np.abs(cell - frames[j].astype(np.int16)).mean() for j in middles]
        assert err[k] < 20, err  # JPEG of small frames with sharp edges: a few levels off
        assert err[k] == min(err)  # the closest of the kept shots' middle frames is its own


def test_one_line_errors(tmp_path, summary_dir):
    with pytest.raises(ConfigError, match="no segments.json here") as e:
        export_summary(tmp_path, "otio")
    assert "\n" not in str(e.value)
    (tmp_path / "segments.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not a summary's segments.json"):
        export_summary(tmp_path, "edl")
    with pytest.raises(ConfigError, match="unknown export format 'mp4'"):
        export_summary(summary_dir, "mp4")
    with pytest.raises(OutputError, match="is a folder"):
        export_summary(summary_dir, "otio", tmp_path)


def test_edl_needs_a_timecode_rate(scenes_video, backbone, tmp_path):
    out = tmp_path / "out"
    summarize_video(scenes_video.path, distance_scorer, out, SummarizeOptions(budget=0.5, backbone=backbone))
    with pytest.raises(ConfigError, match="CMX 3600 EDL needs a timecode rate.*10 fps"):
        export_summary(out, "edl")
    assert not (out / "summary.edl").exists()
    timeline = otio.adapters.read_from_file(str(export_summary(out, "otio")))  # OTIO itself takes any rate
    assert clip_ranges(timeline, 10) == kept_ranges(out)
