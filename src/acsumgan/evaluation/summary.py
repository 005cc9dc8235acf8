"""From step scores to a keyshot summary (method.md section 7, steps 1-4).

step scores (T) -> frame scores (n_frames) -> shot scores (mean per shot) ->
0/1 knapsack at ``int((last shot end + 1) * budget)`` frames -> 0/1 per frame.

Arithmetic follows the authors' evaluation code so that tie-breaks agree: frame
scores are float32, a shot's score is the float32 mean of its frames, and the
knapsack is the exact dynamic programme with backtracking from the last item.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BUDGET = 0.15


def frame_scores(step_scores: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
    """Spread T step scores over ``n_frames`` frames (float32, length n_frames).

    Frames ``[picks[i], picks[i+1])`` get ``step_scores[i]``; the last step extends
    to ``n_frames``. Steps beyond the given scores (if any) get 0.
    """
    picks = np.asarray(picks, dtype=np.int64)
    scores = np.asarray(step_scores, dtype=np.float64)
    if picks.size == 0 or picks[-1] != n_frames:
        picks = np.concatenate([picks, [n_frames]])
    out = np.zeros(n_frames, dtype=np.float32)
    n = min(len(picks) - 1, scores.shape[0])
    lengths = np.diff(picks[: n + 1])
    start = int(picks[0])
    out[start : start + int(lengths.sum())] = np.repeat(scores[:n].astype(np.float32), lengths)
    return out


def shot_scores(frame_scores: np.ndarray, change_points: np.ndarray) -> np.ndarray:
    """Mean frame score of each shot (inclusive [start, end] rows), float64."""
    fs = np.asarray(frame_scores, dtype=np.float32)
    cp = np.asarray(change_points, dtype=np.int64)
    return np.array([float(fs[s : e + 1].mean()) for s, e in cp], dtype=np.float64)


def knapsack(values: np.ndarray, weights: np.ndarray, capacity: int) -> list[int]:
    """Exact 0/1 knapsack by dynamic programming; returns chosen item indices, ascending.

    ``K[i][w]`` is the best value of the first ``i`` items within weight ``w``. The
    choice is read back from the last item: item ``i`` is taken iff
    ``K[i][w] != K[i-1][w]`` (so among equal-value choices the later items are left
    out, as in the reference implementation). Weights are non-negative integers.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.int64)
    if values.shape != weights.shape or values.ndim != 1:
        raise ValueError("values and weights must be 1-D of equal length")
    if np.any(weights < 0):
        raise ValueError("weights must be non-negative")
    capacity = int(capacity)
    n = values.shape[0]
    if capacity < 0 or n == 0:
        return []
    K = np.zeros((n + 1, capacity + 1), dtype=np.float64)
    for i in range(1, n + 1):
        wt, val = int(weights[i - 1]), values[i - 1]
        prev = K[i - 1]
        row = prev.copy()
        if wt <= capacity:
            take = val + prev[: capacity + 1 - wt]
            row[wt:] = np.maximum(take, prev[wt:])
        K[i] = row
    chosen = []
    w = capacity
    for i in range(n, 0, -1):
        if K[i, w] != K[i - 1, w]:
            chosen.append(i - 1)
            w -= int(weights[i - 1])
    return sorted(chosen)


def budget_frames(change_points: np.ndarray, budget: float = DEFAULT_BUDGET) -> int:
    """The summary's length limit in frames: ``int((last shot end + 1) * budget)``."""
    return int((int(np.asarray(change_points)[-1, 1]) + 1) * budget)


def select_shots(
    step_scores: np.ndarray,
    picks: np.ndarray,
    n_frames: int,
    change_points: np.ndarray,
    budget: float = DEFAULT_BUDGET,
) -> list[int]:
    """Indices of the shots a keyshot summary keeps (ascending)."""
    cp = np.asarray(change_points, dtype=np.int64)
    values = shot_scores(frame_scores(step_scores, picks, n_frames), cp)
    weights = cp[:, 1] - cp[:, 0] + 1
    return knapsack(values, weights, budget_frames(cp, budget))


def keyshot_summary(
    step_scores: np.ndarray,
    picks: np.ndarray,
    n_frames: int,
    change_points: np.ndarray,
    budget: float = DEFAULT_BUDGET,
) -> np.ndarray:
    """The machine summary of the keyshot protocol: uint8 0/1 per frame, of length last shot
    end + 1.

    Step scores (T,) become frame scores (frames ``[picks[i], picks[i+1])`` get step i's
    score; the last step extends to ``n_frames``), a shot's score is the mean of its frames,
    and the 0/1 knapsack (:func:`knapsack`) keeps the shots that fit in
    ``int((last shot end + 1) * budget)`` frames. ``change_points`` is (S, 2), inclusive
    [start, end] frames per shot.
    """
    cp = np.asarray(change_points, dtype=np.int64)
    summary = np.zeros(int(cp[-1, 1]) + 1, dtype=np.uint8)
    for i in select_shots(step_scores, picks, n_frames, cp, budget):
        summary[cp[i, 0] : cp[i, 1] + 1] = 1
    return summary
