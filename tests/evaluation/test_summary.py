"""Keyshot summaries (acsumgan.evaluation.summary, method.md section 7) with known answers:
the knapsack, frame and shot scores, the budget. F-scores: test_metrics.py."""

import itertools

import numpy as np
import pytest

from acsumgan.evaluation.summary import (
    budget_frames,
    frame_scores,
    keyshot_summary,
    knapsack,
    select_shots,
    shot_scores,
)


def brute_force(values, weights, capacity):
    best = 0.0
    for r in range(len(values) + 1):
        for combo in itertools.combinations(range(len(values)), r):
            if sum(weights[i] for i in combo) <= capacity:
                best = max(best, sum(values[i] for i in combo))
    return best


@pytest.mark.parametrize("seed", range(300))
def test_knapsack_optimal_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    # small integer values force many ties
    values = rng.integers(0, 5, n).astype(float) if seed % 2 else rng.uniform(0, 1, n)
    weights = rng.integers(0, 12, n)
    capacity = int(rng.integers(0, 30))
    chosen = knapsack(values, weights, capacity)
    assert sum(weights[i] for i in chosen) <= capacity
    assert sum(values[i] for i in chosen) == pytest.approx(brute_force(values, weights, capacity))
    assert chosen == sorted(set(chosen))


def test_knapsack_tie_break_leaves_later_items_out():
    # two equal items, room for one: backtracking from the last item keeps the first
    assert knapsack([1.0, 1.0], [5, 5], 5) == [0]
    assert knapsack([1.0, 2.0, 1.0], [3, 3, 3], 6) == [0, 1]
    assert knapsack([], [], 10) == []
    assert knapsack([3.0], [4], 3) == []


def test_frame_scores_known_answer():
    fs = frame_scores(np.array([0.1, 0.5, 0.9]), np.array([0, 2, 5]), 7)
    np.testing.assert_allclose(fs, [0.1, 0.1, 0.5, 0.5, 0.5, 0.9, 0.9], rtol=1e-6)
    assert fs.dtype == np.float32
    # picks not starting at 0: the frames before the first pick score 0
    np.testing.assert_allclose(frame_scores(np.array([1.0]), np.array([2]), 4), [0, 0, 1, 1])


def test_shot_scores_are_means():
    fs = np.array([1, 1, 4, 4, 4, 0], dtype=np.float32)
    np.testing.assert_allclose(shot_scores(fs, np.array([[0, 1], [2, 4], [5, 5]])), [1, 4, 0])


def test_keyshot_summary_respects_budget_and_prefers_high_scores():
    cp = np.array([[0, 9], [10, 19], [20, 29], [30, 99]])
    scores = np.array([0.1, 0.9, 0.8, 0.2, 0.2, 0.2, 0.2])  # steps of 15 frames
    picks = np.arange(0, 100, 15)
    s = keyshot_summary(scores, picks, 100, cp, budget=0.2)
    assert budget_frames(cp, 0.2) == 20
    assert s.sum() <= 20 and s.shape == (100,)
    # shot means: [0.1, 0.1*5/10+0.9*5/10=0.5, 0.9, ...]: shots 1 and 2 fit exactly
    assert select_shots(scores, picks, 100, cp, 0.2) == [1, 2]
