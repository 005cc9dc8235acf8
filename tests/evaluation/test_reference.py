"""The single-reference protocol and Performance over Random, on hand-made and real ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from acsumgan.data.dataset import Video
from acsumgan.evaluation.reference import (
    evaluate_reference,
    performance_over_random,
    reference_summaries,
)


def _tiny() -> Video:
    """10 frames, a step every 2 frames, shots [0-3] [4-6] [7-9]."""
    return Video(
        key="v",
        picks=np.array([0, 2, 4, 6, 8]),
        n_frames=10,
        change_points=np.array([[0, 3], [4, 6], [7, 9]]),
        user_summary=np.array([[1, 1, 1, 0, 0, 0, 0, 1, 1, 1]], dtype=np.uint8),
        gtscore=np.array([1.0, 1.0, 0.0, 0.0, 0.0], dtype=np.float32),
        gtsummary=np.array([1, 0, 0, 1, 1], dtype=np.uint8),
    )


def test_references_by_hand():
    v = _tiny()
    # gtscore -> frame scores 1,1,1,1,0,... -> shot means (1, 0, 0) -> knapsack of 5 frames: shot 0 (4 frames)
    np.testing.assert_array_equal(reference_summaries(v, "gtscore", 0.5), [[1, 1, 1, 1, 0, 0, 0, 0, 0, 0]])
    # gtsummary spread over the frames of each step
    np.testing.assert_array_equal(reference_summaries(v, "gtsummary", 0.5), [[1, 1, 0, 0, 0, 0, 1, 1, 1, 1]])
    np.testing.assert_array_equal(reference_summaries(v, "users"), v.user_summary)


def test_f_score_against_one_reference_by_hand():
    v = _tiny()
    # scores 1 on steps 0 and 4 -> shot means (0.5, 0, 2/3) -> the knapsack (5 frames) keeps shot 2 (frames 7-9)
    scores = {"v": np.array([1.0, 0.0, 0.0, 0.0, 1.0])}
    # against gtsummary (frames 0,1,6,7,8,9): overlap 3, P = 1, R = 1/2 -> F = 66.67
    assert evaluate_reference({"v": v}, scores, "gtsummary", budget=0.5).videos["v"] == pytest.approx(200 / 3)
    # against the gtscore summary (frames 0-3): no overlap
    assert evaluate_reference({"v": v}, scores, "gtscore", budget=0.5).videos["v"] == 0.0
    # against the one user (frames 0-2, 7-9): overlap 3, P = 1, R = 1/2
    assert evaluate_reference({"v": v}, scores, "users", "max", 0.5).videos["v"] == pytest.approx(200 / 3)
    assert evaluate_reference({"v": v}, scores, "gtscore").metric == "gtscore"


def test_gtscore_scores_score_100_against_their_own_reference_on_real_ground_truth(summe_videos):
    """The machine summary of the gtscore IS the gtscore reference: 100 on every real SumMe
    video (gt_score[picks] and the standard KTS shots; TVSum's shots are not public)."""
    scores = {k: v.gtscore for k, v in summe_videos.items()}
    res = evaluate_reference(summe_videos, scores, "gtscore", "max")
    assert len(res.videos) == 25 and all(f == pytest.approx(100.0) for f in res.videos.values())
    # and the uniform scores, a pinned regression value of this protocol on the real file
    uniform = evaluate_reference(summe_videos, {k: np.ones(v.steps) for k, v in summe_videos.items()}, "gtscore")
    assert 0 < uniform.mean < 100


def test_each_user_scores_100_against_their_own_summary_as_the_one_reference(summe_videos):
    v = summe_videos["video_1"]
    for u in v.user_summary:
        one = Video(key="x", picks=v.picks, n_frames=v.n_frames, change_points=v.change_points, user_summary=u[None, :])
        assert reference_summaries(one, "users").shape == (1, v.n_frames)
        from acsumgan.evaluation.metrics import f_score_users

        assert f_score_users(u, reference_summaries(one, "users"), "avg") == 100.0


def test_performance_over_random():
    assert performance_over_random(50.0, 40.0) == pytest.approx(125.0)
    assert performance_over_random(40.0, 40.0) == 100.0  # the random summarizer itself
    assert performance_over_random(None, 40.0) is None and performance_over_random(50.0, 0.0) is None
