"""From a video's features to a summary: shots, scores, keyshots (no file written).

:func:`compute_summary` makes a :class:`Summary` of features, a scorer and the
:class:`~acsumgan.summarize.options.SummarizeOptions`; :mod:`.outputs` writes it.
:func:`summarize_video` runs the whole path for one video, timing each stage:

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
5. ``encoding``: ``summary.mp4``, the selected shots in order (:mod:`.outputs`);
6. ``outputs``: ``segments.json`` and ``scores.png`` (:mod:`.outputs`).

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

import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import numpy as np

from ..errors import ConfigError, checked_number
from ..evaluation.summary import frame_scores, knapsack, select_shots, shot_scores
from ..pages.summary import timecode
from ..progress import Progress
from .extracted import ExtractedFeatures
from .kts import shot_boundaries, split_long_segments, steps_to_frames
from .options import AUTO_MAX_SHOT_SECONDS, SummarizeOptions, check_budget

__all__ = [
    "Summary",
    "budget_for_seconds",
    "check_budget",
    "compute_summary",
    "reselect",
    "select_keyshots",
    "split_shots",
    "steps_per_second",
    "timecode",
]

Observe = Callable[[str], ContextManager]


@dataclass(frozen=True)
class Summary:
    """One video's summary, computed (:func:`compute_summary`), nothing written yet."""

    video_path: Path
    extracted: ExtractedFeatures
    change_points: np.ndarray  # (S, 2) inclusive frame ranges of all shots
    scores: np.ndarray  # (T,) step scores from the scorer
    shot_scores: list[float]  # (S,) mean step score of each shot (no step inside: the step's before it)
    selected: list[int]  # indices of the selected shots
    budget: float  # share of the video (``seconds`` resolved)
    seconds: float | None  # the length asked for, if any
    max_shot_seconds: float | None  # "auto" resolved
    segments: dict  # the content of segments.json but what writing summary.mp4 adds
    timings: dict = field(default_factory=dict)  # seconds per stage
    # an edited summary (acsumgan.summarize.edits): the kept frame ranges, one per selected
    # shot (trims included); None: each selected shot whole (the model's summary)
    kept: tuple[tuple[int, int], ...] | None = None
    # reframing (acsumgan.summarize.reframing): "keep" or "W:H"; the mode ("follow" |
    # "center", None for keep); a person's fixed window per kept shot {shot: {x, y, w, h}}
    aspect: str = "keep"
    reframe: str | None = None
    crops: dict | None = None

    @property
    def shots(self) -> np.ndarray:
        return self.change_points

    @property
    def features(self) -> np.ndarray:
        return self.extracted.features

    @property
    def picks(self) -> np.ndarray:
        return self.extracted.picks

    @property
    def timestamps(self) -> np.ndarray:
        return self.extracted.timestamps

    @property
    def n_frames(self) -> int:
        return self.extracted.n_frames

    @property
    def fps(self) -> float:
        return self.extracted.fps

    @property
    def summary_frames(self) -> int:
        return self.segments["summary_frames"]

    @property
    def summary_seconds(self) -> float:
        return self.segments["summary_seconds"]

    @property
    def duration_seconds(self) -> float:
        return self.segments["duration_seconds"]

    @property
    def kept_ranges(self) -> list[tuple[int, int]]:
        """The selected shots' inclusive frame ranges, in order (what summary.mp4 holds); an
        edited summary's :attr:`kept` ranges (trims included)."""
        if self.kept is not None:
            return [(int(s), int(e)) for s, e in self.kept]
        return [(int(self.change_points[i, 0]), int(self.change_points[i, 1])) for i in self.selected]


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
    median frame durations (:attr:`~acsumgan.media.times.FrameTimes.step`) and the capacity
    ``budget`` of the video's duration rounded down, so the kept shots never last longer
    than that share."""
    if ex.constant_rate:
        return select_shots(scores, ex.picks, ex.n_frames, change_points, budget)
    cp = np.asarray(change_points, dtype=np.int64)
    times = ex.times
    unit = times.step
    durations = np.array([times.at(int(e) + 1) - times.at(int(s)) for s, e in cp])
    weights = np.maximum(1, np.ceil(durations / unit - 1e-9)).astype(np.int64)
    capacity = int(budget * times.at(int(cp[-1, 1]) + 1) / unit + 1e-9)
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


def mean_shot_scores(
    scores: np.ndarray, picks: np.ndarray, change_points: np.ndarray
) -> tuple[list[float], list[bool]]:
    """(mean step score of each shot, whether the shot holds a step): a shot without a
    step gets the score of the step before it."""
    values, has_steps = [], []
    for a, b in change_points:
        inside = (picks >= a) & (picks <= b)
        if np.any(inside):
            values.append(float(np.mean(scores[inside])))
            has_steps.append(True)
        else:
            j = max(0, int(np.searchsorted(picks, a, side="right")) - 1)
            values.append(float(scores[j]))
            has_steps.append(False)
    return values, has_steps


def build_segments(
    video_path,
    ex: ExtractedFeatures,
    change_points: np.ndarray,
    shot_values: list[float],
    has_steps: list[bool],
    selected: list[int],
    budget: float,
    seconds: float | None,
) -> dict:
    """The content of segments.json but ``max_shot_seconds`` and what writing
    summary.mp4 adds (see the module docstring)."""
    fps, n = ex.fps, ex.n_frames
    at = ex.times.at
    shots = []
    total_frames = 0
    for i in selected:
        s, e = int(change_points[i, 0]), int(change_points[i, 1])
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
                "score": shot_values[i] if has_steps[i] else None,
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


@contextmanager
def timed(timings: dict[str, float], name: str, observe: Observe | None = None) -> Iterator[None]:
    """Time the block into ``timings[name]`` (seconds; not recorded if it raises), inside
    ``observe(name)`` (a context manager, e.g. a memory probe) when given."""
    with observe(name) if observe is not None else nullcontext():
        t = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - t


def resolve_budget(options: SummarizeOptions, ex: ExtractedFeatures) -> float:
    """The budget: ``options.target_seconds`` (``seconds`` or a preset's) of this video when
    given, else ``options.budget``."""
    seconds = options.target_seconds
    if seconds is None:
        return options.budget
    return budget_for_seconds(seconds, ex.fps, ex.n_frames, None if ex.constant_rate else ex.duration)


def resolve_max_shot_seconds(options: SummarizeOptions, budget: float, ex: ExtractedFeatures) -> float | None:
    """``options.max_shot_seconds`` with ``"auto"`` resolved: the smaller of
    AUTO_MAX_SHOT_SECONDS and the budget in seconds."""
    mss = options.max_shot_seconds
    if mss != "auto":
        return None if mss is None else float(mss)
    return min(AUTO_MAX_SHOT_SECONDS, budget * ex.times.duration)


def steps_per_second(ex: ExtractedFeatures) -> float:
    """Sampled steps per second of the video: the sampling rate for a constant-rate video
    at least that fast (every 15th frame at 30 fps: 2), else the steps over the duration
    (a 1 fps video sampled at 2 steps per second has 1 step per second: every frame)."""
    if ex.constant_rate and ex.fps >= ex.rate:
        return float(ex.rate)
    duration = ex.times.duration
    if duration <= 0:
        return float(ex.rate)
    return min(float(ex.rate), len(ex.picks) / duration)


def shot_steps_of(max_shot_seconds: float | None) -> Callable[[ExtractedFeatures], int] | None:
    """The longest shot, in steps, of a video (fewer steps a second where the video has fewer
    frames than the sampling rate; ``dataset build --max-shot-seconds``), or None (pure KTS)."""
    if max_shot_seconds is None:
        return None

    def shot_steps(ex: ExtractedFeatures) -> int:
        return max(1, int(float(max_shot_seconds) * steps_per_second(ex)))

    return shot_steps


def _max_steps(ex: ExtractedFeatures, max_shot_seconds: float | None) -> int | None:
    if max_shot_seconds is None:
        return None
    return max(1, int(float(max_shot_seconds) * steps_per_second(ex)))


def kts_shots(ex: ExtractedFeatures, max_shot_seconds: float | None, progress: Progress | None = None) -> np.ndarray:
    """KTS shots no longer than ``max_shot_seconds`` (``None``: pure KTS)."""
    cps = shot_boundaries(
        ex.features,
        ex.picks,
        ex.n_frames,
        max_shot_steps=_max_steps(ex, max_shot_seconds),
        progress=progress,
    )
    return np.asarray(cps, dtype=np.int64)


def split_shots(ex: ExtractedFeatures, pure_kts: np.ndarray, max_shot_seconds: float | None) -> np.ndarray:
    """Pure KTS shots (e.g. those cached in features.h5) split as :func:`kts_shots` would
    split them: the same shots as running KTS again with ``max_shot_seconds``."""
    cps = np.asarray(pure_kts, dtype=np.int64)
    max_steps = _max_steps(ex, max_shot_seconds)
    if max_steps is None:
        return cps
    picks = np.asarray(ex.picks, dtype=np.int64)
    steps = np.searchsorted(picks, cps[1:, 0])  # the KTS change points (steps) the frames came from
    out = steps_to_frames(split_long_segments(ex.features, steps, max_steps), picks, int(ex.n_frames))
    return np.asarray(out, dtype=np.int64)


def _empty_summary(video_path: Path, change_points: np.ndarray, budget: float, ex: ExtractedFeatures) -> ConfigError:
    at = ex.times.at
    lengths = np.array([at(int(e) + 1) - at(int(s)) for s, e in change_points])
    return ConfigError(
        video_path,
        f"the summary would be empty: the shortest shot ({lengths.min():.2f} s) is longer than "
        f"the budget ({budget * ex.duration:.2f} s); raise the budget or the seconds",
    )


def compute_summary(
    features: ExtractedFeatures,
    scorer: Callable[[np.ndarray], np.ndarray],
    options: SummarizeOptions | None = None,
    change_points: np.ndarray | None = None,
    *,
    video: str | Path,
    progress: Progress | None = None,
    observe: Observe | None = None,
) -> Summary:
    """The summary of ``video`` (its ``features``): shots (``change_points`` when given,
    used as they are; else KTS, split to ``options.max_shot_seconds``), step scores by
    ``scorer(features (T, D) float32) -> (T,)``, the keyshots at the options' budget.
    Nothing is written. ``progress`` gets the "shots" events; ``observe(stage)``, a
    context manager, wraps the stages kts, scoring and selection (timed into
    :attr:`Summary.timings`). A ConfigError when no shot fits the budget."""
    options = options or SummarizeOptions()
    ex = features
    video_path = Path(video)
    timings: dict[str, float] = {}
    budget = resolve_budget(options, ex)
    max_shot_seconds = resolve_max_shot_seconds(options, budget, ex)
    with timed(timings, "kts", observe):
        if change_points is None:
            change_points = kts_shots(ex, max_shot_seconds, progress)
        change_points = np.asarray(change_points, dtype=np.int64)
    with timed(timings, "scoring", observe):
        scores = step_scores_from(scorer, ex.features)
    return _select(video_path, ex, change_points, scores, options, budget, max_shot_seconds, timings, observe)


def _select(
    video_path: Path,
    ex: ExtractedFeatures,
    change_points: np.ndarray,
    scores: np.ndarray,
    options: SummarizeOptions,
    budget: float,
    max_shot_seconds: float | None,
    timings: dict[str, float],
    observe: Observe | None = None,
) -> Summary:
    """The keyshots of ``scores`` over ``change_points`` at ``budget``, and the Summary
    (what :func:`compute_summary` and :func:`reselect` share)."""
    with timed(timings, "selection", observe):
        selected = select_keyshots(scores, ex, change_points, budget)
    if not selected:
        raise _empty_summary(video_path, change_points, budget, ex)
    values, has_steps = mean_shot_scores(scores, np.asarray(ex.picks), change_points)
    seconds = options.target_seconds
    segments = build_segments(video_path, ex, change_points, values, has_steps, selected, budget, seconds)
    segments["max_shot_seconds"] = max_shot_seconds
    return Summary(
        video_path=video_path,
        extracted=ex,
        change_points=change_points,
        scores=scores,
        shot_scores=values,
        selected=list(selected),
        budget=budget,
        seconds=seconds,
        max_shot_seconds=max_shot_seconds,
        segments=segments,
        timings=timings,
        aspect=options.aspect,
        reframe=options.reframe_mode,
    )


def reselect(summary: Summary, options: SummarizeOptions) -> Summary:
    """``summary`` at another length (``options``' budget, seconds or preset): the shots
    picked again from its cached step scores and shots, with no model call and no KTS.
    The result equals :func:`compute_summary` of the same features, scores and
    ``change_points=summary.change_points`` with ``options``. (With ``max_shot_seconds``
    "auto" a fresh run *without* given change points may split shots differently at
    another length: the shots here stay those of ``summary``.) A ConfigError when no shot
    fits the new length."""
    ex = summary.extracted
    budget = resolve_budget(options, ex)
    max_shot_seconds = resolve_max_shot_seconds(options, budget, ex)
    timings: dict[str, float] = {}  # only "selection": no KTS, no scoring
    return _select(
        summary.video_path, ex, summary.change_points, summary.scores, options, budget, max_shot_seconds, timings
    )
