"""Rank correlation (Otani et al., CVPR 2019): known answers and equality with scipy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from acsumgan.data.dataset import Video
from acsumgan.errors import DatasetError, ScoresError
from acsumgan.evaluation import rank as rank_mod
from acsumgan.evaluation.rank import (
    METHODS,
    AnnotatorRanks,
    RankResult,
    annotator_ranks,
    correlation,
    evaluate_rank,
    kendall_tau,
    rank_correlation,
    spearman_rho,
    video_rank_correlation,
)
from acsumgan.evaluation.summary import frame_scores


def _scipy(x, y, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = (stats.kendalltau(x, y) if method == "kendall" else stats.spearmanr(x, y)).statistic
    return 0.0 if not np.isfinite(r) else float(r)


def _video(rows, n_frames, step=15, key="v", first=0, field="user_scores"):
    picks = np.arange(first, n_frames, step)
    kw = {field: np.asarray(rows)}
    return Video(key=key, picks=picks, n_frames=n_frames, n_steps=len(picks), **kw)


@pytest.mark.parametrize("method", METHODS)
def test_self_is_one_and_reverse_is_minus_one(method):
    rng = np.random.default_rng(1)
    x = rng.random(500)
    assert correlation(x, x, method) == pytest.approx(1.0)
    assert correlation(x, -x, method) == pytest.approx(-1.0)
    # ... also through the frame-level path, with an annotator equal to the scores
    n = 1000
    s = rng.random(67)
    fs = frame_scores(s, np.arange(0, n, 15), n)
    v = _video([fs, -fs, 5 - fs], n)
    per_user = annotator_ranks(v).score(s, method)
    np.testing.assert_allclose(per_user, [1.0, -1.0, -1.0], atol=1e-12)
    assert video_rank_correlation(s, v, method) == pytest.approx(-1 / 3)


@pytest.mark.parametrize("method", METHODS)
def test_constant_scores_give_zero_not_nan(method):
    x = np.ones(50)
    y = np.arange(50.0)
    assert correlation(x, y, method) == 0.0
    assert correlation(y, x, method) == 0.0
    assert correlation(np.array([1.0]), np.array([2.0]), method) == 0.0
    v = _video([np.full(300, 3.0), np.arange(300) // 60 + 1], 300)
    ar = annotator_ranks(v)
    vals = ar.score(np.ones(20), method)
    assert vals.tolist() == [0.0, 0.0]
    vals = ar.score(np.arange(20.0), method)
    assert vals[0] == 0.0 and vals[1] != 0.0 and np.isfinite(vals[1])
    assert np.all(np.isfinite(ar.pairwise(method)))


@pytest.mark.parametrize("key", ["video_1", "video_38", "video_45", "video_13"])
def test_fast_path_equals_scipy_on_real_tvsum(tvsum_videos, key):
    v = tvsum_videos[key]
    ar = annotator_ranks(v)
    rng = np.random.default_rng(0)
    for s in (
        rng.random(v.n_steps),
        np.round(rng.random(v.n_steps), 1),
        v.gtscore.astype(np.float64),
        np.linspace(1, 0, v.n_steps),
    ):
        fs = frame_scores(s, v.picks, v.n_frames)
        for m in METHODS:
            ref = [_scipy(fs, u, m) for u in v.user_scores]
            np.testing.assert_allclose(ar.score(s, m), ref, rtol=0, atol=1e-9)
    for m in METHODS:
        ref = np.array([[_scipy(a, b, m) for b in v.user_scores] for a in v.user_scores])
        np.testing.assert_allclose(ar.pairwise(m), ref, rtol=0, atol=1e-9)


def test_fast_path_equals_scipy_on_summe_binary_summaries(summe_videos):
    v = summe_videos["video_12"]
    ar = annotator_ranks(v)
    s = np.random.default_rng(3).random(v.n_steps)
    fs = frame_scores(s, v.picks, v.n_frames)
    for m in METHODS:
        ref = [_scipy(fs, u, m) for u in v.user_summary]
        np.testing.assert_allclose(ar.score(s, m), ref, atol=1e-9)


def test_irregular_picks_prefix_and_scipy_fallback(monkeypatch):
    rng = np.random.default_rng(5)
    n = 400
    picks = np.sort(rng.choice(np.arange(7, n), size=40, replace=False))  # frames before picks[0] score 0
    rows = np.vstack([rng.integers(1, 6, n), rng.random(n), rng.integers(0, 2, n)]).astype(np.float64)
    v = Video(key="x", picks=picks, n_frames=n, n_steps=40, user_scores=rows)
    s = rng.random(40) - 0.5  # negative scores: the 0-scored prefix sits in the middle
    fs = frame_scores(s, picks, n)
    for m in METHODS:
        ref = [_scipy(fs, u, m) for u in rows]
        np.testing.assert_allclose(annotator_ranks(v).score(s, m), ref, atol=1e-9)
    monkeypatch.setattr(rank_mod, "MAX_TABLE_CELLS", 10)
    ar = annotator_ranks(v)
    np.testing.assert_allclose(ar.score(s, "kendall"), [_scipy(fs, u, "kendall") for u in rows], atol=1e-12)
    ref = np.array([[_scipy(a, b, "kendall") for b in rows] for a in rows])
    np.testing.assert_allclose(ar.pairwise("kendall"), ref, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    step=st.integers(1, 7),
    levels=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    users=st.integers(1, 4),
)
def test_property_fast_equals_scipy(n, step, levels, seed, users):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, levels, size=(users, n)).astype(np.float64)
    picks = np.arange(0, n, step)
    s = rng.integers(0, 4, size=len(picks)).astype(np.float64)  # many ties
    fs = frame_scores(s, picks, n)
    ar = AnnotatorRanks(rows, picks, n)
    for m in METHODS:
        np.testing.assert_allclose(ar.score(s, m), [_scipy(fs, u, m) for u in rows], atol=1e-9)
        ref = np.array([[_scipy(a, b, m) for b in rows] for a in rows])
        np.testing.assert_allclose(ar.pairwise(m), ref, atol=1e-9)


def test_rank_correlation_api_on_tvsum(tvsum_videos):
    keys = ["video_1", "video_2", "video_3"]
    scores = {k: tvsum_videos[k].gtscore for k in keys}
    for m in METHODS:
        res = rank_correlation(tvsum_videos, scores, m)
        assert isinstance(res, RankResult) and res.method == m
        assert list(res.videos) == keys
        assert all(0.2 < x < 1 for x in res.videos.values())  # the users' mean agrees with each user
        assert res.mean == pytest.approx(np.mean(list(res.videos.values())))
        assert res.reference == {k: "user_scores" for k in keys}
        assert evaluate_rank(tvsum_videos, scores, m).videos == res.videos
        js = res.to_json()
        assert js["mean"] == res.mean and js["method"] == m


def test_rank_correlation_uses_user_summary_without_user_scores(summe_videos):
    scores = {"video_19": np.random.default_rng(0).random(summe_videos["video_19"].n_steps)}
    res = rank_correlation(summe_videos, scores, "kendall")
    assert res.reference == {"video_19": "user_summary"}
    v = summe_videos["video_19"]
    fs = frame_scores(scores["video_19"], v.picks, v.n_frames)
    assert res.videos["video_19"] == pytest.approx(np.mean([_scipy(fs, u, "kendall") for u in v.user_summary]))


def test_rank_correlation_errors(tvsum_videos):
    v = tvsum_videos["video_1"]
    with pytest.raises(ScoresError, match="video_1: 10 scores but the video has 707 steps"):
        rank_correlation(tvsum_videos, {"video_1": np.ones(10)}, "kendall")
    with pytest.raises(ScoresError, match="not in the dataset"):
        rank_correlation(tvsum_videos, {"video_99": np.ones(10)}, "kendall")
    bare = {"b": Video(key="b", picks=v.picks, n_frames=v.n_frames)}
    with pytest.raises(DatasetError, match="b: has neither user_scores nor user_summary"):
        rank_correlation(bare, {"b": np.ones(len(v.picks))}, "spearman")
    with pytest.raises(ValueError, match="method must be one of"):
        rank_correlation(tvsum_videos, {"video_1": v.gtscore}, "pearson")


def test_random_scores_have_mean_rank_correlation_near_zero(tvsum_videos):
    rng = np.random.default_rng(7)
    cache: dict = {}
    for m in METHODS:
        per_draw = []
        for _ in range(5):
            scores = {k: rng.random(v.n_steps) for k, v in tvsum_videos.items()}
            per_draw.append(rank_correlation(tvsum_videos, scores, m, cache=cache).mean)
        # std of a 50-video mean is about 0.003-0.004 (100 draws); bound at ~5 sigma
        assert abs(np.mean(per_draw)) < 0.01
        assert max(abs(x) for x in per_draw) < 0.02


def test_reference_functions_match_scipy():
    rng = np.random.default_rng(2)
    x, y = rng.random(200), rng.integers(1, 4, 200)
    assert kendall_tau(x, y) == pytest.approx(stats.kendalltau(x, y).statistic)
    assert spearman_rho(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    with pytest.raises(ValueError, match="lengths differ"):
        kendall_tau(x, y[:10])


def test_cache_reuses_preparation_and_gives_the_same_values(tvsum_videos):
    cache: dict = {}
    scores = {k: tvsum_videos[k].gtscore for k in ("video_4", "video_5")}
    a = rank_correlation(tvsum_videos, scores, "kendall", cache=cache)
    first = cache["video_4"][3]
    b = rank_correlation(tvsum_videos, scores, "kendall", cache=cache)
    assert cache["video_4"][3] is first and a.videos == b.videos
    assert rank_correlation(tvsum_videos, scores, "kendall").videos == a.videos
    other = {
        "video_4": Video(
            key="video_4",
            picks=tvsum_videos["video_4"].picks,
            n_frames=tvsum_videos["video_4"].n_frames,
            user_scores=tvsum_videos["video_4"].user_scores[:3].copy(),
        )
    }
    c = rank_correlation(other, {"video_4": scores["video_4"]}, "kendall", cache=cache)
    assert cache["video_4"][3] is not first and c.videos["video_4"] != a.videos["video_4"]
