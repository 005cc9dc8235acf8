"""Reframing: per kept shot, a crop window of another aspect ratio that keeps what matters.

The window (:func:`window_size`) has the asked aspect (9:16, 1:1, 4:5, any W:H) and is as
large as the frame allows: the full height when the aspect is narrower than the frame's
(9:16 of a 16:9 frame: 404x720 of 1280x720), else the full width; even sizes. So it moves
along one axis only, and never leaves the frame (no black bars). Coordinates are pixels of
the upright, square-pixelled frame the writer makes (:func:`acsumgan.media.encode.full_frame`).

Modes: ``center`` keeps the window in the middle. ``follow`` places it, per shot, from the
saliency maps of the shot's steps (:mod:`.saliency`, 2 per second):

1. *What a window keeps*: a step's map, summed across the window's fixed axis and scaled to
   1, weighted inside a candidate window by 1 in its middle half and down to
   :data:`EDGE_WEIGHT` at its edges (content near an edge counts less, so the window centres
   it when it can). Candidates: up to :data:`CANDIDATES` positions across the frame.
2. *Constant where the content allows*: the one position that keeps the most over the whole
   shot; the window stays there when it keeps at least :data:`HOLD` of what the best moving
   path keeps. A still shot, or one with two salient regions far apart (no window holds both,
   and following one or the other gains nothing), gets a window that does not move at all.
3. *Otherwise a bounded pan*: the path through the steps that keeps the most, less
   :data:`MOVE_COST` for every step it moves (a dead zone: a move must pay for itself, so
   no jitter) and :data:`PAN_COST` per window width moved, never faster than ``max_pan``
   (default :data:`MAX_PAN`: 0.4 of the frame's extent along the axis per second, 512 px/s
   on a 1280-px-wide frame), found exactly by dynamic programming. Between steps the window
   moves in a straight line (no jumps inside a shot); before the first step and after the
   last it holds.

A shot's path is its keyframes (:class:`Keyframe`: time -> x, y, w, h, in seconds of the
source and pixels), where the speed changes; :meth:`ShotPath.window` gives the window at
any time (interpolated) and :meth:`Reframe.crop` the window of every written frame, left
and top rounded to even pixels (:class:`~acsumgan.media.geometry.Crop`, for the writer).
Rounding moves a frame's window by at most 1 pixel more than the bound allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from ..errors import ConfigError
from .geometry import Crop, even
from .saliency import SaliencyMaps
from .times import FrameTimes

#: The aspects a user names (``keep``: the source's, no reframing).
ASPECTS = ("keep", "9:16", "1:1", "4:5")
MODES = ("follow", "center")
#: Fastest pan: this fraction of the frame's extent along the pan axis per second.
MAX_PAN = 0.4
#: Cost of moving between two steps, in steps' worth of saliency (the dead zone).
MOVE_COST = 0.08
#: Cost of moving one window width, in steps' worth of saliency.
PAN_COST = 0.15
#: A constant window is kept when it keeps this much of what the best moving path keeps.
HOLD = 0.95
#: A step's window may lie anywhere it keeps within this (in steps' worth of saliency) of
#: what the best path's keeps there: the room the smooth path is drawn in.
TUBE = 0.03
#: Weight of salient content at a window's edge (1 in its middle half).
EDGE_WEIGHT = 0.5
#: Positions tried across the frame (at most; fewer when the window is nearly as wide).
CANDIDATES = 161


def parse_aspect(text: str) -> Fraction | None:
    """``"keep"`` -> None; ``"9:16"`` (any positive ``W:H``, up to 100 each) -> Fraction(9, 16)."""
    s = str(text).strip().lower()
    if s == "keep":
        return None
    m = re.fullmatch(r"(\d{1,3}):(\d{1,3})", s)
    if not m or not (0 < int(m[1]) <= 100 and 0 < int(m[2]) <= 100):
        raise ConfigError(None, f"aspect must be keep, 9:16, 1:1, 4:5 or W:H (whole numbers 1-100), got {text!r}")
    return Fraction(int(m[1]), int(m[2]))


def aspect_text(aspect: Fraction | None) -> str:
    """The inverse of :func:`parse_aspect`: None -> ``"keep"``, Fraction(9, 16) -> ``"9:16"``."""
    return "keep" if aspect is None else f"{aspect.numerator}:{aspect.denominator}"


def window_size(frame_width: int, frame_height: int, aspect: Fraction | None) -> tuple[int, int]:
    """The largest even window of ``aspect`` (width / height) in the frame (None: the frame)."""
    fw, fh = even(frame_width), even(frame_height)
    if aspect is None:
        return fw, fh
    if Fraction(fw, fh) > aspect:
        return min(fw, even(round(fh * aspect))), fh
    return fw, min(fh, even(round(fw / aspect)))


@dataclass(frozen=True)
class Keyframe:
    """The window at time ``t`` (seconds of the source): left ``x``, top ``y``, ``w`` x ``h``."""

    t: float
    x: float
    y: float
    w: int
    h: int

    def as_dict(self) -> dict:
        return {"t": round(self.t, 6), "x": round(self.x, 2), "y": round(self.y, 2), "w": self.w, "h": self.h}


@dataclass(frozen=True)
class ShotPath:
    """The window's path over one kept shot (frames ``start_frame`` to ``end_frame``, inclusive)."""

    start_frame: int
    end_frame: int
    keyframes: tuple[Keyframe, ...]

    def window(self, t: float) -> tuple[float, float, int, int]:
        """(x, y, w, h) at time ``t``: straight between keyframes, held before and after them."""
        k = self.keyframes
        ts = [f.t for f in k]
        x = float(np.interp(t, ts, [f.x for f in k]))
        y = float(np.interp(t, ts, [f.y for f in k]))
        return x, y, k[0].w, k[0].h

    @property
    def moves(self) -> bool:
        return any(f.x != self.keyframes[0].x or f.y != self.keyframes[0].y for f in self.keyframes)

    def as_dict(self) -> dict:
        return {
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "keyframes": [f.as_dict() for f in self.keyframes],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ShotPath":
        keys = tuple(
            Keyframe(float(k["t"]), float(k["x"]), float(k["y"]), int(k["w"]), int(k["h"])) for k in d["keyframes"]
        )
        if not keys:
            raise ValueError("a shot's path needs at least one keyframe")
        return cls(int(d["start_frame"]), int(d["end_frame"]), keys)


@dataclass(frozen=True)
class Reframe:
    """The crop of a whole summary: ``size`` (w, h) windows of the ``frame_size`` frame, one
    :class:`ShotPath` per kept range; ``max_speed``: the pan bound (pixels per second)."""

    frame_size: tuple[int, int]
    size: tuple[int, int]
    aspect: str
    mode: str
    max_speed: float
    paths: tuple[ShotPath, ...]

    def frame_windows(self, times: FrameTimes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frames, x, y): every frame of the ranges and its window's left and top, even pixels."""
        w, h = self.size
        frames, xs, ys = [], [], []
        for p in self.paths:
            idx = np.arange(p.start_frame, p.end_frame + 1)
            t = np.array([times.at(int(i)) for i in idx])
            kt = [f.t for f in p.keyframes]
            x = np.interp(t, kt, [f.x for f in p.keyframes])
            y = np.interp(t, kt, [f.y for f in p.keyframes])
            frames.append(idx)
            xs.append(np.clip(2 * np.floor(x / 2 + 0.5), 0, self.frame_size[0] - w))
            ys.append(np.clip(2 * np.floor(y / 2 + 0.5), 0, self.frame_size[1] - h))
        return (np.concatenate(frames), np.concatenate(xs).astype(np.int64), np.concatenate(ys).astype(np.int64))

    def crop(self, times: FrameTimes) -> Crop:
        """The :class:`~acsumgan.media.geometry.Crop` the writer cuts every frame of the ranges by."""
        frames, x, y = self.frame_windows(times)
        return Crop(self.size[0], self.size[1], frames, x, y)

    def as_dict(self) -> dict:
        """For segments.json: aspect, mode, sizes, the pan bound and each shot's keyframes."""
        return {
            "aspect": self.aspect,
            "mode": self.mode,
            "frame_size": list(self.frame_size),
            "size": list(self.size),
            "max_speed": round(self.max_speed, 3),
            "shots": [p.as_dict() for p in self.paths],
        }


def plan_reframe(
    maps: SaliencyMaps | None,
    ranges: Sequence[Sequence[int]],
    times: FrameTimes,
    aspect: Fraction | str,
    mode: str = "follow",
    *,
    frame_size: tuple[int, int] | None = None,
    max_pan: float = MAX_PAN,
) -> Reframe:
    """The crop windows of the kept ``ranges`` (one per kept shot: inclusive frame ranges,
    ascending) of a video whose frames start at ``times``, in ``aspect`` (a Fraction w / h or
    text such as ``"9:16"``), ``mode`` ``follow`` (from ``maps``, the steps' saliency) or
    ``center`` (``maps`` may be None). ``frame_size``: the upright frame (default the maps').
    See the module docstring for the rules."""
    if isinstance(aspect, str):
        aspect = parse_aspect(aspect)
    if aspect is None:
        raise ConfigError(None, "reframing needs an aspect other than keep")
    if mode not in MODES:
        raise ConfigError(None, f"reframe mode must be one of {', '.join(MODES)}, got {mode!r}")
    if frame_size is None:
        if maps is None:
            raise ConfigError(None, "reframing needs the frame size (or the saliency maps)")
        frame_size = maps.frame_size
    fw, fh = even(frame_size[0]), even(frame_size[1])
    w, h = window_size(fw, fh, aspect)
    axis = "x" if w < fw else "y"
    extent, span = (fw, fw - w) if axis == "x" else (fh, fh - h)
    max_speed = float(max_pan) * extent
    if mode == "follow" and maps is None and span > 0:
        raise ConfigError(None, "reframe mode follow needs the saliency maps")
    paths = []
    for a, b in ranges:
        a, b = int(a), int(b)
        t0, t1 = times.at(a), times.at(b)
        if span == 0 or mode == "center":
            positions = [(t0, span / 2)]
        else:
            positions = _follow(maps, axis, a, b, w if axis == "x" else h, extent, span, max_speed)
        pts = [(t0, positions[0][1])] + [p for p in positions if t0 < p[0] < t1] + [(t1, positions[-1][1])]
        pts = _simplify(sorted(dict(pts).items()))
        keys = tuple(
            Keyframe(t, float(p), 0.0, w, h) if axis == "x" else Keyframe(t, 0.0, float(p), w, h) for t, p in pts
        )
        paths.append(ShotPath(a, b, keys))
    return Reframe((fw, fh), (w, h), aspect_text(aspect), mode, max_speed, tuple(paths))


def _simplify(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop points on the straight line between their neighbours (where the speed stays)."""
    out = [pts[0]]
    for k in range(1, len(pts) - 1):
        (ta, pa), (t, p), (tb, pb) = out[-1], pts[k], pts[k + 1]
        on_line = tb > ta and abs(pa + (pb - pa) * (t - ta) / (tb - ta) - p) < 0.01
        if not on_line:
            out.append(pts[k])
    if len(pts) > 1:
        out.append(pts[-1])
    return out


def _kept_weights(n_cells: int, extent: int, size: int, positions: np.ndarray) -> np.ndarray:
    """(positions, cells): how much of each cell a window of ``size`` at each position keeps,
    weighted 1 in the window's middle half, down to :data:`EDGE_WEIGHT` at its edges."""
    edges = np.linspace(0.0, extent, n_cells + 1)
    lo, hi = edges[None, :-1], edges[None, 1:]
    x0 = positions[:, None]
    overlap = np.clip(np.minimum(hi, x0 + size) - np.maximum(lo, x0), 0.0, None) / (hi - lo)
    centre = (np.clip((lo + hi) / 2, x0, x0 + size) - x0) / size  # 0..1 across the window
    ramp = np.clip(np.minimum(centre, 1 - centre) / 0.25, 0.0, 1.0)
    return overlap * (EDGE_WEIGHT + (1 - EDGE_WEIGHT) * ramp)


def _follow(
    maps: SaliencyMaps, axis: str, a: int, b: int, size: int, extent: int, span: int, max_speed: float
) -> list[tuple[float, float]]:
    """(time, position) per step of the shot ``a..b``: constant, or the best bounded path."""
    inside = np.flatnonzero((maps.frames >= a) & (maps.frames <= b))
    if len(inside) == 0:  # a range shorter than a step: the step nearest its middle
        inside = np.array([int(np.argmin(np.abs(maps.frames - (a + b) / 2)))])
    prof = maps.profile(axis)[inside].astype(np.float64)
    total = prof.sum(axis=1, keepdims=True)
    prof = np.where(total > 0, prof / np.maximum(total, 1e-12), 0.0)
    n = int(min(CANDIDATES, span // 2 + 1))
    positions = np.linspace(0.0, span, n) if n > 1 else np.array([span / 2])
    kept = prof @ _kept_weights(prof.shape[1], extent, size, positions).T  # (steps, positions)
    times = maps.times[inside]
    # constant: the position keeping most over the shot (ties: nearest the middle)
    whole = kept.sum(axis=0)
    best = np.flatnonzero(whole >= whole.max() - 1e-9)
    j_const = int(best[np.argmin(np.abs(positions[best] - span / 2))])
    path = _best_path(kept, positions, times, size, max_speed)
    moving = float(kept[np.arange(len(path)), path].sum())
    lo, hi = _tube(kept, positions, path)
    if whole[j_const] >= HOLD * moving or len(set(path.tolist())) == 1 or lo.max() <= hi.min():
        x = float(positions[j_const])
        if lo.max() <= hi.min():  # one window keeps it all: the best such one
            x = float(np.clip(x, lo.max(), hi.min()))
        return [(float(times[0]), x)]
    return _bounded(_taut(times, lo, hi, float(positions[path[0]])), max_speed)


def _tube(kept: np.ndarray, positions: np.ndarray, path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step, the positions around the path's that keep within :data:`TUBE` of what it keeps."""
    steps = len(path)
    lo, hi = np.empty(steps), np.empty(steps)
    for k in range(steps):
        ok = kept[k] >= kept[k, path[k]] - TUBE
        a = b = int(path[k])
        while a > 0 and ok[a - 1]:
            a -= 1
        while b < len(ok) - 1 and ok[b + 1]:
            b += 1
        lo[k], hi[k] = positions[a], positions[b]
    return lo, hi


def _taut(times: np.ndarray, lo: np.ndarray, hi: np.ndarray, start: float) -> list[tuple[float, float]]:
    """The shortest path through the windows ``[lo[k], hi[k]]`` at ``times[k]`` (a taut string:
    it also has the lowest top speed of all such paths), its ends where it moves least: drawn
    from ``start`` forward, then back from its end to a free start."""
    forward = _pull(times, lo, hi, float(np.clip(start, lo[0], hi[0])))
    back = _pull(-times[::-1], lo[::-1], hi[::-1], forward[-1][1])
    return [(-t, x) for t, x in reversed(back)]


def _pull(times: np.ndarray, lo: np.ndarray, hi: np.ndarray, x0: float) -> list[tuple[float, float]]:
    """The string from ``(times[0], x0)`` through the windows (funnel algorithm); its last
    piece as level as the windows allow."""
    n = len(times)
    i, x = 0, x0
    pts = [(float(times[0]), x)]
    while i < n - 1:
        s_min, s_max, k_min, k_max = -np.inf, np.inf, i, i
        bend = None
        for k in range(i + 1, n):
            dt = float(times[k] - times[i])
            s_lo, s_hi = (lo[k] - x) / dt, (hi[k] - x) / dt
            if s_lo > s_max:  # the window lies above: the string bends up over the top that limited it
                bend = (k_max, float(hi[k_max]))
                break
            if s_hi < s_min:  # below: it bends down under the bottom that limited it
                bend = (k_min, float(lo[k_min]))
                break
            if s_hi < s_max:
                s_max, k_max = s_hi, k
            if s_lo > s_min:
                s_min, k_min = s_lo, k
        if bend is None:
            slope = float(np.clip(0.0, s_min, s_max))
            pts.append((float(times[-1]), x + slope * float(times[-1] - times[i])))
            break
        i, x = bend
        pts.append((float(times[i]), x))
    return pts


def _bounded(pts: list[tuple[float, float]], max_speed: float) -> list[tuple[float, float]]:
    """The points with every piece's speed cut to ``max_speed`` (a safety: the string keeps it)."""
    out = [pts[0]]
    for t, x in pts[1:]:
        t0, x0 = out[-1]
        reach = max_speed * (t - t0)
        out.append((t, float(np.clip(x, x0 - reach, x0 + reach))))
    return out


def _best_path(kept: np.ndarray, positions: np.ndarray, times: np.ndarray, size: int, max_speed: float) -> np.ndarray:
    """The positions (indices) per step that keep the most, less the cost of moving, within the speed bound."""
    steps, n = kept.shape
    dist = np.abs(positions[:, None] - positions[None, :])
    move = MOVE_COST * (dist > 0) + PAN_COST * dist / size
    value = kept[0].copy()
    back = np.zeros((steps, n), dtype=np.int64)
    for k in range(1, steps):
        reach = max_speed * max(float(times[k] - times[k - 1]), 0.0) + 1e-6
        cand = value[None, :] - np.where(dist <= reach, move, np.inf)  # [to, from]
        back[k] = np.argmax(cand, axis=1)
        value = kept[k] + cand[np.arange(n), back[k]]
    path = np.empty(steps, dtype=np.int64)
    path[-1] = int(np.argmax(value))
    for k in range(steps - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return path
