"""Kernel Temporal Segmentation (KTS): split a video into shots from its features.

Written from Potapov, Douze, Harchaoui and Schmid, "Category-specific video
summarization", ECCV 2014, section 3.1 (the penalty comes from Arlot, Celisse and
Harchaoui's kernel change-point detection with model selection).

Definitions, for ``n`` steps with features ``x_0 .. x_{n-1}``:

* Kernel: linear on L2-normalised features, ``K[i, j] = <x_i/|x_i|, x_j/|x_j|>``
  (cosine similarity; an all-zero feature stays zero).
* Cost of a segment of steps ``[s, t)`` (``t - s >= 1``): the within-segment kernel
  variance ``v(s, t) = sum_{i=s}^{t-1} K[i, i] - (1/(t-s)) sum_{i,j=s}^{t-1} K[i, j]``.
  With cumulative sums of the diagonal and a 2-D cumulative sum of ``K``, any
  ``v(s, t)`` costs O(1); all of them are computed at once as an array.
* ``L(m)``: the least total cost of splitting the ``n`` steps into ``m + 1``
  segments (``m`` change points), by dynamic programming over ``m``:
  ``I_0(t) = v(0, t)``, ``I_m(t) = min_{m <= s < t} I_{m-1}(s) + v(s, t)``,
  ``L(m) = I_m(n)``; each row ``I_m`` is one vectorised array operation.
* Number of change points, chosen automatically: the ``m`` (0 <= m <= m_max) that
  minimises ``L(m) / n + vmax * m / (2 n) * (log(n / m) + 1)`` (penalty 0 for
  ``m = 0``; natural log; default ``vmax = 1``; ``n`` is the number of steps).
  Ties go to the smaller ``m``.

Because ``L(m) >= 0`` and the penalty grows with ``m`` (for ``m < n``), once the
penalty of ``m + 1`` alone exceeds the best objective found so far no larger ``m``
can win; the DP stops there. The result is the same as running all rows, and
usually only a small fraction of the rows is needed.

Change points are returned as the step indices where a new segment starts
(sorted, each in ``1 .. n-1``). :func:`shot_boundaries` maps them to inclusive
frame ranges through ``picks``: a segment starting at step ``s`` starts at frame
``picks[s]`` and ends the frame before the next segment's first frame (the last
ends at ``n_frames - 1``; the first starts at frame 0).

Very long shots (a single take, a static camera) give nothing a keyshot summary
could fit into its budget; :func:`split_long_segments` (optional, used by
:func:`shot_boundaries` with ``max_shot_steps``) splits any segment longer than a
limit with the same cost function at a fixed number of change points.

Numerics: float64 throughout (the kernel itself is a float32 product); segment
costs are clipped at 0 to remove round-off. Each DP row is computed in blocks of
segment ends, over the lower triangle only (``s < t``), which keeps the work in
the CPU cache.

Memory and time of one exact run: O(n^2) memory (a few ``(n+1) x (n+1)`` float64
arrays: 12 MB each for n = 1200, 72 MB for n = 3000, 415 MB for n = 7200) and
O(rows x n^2) time.

Long videos: windows
--------------------
:func:`kts` is exact (the DP above over the whole input) up to :data:`EXACT_STEPS`
steps (2,400: 20 minutes at 2 steps per second): every video up to that length gets
exactly the change points of one exact run, at the cost it always had. Longer
inputs are cut into overlapping windows of :data:`WINDOW_STEPS` steps (1,200: 10
minutes), spread evenly so that neighbours overlap by at least
:data:`WINDOW_OVERLAP` steps (300). Exact KTS runs on each window on its own (its
penalty uses the window's length); a window keeps the change points of its middle
part, from the middle of its overlap with the previous window to the middle of its
overlap with the next, so every kept change point has at least 150 steps (75 s) of
context on both sides. Memory is that of one window (a few 11 MB arrays) and time
grows linearly with the number of windows, i.e. with the video's length. Beyond
``EXACT_STEPS`` the result is not guaranteed to equal one exact run: where the two
windows of a seam disagree about a change point near it, the seam can gain or lose
one change point, and the number of change points follows the penalty per window
rather than per video. Tests check that on long inputs of clear scenes the windows
find every scene change and no other, as one exact run does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, checked_number
from ..progress import Progress, report

#: Rows of t per vectorised block of the DP (fits the CPU cache).
_BLOCK = 128
#: Inputs up to this many steps get one exact KTS run (20 minutes at 2 steps per second).
EXACT_STEPS = 2400
#: Longer inputs: windows of this many steps (10 minutes at 2 steps per second) ...
WINDOW_STEPS = 1200
#: ... neighbours overlapping by at least this many (2.5 minutes at 2 steps per second).
WINDOW_OVERLAP = 300


@dataclass
class KTSResult:
    change_points: np.ndarray  # (m,) int64 step indices where a segment starts
    n_change_points: int
    costs: np.ndarray  # L(m) / n for m = 0 .. rows computed - 1
    objective: np.ndarray  # costs + penalty for the same m
    rows_computed: int
    max_change_points: int


def penalty(m, n: int, vmax: float = 1.0) -> np.ndarray:
    """``vmax * m / (2 n) * (log(n / m) + 1)``; 0 for ``m == 0``."""
    m = np.asarray(m, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = vmax * m / (2.0 * n) * (np.log(n / m) + 1.0)
    return np.where(m > 0, p, 0.0)


def kernel(features: np.ndarray) -> np.ndarray:
    """Linear kernel of the L2-normalised features, float64 ``(n, n)``."""
    x = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1.0)
    return (x @ x.T).astype(np.float64)


def segment_costs(K: np.ndarray) -> np.ndarray:
    """All segment costs, transposed: ``CT[t, s] = v(s, t)`` for ``s < t``, +inf elsewhere.

    Shape ``(n+1, n+1)``; costs are clipped at 0 (they are >= 0 mathematically; the
    clip removes round-off).
    """
    n = K.shape[0]
    S = np.zeros((n + 1, n + 1), dtype=np.float64)
    np.cumsum(np.cumsum(K, axis=0), axis=1, out=S[1:, 1:])
    D = np.concatenate([[0.0], np.cumsum(np.diag(K))])
    dS = np.diag(S).copy()
    idx = np.arange(n + 1, dtype=np.float64)
    length = idx[:, None] - idx[None, :]  # t - s
    with np.errstate(divide="ignore", invalid="ignore"):
        CT = (D[:, None] - D[None, :]) - (dS[:, None] - 2.0 * S + dS[None, :]) / length
    np.maximum(CT, 0.0, out=CT)
    CT[length <= 0] = np.inf
    return CT


def _check(features: np.ndarray, max_change_points, vmax) -> tuple[np.ndarray, int, int, float]:
    x = np.asarray(features)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"features must be (steps, dims) with steps, dims >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or inf")
    n = x.shape[0]
    v = checked_number(vmax, "KTS vmax", lambda v: v >= 0, ">= 0")
    if max_change_points is None:
        m_max = n - 1
    else:
        if int(max_change_points) != max_change_points or max_change_points < 0:
            raise ConfigError(None, f"max change points must be an integer >= 0, got {max_change_points}")
        m_max = min(int(max_change_points), n - 1)
    return x, n, m_max, v


def _dp_rows(CT: np.ndarray, n: int, m_max: int, vmax: float | None):
    """Rows ``I_1 .. I_k`` of the DP; with ``vmax`` stop early (see the module docstring).

    Returns (costs L(m)/n for m = 0..k, backpointers of rows 1..k).
    """
    prev = CT[:, 0].copy()  # I_0(t) = v(0, t); +inf at t = 0
    costs = [prev[n] / n]
    best = costs[0]
    back: list[np.ndarray] = []
    block = _BLOCK
    buf = np.empty(block * n, dtype=np.float64)
    for m in range(1, m_max + 1):
        if vmax is not None and float(penalty(m, n, vmax)) > best:
            break
        # I_m(t) for t in m+1 .. n: min over s in m .. t-1 of I_{m-1}(s) + v(s, t).
        # Blocks of t keep the work in cache and skip the s >= t half (all +inf).
        row = np.full(n + 1, np.inf)
        bp = np.zeros(n + 1, dtype=np.int64)
        for a in range(m + 1, n + 1, block):
            b = min(a + block, n + 1)
            w = b - 1 - m  # candidate s = m .. b-2
            vals = buf[: (b - a) * w].reshape(b - a, w)
            np.add(CT[a:b, m : b - 1], prev[m : b - 1], out=vals)
            arg = np.argmin(vals, axis=1)
            row[a:b] = vals[np.arange(b - a), arg]
            bp[a:b] = arg + m
        back.append(bp)
        prev = row
        c = prev[n] / n
        costs.append(c)
        if vmax is not None:
            best = min(best, c + float(penalty(m, n, vmax)))
    return np.asarray(costs, dtype=np.float64), back


def _backtrack(back: list[np.ndarray], m: int, n: int) -> np.ndarray:
    cps = []
    t = n
    for k in range(m, 0, -1):
        t = int(back[k - 1][t])
        cps.append(t)
    return np.asarray(sorted(cps), dtype=np.int64)


def kts_segment(
    features: np.ndarray, max_change_points: int | None = None, vmax: float = 1.0, early_stop: bool = True
) -> KTSResult:
    """Run KTS and return the change points with the costs behind the choice.

    ``early_stop=False`` computes every DP row up to ``max_change_points`` (same
    answer, slower; for benchmarks and checks).
    """
    x, n, m_max, vmax = _check(features, max_change_points, vmax)
    if m_max == 0:
        K = kernel(x)
        c0 = max(float(np.trace(K) - K.sum() / n) / n, 0.0)
        return KTSResult(np.zeros(0, np.int64), 0, np.array([c0]), np.array([c0]), 1, 0)
    costs, back = _dp_rows(segment_costs(kernel(x)), n, m_max, vmax if early_stop else None)
    objective = costs + penalty(np.arange(len(costs)), n, vmax)
    m_best = int(np.argmin(objective))
    return KTSResult(_backtrack(back, m_best, n), m_best, costs, objective, len(costs), m_max)


def kts_fixed(features: np.ndarray, n_change_points: int) -> np.ndarray:
    """The least-cost segmentation with exactly ``n_change_points`` change points."""
    x, n, m, _ = _check(features, n_change_points, 0.0)
    if m == 0:
        return np.zeros(0, np.int64)
    _, back = _dp_rows(segment_costs(kernel(x)), n, m, None)
    return _backtrack(back, m, n)


def split_long_segments(
    features: np.ndarray, change_points: np.ndarray, max_len: int, window: int = EXACT_STEPS
) -> np.ndarray:
    """Split every segment longer than ``max_len`` steps, content-aware.

    A segment of ``L > max_len`` steps gets ``ceil(L / max_len) - 1`` change points
    placed by :func:`kts_fixed` on its own features (least within-segment variance);
    pieces still too long are split again. A segment longer than ``window`` steps is
    first cut into ``ceil(L / window)`` equal pieces (memory stays that of one window).
    """
    if max_len < 1:
        raise ConfigError(None, f"maximum segment length must be >= 1 step, got {max_len}")
    x = np.asarray(features)
    n = x.shape[0]
    todo = [int(c) for c in change_points]
    bounds = [0, *todo, n]
    out: set[int] = set(todo)
    stack = [(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    while stack:
        a, b = stack.pop()
        if b - a <= max_len:
            continue
        if b - a > window:
            # Longer than one exact run (a take of over 20 minutes): first cut into
            # equal pieces of at most `window` steps, so memory stays bounded.
            k = math.ceil((b - a) / window)
            cuts = [a + round(j * (b - a) / k) for j in range(1, k)]
            out.update(cuts)
            edges = [a, *cuts, b]
            stack.extend((p, q) for p, q in zip(edges[:-1], edges[1:]))
            continue
        m = math.ceil((b - a) / max_len) - 1
        cps = (kts_fixed(x[a:b], m) + a).tolist()
        out.update(cps)
        edges = [a, *cps, b]
        stack.extend((p, q) for p, q in zip(edges[:-1], edges[1:]))
    return np.asarray(sorted(out), dtype=np.int64)


@dataclass(frozen=True)
class Window:
    """Steps ``[start, stop)`` run together; change points in ``[keep_from, keep_to)`` are kept."""

    start: int
    stop: int
    keep_from: int
    keep_to: int


def windows(n: int, size: int = WINDOW_STEPS, overlap: int = WINDOW_OVERLAP) -> list[Window]:
    """The windows of an ``n``-step input (one window covering all when ``n <= size``)."""
    if size < 2 or not 0 <= overlap < size:
        raise ConfigError(None, f"KTS windows need size >= 2 and 0 <= overlap < size, got {size} and {overlap}")
    if n <= size:
        return [Window(0, n, 0, n)]
    k = math.ceil((n - overlap) / (size - overlap))
    starts = [round(i * (n - size) / (k - 1)) for i in range(k)]
    stops = [a + size for a in starts]
    cuts = [0] + [(starts[i + 1] + stops[i]) // 2 for i in range(k - 1)] + [n]
    return [Window(starts[i], stops[i], cuts[i], cuts[i + 1]) for i in range(k)]


def kts(
    features: np.ndarray,
    max_change_points: int | None = None,
    vmax: float = 1.0,
    exact_steps: int = EXACT_STEPS,
    window: int = WINDOW_STEPS,
    overlap: int = WINDOW_OVERLAP,
    progress: Progress | None = None,
) -> np.ndarray:
    """Change points (step indices where a new segment starts), number chosen automatically.

    ``max_change_points`` caps the number considered (default ``n - 1``; beyond one
    window, each window's share of it by length); ``vmax`` scales the penalty
    (larger: fewer, longer segments). Inputs longer than ``exact_steps`` run in
    overlapping windows of ``window`` steps (see the module docstring).
    ``progress`` (a :data:`~acsumgan.progress.Progress`) gets a stage "shots" event after
    each window (windows done, windows).
    """
    x = np.asarray(features)
    n = x.shape[0] if x.ndim == 2 else 0
    parts = windows(n, window, overlap) if n > exact_steps else [Window(0, n, 0, n)]
    if len(parts) == 1:
        cps = kts_segment(features, max_change_points, vmax).change_points
        report(progress, "shots", 1, 1)
        return cps
    _check(x, max_change_points, vmax)
    kept: list[np.ndarray] = []
    for i, w in enumerate(parts):
        cap = None
        if max_change_points is not None:
            cap = math.ceil(int(max_change_points) * (w.stop - w.start) / n)
        cps = kts_segment(x[w.start : w.stop], cap, vmax).change_points + w.start
        kept.append(cps[(cps >= max(w.keep_from, 1)) & (cps < w.keep_to)])
        report(progress, "shots", i + 1, len(parts))
    return np.unique(np.concatenate(kept)).astype(np.int64)


def steps_to_frames(change_steps: np.ndarray, picks: np.ndarray, n_frames: int) -> np.ndarray:
    """Inclusive frame ranges ``(S, 2)`` covering ``0 .. n_frames-1`` from step boundaries."""
    picks = np.asarray(picks, dtype=np.int64)
    cps = np.asarray(change_steps, dtype=np.int64)
    if picks.ndim != 1 or picks.size == 0:
        raise ValueError("picks must be a non-empty 1-D array")
    if np.any(np.diff(picks) <= 0):
        raise ValueError("picks must be strictly increasing")
    if picks[0] < 0 or picks[-1] >= n_frames:
        raise ValueError(f"picks must lie in 0 .. n_frames-1 = {n_frames - 1}")
    if cps.size and (cps.min() < 1 or cps.max() >= picks.size or np.any(np.diff(cps) <= 0)):
        raise ValueError("change points must be increasing step indices in 1 .. steps-1")
    starts = np.concatenate([[0], picks[cps]]).astype(np.int64)
    ends = np.concatenate([starts[1:] - 1, [n_frames - 1]]).astype(np.int64)
    return np.stack([starts, ends], axis=1)


def shot_boundaries(
    features: np.ndarray,
    picks: np.ndarray,
    n_frames: int,
    max_change_points: int | None = None,
    vmax: float = 1.0,
    max_shot_steps: int | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """KTS shots as inclusive frame ranges ``(S, 2)`` covering ``0 .. n_frames-1``.

    ``max_shot_steps`` (default: no limit, pure KTS) splits longer shots with
    :func:`split_long_segments`. ``progress``: stage "shots" events, see :func:`kts`.
    """
    picks = np.asarray(picks)
    if picks.shape[0] != np.asarray(features).shape[0]:
        raise ValueError(f"{picks.shape[0]} picks for {np.asarray(features).shape[0]} feature steps")
    cps = kts(features, max_change_points, vmax, progress=progress)
    if max_shot_steps is not None:
        cps = split_long_segments(features, cps, int(max_shot_steps))
    return steps_to_frames(cps, picks, int(n_frames))
