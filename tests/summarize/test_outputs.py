"""The writers of a Summary: summary.mp4, segments.json, scores.png, summary.html, index.html."""

from __future__ import annotations

import json

import av
import pytest

from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.outputs import (
    PAGE_FILE,
    SEGMENTS_FILE,
    segments_content,
    write_index,
    write_review_page,
    write_summary,
)
from acsumgan.summarize.summary import compute_summary

from .conftest import distance_scorer

#: segments.json's keys, in the order written (the summary's, then what encoding added).
SEGMENT_KEYS = [
    "video",
    "fps",
    "n_frames",
    "duration_seconds",
    "constant_frame_rate",
    "width",
    "height",
    "backbone",
    "rate",
    "n_steps",
    "n_shots",
    "budget",
    "seconds_requested",
    "n_selected",
    "summary_frames",
    "summary_seconds",
    "shots",
    "max_shot_seconds",
    "summary_frames_written",
    "audio",
    "rotation",
    "sample_aspect_ratio",
    "summary_width",
    "summary_height",
]


@pytest.fixture(scope="module")
def summary(scenes_audio_video, features_of):
    ex = features_of(scenes_audio_video.path)
    return compute_summary(ex, distance_scorer, SummarizeOptions(budget=0.4), video=scenes_audio_video.path)


def test_files_are_named_where_they_will_lie(summary, tmp_path):
    stage, final = tmp_path / "stage", tmp_path / "final"
    stage.mkdir()
    files = write_summary(summary, stage, SummarizeOptions(crf=0), final=final)
    assert sorted(p.name for p in stage.iterdir()) == ["scores.png", "segments.json", "summary.mp4"]
    assert files.folder == final and files.summary_path == final / "summary.mp4"
    assert files.segments_path == final / SEGMENTS_FILE and files.plot_path == final / "scores.png"
    seg = json.loads((stage / SEGMENTS_FILE).read_text())
    assert list(seg) == SEGMENT_KEYS == list(files.segments)
    assert files.segments == segments_content(summary, files.write_stats)
    assert seg == json.loads(json.dumps(files.segments))
    assert seg["summary_frames_written"] == seg["summary_frames"] == summary.summary_frames
    assert (seg["audio"], seg["rotation"], seg["sample_aspect_ratio"]) == (True, 0, "1")
    assert (seg["summary_width"], seg["summary_height"]) == (96, 72)
    assert set(files.timings) == {"kts", "scoring", "selection", "encoding", "outputs"}
    with av.open(str(stage / "summary.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == summary.summary_frames


def test_review_page_and_index_use_the_final_paths(summary, tmp_path):
    out = tmp_path / "out"
    stage, final = out / ".a.new", out / "a"
    stage.mkdir(parents=True)
    files = write_summary(summary, stage, SummarizeOptions(), final=final)
    page = write_review_page(files, stage)
    assert page.path == final / PAGE_FILE and (stage / PAGE_FILE).is_file()
    assert len(page.thumbs) == len(summary.change_points) == 5
    assert page.thumbs[0] == final / "thumbs" / "shot0001.jpg"
    assert sorted(p.name for p in (stage / "thumbs").iterdir()) == [p.name for p in page.thumbs]
    html = (stage / PAGE_FILE).read_text()
    assert 'src="thumbs/shot0001.jpg"' in html and "summary.mp4" in html
    stage.rename(final)  # the swap
    index = write_index(out, [(files, page)])
    text = index.read_text()
    first_kept = min(summary.selected)
    assert f"a/thumbs/shot{first_kept + 1:04d}.jpg" in text and 'href="a/summary.html"' in text
