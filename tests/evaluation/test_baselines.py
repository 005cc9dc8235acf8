"""Baselines on the real ground truth: known answers and protocol properties."""

from __future__ import annotations

import numpy as np
import pytest

from acsumgan.data.dataset import Video
from acsumgan.data.splits import read_splits
from acsumgan.evaluation.baselines import (
    KINDS,
    baseline_rows,
    random_step_scores,
    uniform_step_scores,
    video_baseline,
)
from acsumgan.evaluation.metrics import f_score, f_score_users
from acsumgan.evaluation.summary import keyshot_summary
from conftest import SPLITS


def _row(rows, kind, split):
    return next(r for r in rows if r["baseline"] == kind and r["split"] == split)


def test_human_leave_one_out_on_tvsum_matches_otani_2019(tvsum_videos):
    """Otani et al. (CVPR 2019) report human tau = 0.177, rho = 0.204 on TVSum."""
    (row,) = baseline_rows(tvsum_videos, None, "avg", kinds=["human"])
    assert row["n_videos"] == 50 and row["rank_reference"] == "user_scores"
    assert row["kendall"] == pytest.approx(0.1774093, abs=1e-6)
    assert row["spearman"] == pytest.approx(0.2041724, abs=1e-6)
    assert round(row["kendall"], 3) == 0.177 and round(row["spearman"], 3) == 0.204
    assert row["f_score"] is None  # TVSum user_summary is not public


def test_a_users_own_summary_scores_100_against_that_user(summe_videos):
    us = summe_videos["video_8"].user_summary
    for u in range(us.shape[0]):
        assert f_score(us[u], us[u]) == 100.0
        assert f_score_users(us[u], us[u : u + 1], "avg") == 100.0
        assert f_score_users(us[u], us, "max") == 100.0


def test_human_f_score_on_summe_is_high_and_well_above_random(summe_videos):
    rows = baseline_rows(summe_videos, None, "max", draws=10, seed=0, kinds=["human", "random", "uniform"])
    human, rnd, uni = (_row(rows, k, "all") for k in ("human", "random", "uniform"))
    assert human["f_score"] == pytest.approx(54.33, abs=0.01)  # measured on the 25 videos
    assert human["f_score"] > 50
    assert human["f_score"] > rnd["f_score"] + 10
    assert 35 < rnd["f_score"] < 46 and 0 < rnd["f_score_std"] < 3
    assert human["kendall"] > 0.15 and human["spearman"] > 0.15
    assert abs(rnd["kendall"]) < 0.02 and abs(rnd["spearman"]) < 0.02
    assert uni["kendall"] == 0.0 and uni["spearman"] == 0.0
    assert uni["f_score_std"] is None and human["f_score_std"] is None
    assert rnd["draws"] == 10 and human["draws"] is None


def test_human_leave_one_out_by_hand(summe_videos):
    v = summe_videos["video_12"]
    us = v.user_summary
    want = np.mean([max(f_score(us[u], us[w]) for w in range(len(us)) if w != u) for u in range(len(us))])
    got = video_baseline("human", v, "max")
    assert got["f_score"][0] == pytest.approx(want)
    want_avg = np.mean([np.mean([f_score(us[u], us[w]) for w in range(len(us)) if w != u]) for u in range(len(us))])
    assert video_baseline("human", v, "avg")["f_score"][0] == pytest.approx(want_avg)


def test_uniform_is_constant_scores_through_the_keyshot_protocol(summe_videos):
    v = summe_videos["video_1"]
    s = uniform_step_scores(v.n_steps)
    assert np.all(s == 1.0) and s.shape == (v.n_steps,)
    machine = keyshot_summary(s, v.picks, v.n_frames, v.change_points, 0.15)
    got = video_baseline("uniform", v, "max")
    assert got["f_score"].tolist() == [f_score_users(machine, v.user_summary, "max")]
    assert machine.sum() <= int(v.n_frames * 0.15)


def test_random_is_seeded_per_video_and_draw(summe_videos):
    a = random_step_scores("video_3", 100, seed=0, draw=4)
    np.testing.assert_array_equal(a, random_step_scores("video_3", 100, seed=0, draw=4))
    assert not np.array_equal(a, random_step_scores("video_3", 100, seed=1, draw=4))
    assert not np.array_equal(a, random_step_scores("video_3", 100, seed=0, draw=5))
    assert not np.array_equal(a, random_step_scores("video_4", 100, seed=0, draw=4))
    assert a.min() >= 0 and a.max() < 1
    sub = {k: summe_videos[k] for k in ("video_3", "video_5")}
    r1 = baseline_rows(sub, None, "max", draws=4, seed=2, kinds=["random"])
    r2 = baseline_rows(sub, None, "max", draws=4, seed=2, kinds=["random"])
    assert r1 == r2
    # a video's draws do not depend on which other videos are evaluated
    alone = video_baseline("random", summe_videos["video_3"], "max", draws=4, seed=2)
    both = baseline_rows({"video_3": summe_videos["video_3"]}, None, "max", draws=4, seed=2, kinds=["random"])[0]
    assert both["f_score"] == pytest.approx(float(np.mean(alone["f_score"])))


def test_rows_per_split_and_mean_over_splits(summe_videos):
    splits = read_splits(SPLITS / "summe_splits.json", videos=list(summe_videos))
    rows = baseline_rows(summe_videos, splits, "max", draws=3, seed=0, kinds=KINDS)
    assert [r["split"] for r in rows] == [0, 1, 2, 3, 4, "mean"] * 3
    for kind in KINDS:
        per = [_row(rows, kind, i) for i in range(5)]
        mean = _row(rows, kind, "mean")
        assert mean["n_videos"] == 18  # the standard splits test only 18 of 25 SumMe videos
        assert all(r["n_videos"] == 5 for r in per)
        for m in ("f_score", "kendall", "spearman"):
            assert mean[m] == pytest.approx(np.mean([r[m] for r in per]))
    one = baseline_rows(summe_videos, splits, "max", kinds=["human"], split_indices=[2])
    assert len(one) == 1 and one[0]["split"] == 2 and one[0]["f_score"] == _row(rows, "human", 2)["f_score"]
    non = read_splits(SPLITS / "summe_splits_non_overlapping.json", videos=list(summe_videos))
    rows = baseline_rows(summe_videos, non, "max", kinds=["human"])
    assert _row(rows, "human", "mean")["n_videos"] == 25


def test_missing_fields_give_none(summe_videos):
    v = summe_videos["video_2"]
    no_shots = {"a": Video(key="a", picks=v.picks, n_frames=v.n_frames, user_summary=v.user_summary)}
    (r,) = baseline_rows(no_shots, None, "max", draws=2, kinds=["random"])
    assert r["f_score"] is None and r["kendall"] is not None
    (r,) = baseline_rows(no_shots, None, "max", kinds=["human"])
    assert r["f_score"] is not None
    one_user = {
        "a": Video(
            key="a", picks=v.picks, n_frames=v.n_frames, user_summary=v.user_summary[:1], change_points=v.change_points
        )
    }
    (r,) = baseline_rows(one_user, None, "max", kinds=["human"])
    assert r["f_score"] is None and r["kendall"] is None
    bare = {"a": Video(key="a", picks=v.picks, n_frames=v.n_frames)}
    (r,) = baseline_rows(bare, None, "max", kinds=["uniform"])
    assert r["f_score"] is None and r["kendall"] is None and r["rank_reference"] is None
    with pytest.raises(ValueError, match="kind must be one of"):
        baseline_rows(bare, None, "max", kinds=["oracle"])
