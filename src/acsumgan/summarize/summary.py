"""From a raw video to a summary: features, shots, scores, keyshots, outputs.

:func:`summarize_video` runs, timing each stage:

1. ``decode_features``: decode, sample ``rate`` steps per second, CNN features
   (:func:`acsumgan.summarize.features.extract_features`);
2. ``kts``: shots by Kernel Temporal Segmentation (:mod:`acsumgan.summarize.kts`).
   A shot longer than ``max_shot_seconds`` is split further (content-aware, see
   :func:`acsumgan.summarize.kts.split_long_segments`): by default ("auto") the limit
   is the smaller of 10 s and the budget in seconds, so a video made of one long
   take (a static camera) still has shots that fit the budget; ``None`` keeps pure
   KTS shots;
3. ``scoring``: ``scorer(features)`` -> one importance score per step (the trained
   model, plugged in by the caller);
4. ``selection``: keyshots by :func:`acsumgan.evaluation.summary.select_shots` (the
   benchmark's 0/1 knapsack at ``budget`` of the video's frames); for a variable-rate
   video the knapsack counts time instead (:func:`select_keyshots`: each shot weighs its
   duration, the budget is a share of the video's duration), so the summary is that
   share of the video's length however its frames are spaced;
5. ``encoding``: ``summary.mp4``, the selected shots in order
   (:func:`acsumgan.media.encode.write_summary_video`);
6. ``outputs``: ``segments.json`` and ``scores.png``.

``segments.json`` holds, for each selected shot: ``shot`` (index among all shots),
``start_frame``/``end_frame`` (inclusive), ``n_frames``, ``start_seconds`` (time of
the first frame), ``end_seconds`` (time the shot ends, i.e. of the frame after
``end_frame``), ``duration_seconds``, the same two times as ``HH:MM:SS.mmm``
timecodes, and ``score`` (mean step score of the steps inside the shot). Times
are frame index / fps for a constant-frame-rate video and the frames' real
timestamps for a variable one. ``summary_seconds`` is the summary video's duration:
the sum of the selected shots' durations (frames / fps at a constant rate; a
variable-rate summary.mp4 keeps the source's timestamps, so it lasts exactly that).
``width``/``height`` are the source's stored frame size; ``rotation`` (display
rotation, degrees counter-clockwise) and ``sample_aspect_ratio`` how it is shown;
``summary_width``/``summary_height`` the size summary.mp4 was written at (upright,
square pixels, even: see :mod:`acsumgan.media.encode`).
"""

from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import numpy as np
import torch

from ..errors import ConfigError, checked_number
from ..evaluation.summary import DEFAULT_BUDGET, frame_scores, knapsack, select_shots, shot_scores
from ..fileio import ensure_dir, write_json
from ..media.decode import DEFAULT_RATE
from ..media.encode import DEFAULT_CRF, DEFAULT_PRESET, SourceFrames, WriteStats, write_summary_video
from ..media.encode_parts import write_in_parts
from ..pages.plots import write_score_plot
from ..pages.summary import timecode
from .backbones import DEFAULT_BACKBONE, Backbone, as_backbone
from .features import ExtractedFeatures, extract_features
from .kts import shot_boundaries

SUMMARY_FILE = "summary.mp4"
SEGMENTS_FILE = "segments.json"
PLOT_FILE = "scores.png"
#: Upper limit of the automatic maximum shot length (seconds).
AUTO_MAX_SHOT_SECONDS = 10.0


@dataclass
class SummaryResult:
    video_path: Path
    out_dir: Path
    summary_path: Path
    segments_path: Path
    plot_path: Path
    features: np.ndarray  # (T, D) float32
    picks: np.ndarray  # (T,) int64
    timestamps: np.ndarray  # (T,) seconds
    n_frames: int
    fps: float
    change_points: np.ndarray  # (S, 2) inclusive frame ranges of all shots
    scores: np.ndarray  # (T,) step scores from the scorer
    selected: list[int]  # indices of the selected shots
    budget: float
    summary_frames: int
    summary_seconds: float
    segments: dict  # the content of segments.json
    write_stats: WriteStats | None = None
    extracted: ExtractedFeatures | None = field(default=None, repr=False)
    timings: dict = field(default_factory=dict)  # seconds per stage


def check_budget(budget: float) -> float:
    return checked_number(budget, "budget", lambda b: 0 < b <= 1, "a fraction of the video in (0, 1]")


