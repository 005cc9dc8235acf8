"""Reference baselines under the same protocol as a method: random, uniform, human.

Every baseline is scored exactly as a method's step scores are (keyshot summary by
0/1 knapsack at the budget, F-score reduced over users with ``max`` or ``avg``; rank
correlation of :mod:`acsumgan.evaluation.rank`), on the same videos (a split's test
videos, then the mean over splits; or all videos):

``random``
    Step scores drawn uniformly from [0, 1), independently per video and draw. The
    draw of a video depends only on ``(seed, draw, video key)`` (not on which other
    videos or splits are evaluated), so a video has the same random scores in every
    split. Reported as the mean and the standard deviation (ddof = 0) over the
    ``draws`` of the dataset-level value (mean over videos, or over splits).
``uniform``
    Uniform importance: every step gets the same score (1.0), and the keyshot
    protocol decides. All shots then have the same value, so the knapsack keeps the
    largest number of shots that fit the budget (it favours short shots; among equal
    choices the earlier ones, as the reference backtracking does). We chose this over
    "evenly spaced shots" because it goes through the very code path a method's
    scores go through, needs no extra rule for choosing shots, and shows what the
    protocol alone gives a method that knows nothing (Otani et al., CVPR 2019, point
    out how much the shot segmentation and knapsack decide). Constant scores have no
    rank correlation: it is 0 by the definition in :mod:`acsumgan.evaluation.rank`.
``human``
    Leave-one-out: each annotator's own ``user_summary`` (as is, not re-cut to the
    budget) scored with the F-score against the OTHER annotators (``max`` or ``avg``),
    and each annotator's frame scores (``user_scores``, else ``user_summary``)
    correlated with each other annotator's; averaged over annotators, then videos.
    Needs at least 2 annotators per video.

A measure is reported only when every video of the row has the fields it needs
(F-score: ``user_summary``, ``change_points``, ``picks``, ``n_frames``; human
F-score: ``user_summary``; rank correlation: ``user_scores`` or ``user_summary``,
plus ``picks`` and ``n_frames`` for random and uniform); otherwise it is ``None``.
"""

from __future__ import annotations

import zlib
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..data.dataset import Video
from .metrics import METRICS, f_score_users
from .rank import METHODS, AnnotatorRanks, annotator_rows, can_rank
from .summary import DEFAULT_BUDGET, keyshot_summary

KINDS = ("random", "uniform", "human")
MEASURES = ("f_score",) + METHODS  # f_score, kendall, spearman
DEFAULT_DRAWS = 100


def random_step_scores(key: str, n_steps: int, seed: int = 0, draw: int = 0) -> np.ndarray:
    """The random baseline's step scores of one video in one draw (uniform [0, 1))."""
    rng = np.random.default_rng([int(seed), int(draw), zlib.crc32(key.encode("utf-8"))])
    return rng.random(int(n_steps))


def uniform_step_scores(n_steps: int) -> np.ndarray:
    """The uniform baseline's step scores: 1.0 for every step."""
    return np.ones(int(n_steps))


def _n_steps(v: Video) -> int:
    return int(v.picks.shape[0])


def _can_f(v: Video, kind: str) -> bool:
    if v.user_summary is None:
        return False
    if kind == "human":
        return v.user_summary.shape[0] >= 2
    return v.change_points is not None and v.picks is not None and v.n_frames is not None


