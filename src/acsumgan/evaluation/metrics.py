"""F-score of a machine summary against the annotators (method.md section 7, steps 5-6).

Per user: P = |S and G| / |S|, R = |S and G| / |G|, F = 2PR / (P + R) in percent
(0 when P + R = 0; P = 0 when S is empty, R = 0 when G is empty). Both summaries are
zero-padded to equal length. SumMe reduces over users with ``max``, TVSum with
``avg``; videos are then averaged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from ..data.dataset import MERGED_ATTR, Video, dataset_attrs
from ..errors import ConfigError
from .summary import DEFAULT_BUDGET, keyshot_summary

METRICS = ("max", "avg")


def f_score(machine: np.ndarray, user: np.ndarray) -> float:
    """F-score in percent of a 0/1 machine summary against one 0/1 user summary.

    Both are zero-padded to the same length; P = overlap / machine, R = overlap / user,
    F = 2PR / (P + R), and 0 when there is no overlap (an empty machine summary scores 0
    where the release divides by zero).
    """
    n = max(len(machine), len(user))
    s = np.zeros(n, dtype=bool)
    g = np.zeros(n, dtype=bool)
    s[: len(machine)] = np.asarray(machine) > 0
    g[: len(user)] = np.asarray(user) > 0
    overlap = float(np.count_nonzero(s & g))
    p = overlap / s.sum() if s.any() else 0.0
    r = overlap / g.sum() if g.any() else 0.0
    return 0.0 if p + r == 0 else 200.0 * p * r / (p + r)


def f_score_users(machine: np.ndarray, user_summary: np.ndarray, metric: str) -> float:
    """Reduce the per-user F-scores with ``max`` (SumMe) or ``avg`` (TVSum)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    per_user = [f_score(machine, u) for u in np.asarray(user_summary)]
    return float(max(per_user)) if metric == "max" else float(np.mean(per_user))


@dataclass
class FScoreResult:
    """Per-video F-scores (percent) and their mean."""

    metric: str
    videos: dict[str, float] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.videos.values()))) if self.videos else float("nan")

    def to_json(self) -> dict:
        return {"metric": self.metric, "videos": dict(self.videos), "mean": self.mean}


def evaluate_video(step_scores: np.ndarray, video: Video, metric: str, budget: float = DEFAULT_BUDGET) -> float:
    """F-score of one video's step scores under the benchmark protocol."""
    machine = keyshot_summary(step_scores, video.picks, video.n_frames, video.change_points, budget)
    return f_score_users(machine, video.user_summary, metric)


def evaluate_scores(
    videos: Mapping[str, Video],
    scores: Mapping[str, np.ndarray],
    metric: str,
    budget: float = DEFAULT_BUDGET,
) -> FScoreResult:
    """F-score of every video in ``scores`` (each must be in ``videos``).

    ``scores`` maps a video key to its step scores (T,); ``metric`` reduces the per-user
    F-scores of a video, ``max`` (SumMe) or ``avg`` (TVSum); ``budget`` is the summary's
    share of the frames (0.15 in the benchmarks). The result holds each video's F-score and
    their mean.
    """
    result = FScoreResult(metric=metric)
    for key, s in scores.items():
        result.videos[key] = evaluate_video(s, videos[key], metric, budget)
    return result


def infer_metric(dataset_path: str, attrs: Mapping | None = None) -> str | None:
    """The benchmark's reduction for a dataset: the file's ``eval_metric`` attribute,
    else ``max`` for a SumMe file name and ``avg`` for TVSum; ``None`` if unknown."""
    if attrs is not None and "eval_metric" in attrs:
        m = attrs["eval_metric"]
        m = m.decode() if isinstance(m, bytes) else str(m)
        if m in METRICS:
            return m
    name = str(dataset_path).lower()
    if "summe" in name:
        return "max"
    if "tvsum" in name:
        return "avg"
    return None


_METRIC_OF_TYPE = {"summe": "max", "tvsum": "avg"}


def _merged_names(attrs: Mapping) -> list[str] | None:
    raw = attrs.get(MERGED_ATTR)
    if raw is None:
        return None
    items = [raw] if isinstance(raw, (str, bytes)) else np.asarray(raw).reshape(-1).tolist()
    return [i.decode() if isinstance(i, bytes) else str(i) for i in items]


def _merged_metric(dataset_path, datasets: list[str], keys: Iterable[str] | None) -> tuple[str | None, str]:
    """The reduction of a merged file's videos ``keys`` (all of its videos without
    ``keys``): that of their datasets (each group's ``eval_metric``, else its name),
    when they agree; else None and why."""
    if keys is None:
        wanted = list(datasets)
    else:
        wanted = list(dict.fromkeys(k.split("/", 1)[0] for k in keys if "/" in k))
    found = {d: infer_metric(d, dataset_attrs(dataset_path, group=d)) for d in wanted}
    if found and None not in found.values() and len(set(found.values())) > 1:
        mix = ", ".join(f"{d}: {m}" for d, m in found.items())
        return None, (
            f"the videos come from datasets with different F-score reductions ({mix}); test one "
            "dataset per split (splits make --target) or pass"
        )
    if not found or None in found.values():
        return None, "cannot tell SumMe (max) from TVSum (avg) by the merged datasets; pass"
    return next(iter(found.values())), ""


def resolve_metric(
    dataset_path,
    metric: str | None = None,
    *,
    video_type: str | None = None,
    attrs: Mapping | None = None,
    required: bool = True,
    flag: str = "--metric",
    keys: Iterable[str] | None = None,
) -> str | None:
    """The F-score reduction to use for a dataset: ``metric`` if given, else the file's
    ``eval_metric`` attribute or its name (:func:`infer_metric`), else the one of
    ``video_type`` (SumMe -> ``max``, TVSum -> ``avg``, any case). When none of these
    tells, raise :class:`ConfigError` naming ``flag`` if ``required``, else ``None``.

    A merged file (``dataset merge``; root attribute ``merged_datasets``) is told by
    its dataset groups instead of its own name: the reduction of the datasets of
    ``keys`` (the videos evaluated, e.g. a split's test keys ``summe/video_1``, ...),
    from each group's ``eval_metric`` attribute, else its name; without ``keys``, that
    of all its datasets. Datasets that disagree (SumMe with TVSum) tell nothing:
    then ``video_type``, else a ConfigError saying so if ``required``."""
    if metric:
        return metric
    if attrs is None:
        attrs = dataset_attrs(dataset_path)
    why = "cannot tell SumMe (max) from TVSum (avg) by the file; pass"
    datasets = _merged_names(attrs)
    if datasets is not None:  # the root's own eval_metric, if someone set one, else the groups'
        found = infer_metric("", attrs)
        if found is None:
            found, why = _merged_metric(dataset_path, datasets, keys)
    else:
        found = infer_metric(str(dataset_path), attrs)
    if found is None and video_type:
        found = _METRIC_OF_TYPE.get(str(video_type).lower())
    if found is None and required:
        raise ConfigError(dataset_path, f"{why} {flag} max|avg")
    return found
