"""A summary in another shape: its crop windows (:mod:`acsumgan.media.reframe`) from what the
summary knows (its kept ranges, its steps' saliency maps, its frames' times).

* :func:`reframe_plan`: the windows summary.mp4 is cut by (the kept shots' paths; a person's
  fixed window where ``crops`` gives one), None for ``keep``;
* :func:`shot_paths`: every shot's planned path as keyframes ``[t, x, y, w, h]`` (the studio
  shows and edits them);
* :func:`frame_size`: the upright, square-pixelled frame the windows lie in;
* :func:`with_saliency`: the summary with its steps' maps (made here, one decode of the
  steps, when its features came from a cache and the maps were not kept);
* :func:`check_crop`: a person's window checked (the aspect's size, inside the frame);
* :func:`segments_crop`: what segments.json records of a reframed summary.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np

from ..errors import ConfigError
from ..media.encode import full_frame
from ..media.reframe import Keyframe, Reframe, ShotPath, aspect_text, parse_aspect, plan_reframe, window_size
from ..media.saliency import SaliencyMaps, video_saliency
from .summary import Summary

__all__ = ["check_crop", "frame_size", "keyframe_list", "reframe_plan", "segments_crop", "shot_paths", "with_saliency"]


def _aspect(aspect) -> Fraction | None:
    try:
        return parse_aspect(aspect)
    except ConfigError as exc:
        raise ConfigError(None, f"--{exc.problem}") from None


def frame_size(summary: Summary) -> tuple[int, int]:
    """(width, height) of the upright, square-pixelled, even frame of the summary's video (what
    crop windows are given in): its saliency maps' when known, else read from the video."""
    sal = summary.extracted.saliency
    if sal is not None:
        return int(sal.frame_size[0]), int(sal.frame_size[1])
    ff = full_frame(summary.video_path)
    return int(ff.width), int(ff.height)


def with_saliency(summary: Summary) -> Summary:
    """``summary`` with its steps' saliency maps: as it is when they are known, else made by
    decoding its steps (:func:`acsumgan.media.saliency.video_saliency`, at its rate)."""
    ex = summary.extracted
    if ex.saliency is not None:
        return summary
    ff = full_frame(summary.video_path)
    maps = video_saliency(summary.video_path, (ff.width, ff.height), ff.rotation, rate=ex.rate)
    if len(maps) == len(ex.picks):  # the summary's own steps, times and frames
        maps = SaliencyMaps(
            maps.maps, np.asarray(ex.timestamps, np.float64), np.asarray(ex.picks, np.int64), maps.frame_size
        )
    return replace(summary, extracted=replace(ex, saliency=maps))


def _plan(summary: Summary, ranges, aspect, mode: str | None) -> Reframe | None:
    a = _aspect(aspect)
    if a is None:
        return None
    mode = mode or "follow"
    if mode == "follow":
        summary = with_saliency(summary)
    ex = summary.extracted
    return plan_reframe(ex.saliency, ranges, ex.times, a, mode, frame_size=frame_size(summary))


def reframe_plan(summary: Summary, aspect, mode: str | None = None, crops: dict | None = None) -> Reframe | None:
    """The crop windows of the summary's kept ranges (:attr:`Summary.kept_ranges`) in
    ``aspect`` (``"9:16"``, ...; ``"keep"``: None), ``mode`` ``follow`` (default) or
    ``center``; ``crops`` ``{shot: {"x", "y", "w", "h"}}``: a person's fixed window for
    those kept shots (checked with :func:`check_crop`) instead of the planned path."""
    plan = _plan(summary, summary.kept_ranges, aspect, mode)
    if plan is None or not crops:
        return plan
    crops = {int(k): v for k, v in crops.items()}
    times = summary.extracted.times
    paths = []
    for shot, path in zip(summary.selected, plan.paths):
        c = crops.get(int(shot))
        if c is None:
            paths.append(path)
            continue
        c = check_crop(summary, plan.aspect, c, None)
        key = Keyframe(times.at(path.start_frame), float(c["x"]), float(c["y"]), int(c["w"]), int(c["h"]))
        paths.append(ShotPath(path.start_frame, path.end_frame, (key,)))
    return replace(plan, paths=tuple(paths))


def keyframe_list(path: ShotPath) -> list[list[float]]:
    """A shot's keyframes as ``[[t, x, y, w, h], ...]`` (t: source seconds; pixels)."""
    return [[round(k.t, 6), round(k.x, 2), round(k.y, 2), int(k.w), int(k.h)] for k in path.keyframes]


def shot_paths(summary: Summary, aspect, mode: str | None = None) -> dict[int, list[list[float]]]:
    """Every shot's planned path (all of :attr:`Summary.change_points`, kept or not) as
    keyframes ``[t, x, y, w, h]``, by shot index; ``{}`` for ``keep``."""
    ranges = [(int(a), int(b)) for a, b in summary.change_points]
    plan = _plan(summary, ranges, aspect, mode)
    if plan is None:
        return {}
    return {i: keyframe_list(p) for i, p in enumerate(plan.paths)}


def _coord(value, what: str, where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ConfigError(where, f"crop {what} must be a finite number, got {value!r}"[:200])
    return float(value)


def check_crop(summary: Summary, aspect, crop, where) -> dict:
    """A person's window ``{"x", "y", "w", "h"}`` (upright pixels) for ``aspect``, checked and
    normalised (x, y rounded to 2 decimals; w, h integers): a one-line ConfigError naming
    ``where`` when it is not the aspect's window size or lies outside the frame."""
    a = _aspect(aspect)
    if a is None:
        raise ConfigError(where, "a crop window needs an aspect other than keep")
    if not isinstance(crop, dict):
        raise ConfigError(where, "a crop must be an object {x, y, w, h}")
    x, y, w, h = (_coord(crop.get(k), k, where) for k in ("x", "y", "w", "h"))
    fw, fh = frame_size(summary)
    ww, wh = window_size(fw, fh, a)
    if (w, h) != (ww, wh):
        raise ConfigError(
            where, f"crop {w:g}x{h:g} is not the {aspect_text(a)} window of the {fw}x{fh} frame ({ww}x{wh})"
        )
    if not (0 <= x <= fw - ww and 0 <= y <= fh - wh):
        raise ConfigError(
            where, f"crop at x={x:g}, y={y:g} lies outside the {fw}x{fh} frame (x 0-{fw - ww}, y 0-{fh - wh})"
        )
    return {"x": round(x, 2), "y": round(y, 2), "w": int(ww), "h": int(wh)}


def segments_crop(summary: Summary, plan: Reframe) -> dict:
    """What segments.json adds for a reframed summary: ``{"aspect", "reframe", "crops"}``,
    ``crops`` one ``{"keyframes": [[t, x, y, w, h], ...], "by": "model" | "person"}`` per kept shot."""
    person = {int(k) for k in (summary.crops or {})}
    return {
        "aspect": plan.aspect,
        "reframe": plan.mode,
        "crops": [
            {"keyframes": keyframe_list(p), "by": "person" if int(shot) in person else "model"}
            for shot, p in zip(summary.selected, plan.paths)
        ],
    }
