"""End to end: a video in, summary.mp4 + segments.json + scores.png out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest

from acsumgan.errors import ConfigError, VideoError
from acsumgan.evaluation.summary import keyshot_summary
from acsumgan.summarize.features import extract_features
from acsumgan.summarize.kts import shot_boundaries
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.pipeline import summarize_video
from acsumgan.summarize.summary import timecode

from .conftest import REAL_VIDEOS, distance_scorer, plain_scene_video


def decode_yuv(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.reformat(format="yuv420p").to_ndarray() for f in c.decode(video=0)]


def mask_from_segments(seg: dict) -> np.ndarray:
    m = np.zeros(seg["n_frames"], np.uint8)
    for s in seg["shots"]:
        m[s["start_frame"] : s["end_frame"] + 1] = 1
    return m


def test_kts_on_real_features_finds_the_scene_changes(scenes_video, backbone, vdir, features_of):
    ex = features_of(scenes_video.path)
    cp = shot_boundaries(ex.features, ex.picks, ex.n_frames)
    assert cp[1:, 0].tolist() == scenes_video.scene_starts[1:] == [40, 70, 120]
    # scene changes between steps (30 fps, steps every 15 frames) are found within one step
    v = plain_scene_video(vdir / "scenes30.mp4", [100, 80, 130], fps=30, size=(64, 48))
    ex = extract_features(v.path, backbone)
    cp = shot_boundaries(ex.features, ex.picks, ex.n_frames)
    found = cp[1:, 0].tolist()
    assert len(found) == 2
    for f, true in zip(found, v.scene_starts[1:]):
        assert 0 <= f - true < 15


def test_summarize_generated_video(scenes_audio_video, backbone, tmp_path):
    events = []
    res = summarize_video(
        scenes_audio_video.path,
        distance_scorer,
        tmp_path / "out",
        SummarizeOptions(budget=0.4, backbone=backbone, crf=0),
        progress=lambda e: events.append((e.stage, e.done, e.total)),
    )
    v = scenes_audio_video
    # shots are the true scenes
    assert res.change_points[:, 0].tolist() == v.scene_starts
    assert res.n_frames == 500 and res.fps == 25.0
    seg = json.loads((tmp_path / "out" / "segments.json").read_text())
    assert seg == json.loads(json.dumps(res.segments))
    # the selection is the benchmark's keyshot summary of the same scores
    want = keyshot_summary(res.scores, res.picks, res.n_frames, res.change_points, 0.4)
    assert np.array_equal(mask_from_segments(seg), want)
    assert seg["summary_frames"] == int(want.sum()) <= int(500 * 0.4)
    assert seg["summary_seconds"] == pytest.approx(want.sum() / 25)
    assert seg["budget"] == 0.4 and seg["n_shots"] == 5 and seg["audio"] is True
    for s in seg["shots"]:
        i = s["shot"]
        assert (s["start_frame"], s["end_frame"]) == tuple(res.change_points[i])
        assert s["n_frames"] == s["end_frame"] - s["start_frame"] + 1
        assert s["start_seconds"] == pytest.approx(s["start_frame"] / 25)
        assert s["end_seconds"] == pytest.approx((s["end_frame"] + 1) / 25)
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d", s["start_timecode"])
        assert s["start_timecode"] == timecode(s["start_seconds"])
        inside = (res.picks >= s["start_frame"]) & (res.picks <= s["end_frame"])
        assert s["score"] == pytest.approx(res.scores[inside].mean())
    # the video holds exactly the selected source frames (lossless here), in order
    src = decode_yuv(v.path)
    got = decode_yuv(res.summary_path)
    frames = [i for s in seg["shots"] for i in range(s["start_frame"], s["end_frame"] + 1)]
    assert len(got) == len(frames)
    assert all(np.array_equal(g, src[i]) for g, i in zip(got, frames))
    with av.open(str(res.summary_path)) as c:
        vs = c.streams.video[0]
        assert (vs.codec_context.width, vs.codec_context.height) == (96, 72) and vs.average_rate == 25
        assert c.streams.audio
    # plot
    png = (tmp_path / "out" / "scores.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    assert matplotlib.image.imread(tmp_path / "out" / "scores.png").shape[:2] == (360, 1000)  # legend below
    # timings and progress
    assert set(res.timings) >= {"decode_features", "kts", "scoring", "selection", "encoding", "outputs", "total"}
    assert all(t >= 0 for t in res.timings.values())
    stages = [e[0] for e in events]
    assert list(dict.fromkeys(stages)) == ["features", "shots", "encoding"]  # in this order, each once
    for stage in ("features", "shots", "encoding"):
        mine = [(d, t) for k, d, t in events if k == stage]
        assert all(0 <= d <= t for d, t in mine) and mine[-1][0] == mine[-1][1]  # done / total, ends full
        assert all(a[0] <= b[0] for a, b in zip(mine, mine[1:]))
    assert [e for e in events if e[0] != "encoding"][-2:] == [("features", 500, 500), ("shots", 1, 1)]
    assert events[-1] == ("encoding", want.sum(), want.sum())
    assert res.features.shape == (40, 1280) and res.picks.shape == (40,)


def test_seconds_budget_and_cached_features(scenes_audio_video, features_of, tmp_path):
    first = summarize_video(
        scenes_audio_video.path,
        distance_scorer,
        tmp_path / "a",
        SummarizeOptions(seconds=9),
        extracted=features_of(scenes_audio_video.path),
    )
    assert first.budget == pytest.approx(9 * 25 / 500)
    assert first.summary_seconds <= 9
    # with the features and shots of the first run: same choice, no decoding for features
    again = summarize_video(
        scenes_audio_video.path,
        distance_scorer,
        tmp_path / "b",
        SummarizeOptions(seconds=9),
        extracted=first.extracted,
        change_points=first.change_points,
    )
    assert again.selected == first.selected
    assert np.array_equal(again.change_points, first.change_points)
    # a request longer than the video is capped at the whole video
    whole = summarize_video(
        scenes_audio_video.path,
        distance_scorer,
        tmp_path / "c",
        SummarizeOptions(seconds=1000),
        extracted=first.extracted,
        change_points=first.change_points,
    )
    assert whole.budget == 1.0 and whole.summary_frames == 500


@pytest.mark.parametrize(
    "kw", [{"seconds": 0}, {"seconds": -3}, {"seconds": float("nan")}, {"budget": 0}, {"budget": 1.5}, {"budget": "x"}]
)
def test_bad_options(scenes_video, tmp_path, kw):
    with pytest.raises(ConfigError):
        summarize_video(scenes_video.path, distance_scorer, tmp_path / "o", SummarizeOptions(**kw))
    assert not (tmp_path / "o" / "summary.mp4").exists()


def test_one_frame_video_has_no_summary(one_frame, backbone, tmp_path):
    with pytest.raises(ConfigError, match="summary would be empty"):
        summarize_video(one_frame.path, distance_scorer, tmp_path / "o", SummarizeOptions(backbone=backbone))


def test_bad_video(bad_files, tmp_path):
    for name in ("empty", "text", "audio_only", "corrupt_mp4"):
        with pytest.raises(VideoError):
            summarize_video(bad_files[name], distance_scorer, tmp_path / "o")


def test_scorer_must_give_one_score_per_step(scenes_video, features_of, tmp_path):
    with pytest.raises(ValueError, match="one score per step"):
        summarize_video(
            scenes_video.path, lambda f: np.ones(3), tmp_path / "o", extracted=features_of(scenes_video.path)
        )


@pytest.mark.slow  # the real vtest.avi, end to end
def test_vtest_avi_end_to_end(vtest_summary):
    path = REAL_VIDEOS / "vtest.avi"
    res = vtest_summary
    assert res.n_frames == 795 and res.fps == 10.0
    assert res.picks.tolist() == list(range(0, 795, 5))
    seg = json.loads(res.segments_path.read_text())
    want = keyshot_summary(res.scores, res.picks, res.n_frames, res.change_points, 0.15)
    assert np.array_equal(mask_from_segments(seg), want)
    assert 0 < seg["summary_frames"] <= int(795 * 0.15)
    assert seg["video"] == str(path)
    with av.open(str(res.summary_path)) as c:
        vs = c.streams.video[0]
        assert (vs.codec_context.width, vs.codec_context.height) == (768, 576)
        assert vs.average_rate == 10
        n = sum(1 for _ in c.decode(vs))
    assert n == seg["summary_frames"]
    assert res.plot_path.stat().st_size > 1000
    assert res.timings["total"] > 0
    # a static-camera take: shots were limited to min(10 s, budget 11.9 s)
    assert seg["max_shot_seconds"] == 10.0
    assert (res.change_points[:, 1] - res.change_points[:, 0] + 1).max() <= 100


@pytest.mark.slow  # the real vtest.avi, end to end
def test_long_takes_are_split_to_fit_the_budget(vtest_summary, tmp_path):
    """vtest.avi is one static-camera take: pure KTS finds a single 79.5 s shot."""
    path = REAL_VIDEOS / "vtest.avi"
    ex = vtest_summary.extracted
    assert shot_boundaries(ex.features, ex.picks, ex.n_frames).shape[0] == 1
    with pytest.raises(ConfigError, match="summary would be empty"):
        summarize_video(path, distance_scorer, tmp_path / "a", SummarizeOptions(max_shot_seconds=None), extracted=ex)
    res = summarize_video(path, distance_scorer, tmp_path / "b", SummarizeOptions(max_shot_seconds=4), extracted=ex)
    lengths = res.change_points[:, 1] - res.change_points[:, 0] + 1
    assert lengths.max() <= 40 and res.change_points.shape[0] >= 20
    assert res.segments["max_shot_seconds"] == 4
    assert 0 < res.summary_frames <= int(795 * 0.15)


@pytest.mark.slow
def test_sample_videos_keep_the_shots_selected_before_the_speed_ups(backbone, tmp_path):
    """Known answer: tests/fixtures/sample_summaries.json holds the shots (frame ranges)
    and step scores that summarize gave on the three sample videos before decoding moved
    to a thread, the network lost its padding passes and KTS got windows (commit 5203a3f),
    with an untrained model seeded 0 (default sizes), at budgets 0.15 and 0.4."""
    import torch

    from acsumgan.config import TrainConfig
    from acsumgan.inference import Scorer
    from acsumgan.model.networks import ACSumGAN
    from acsumgan.train.checkpoint import save_checkpoint

    known = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sample_summaries.json").read_text())
    torch.manual_seed(0)
    cfg = TrainConfig(input_size=1280)
    model = tmp_path / "m.pt"
    save_checkpoint(model, ACSumGAN(**cfg.model_kwargs()), cfg, 0, extra={"feature_backbone": "efficientnet-lite0"})
    scorer = Scorer.load(model, device="cpu")
    assert len(known) == 6
    for key, want in known.items():
        name, budget = key.split("@")
        res = summarize_video(
            REAL_VIDEOS / name, scorer, tmp_path / key, SummarizeOptions(budget=float(budget), backbone=backbone)
        )
        assert [[s["start_frame"], s["end_frame"]] for s in res.segments["shots"]] == want["shots"], key
        assert res.segments["n_shots"] == want["n_shots"], key
        np.testing.assert_allclose(res.scores, want["scores"], rtol=0, atol=1e-6, err_msg=key)


def test_compute_summary_writes_nothing_and_scores_each_shot_once(scenes_audio_video, features_of, tmp_path):
    from acsumgan.summarize.summary import compute_summary

    ex = features_of(scenes_audio_video.path)
    before = sorted(tmp_path.rglob("*"))
    s = compute_summary(ex, distance_scorer, SummarizeOptions(budget=0.4), video=scenes_audio_video.path)
    assert sorted(tmp_path.rglob("*")) == before
    assert s.change_points[:, 0].tolist() == scenes_audio_video.scene_starts
    assert set(s.timings) == {"kts", "scoring", "selection"}
    want = keyshot_summary(s.scores, s.picks, s.n_frames, s.change_points, 0.4)
    assert np.array_equal(mask_from_segments(s.segments), want)
    for i, (a, b) in enumerate(s.change_points):
        inside = (s.picks >= a) & (s.picks <= b)
        assert s.shot_scores[i] == float(np.mean(s.scores[inside]))
    assert [x["score"] for x in s.segments["shots"]] == [s.shot_scores[i] for i in s.selected]
    assert s.kept_ranges == [(x["start_frame"], x["end_frame"]) for x in s.segments["shots"]]
    assert s.segments["max_shot_seconds"] == s.max_shot_seconds == min(10.0, 0.4 * 20.0)
    assert list(s.segments)[-2:] == ["shots", "max_shot_seconds"]


def test_split_cached_kts_shots_equals_kts_with_a_limit(vdir, backbone):
    """The pipeline splits the pure KTS shots cached in features.h5 instead of running KTS
    again: the same shots."""
    from acsumgan.summarize.summary import kts_shots, split_shots

    v = plain_scene_video(vdir / "long_takes.mp4", [200, 60, 140], fps=10, size=(64, 48))
    ex = extract_features(v.path, backbone)
    pure = shot_boundaries(ex.features, ex.picks, ex.n_frames)
    for seconds in (None, 10.0, 4.0, 2.5, 0.5):
        assert np.array_equal(split_shots(ex, pure, seconds), kts_shots(ex, seconds)), seconds
    assert len(split_shots(ex, pure, 4.0)) > len(pure)


def test_variable_rate_knapsack_unit_is_the_frame_times_step(vfr, backbone):
    """select_keyshots' unit (FrameTimes.step) is the median of the frame-time differences,
    as computed before FrameTimes (the median of np.diff, else 1 / fps)."""
    from acsumgan.summarize.summary import select_keyshots

    ex = extract_features(vfr.path, backbone)
    assert not ex.constant_rate
    diffs = np.diff(np.asarray(ex.frame_times, dtype=np.float64))
    assert ex.times.step == float(np.median(diffs))
    cps = np.array([[0, 4], [5, 7], [8, 11], [12, 17]])
    scores = np.linspace(0.0, 1.0, len(ex.picks))
    # weights in units of 0.04 s: 0.48, 0.72, 0.79, 1.15 s -> 12, 18, 20, 29; capacity
    # budget * 3.14 s / 0.04 s: 11, 15, 39, 47, 62, 78 units (the first shot scores 0)
    got = [select_keyshots(scores, ex, cps, b) for b in (0.15, 0.2, 0.5, 0.6, 0.8, 1.0)]
    assert got == [[], [], [3], [1, 3], [2, 3], [1, 2, 3]]  # as before FrameTimes


# ----------------------------------------------------------------------------- reselect


def same_summary(a, b) -> None:
    """Two Summary values hold the same selection, segments and numbers (timings aside)."""
    assert a.selected == b.selected
    assert np.array_equal(a.change_points, b.change_points)
    assert np.array_equal(a.scores, b.scores)
    assert a.shot_scores == b.shot_scores
    assert (a.budget, a.seconds, a.max_shot_seconds) == (b.budget, b.seconds, b.max_shot_seconds)
    assert json.dumps(a.segments) == json.dumps(b.segments)  # same keys, order and values


def test_reselect_equals_compute_summary_with_the_same_shots(scenes_audio_video, backbone, tmp_path):
    from acsumgan.summarize.summary import compute_summary, reselect

    res = summarize_video(
        scenes_audio_video.path, distance_scorer, tmp_path / "out", SummarizeOptions(budget=0.4, backbone=backbone)
    )
    base = res.summary
    calls = []

    def counting_scorer(features):
        calls.append(1)
        return distance_scorer(features)

    lengths = [
        SummarizeOptions(budget=0.2),
        SummarizeOptions(budget=0.7),
        SummarizeOptions(budget=1.0),
        SummarizeOptions(seconds=6),
        SummarizeOptions(seconds=15, max_shot_seconds=None),
        SummarizeOptions(length_preset="story-15"),
        SummarizeOptions(length_preset="feed-120"),  # capped at the video's 20 s
    ]
    kept = set()
    for options in lengths:
        again = reselect(base, options)
        fresh = compute_summary(
            base.extracted, distance_scorer, options, change_points=base.change_points, video=base.video_path
        )
        same_summary(again, fresh)
        assert again.extracted is base.extracted and set(again.timings) == {"selection"}
        kept.add(tuple(again.selected))
    assert len(kept) >= 3  # the lengths really pick different shots
    # the preset is the same length as its seconds
    same_summary(
        reselect(base, SummarizeOptions(length_preset="story-15")), reselect(base, SummarizeOptions(seconds=15.0))
    )
    assert reselect(base, SummarizeOptions(length_preset="feed-120")).selected == list(range(5))
    # the summary's own options give it back; the cached scores were used, not a scorer
    same_summary(reselect(base, SummarizeOptions(budget=0.4)), base)
    assert calls == []


def test_reselect_too_short_is_the_empty_summary_error(scenes_audio_video, backbone, tmp_path):
    from acsumgan.summarize.summary import reselect

    res = summarize_video(
        scenes_audio_video.path, distance_scorer, tmp_path / "out", SummarizeOptions(budget=0.4, backbone=backbone)
    )
    with pytest.raises(ConfigError, match="the summary would be empty") as e:
        reselect(res.summary, SummarizeOptions(seconds=0.5))
    assert "\n" not in str(e.value)