def budget_for_seconds(seconds: float, fps: float, n_frames: int, duration: float | None = None) -> float:
    """Budget giving a summary of at most ``seconds``: ``seconds * fps / n_frames`` (or
    ``seconds / duration`` when the duration is given: a variable-rate video), capped at 1."""
    s = checked_number(seconds, "summary length in seconds", lambda s: s > 0, "> 0")
    if duration is not None and duration > 0:
        return min(s / duration, 1.0)
    return min(s * fps / n_frames, 1.0)


def select_keyshots(scores: np.ndarray, ex: ExtractedFeatures, change_points: np.ndarray, budget: float) -> list[int]:
    """The shots a summary keeps: :func:`~acsumgan.evaluation.summary.select_shots` (the
    benchmark's knapsack over frames) for a constant-rate video; for a variable-rate one
    the same knapsack over time, each shot weighing its duration rounded up to whole
    median frame durations and the capacity ``budget`` of the video's duration rounded
    down, so the kept shots never last longer than that share."""
    if ex.constant_rate:
        return select_shots(scores, ex.picks, ex.n_frames, change_points, budget)
    cp = np.asarray(change_points, dtype=np.int64)

    def at(frame: int) -> float:
        return ex.times.at(frame)

    times = np.asarray(ex.frame_times, dtype=np.float64)
    diffs = np.diff(times)
    unit = float(np.median(diffs)) if diffs.size and np.median(diffs) > 0 else 1.0 / ex.fps
    durations = np.array([at(int(e) + 1) - at(int(s)) for s, e in cp])
    weights = np.maximum(1, np.ceil(durations / unit - 1e-9)).astype(np.int64)
    capacity = int(budget * at(int(cp[-1, 1]) + 1) / unit + 1e-9)
    values = shot_scores(frame_scores(scores, ex.picks, ex.n_frames), cp)
    return knapsack(values, weights, capacity)


def step_scores_from(scorer: Callable[[np.ndarray], np.ndarray], features: np.ndarray) -> np.ndarray:
    """Call the scorer and check it gave one finite score per step."""
    out = np.asarray(scorer(features), dtype=np.float64)
    T = features.shape[0]
    if out.ndim == 2 and 1 in out.shape:
        out = out.reshape(-1)
    if out.shape != (T,):
        raise ValueError(f"scorer returned shape {out.shape}, expected ({T},) (one score per step)")
    if not np.all(np.isfinite(out)):
        raise ValueError("scorer returned NaN or infinite scores")
    return out


def build_segments(
    video_path,
    ex: ExtractedFeatures,
    change_points: np.ndarray,
    scores: np.ndarray,
    selected: list[int],
    budget: float,
    seconds: float | None,
) -> dict:
    """The content of segments.json (see the module docstring)."""
    fps, n = ex.fps, ex.n_frames

    def at(frame: int) -> float:
        return ex.times.at(frame)

    shots = []
    total_frames = 0
    for i in selected:
        s, e = int(change_points[i, 0]), int(change_points[i, 1])
        inside = (ex.picks >= s) & (ex.picks <= e)
        t0, t1 = at(s), at(e + 1)
        shots.append(
            {
                "shot": int(i),
                "start_frame": s,
                "end_frame": e,
                "n_frames": e - s + 1,
                "start_seconds": round(t0, 6),
                "end_seconds": round(t1, 6),
                "duration_seconds": round(t1 - t0, 6),
                "start_timecode": timecode(t0),
                "end_timecode": timecode(t1),
                "score": float(np.mean(scores[inside])) if np.any(inside) else None,
            }
        )
        total_frames += e - s + 1
    if ex.constant_rate:
        summary_seconds = total_frames / fps
    else:  # summary.mp4 keeps the source's timestamps: the shots' durations add up
        summary_seconds = sum(at(int(change_points[i, 1]) + 1) - at(int(change_points[i, 0])) for i in selected)
    return {
        "video": str(video_path),
        "fps": fps,
        "n_frames": n,
        "duration_seconds": round(at(n), 6),
        "constant_frame_rate": bool(ex.constant_rate),
        "width": ex.width,
        "height": ex.height,
        "backbone": ex.backbone,
        "rate": ex.rate,
        "n_steps": int(ex.picks.shape[0]),
        "n_shots": int(change_points.shape[0]),
        "budget": budget,
        "seconds_requested": seconds,
        "n_selected": len(shots),
        "summary_frames": total_frames,
        "summary_seconds": round(summary_seconds, 6),
        "shots": shots,
    }


def plot_scores(
    path, ex: ExtractedFeatures, change_points: np.ndarray, scores: np.ndarray, selected: list[int], title: str = ""
) -> Path:
    """Importance over time, kept shots marked, shot boundaries (PNG; see
    :func:`acsumgan.pages.plots.score_figure`)."""

    def at(frame: int) -> float:
        return ex.times.at(frame)

    shots = [(at(int(s)), at(int(e) + 1)) for s, e in change_points]
    return write_score_plot(path, ex.timestamps, at(ex.n_frames), scores, shots, selected, title)


