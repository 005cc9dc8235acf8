"""Rank correlation of frame scores with the annotators (Otani et al., CVPR 2019).

Otani, Nakashima, Rahtu, Heikkilae, "Rethinking the evaluation of video summaries"
(CVPR 2019) compare a method's frame-level importance with each annotator's
frame-level importance by rank correlation, which, unlike the keyshot F-score,
does not depend on the shot segmentation and the knapsack. Per video:

1. the method's step scores become frame scores with
   :func:`acsumgan.evaluation.summary.frame_scores` (each step's score fills its 15
   frames; float32, as for the F-score);
2. for each annotator, Kendall's tau-b (``scipy.stats.kendalltau``, ties handled as
   tau-b) or Spearman's rho (``scipy.stats.spearmanr``: Pearson correlation of
   average ranks) between the method's frame scores and that annotator's frame
   scores;
3. the mean over annotators. The dataset's value is the mean over videos (with
   splits: over a split's test videos, then over splits, like the F-score).

Annotator frame scores (``annotator_rows``): the video's ``user_scores`` (users x
n_frames) when present — TVSum's per-user importance 1..5 (``user_anno``), which is
what Otani et al. use — otherwise its binary ``user_summary``. SumMe has no per-user
importance (its ``user_score`` numbers the selected segments; see
:mod:`acsumgan.data.groundtruth`), so on SumMe the correlation is with each user's
0/1 selection: tau-b / rho of a score against a binary variable, which measures how
much higher the method scores the frames that user selected. This is a coarser
reference than TVSum's five levels and its values are not comparable to TVSum's.

Undefined values: a constant score vector (the method's, or an annotator who scored
every frame alike, e.g. selected nothing) makes both coefficients undefined (scipy
returns NaN). We define the value as **0** (no evidence of agreement or
disagreement) instead of propagating NaN; that annotator still counts in the mean.

The computation is exact and equals scipy's (the tests check this to 1e-9), but
runs on per-step contingency tables: a method's frame scores are constant over each
step, so one annotator table per video is built once and each set of scores costs
O(T log T + U x T x L) (L = distinct annotator levels, 5 on TVSum, 2 on SumMe)
instead of U calls of O(n_frames log n_frames). Annotator scores with very many
distinct levels fall back to scipy itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..data.dataset import Video
from ..errors import DatasetError, ScoresError

METHODS = ("kendall", "spearman")

# Above this many table cells, Kendall falls back to scipy per annotator.
MAX_TABLE_CELLS = 20_000_000


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


# --------------------------------------------------------------------------- reference


def _scipy_correlation(name: str, x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"lengths differ ({x.shape[0]} and {y.shape[0]})")
    if x.size < 2:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scipy import stats  # imported here: scipy.stats costs ~0.5 s to import

        value = getattr(stats, name)(x, y).statistic
    return 0.0 if not np.isfinite(value) else float(value)


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two equal-length vectors (scipy); 0 where undefined."""
    return _scipy_correlation("kendalltau", x, y)


