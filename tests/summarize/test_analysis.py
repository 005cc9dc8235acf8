"""analysis.h5: a summary rebuilt without features or a model (load_summary), for reselect."""

from __future__ import annotations

import json

import numpy as np
import pytest

from acsumgan.errors import AcsumganError, ConfigError
from acsumgan.summarize.analysis import ANALYSIS_FILE, analysis_digest, load_summary, write_analysis
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.pipeline import summarize_video
from acsumgan.summarize.summary import compute_summary, reselect
from acsumgan.summarize.unit import MEMBERS

from .conftest import distance_scorer


def same_selection(a, b) -> None:
    assert a.selected == b.selected
    assert a.kept_ranges == b.kept_ranges
    assert np.array_equal(a.change_points, b.change_points)
    assert a.shot_scores == b.shot_scores
    assert (a.budget, a.seconds, a.max_shot_seconds) == (b.budget, b.seconds, b.max_shot_seconds)
    assert json.dumps(a.segments) == json.dumps(b.segments)  # same keys, order and values


def outcome(summary, options):
    try:
        return reselect(summary, options)
    except ConfigError as exc:
        return str(exc)


LENGTHS = [
    SummarizeOptions(budget=0.1),
    SummarizeOptions(budget=0.25),
    SummarizeOptions(budget=0.5),
    SummarizeOptions(budget=1.0),
    SummarizeOptions(seconds=1.0),
    SummarizeOptions(seconds=6),
    SummarizeOptions(seconds=15, max_shot_seconds=None),
    SummarizeOptions(length_preset="story-15"),
    SummarizeOptions(length_preset="feed-120"),
]


def test_summarize_writes_analysis_and_load_summary_reselects_the_same(scenes_audio_video, backbone, tmp_path):
    out = tmp_path / "out"
    files = summarize_video(
        scenes_audio_video.path, distance_scorer, out, SummarizeOptions(budget=0.4, backbone=backbone)
    )
    assert ANALYSIS_FILE in MEMBERS and MEMBERS.index(ANALYSIS_FILE) < MEMBERS.index("segments.json")
    assert files.analysis_path == out / ANALYSIS_FILE and files.analysis_path.is_file()
    base = files.summary
    back = load_summary(out)
    assert back.features.shape == (base.features.shape[0], 0) and back.features.dtype == np.float32
    assert np.array_equal(back.scores, base.scores) and np.array_equal(back.picks, base.picks)
    assert np.array_equal(back.timestamps, base.timestamps)
    assert back.video_path == base.video_path and back.fps == base.fps and back.n_frames == base.n_frames
    assert back.extracted.key_frames == base.extracted.key_frames
    assert back.extracted.frame_pts == base.extracted.frame_pts
    same_selection(back, base)
    assert analysis_digest(back) == analysis_digest(base)
    assert len(analysis_digest(base)) == 16 and int(analysis_digest(base), 16) >= 0
    picked = set()
    for options in LENGTHS:
        a, b = outcome(back, options), outcome(base, options)
        if isinstance(b, str):
            assert a == b
            continue
        same_selection(a, b)
        picked.add(tuple(b.selected))
    assert len(picked) >= 3  # the lengths really pick different shots


def test_variable_frame_rate_round_trip(vfr, features_of, tmp_path):
    ex = features_of(vfr.path)
    assert not ex.constant_rate
    base = compute_summary(ex, distance_scorer, SummarizeOptions(budget=0.5), video=vfr.path)
    write_analysis(tmp_path / ANALYSIS_FILE, base)
    back = load_summary(tmp_path)
    assert not back.extracted.constant_rate
    assert np.array_equal(back.extracted.frame_times, ex.frame_times)
    assert back.extracted.frame_pts == ex.frame_pts
    same_selection(back, base)
    results = 0
    for options in [SummarizeOptions(budget=b) for b in (0.2, 0.3, 0.5, 0.8, 1.0)] + [
        SummarizeOptions(seconds=s) for s in (0.5, 1.0, 2.0)
    ]:
        a, b = outcome(back, options), outcome(base, options)
        if isinstance(b, str):
            assert a == b
        else:
            same_selection(a, b)
            results += 1
    assert results >= 3


def test_missing_or_corrupt_analysis_is_one_line(scenes_video, features_of, tmp_path):
    with pytest.raises(ConfigError, match="no analysis.h5: summarize the video first") as e:
        load_summary(tmp_path)
    assert "\n" not in str(e.value)
    (tmp_path / ANALYSIS_FILE).write_bytes(b"not an hdf5 file at all" * 10)
    with pytest.raises(ConfigError, match="corrupt analysis file") as e:
        load_summary(tmp_path)
    assert "\n" not in str(e.value) and ANALYSIS_FILE in str(e.value)
    # a real file cut short
    base = compute_summary(features_of(scenes_video.path), distance_scorer, SummarizeOptions(), video=scenes_video.path)
    good = write_analysis(tmp_path / "whole" / ANALYSIS_FILE, base)
    data = good.read_bytes()
    (tmp_path / ANALYSIS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(AcsumganError) as e:
        load_summary(tmp_path)
    assert "\n" not in str(e.value) and ANALYSIS_FILE in str(e.value)
    # another HDF5 file (features.h5, a dataset) is not an analysis
    import h5py

    with h5py.File(tmp_path / ANALYSIS_FILE, "w") as h5:
        h5["x"] = np.zeros(3)
    with pytest.raises(ConfigError, match="not an acsumgan analysis file"):
        load_summary(tmp_path)


def test_writing_it_twice_gives_the_same_bytes(scenes_video, features_of, tmp_path):
    base = compute_summary(features_of(scenes_video.path), distance_scorer, SummarizeOptions(), video=scenes_video.path)
    a = write_analysis(tmp_path / "a.h5", base).read_bytes()
    b = write_analysis(tmp_path / "b.h5", base).read_bytes()
    assert a == b