@contextmanager
def _stage(timings: dict[str, float], name: str, observe=None) -> Iterator[None]:
    """Time the block into ``timings[name]`` (seconds; not recorded if it raises), inside
    ``observe(name)`` (a context manager, e.g. a memory probe) when given."""
    with observe(name) if observe is not None else nullcontext():
        t = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - t


def _stage_progress(progress: Callable[[str, int, int], None] | None, stage: str):
    """``progress`` as a ``(done, total)`` callback of one stage (None without progress)."""
    return (lambda d, n: progress(stage, d, n)) if progress is not None else None


def _stage_events(progress: Callable[[str, int, int], None] | None):
    """``progress`` as a receiver of :class:`acsumgan.progress.Event` values (None without progress)."""
    return (lambda event: progress(event.stage, event.done, event.total)) if progress is not None else None


def _check_options(budget: float, seconds: float | None, max_shot_seconds: float | str | None) -> float:
    """Validate the options before the expensive part; returns the checked budget."""
    budget = check_budget(budget)
    if seconds is not None:
        budget_for_seconds(seconds, 1.0, 1)
    if max_shot_seconds is not None and max_shot_seconds != "auto":
        try:
            ok = float(max_shot_seconds) > 0 and math.isfinite(float(max_shot_seconds))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ConfigError(
                None, f"maximum shot length must be > 0 seconds, 'auto' or None, got {max_shot_seconds!r}"
            )
    return budget


def _max_shot_seconds(max_shot_seconds: float | str | None, budget: float, ex: ExtractedFeatures) -> float | str | None:
    """Resolve ``"auto"``: the smaller of AUTO_MAX_SHOT_SECONDS and the budget in seconds."""
    if max_shot_seconds != "auto":
        return max_shot_seconds
    duration = ex.times.at(ex.n_frames)
    return min(AUTO_MAX_SHOT_SECONDS, budget * duration)


def steps_per_second(ex: ExtractedFeatures) -> float:
    """Sampled steps per second of the video: the sampling rate for a constant-rate video
    at least that fast (every 15th frame at 30 fps: 2), else the steps over the duration
    (a 1 fps video sampled at 2 steps per second has 1 step per second: every frame)."""
    if ex.constant_rate and ex.fps >= ex.rate:
        return float(ex.rate)
    duration = ex.times.at(ex.n_frames)
    if duration <= 0:
        return float(ex.rate)
    return min(float(ex.rate), len(ex.picks) / duration)


def _shots(ex: ExtractedFeatures, change_points: np.ndarray | None, max_shot_seconds, progress=None) -> np.ndarray:
    """The given change points, else KTS shots no longer than ``max_shot_seconds``."""
    if change_points is None:
        max_steps = None
        if max_shot_seconds is not None:
            max_steps = max(1, int(float(max_shot_seconds) * steps_per_second(ex)))
        change_points = shot_boundaries(
            ex.features, ex.picks, ex.n_frames, max_shot_steps=max_steps, progress=_stage_events(progress)
        )
    return np.asarray(change_points, dtype=np.int64)


def _empty_summary(video_path: Path, change_points: np.ndarray, budget: float, ex: ExtractedFeatures) -> ConfigError:
    def at(frame: int) -> float:
        return ex.times.at(frame)

    lengths = np.array([at(int(e) + 1) - at(int(s)) for s, e in change_points])
    return ConfigError(
        video_path,
        f"the summary would be empty: the shortest shot ({lengths.min():.2f} s) is longer than "
        f"the budget ({budget * ex.duration:.2f} s); raise the budget or the seconds",
    )


def _encode_summary(
    video_path: Path,
    summary_path: Path,
    ex: ExtractedFeatures,
    change_points: np.ndarray,
    selected: list[int],
    crf: int,
    preset: str,
    progress,
) -> WriteStats:
    """summary.mp4: the selected shots in order."""
    ranges = [(int(change_points[i, 0]), int(change_points[i, 1])) for i in selected]
    options = {
        "source": SourceFrames.of(ex),
        "crf": crf,
        "preset": preset,
        "progress": _stage_events(progress),
    }
    parts = torch.get_num_threads()  # one process per core for a long summary
    return write_in_parts(video_path, ranges, summary_path, parts=parts, **options) or write_summary_video(
        video_path, ranges, summary_path, **options
    )