def video_baseline(
    kind: str,
    video: Video,
    metric: str,
    budget: float = DEFAULT_BUDGET,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> dict[str, np.ndarray | None]:
    """One video's baseline values: ``{measure: array}`` (one value per draw for
    ``random``, a single value otherwise), ``None`` for a measure it cannot give."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    out: dict[str, np.ndarray | None] = {m: None for m in MEASURES}
    want_f = _can_f(video, kind)
    want_r = can_rank(video, leave_one_out=kind == "human")

    if kind == "human":
        if want_f:
            us = np.asarray(video.user_summary)
            out["f_score"] = np.array(
                [np.mean([f_score_users(us[u], np.delete(us, u, axis=0), metric) for u in range(us.shape[0])])]
            )
        if want_r:
            rows = annotator_rows(video)[0]
            ar = AnnotatorRanks(rows, np.arange(0, rows.shape[1], 15), rows.shape[1])
            for m in METHODS:
                out[m] = np.array([float(np.mean(ar.leave_one_out(m)))])
        return out

    n_draws = int(draws) if kind == "random" else 1
    if n_draws < 1:
        raise ValueError("draws must be >= 1")
    if kind == "random":
        step_sets = [random_step_scores(video.key, _n_steps(video), seed, d) for d in range(n_draws)]
    else:
        step_sets = [uniform_step_scores(_n_steps(video))]
    if want_f:
        out["f_score"] = np.array(
            [
                f_score_users(
                    keyshot_summary(s, video.picks, int(video.n_frames), video.change_points, budget),
                    video.user_summary,
                    metric,
                )
                for s in step_sets
            ]
        )
    if want_r:
        ar = AnnotatorRanks(annotator_rows(video)[0], video.picks, int(video.n_frames))
        for m in METHODS:
            out[m] = np.array([float(np.mean(ar.score(s, m))) for s in step_sets])
    return out


def _summarise(per_video: Mapping[str, dict], keys: Sequence[str], measure: str) -> np.ndarray | None:
    """Per-draw mean over ``keys`` of one measure, or None if a video lacks it."""
    if not keys:
        return None
    vals = [per_video[k][measure] for k in keys]
    if any(v is None for v in vals):
        return None
    return np.mean(np.stack(vals), axis=0)


def _row(
    kind: str,
    split,
    n_videos: int,
    per_draw: dict[str, np.ndarray | None],
    metric: str,
    budget: float,
    draws: int,
    reference: str | None,
) -> dict:
    row = {
        "baseline": kind,
        "split": split,
        "n_videos": n_videos,
        "metric": metric,
        "budget": budget,
        "draws": draws if kind == "random" else None,
    }
    for m in MEASURES:
        a = per_draw.get(m)
        row[m] = None if a is None else float(np.mean(a))
        row[f"{m}_std"] = None if (a is None or kind != "random") else float(np.std(a))
    row["rank_reference"] = reference if (row["kendall"] is not None) else None
    return row


def baseline_rows(
    videos: Mapping[str, Video],
    splits: Sequence[Mapping[str, Sequence[str]]] | None = None,
    metric: str = "max",
    budget: float = DEFAULT_BUDGET,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    kinds: Iterable[str] = KINDS,
    split_indices: Sequence[int] | None = None,
) -> list[dict]:
    """Baseline rows to put next to a method's results.

    Without ``splits``: one row per kind over all ``videos`` (``split = "all"``).
    With ``splits`` (a list of ``{"train_keys", "test_keys"}``): one row per kind and
    split over that split's test videos (``split = index``), then, when more than one
    split is reported, a ``split = "mean"`` row (mean over the splits).
    ``split_indices`` restricts to those splits.

    Each row: ``baseline, split, n_videos, metric, budget, draws, f_score,
    f_score_std, kendall, kendall_std, spearman, spearman_std, rank_reference``
    (F-scores in percent; ``*_std`` only for random, over draws; a measure the videos
    cannot give is ``None``; ``rank_reference`` names the annotator field used).
    """
    kinds = list(kinds)
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {k!r}")
    if splits is None:
        groups = [("all", list(videos))]
    else:
        idx = range(len(splits)) if split_indices is None else split_indices
        groups = [(int(i), list(splits[i]["test_keys"])) for i in idx]
    for _, keys in groups:
        for k in keys:
            if k not in videos:
                raise KeyError(f"{k}: in the splits but not in the dataset")
    needed = list(dict.fromkeys(k for _, keys in groups for k in keys))
    refs = {
        annotator_rows(videos[k])[1]
        for k in needed
        if videos[k].user_scores is not None or videos[k].user_summary is not None
    }
    reference = None if not refs else (refs.pop() if len(refs) == 1 else "mixed")

    rows: list[dict] = []
    for kind in kinds:
        per_video = {k: video_baseline(kind, videos[k], metric, budget, draws, seed) for k in needed}
        split_vals = []
        for split, keys in groups:
            per_draw = {m: _summarise(per_video, keys, m) for m in MEASURES}
            split_vals.append(per_draw)
            rows.append(_row(kind, split, len(keys), per_draw, metric, budget, draws, reference))
        if splits is not None and len(groups) > 1:
            mean_draw = {}
            for m in MEASURES:
                parts = [sv[m] for sv in split_vals]
                mean_draw[m] = None if any(p is None for p in parts) else np.mean(np.stack(parts), axis=0)
            rows.append(_row(kind, "mean", len(needed), mean_draw, metric, budget, draws, reference))
    return rows
