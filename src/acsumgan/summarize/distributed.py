"""The per-video tasks of ``--executor ray`` (``dataset build``, ``summarize``): the same
code as a local run, with the thread count the driver chose, so their results are bitwise
a local run's.

* :func:`~acsumgan.summarize.features.features_task`: one video's features and KTS shots
  (what ``compute_features`` gives on the driver);
* :func:`summary_task`: one video's summary (summary.mp4, segments.json, scores.png,
  analysis.h5, thumbs/, summary.html) written to a temporary folder on the worker and
  returned as a tar archive; the driver unpacks it into the video's staging folder
  (:func:`~acsumgan.summarize.unit.summary_unit`), so the unit appears whole or not at all.

A task reads the video (and the model) by the path the driver gives: on a cluster, the
videos and the model folder lie where every node reads them at that path (a shared
filesystem). Nothing is written on a worker but its temporary folder.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import set_threads
from .extracted import ExtractedFeatures
from .options import SummarizeOptions
from .rows import SummaryRow, summary_row
from .summary import Summary, compute_summary, resolve_budget, resolve_max_shot_seconds, split_shots

#: Per worker process: the model already loaded (each task needs it).
_SCORERS: dict = {}


@dataclass
class SummaryResult:
    """What :func:`summary_task` sends back: the unit's files, and its row."""

    archive: bytes
    row: SummaryRow


def summary_of_cached(
    path: Path, ex: ExtractedFeatures, pure_kts: np.ndarray, scorer, options: SummarizeOptions, progress
) -> Summary:
    """The summary of a video whose features and pure KTS shots features.h5 holds: its shots
    split to the options' maximum length (no KTS run again)."""
    budget = resolve_budget(options, ex)
    shots = split_shots(ex, pure_kts, resolve_max_shot_seconds(options, budget, ex))
    return compute_summary(ex, scorer, options, shots, video=path, progress=progress)


def _scorer(model_path: str, options: SummarizeOptions):
    from ..inference import Scorer

    key = (model_path, Path(model_path).stat().st_mtime_ns, options.policy, options.seed, options.eval_samples)
    if key not in _SCORERS:
        _SCORERS.clear()
        _SCORERS[key] = Scorer.load(
            model_path, policy=options.policy, seed=options.seed, device=options.device, samples=options.eval_samples
        )
    return _SCORERS[key]


def summary_task(
    path: str,
    extracted: ExtractedFeatures | None,
    change_points: np.ndarray | None,
    model_path: str,
    backbone: str,
    options: SummarizeOptions,
    final: str,
    index_dir: str | None,
    threads: int | None,
) -> SummaryResult:
    """One video's summary unit, as ``summarize`` writes it locally into ``final``, as a tar
    archive of its files. Without ``extracted`` (a given model: no features cache) the
    features are extracted here, as the local run does."""
    from .features import extract_features, task_backbone
    from .outputs import write_review_page, write_summary

    set_threads(threads)
    scorer = _scorer(model_path, options)
    work = Path(tempfile.mkdtemp(prefix="acsumgan-summary-"))
    try:
        stage = work / "unit"
        stage.mkdir()
        video = Path(path)
        if extracted is None:
            ex = extract_features(video, task_backbone(backbone, options.device), rate=options.rate)
            summary = compute_summary(ex, scorer, options, video=video)
        else:
            summary = summary_of_cached(video, extracted, change_points, scorer, options, None)
        files = write_summary(summary, stage, options, final=Path(final), analysis=True)
        page = write_review_page(files, stage) if options.page else None
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for p in sorted(stage.iterdir()):
                tar.add(p, arcname=p.name)
        row = summary_row(files, page, None if index_dir is None else Path(index_dir))
        return SummaryResult(buf.getvalue(), row)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def unpack(archive: bytes, stage: Path) -> None:
    """Put a :class:`SummaryResult`'s files into the staging folder ``stage``."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
        tar.extractall(stage, filter="data")
