"""Scorer and the --model argument (acsumgan.inference), on a tiny experiment and a run
trained on one's own videos (tests/conftest.py)."""

import numpy as np
import pytest

from acsumgan.data.dataset import load_dataset
from acsumgan.evaluation.summary import keyshot_summary
from acsumgan.inference import Scorer, resolve_model_path

pytestmark = pytest.mark.slow  # a tiny experiment, and a run trained on own videos


def test_model_argument_forms(tiny_experiment):
    exp_best = resolve_model_path(tiny_experiment)
    assert exp_best == tiny_experiment / "best" / "label-free" / "split0.pt"
    assert resolve_model_path(tiny_experiment, rule="oracle", split=1) == tiny_experiment / "best/oracle/split1.pt"
    run = tiny_experiment / "sigma0.3" / "split0"
    chosen = resolve_model_path(run)
    from acsumgan.runs import read_metrics
    from acsumgan.selection import chosen_epoch

    assert chosen.name == f"epoch-{chosen_epoch(read_metrics(run)):03d}.pt"
    scorer = Scorer.load(chosen, policy="greedy")
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(130, 32)).astype(np.float32)
    a, b = scorer(feats), scorer(feats)
    np.testing.assert_array_equal(a, b)  # greedy: deterministic
    sampled = Scorer.load(chosen, seed=1)
    np.testing.assert_array_equal(sampled(feats), sampled(feats))  # seeded sampling: reproducible


def test_scores_follow_the_keyshot_protocol(own_run):
    videos = load_dataset(own_run / "own.h5")
    scorer = Scorer.load(own_run / "run", policy="greedy")
    for v in videos.values():
        s = scorer(v.features)
        assert s.shape == (v.steps,) and np.isfinite(s).all()
        summary = keyshot_summary(s, v.picks, v.n_frames, v.change_points, 0.3)
        assert summary.sum() <= int(0.3 * v.n_frames)


def test_expected_scores_are_the_mean_of_the_draws(tiny_experiment):
    from acsumgan.model.episode import draw_seed

    ckpt = tiny_experiment / "best" / "label-free" / "split0.pt"
    feats = np.random.default_rng(2).normal(size=(130, 32)).astype(np.float32)
    one = Scorer.load(ckpt, seed=4)
    four = Scorer.load(ckpt, seed=4, samples=4)
    draws = four.score_draws([feats])
    np.testing.assert_array_equal(draws[0][0], one(feats))  # draw 0 is the single seeded draw
    singles = [Scorer.load(ckpt, seed=draw_seed(4, j))(feats) for j in range(4)]
    for j in range(4):
        np.testing.assert_array_equal(draws[j][0], singles[j])
    np.testing.assert_allclose(four(feats), np.mean(singles, axis=0), rtol=1e-6)
    assert not np.array_equal(singles[0], singles[1])
