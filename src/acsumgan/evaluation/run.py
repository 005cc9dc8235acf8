"""One evaluation of step scores against a dataset (``acsumgan evaluate``): which metrics,
which videos, which scores, and the results of every metric for every epoch or draw."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from ..data.dataset import load_dataset
from ..errors import ConfigError, DatasetError
from .metrics import evaluate_scores, resolve_metric
from .rank import evaluate_rank
from .reference import check_reference, evaluate_reference
from .scores import check_scores, read_scores, select_epoch
from .summary import DEFAULT_BUDGET

#: The metrics of each ``metric`` choice (None: the F-score reduction the file names).
METRIC_NAMES = {
    "max": ["max"],
    "avg": ["avg"],
    "kendall": ["kendall"],
    "spearman": ["spearman"],
    "all": [None, "kendall", "spearman"],
    None: [None],
}


@dataclass
class Evaluation:
    """The metrics (in order: "max"/"avg" F-scores, "kendall", "spearman") and
    ``results[epoch or draw][metric]``: each metric's result as JSON (per video and mean)."""

    names: list[str]
    results: dict


def run_evaluation(
    dataset_path: str | os.PathLike,
    source: str | os.PathLike,
    metric: str | None = None,
    reference: str = "users",
    budget: float = DEFAULT_BUDGET,
    epoch: int | None = None,
    score: Callable[[dict], dict] | None = None,
    note: Callable[[str], None] | None = None,
) -> Evaluation:
    """Evaluate the scores file ``source`` (its ``epoch``, default every epoch) on the videos
    of ``dataset_path``; with ``score``, the scores ``score(videos)`` gives instead
    (``{draw: {video: step scores}}``; ``source`` then names the model in messages).

    ``metric``: "max", "avg" (F-score reduction over users), "kendall", "spearman" (rank
    correlation), "all" (every metric the file can give: the F-score is skipped, and
    ``note`` told why, where the file has no annotations for it) or None (the reduction
    the file names). ``reference``: "users" (every annotator's summary), "gtscore" or
    "gtsummary" (one synthesized reference per video).
    """
    names = list(METRIC_NAMES[metric])
    needs_f = None in names or "max" in names or "avg" in names
    skipped = None
    if metric == "all":  # every metric the file can give; the others are skipped, and said so
        videos, skipped = _videos_for_all(dataset_path, reference)
        if skipped:
            names.remove(None)
            needs_f = False
            if note is not None:
                note(f"F-score skipped ({dataset_path}: {skipped}); rank correlation only")
    else:
        videos = load_dataset(dataset_path, purpose="evaluate" if needs_f and reference == "users" else "any")
    if None in names:
        names[names.index(None)] = resolve_metric(dataset_path)
    if score is not None:
        all_scores = score(videos)
    else:
        all_scores = select_epoch(read_scores(source), epoch, source)
    check_scores(all_scores, videos, source, dataset_path)
    if needs_f and reference != "users":
        check_reference(videos, {k for sc in all_scores.values() for k in sc}, reference, dataset_path)

    cache: dict = {}
    results: dict = {}
    for e, sc in all_scores.items():
        per = {}
        for name in names:
            if name in ("max", "avg") and reference != "users":
                per[name] = {
                    **evaluate_reference(videos, sc, reference, name, budget).to_json(),
                    "reference": reference,
                }
            elif name in ("max", "avg"):
                per[name] = evaluate_scores(videos, sc, name, budget).to_json()
            else:
                per[name] = evaluate_rank(videos, sc, name, cache=cache).to_json()
        results[e] = per
    return Evaluation(names, results)


def _videos_for_all(dataset_path, reference: str):
    """``(videos, None)`` when the file has what the F-score needs, else ``(videos, why
    not)``: with ``--metric all`` the F-score is skipped where rank correlation still works
    (e.g. a file with only ``user_scores``)."""
    if reference != "users":
        return load_dataset(dataset_path, purpose="any"), None
    try:
        videos = load_dataset(dataset_path, purpose="evaluate")
    except DatasetError as exc:
        if "(needed to evaluate)" not in exc.problem:
            raise
        return load_dataset(dataset_path, purpose="any"), exc.problem
    try:
        resolve_metric(dataset_path)
    except ConfigError as exc:
        return videos, exc.problem
    return videos, None