def spearman_rho(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of two equal-length vectors (scipy); 0 where undefined."""
    return _scipy_correlation("spearmanr", x, y)


def correlation(x: np.ndarray, y: np.ndarray, method: str) -> float:
    """``kendall_tau`` or ``spearman_rho`` by name."""
    return kendall_tau(x, y) if _check_method(method) == "kendall" else spearman_rho(x, y)


# --------------------------------------------------------------------------- fast, exact


def _pairs(n: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=np.int64)
    return n * (n - 1) // 2


def _tau_from_tables(G: np.ndarray, tot: int, xtie, ytie) -> np.ndarray:
    """tau-b from contingency tables ``G`` (..., K, L), rows and columns in ascending order.

    ``xtie``/``ytie``: tied pairs within rows/columns (broadcast over the leading
    axes). Concordant pairs: (row i < row j, column k < column l); discordant:
    (row i < row j, column k > column l).
    """
    before = np.cumsum(G, axis=-2) - G  # counts in strictly earlier rows
    cum = np.cumsum(before, axis=-1)
    lower = cum - before  # ... and strictly lower columns
    higher = before.sum(axis=-1, keepdims=True) - cum  # ... and strictly higher columns
    con = (G * lower).sum(axis=(-2, -1))
    dis = (G * higher).sum(axis=(-2, -1))
    a = (tot - np.asarray(xtie)).astype(np.float64)
    b = (tot - np.asarray(ytie)).astype(np.float64)
    ok = (a > 0) & (b > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = (con - dis) / np.sqrt(np.where(ok, a, 1.0)) / np.sqrt(np.where(ok, b, 1.0))
    return np.where(ok, tau, 0.0)


def _codes(row: np.ndarray) -> tuple[np.ndarray, int]:
    levels, inv = np.unique(row, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), int(levels.shape[0])


class AnnotatorRanks:
    """One video's annotator frame scores, prepared for fast exact tau-b / rho.

    ``rows``: (U, n_frames) annotator scores; ``picks``/``n_frames``: the step
    layout the method's scores use. ``score(step_scores, method)`` gives the U
    per-annotator values; ``leave_one_out(method)`` gives each annotator against
    the others (the human baseline). Build once per video, reuse for many scores.
    """

    def __init__(self, rows: np.ndarray, picks: np.ndarray, n_frames: int):
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[0] == 0:
            raise ValueError(f"annotator rows must be (users x frames), got shape {rows.shape}")
        n_frames = int(n_frames)
        if rows.shape[1] != n_frames:
            raise ValueError(f"annotator rows have {rows.shape[1]} frames, n_frames is {n_frames}")
        picks = np.asarray(picks, dtype=np.int64)
        self.rows = rows
        self.n = n_frames
        self.U = rows.shape[0]
        self.tot = n_frames * (n_frames - 1) // 2
        self.n_steps = int(picks.shape[0])
        # Segments of constant machine score: [0, picks[0]) (score 0), then each step.
        starts = picks if (picks.size and picks[0] == 0) else np.concatenate([[0], picks])
        self.prefix = bool(starts.shape[0] != picks.shape[0])
        self.seg_starts = starts
        self.seg_len = np.diff(np.concatenate([starts, [n_frames]])).astype(np.int64)
        self._kendall = None
        self._spearman = None

    # -- preparation (lazy: each method needs its own) --------------------

    def _prep_kendall(self):
        if self._kendall is None:
            codes, L = zip(*(_codes(r) for r in self.rows))
            Lmax = max(L)
            S = self.seg_len.shape[0]
            ytie = np.array([_pairs(np.bincount(c, minlength=Lmax)).sum() for c in codes], dtype=np.int64)
            if self.U * S * Lmax > MAX_TABLE_CELLS:
                self._kendall = ("scipy", None, ytie, Lmax)
            else:
                seg_id = np.repeat(np.arange(S), self.seg_len)
                idx = (np.arange(self.U)[:, None] * S + seg_id[None, :]) * Lmax + np.stack(codes)
                M = np.bincount(idx.ravel(), minlength=self.U * S * Lmax).reshape(self.U, S, Lmax)
                self._kendall = ("table", M, ytie, Lmax)
        return self._kendall

    def _centred_ranks(self) -> np.ndarray:
        from scipy import stats  # imported here: scipy.stats costs ~0.5 s to import

        return stats.rankdata(self.rows, axis=1) - (self.n + 1) / 2.0

    def _prep_spearman(self):
        if self._spearman is None:
            R = self._centred_ranks()
            norm = np.sqrt((R * R).sum(axis=1))
            segsum = np.add.reduceat(R, self.seg_starts, axis=1)
            self._spearman = (norm, segsum)
        return self._spearman

    # -- the method's scores ----------------------------------------------

    def segment_values(self, step_scores: np.ndarray) -> np.ndarray:
        """The machine's (float32) score on each constant segment, as frame_scores gives."""
        s = np.asarray(step_scores, dtype=np.float64).reshape(-1)
        if s.shape[0] != self.n_steps:
            raise ValueError(f"{s.shape[0]} scores for {self.n_steps} steps")
        vals = s.astype(np.float32)
        if self.prefix:
            vals = np.concatenate([np.zeros(1, np.float32), vals])
        return vals

    def _groups(self, vals: np.ndarray):
        order = np.argsort(vals, kind="stable")
        sv = vals[order]
        first = np.flatnonzero(np.concatenate([[True], sv[1:] != sv[:-1]]))
        counts = np.add.reduceat(self.seg_len[order], first)
        return order, first, counts

    def score(self, step_scores: np.ndarray, method: str) -> np.ndarray:
        """Per-annotator tau-b or rho of the method's step scores (U values)."""
        _check_method(method)
        vals = self.segment_values(step_scores)
        if self.n < 2:
            return np.zeros(self.U)
        order, first, counts = self._groups(vals)
        if method == "kendall":
            kind, M, ytie, _ = self._prep_kendall()
            if kind == "scipy":
                frames = np.repeat(vals, self.seg_len).astype(np.float64)
                return np.array([kendall_tau(frames, r) for r in self.rows])
            G = np.add.reduceat(M[:, order, :], first, axis=1)
            xtie = int(_pairs(counts).sum())
            return _tau_from_tables(G, self.tot, xtie, ytie)
        norm, segsum = self._prep_spearman()
        # Average rank of each group of equal machine scores, centred.
        avg = np.cumsum(counts) - counts + (counts + 1) / 2.0 - (self.n + 1) / 2.0
        per_seg = np.empty(vals.shape[0])
        per_seg[order] = np.repeat(avg, np.diff(np.concatenate([first, [vals.shape[0]]])))
        m_norm = float(np.sqrt((counts * avg * avg).sum()))
        num = segsum @ per_seg
        den = norm * m_norm
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        return np.clip(rho, -1.0, 1.0)

    # -- the annotators against each other --------------------------------

    def pairwise(self, method: str) -> np.ndarray:
        """U x U matrix of tau-b / rho between annotators (diagonal: 1, or 0 if constant)."""
        _check_method(method)
        U = self.U
        out = np.zeros((U, U))
        if self.n < 2:
            return out
        if method == "spearman":
            norm, _ = self._prep_spearman()
            R = self._centred_ranks()
            num = R @ R.T
            den = np.outer(norm, norm)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
            return np.clip(out, -1.0, 1.0)
        _, _, ytie, L = self._prep_kendall()
        codes = [_codes(r)[0] for r in self.rows]
        for i in range(U):
            for j in range(i, U):
                if L * L > MAX_TABLE_CELLS:
                    t = kendall_tau(self.rows[i], self.rows[j])
                else:
                    G = np.bincount(codes[i] * L + codes[j], minlength=L * L).reshape(L, L)
                    t = float(_tau_from_tables(G, self.tot, ytie[i], ytie[j]))
                out[i, j] = out[j, i] = t
        return out

    def leave_one_out(self, method: str) -> np.ndarray:
        """Each annotator against the others: mean over the other U - 1 (U values)."""
        if self.U < 2:
            raise ValueError("leave-one-out needs at least 2 annotators")
        P = self.pairwise(method)
        return (P.sum(axis=1) - np.diag(P)) / (self.U - 1)


# --------------------------------------------------------------------------- datasets


def annotator_rows(video: Video) -> tuple[np.ndarray, str]:
    """The annotator frame scores used for ``video`` and their field name.

    ``user_scores`` when present (TVSum importance), else ``user_summary`` (0/1,
    e.g. SumMe). Raises a one-line DatasetError when the video has neither.
    """
    if video.user_scores is not None:
        return np.asarray(video.user_scores), "user_scores"
    if video.user_summary is not None:
        return np.asarray(video.user_summary), "user_summary"
    raise DatasetError(
        None, f"{video.key}: has neither user_scores nor user_summary (rank correlation needs per-user frame scores)"
    )


def can_rank(video: Video, leave_one_out: bool = False) -> bool:
    """Whether rank correlation can be computed for ``video``: annotator rows
    (``user_scores`` or ``user_summary``) one per frame, with ``picks`` and ``n_frames``
    to spread step scores to frames; with ``leave_one_out`` (annotators against each
    other, no step scores) at least 2 annotators, and ``n_frames`` only if present."""
    if video.user_scores is None and video.user_summary is None:
        return False
    rows = annotator_rows(video)[0]
    if leave_one_out:
        return rows.shape[0] >= 2 and (video.n_frames is None or rows.shape[1] == video.n_frames)
    return video.picks is not None and video.n_frames is not None and rows.shape[1] == int(video.n_frames)


def annotator_ranks(video: Video, cache: dict | None = None) -> AnnotatorRanks:
    """:class:`AnnotatorRanks` of a video (needs picks, n_frames and annotator rows).

    ``cache`` (any dict the caller keeps, e.g. across epochs) reuses the preparation
    while the video's annotator array, picks array and n_frames are the same objects
    and value (arrays changed in place are not noticed).
    """
    rows, name = annotator_rows(video)
    if cache is not None:
        hit = cache.get(video.key)
        if hit is not None and hit[0] is rows and hit[1] is video.picks and hit[2] == video.n_frames:
            return hit[3]
    for f in ("picks", "n_frames"):
        if getattr(video, f) is None:
            raise DatasetError(
                None, f"{video.key}: has no {f} (rank correlation needs it to spread step scores to frames)"
            )
    if rows.shape[1] != int(video.n_frames):
        raise DatasetError(None, f"{video.key}: {name} has {rows.shape[1]} frames but n_frames is {video.n_frames}")
    ar = AnnotatorRanks(rows, video.picks, int(video.n_frames))
    if cache is not None:
        cache[video.key] = (rows, video.picks, video.n_frames, ar)
    return ar


@dataclass
class RankResult:
    """Per-video rank correlation (mean over annotators) and the mean over videos."""

    method: str
    videos: dict[str, float] = field(default_factory=dict)
    reference: dict[str, str] = field(default_factory=dict)  # video -> user_scores | user_summary

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.videos.values()))) if self.videos else float("nan")

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "videos": dict(self.videos),
            "mean": self.mean,
            "reference": dict(self.reference),
        }