def _write_outputs(
    out_dir: Path,
    video_path: Path,
    ex: ExtractedFeatures,
    change_points: np.ndarray,
    scores: np.ndarray,
    selected: list[int],
    budget: float,
    seconds: float | None,
    max_shot_seconds,
    stats: WriteStats,
) -> tuple[dict, Path, Path]:
    """segments.json and scores.png; returns (segments, segments path, plot path)."""
    segments = build_segments(video_path, ex, change_points, scores, selected, budget, seconds)
    segments["max_shot_seconds"] = None if max_shot_seconds is None else float(max_shot_seconds)
    segments["summary_frames_written"] = stats.frames_written
    segments["audio"] = stats.has_audio
    segments["rotation"] = stats.rotation
    segments["sample_aspect_ratio"] = str(stats.sample_aspect_ratio)
    segments["summary_width"] = stats.width
    segments["summary_height"] = stats.height
    segments_path = write_json(out_dir / SEGMENTS_FILE, segments)
    plot_path = plot_scores(out_dir / PLOT_FILE, ex, change_points, scores, selected, title=video_path.name)
    return segments, segments_path, plot_path


def summarize_video(
    path: str | os.PathLike,
    scorer: Callable[[np.ndarray], np.ndarray],
    out_dir: str | os.PathLike,
    budget: float = DEFAULT_BUDGET,
    seconds: float | None = None,
    backbone: str | Backbone = DEFAULT_BACKBONE,
    device: str = "cpu",
    rate: float = DEFAULT_RATE,
    progress: Callable[[str, int, int], None] | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    extracted: ExtractedFeatures | None = None,
    change_points: np.ndarray | None = None,
    max_shot_seconds: float | str | None = "auto",
    observe: Callable[[str], ContextManager] | None = None,
) -> SummaryResult:
    """Summarise the video at ``path`` into ``out_dir`` (summary.mp4, segments.json, scores.png).

    ``scorer(features (T, D) float32) -> (T,)`` gives step importance. ``budget`` is
    the summary's share of the video's frames; ``seconds`` (if given) replaces it by
    ``seconds * fps / n_frames`` (capped at 1). ``progress(stage, done, total)`` is
    called with stage ``"features"`` (frames decoded), ``"shots"`` (KTS windows
    done, see :func:`acsumgan.summarize.kts.kts`) and ``"encoding"`` (frames written).
    ``extracted`` / ``change_points`` (e.g. from an earlier result) skip those stages.
    ``observe(stage)``, a context manager, wraps each stage (``timings``' names; the
    benchmarks measure each stage's peak memory with it).
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    video_path = Path(path)
    budget = _check_options(budget, seconds, max_shot_seconds)
    out_dir = ensure_dir(out_dir)

    with _stage(timings, "decode_features", observe):
        if extracted is None:
            extracted = extract_features(
                video_path, as_backbone(backbone, device), rate=rate, progress=_stage_events(progress)
            )
    ex = extracted
    if seconds is not None:
        budget = budget_for_seconds(seconds, ex.fps, ex.n_frames, None if ex.constant_rate else ex.duration)
    max_shot_seconds = _max_shot_seconds(max_shot_seconds, budget, ex)
    with _stage(timings, "kts", observe):
        change_points = _shots(ex, change_points, max_shot_seconds, progress)
    with _stage(timings, "scoring", observe):
        scores = step_scores_from(scorer, ex.features)
    with _stage(timings, "selection", observe):
        selected = select_keyshots(scores, ex, change_points, budget)
    if not selected:
        raise _empty_summary(video_path, change_points, budget, ex)
    summary_path = out_dir / SUMMARY_FILE
    with _stage(timings, "encoding", observe):
        stats = _encode_summary(video_path, summary_path, ex, change_points, selected, crf, preset, progress)
    with _stage(timings, "outputs", observe):
        segments, segments_path, plot_path = _write_outputs(
            out_dir, video_path, ex, change_points, scores, selected, budget, seconds, max_shot_seconds, stats
        )
    timings["total"] = time.perf_counter() - t_start

    return SummaryResult(
        video_path=video_path,
        out_dir=out_dir,
        summary_path=summary_path,
        segments_path=segments_path,
        plot_path=plot_path,
        features=ex.features,
        picks=ex.picks,
        timestamps=ex.timestamps,
        n_frames=ex.n_frames,
        fps=ex.fps,
        change_points=change_points,
        scores=scores,
        selected=list(selected),
        budget=budget,
        summary_frames=segments["summary_frames"],
        summary_seconds=segments["summary_seconds"],
        segments=segments,
        write_stats=stats,
        extracted=ex,
        timings=timings,
    )
