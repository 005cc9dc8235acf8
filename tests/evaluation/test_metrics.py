"""F-scores (acsumgan.evaluation.metrics, method.md section 7) with known answers and on
the real SumMe ground truth."""

import numpy as np
import pytest

from acsumgan.data.groundtruth import import_summe
from acsumgan.evaluation.metrics import evaluate_video, f_score, f_score_users
from acsumgan.evaluation.summary import keyshot_summary
from conftest import FIXTURES


def test_f_score_hand_computed():
    s = np.array([1, 1, 1, 1, 0, 0])
    g = np.array([0, 0, 1, 1, 1, 1, 1, 1])  # longer: zero-padded comparison
    # overlap 2, P = 2/4, R = 2/6 -> F = 2 * .5 * .3333 / .8333 = 40 %
    assert f_score(s, g) == pytest.approx(40.0)
    assert f_score(s, np.zeros(6)) == 0.0
    assert f_score(np.zeros(6), g) == 0.0
    users = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]])
    assert f_score_users(s, users, "max") == pytest.approx(100.0)
    assert f_score_users(s, users, "avg") == pytest.approx(50.0)


@pytest.fixture(scope="module")
def summe_gt():
    return import_summe(
        FIXTURES / "summe" / "GT",
        FIXTURES / "summe" / "summe_change_points.json",
        FIXTURES / "summe" / "mapped_video_names.json",
    )


def test_real_summe_user_against_itself_and_others(summe_gt):
    for key in ("video_1", "video_19", "video_25"):
        v = summe_gt[key]
        us = v.user_summary
        for u in range(us.shape[0]):
            assert f_score(us[u], us[u]) == pytest.approx(100.0)
            # with max over users, a user's own summary finds itself
            assert f_score_users(us[u], us, "max") == pytest.approx(100.0)
        # avg over users is below 100 because users disagree
        assert f_score_users(us[0], us, "avg") < 100.0


def test_real_summe_keyshot_from_ground_truth_beats_its_reverse(summe_gt):
    """gtscore (mean user selection per step) makes a much better keyshot summary than
    its reverse, on every SumMe video, under the exact protocol."""
    good, bad = [], []
    for v in summe_gt.values():
        good.append(evaluate_video(v.gtscore, v, "avg"))
        bad.append(evaluate_video(1 - v.gtscore, v, "avg"))
        machine = keyshot_summary(v.gtscore, v.picks, v.n_frames, v.change_points)
        assert machine.shape == (v.n_frames,)
        assert machine.sum() <= int(v.n_frames * 0.15)
    assert np.mean(good) > np.mean(bad) + 15
    assert all(g >= b for g, b in zip(good, bad))
