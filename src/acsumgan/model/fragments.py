"""The actor's M fragments of a video's T steps (method.md section 2).

Sizes exactly as the authors' release computes them (float64 arithmetic, numpy
round-half-even), including its quirk: when the last size is 1, the size at index
``int(M / 2)`` is set to 1, so for 61 <= T <= 118 the sizes sum to T - 1 and the last
step belongs to no fragment (it keeps the 0.85 factor of unpicked steps).

Short videos (T < M), where the release produces empty fragments and breaks, use
``M' = T`` fragments of one step each (documented deviation ``short_video_rule =
"one-step-fragments"``): the actor still outputs M probabilities, but the M - T
fragments that do not exist are masked out of its distribution, and the episode
makes ``floor(0.15 * M')`` picks with the release's factors computed for M'. For
T >= M nothing changes.
"""

from __future__ import annotations

import math

import numpy as np


def fragment_sizes(T: int, M: int = 60) -> np.ndarray:
    """Sizes of the M fragments of T steps, exactly as the release (needs T >= M)."""
    if T < M:
        raise ValueError(f"fragment_sizes needs T >= M (got T={T}, M={M}); use effective_fragments")
    f = T / M
    lo, hi = math.floor(f), math.ceil(f)
    d = divmod(f, 1)[1]
    n_hi = int(np.round(d * M))
    n_lo = int(np.round((1 - d) * M))
    sizes = np.zeros(M)
    sizes[:n_lo] = lo
    sizes[n_lo : n_lo + n_hi] = hi
    sizes = np.roll(sizes, -int(M * (1 - d) / 2))
    if sizes[M - 1] == 1:
        sizes[int(M / 2)] = 1
    return sizes.astype(np.int64)


def fragment_bounds(T: int, M: int = 60) -> np.ndarray:
    """Inclusive [start, end] step ranges of the fragments, shape (M', 2), M' = min(M, T)."""
    if T < 1:
        raise ValueError("a video needs at least one step")
    if T < M:
        starts = np.arange(T, dtype=np.int64)
        return np.stack([starts, starts], axis=1)
    ends = np.cumsum(fragment_sizes(T, M)) - 1
    starts = np.concatenate([[0], ends[:-1] + 1])
    return np.stack([starts, ends], axis=1)


def fragment_ids(T: int, M: int = 60) -> np.ndarray:
    """Fragment index of every step (length T); ``-1`` for a step in no fragment."""
    ids = np.full(T, -1, dtype=np.int64)
    for i, (s, e) in enumerate(fragment_bounds(T, M)):
        ids[s : e + 1] = i
    return ids


def termination_point(M: int) -> int:
    """Number of actor steps N = floor(0.15 * M) (9 for the release's M = 60)."""
    return int(math.floor(0.15 * M))