def video_rank_correlation(step_scores: np.ndarray, video: Video, method: str, cache: dict | None = None) -> float:
    """Mean over annotators of tau-b / rho for one video's step scores."""
    _check_method(method)
    ar = annotator_ranks(video, cache)
    s = np.asarray(step_scores).reshape(-1)
    if s.shape[0] != ar.n_steps:
        raise ScoresError(None, f"{video.key}: {s.shape[0]} scores but the video has {ar.n_steps} steps")
    return float(np.mean(ar.score(s, method)))


def rank_correlation(
    videos: Mapping[str, Video],
    scores: Mapping[str, np.ndarray],
    method: str = "kendall",
    cache: dict | None = None,
) -> RankResult:
    """Rank correlation of every video in ``scores`` (each must be in ``videos``).

    ``method``: ``"kendall"`` (tau-b) or ``"spearman"`` (rho). Scores are step
    scores (one per pick). Returns a :class:`RankResult`; its ``mean`` is the mean
    over the given videos. Pass the same ``cache`` dict to repeated calls on the same
    videos (e.g. every epoch) to prepare each video's annotators only once.
    """
    _check_method(method)
    res = RankResult(method=method)
    for key, s in scores.items():
        if key not in videos:
            raise ScoresError(None, f"{key}: scored but not in the dataset")
        v = videos[key]
        res.videos[key] = video_rank_correlation(s, v, method, cache)
        res.reference[key] = annotator_rows(v)[1]
    return res


def evaluate_rank(
    videos: Mapping[str, Video],
    scores: Mapping[str, np.ndarray],
    method: str,
    cache: dict | None = None,
) -> RankResult:
    """What ``acsumgan evaluate --metric kendall|spearman`` calls: see :func:`rank_correlation`."""
    return rank_correlation(videos, scores, method, cache)
