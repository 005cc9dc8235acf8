"""Kernel Temporal Segmentation: known answers on synthetic signals, tiny inputs, frames."""

from __future__ import annotations

import time

import numpy as np
import pytest

from acsumgan.errors import ConfigError
from acsumgan.video.kts import kernel, kts, kts_segment, penalty, shot_boundaries, steps_to_frames


def piecewise(bounds, n, d=64, noise=0.5, seed=0) -> np.ndarray:
    """Piecewise-constant random means with Gaussian noise; segments start at ``bounds``."""
    rng = np.random.default_rng(seed)
    seg = np.searchsorted(bounds, np.arange(n), side="right")
    means = rng.standard_normal((len(bounds) + 1, d))
    return (means[seg] + noise * rng.standard_normal((n, d))).astype(np.float32)


def reference_kts(x: np.ndarray, vmax: float = 1.0) -> tuple[list[int], list[float]]:
    """Plain loops over m, t and s, every segment cost from its definition."""
    xn = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    n = len(xn)

    def cost(s, t):  # within-segment kernel variance of steps s..t-1
        seg = xn[s:t]
        return float(np.trace(seg @ seg.T) - (seg @ seg.T).sum() / (t - s))

    C = {(s, t): cost(s, t) for s in range(n) for t in range(s + 1, n + 1)}
    INF = float("inf")
    I = [[INF] * (n + 1) for _ in range(n)]
    B = [[0] * (n + 1) for _ in range(n)]
    for t in range(1, n + 1):
        I[0][t] = C[(0, t)]
    for m in range(1, n):
        for t in range(m + 1, n + 1):
            best, arg = INF, -1
            for s in range(m, t):
                v = I[m - 1][s] + C[(s, t)]
                if v < best - 1e-12:
                    best, arg = v, s
            I[m][t], B[m][t] = best, arg
    obj = [I[m][n] / n + (vmax * m / (2 * n) * (np.log(n / m) + 1) if m else 0.0) for m in range(n)]
    m = int(np.argmin(obj))
    cps, t = [], n
    for k in range(m, 0, -1):
        t = B[k][t]
        cps.append(t)
    return sorted(cps), obj


@pytest.mark.parametrize("noise", [0.2, 0.5, 0.8])
def test_recovers_true_boundaries(noise):
    bounds = [20, 45, 50, 90, 97]
    x = piecewise(bounds, 120, noise=noise)
    r = kts_segment(x)
    assert r.change_points.tolist() == bounds
    assert r.n_change_points == 5


def test_chooses_the_number_of_segments():
    rng = np.random.default_rng(3)
    for n_seg in (1, 2, 4, 9):
        bounds = sorted(rng.choice(np.arange(6, 194, 8), n_seg - 1, replace=False).tolist())
        x = piecewise(bounds, 200, d=128, noise=0.4, seed=n_seg)
        assert kts(x).tolist() == bounds, n_seg


def test_no_change_in_a_constant_signal_with_noise():
    x = piecewise([], 300, noise=0.5, seed=7)
    assert kts(x).tolist() == []


def test_matches_a_plain_loop_reference_on_small_inputs():
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 5, 8, 17, 30):
        for noise in (0.3, 1.0):
            bounds = sorted(set(rng.integers(1, max(2, n), 2).tolist()) - {0}) if n > 2 else []
            x = piecewise(bounds, n, d=16, noise=noise, seed=n)
            ref, obj = reference_kts(x)
            r = kts_segment(x)
            assert r.change_points.tolist() == ref, (n, noise)
            k = len(r.objective)
            assert np.allclose(r.objective, obj[:k], atol=1e-6)


def test_tiny_inputs():
    same = np.ones((5, 8), np.float32)
    assert kts(same[:1]).tolist() == []
    assert kts(same[:2]).tolist() == []
    assert kts(same).tolist() == []
    # two opposite steps: variance 1 per step without a split, so it splits
    two = np.array([[1, 0], [-1, 0]], np.float32)
    assert kts(two).tolist() == [1]
    five = np.array([[1, 0]] * 3 + [[0, 1]] * 2, np.float32)
    assert kts(five).tolist() == [3]


