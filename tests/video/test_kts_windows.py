"""Scalable KTS: exactly one exact run's change points on the test corpus (every input
shorter than 20 minutes), windows of bounded size beyond, known answers on long inputs."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from acsumgan.errors import ConfigError
from acsumgan.video.kts import (
    EXACT_STEPS,
    WINDOW_OVERLAP,
    WINDOW_STEPS,
    kts,
    kts_segment,
    shot_boundaries,
    split_long_segments,
    windows,
)

from .kts_corpus import FIXTURE, MAX_SHOT_STEPS, corpus, scene_features
from .test_kts import piecewise


@pytest.fixture(scope="module")
def known() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.mark.slow
def test_the_corpus_gets_exactly_the_change_points_of_one_exact_run(known, backbone):
    """Known answer: change points stored by the single-run KTS from before the windows."""
    inputs = corpus(backbone)
    assert sorted(inputs) == sorted(known) and len(known) == 81
    assert max(x.shape[0] for x in inputs.values()) < 2400  # all shorter than 20 minutes
    for name, x in inputs.items():
        want = known[name]
        assert x.shape[0] == want["steps"], name
        cps = kts(x)
        assert cps.tolist() == want["kts"], name
        assert split_long_segments(x, cps, MAX_SHOT_STEPS).tolist() == want["split"], name


def test_windows_cover_the_input_with_bounded_overlapping_parts():
    assert windows(1000) == windows(1000, WINDOW_STEPS, WINDOW_OVERLAP)
    assert len(windows(WINDOW_STEPS)) == 1
    for n in (1201, 2401, 7200, 14400, 50_001):
        ws = windows(n)
        assert ws[0].start == 0 and ws[-1].stop == n
        assert all(w.stop - w.start == WINDOW_STEPS for w in ws)
        assert [w.keep_from for w in ws[1:]] == [w.keep_to for w in ws[:-1]]  # kept parts tile 0..n
        assert ws[0].keep_from == 0 and ws[-1].keep_to == n
        for a, b in zip(ws, ws[1:]):
            assert a.stop - b.start >= WINDOW_OVERLAP  # neighbours overlap enough ...
            assert b.keep_from - b.start >= WINDOW_OVERLAP // 2  # ... and a kept change point
            assert a.stop - a.keep_to >= WINDOW_OVERLAP // 2  # has context on both sides
        # the number of windows grows linearly with the length
        assert len(ws) == int(np.ceil((n - WINDOW_OVERLAP) / (WINDOW_STEPS - WINDOW_OVERLAP)))
    with pytest.raises(ConfigError):
        windows(100, size=10, overlap=10)


def test_up_to_twenty_minutes_is_one_exact_run_and_beyond_uses_windows():
    x = scene_features(EXACT_STEPS + 1, seed=5, dim=32)
    calls = []
    kts(x[:EXACT_STEPS], progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 1)]
    calls.clear()
    kts(x, progress=lambda d, t: calls.append((d, t)))
    n_windows = len(windows(EXACT_STEPS + 1))
    assert n_windows == 3 and calls == [(i, n_windows) for i in range(1, n_windows + 1)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_windows_find_every_scene_change_as_one_exact_run_does(seed):
    """Known answer beyond one window: clear scenes, windows 4x shorter than the input."""
    rng = np.random.default_rng(seed)
    bounds = np.cumsum(rng.integers(8, 60, size=200))
    bounds = bounds[bounds < 1500].tolist()
    x = piecewise(bounds, 1500, d=48, noise=0.6, seed=seed)
    exact = kts_segment(x).change_points
    windowed = kts(x, exact_steps=300, window=400, overlap=100)
    assert len(windows(1500, 400, 100)) == 5
    assert exact.tolist() == bounds
    assert windowed.tolist() == bounds


def test_windowed_shots_cover_the_video_and_long_takes_stay_bounded():
    """A 3-hour static take (21,600 steps, no change at all): shots of at most 20 steps,
    within the memory of one window (the exact DP would need 3.7 GB per array)."""
    rng = np.random.default_rng(0)
    n = 21_600
    x = (np.ones((n, 16)) + 0.01 * rng.standard_normal((n, 16))).astype(np.float32)
    picks = np.arange(n) * 15
    tracemalloc.start()
    shots = shot_boundaries(x, picks, n * 15, max_shot_steps=20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 400e6
    assert shots[0, 0] == 0 and shots[-1, 1] == n * 15 - 1
    assert np.all(shots[1:, 0] == shots[:-1, 1] + 1)
    lengths = (shots[:, 1] - shots[:, 0] + 1) // 15
    assert lengths.max() <= 20 and lengths.sum() == n


def test_max_change_points_is_shared_between_windows():
    x = piecewise(list(range(10, 3000, 10)), 3000, d=16, noise=0.1)
    assert len(kts(x)) == 299
    capped = kts(x, max_change_points=30)
    assert 0 < len(capped) <= 30 + len(windows(3000))
