"""Synthetic datasets (acsumgan.synthetic.dataset): the SumMe and TVSum profiles, seeds,
and simulated annotators who agree like real ones."""

import math

import numpy as np

from acsumgan.data.dataset import load_dataset
from acsumgan.evaluation.metrics import f_score
from acsumgan.evaluation.summary import keyshot_summary
from acsumgan.synthetic.dataset import SUMME_STEPS, TVSUM_STEPS, synth_dataset


def test_synthetic_summe_profile_facts(summe_synth):
    videos = load_dataset(summe_synth, purpose="evaluate")
    assert list(videos) == sorted(videos)  # HDF5 order
    steps = {int(k.split("_")[1]): v.steps for k, v in videos.items()}
    assert [steps[i + 1] for i in range(25)] == SUMME_STEPS
    for v in videos.values():
        assert v.features.shape == (v.n_steps, 1024)
        np.testing.assert_array_equal(v.picks, np.arange(0, v.n_frames, 15))
        assert v.n_steps == math.ceil(v.n_frames / 15)
        assert 15 <= v.user_summary.shape[0] <= 18
        assert v.change_points[-1, 1] == v.n_frames - 1
        assert 0.02 < v.user_summary.mean() < 0.2
        assert v.gtscore.shape == v.gtsummary.shape == (v.n_steps,)
        assert v.video_name.startswith("synthetic summe video")


def test_synthetic_tvsum_profile_has_20_raters():
    vids = synth_dataset("tvsum", seed=0, videos=3)
    assert [v.steps for v in vids] == TVSUM_STEPS[:3]
    for v in vids:
        assert v.user_scores.shape == (20, v.n_frames)
        assert set(np.unique(v.user_scores)) <= {1, 2, 3, 4, 5}
        # the user summaries are the 15 % knapsack over shots of each user's own ratings
        assert (v.user_summary.sum(1) <= int(v.n_frames * 0.15)).all()


def test_same_seed_same_data_other_seed_other_data():
    a = synth_dataset("summe", seed=4, videos=2)
    b = synth_dataset("summe", seed=4, videos=2)
    c = synth_dataset("summe", seed=5, videos=2)
    np.testing.assert_array_equal(a[0].features, b[0].features)
    np.testing.assert_array_equal(a[1].user_summary, b[1].user_summary)
    assert not np.array_equal(a[0].features, c[0].features)


def test_simulated_users_agree_far_more_than_random(summe_synth):
    videos = load_dataset(summe_synth, purpose="evaluate")
    rng = np.random.default_rng(0)
    between, random = [], []
    for v in videos.values():
        us = v.user_summary
        for i in range(us.shape[0]):
            for j in range(i + 1, us.shape[0]):
                between.append(f_score(us[i], us[j]))
        for _ in range(5):
            r = keyshot_summary(rng.uniform(size=v.steps), v.picks, v.n_frames, v.change_points)
            random.append(np.mean([f_score(r, u) for u in us]))
    assert np.mean(between) > 1.6 * np.mean(random)
    assert np.mean(between) > 35