def test_vmax_and_max_change_points():
    bounds = [20, 45, 50, 90, 97]
    x = piecewise(bounds, 120, noise=0.5)
    assert kts(x, max_change_points=0).tolist() == []
    assert len(kts(x, max_change_points=2)) == 2
    assert len(kts(x, vmax=100.0)) < 5  # a heavy penalty merges segments
    with pytest.raises(ConfigError):
        kts(x, vmax=-1)
    with pytest.raises(ConfigError):
        kts(x, max_change_points=-2)
    with pytest.raises(ValueError):
        kts(np.zeros((0, 4), np.float32))
    with pytest.raises(ValueError):
        kts(np.full((4, 4), np.nan, np.float32))


def test_early_stop_gives_the_same_answer_as_all_rows():
    x = piecewise([30, 70, 71, 150], 200, noise=0.6, seed=5)
    r = kts_segment(x)
    assert r.rows_computed < 200
    # with vmax tiny the stop can never trigger before the end; check consistency of costs
    full = kts_segment(x, vmax=1e-9)
    assert full.rows_computed == 200
    assert np.allclose(full.costs[: r.rows_computed], r.costs)
    objective = full.costs + penalty(np.arange(200), 200, 1.0)
    assert int(np.argmin(objective)) == r.n_change_points


def test_kernel_is_cosine_similarity():
    x = np.array([[3, 4], [0, 2], [0, 0]], np.float32)
    K = kernel(x)
    assert np.allclose(K, [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 0]])


def test_shot_boundaries_map_steps_to_frames():
    x = np.array([[1, 0, 0]] * 4 + [[0, 1, 0]] * 3 + [[0, 0, 1]] * 3, np.float32)
    picks = np.arange(10) * 15
    cp = shot_boundaries(x, picks, 152)
    assert cp.tolist() == [[0, 59], [60, 104], [105, 151]]
    assert steps_to_frames(np.array([], np.int64), picks, 152).tolist() == [[0, 151]]
    with pytest.raises(ValueError):
        shot_boundaries(x, picks[:5], 152)


def test_speed_on_1200_steps():
    rng = np.random.default_rng(0)
    bounds = np.sort(rng.choice(np.arange(10, 1190), 40, replace=False))
    bounds = bounds[np.concatenate([[True], np.diff(bounds) > 5])].tolist()
    x = piecewise(bounds, 1200, d=1280, noise=0.5)
    kts(x)  # warm up
    t = time.perf_counter()
    cps = kts(x)
    elapsed = time.perf_counter() - t
    assert cps.tolist() == bounds
    assert elapsed < 2.0, f"KTS on 1200 steps took {elapsed:.2f} s (target 0.5 s on an idle 2-core machine)"


def test_fixed_number_of_change_points_and_splitting_long_segments():
    bounds = [20, 45, 50, 90, 97]
    x = piecewise(bounds, 120, noise=0.3)
    from acsumgan.video.kts import kts_fixed, split_long_segments

    assert kts_fixed(x, 5).tolist() == bounds
    assert kts_fixed(x, 0).tolist() == []
    assert len(kts_fixed(x, 9)) == 9 and set(bounds) <= set(kts_fixed(x, 9).tolist())
    # one long constant segment with a weak change in its middle: split there
    y = piecewise([], 100, noise=0.3, seed=1)
    y[60:] += 0.2 * np.random.default_rng(2).standard_normal(64).astype(np.float32)
    assert kts(y).tolist() == []
    assert split_long_segments(y, np.array([], np.int64), 60).tolist() == [60]
    # every piece ends up within the limit; existing change points are kept
    out = split_long_segments(x, np.array(bounds), 12)
    assert set(bounds) <= set(out.tolist())
    assert np.diff(np.concatenate([[0], out, [120]])).max() <= 12
    picks = np.arange(120) * 5
    cp = shot_boundaries(x, picks, 600, max_shot_steps=12)
    assert (cp[:, 1] - cp[:, 0] + 1).max() <= 60
