"""When each frame of a video starts: :class:`FrameTimes`.

One rule for the whole package. At a constant frame rate frame ``i`` starts at
``i / fps``; at a variable one at its own timestamp. :attr:`FrameTimes.step`, the
median frame duration, is what a frame lasts when nothing says otherwise: the end of
the last frame (:attr:`~FrameTimes.duration`) and the knapsack's unit of length.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np


class FrameTimes:
    """The start times of ``n_frames`` frames at ``fps``.

    ``times`` (seconds of every frame, as decoded) is used when the rate is variable
    (``constant_rate`` false); at a constant rate frame ``i`` starts at ``i / fps``.
    """

    __slots__ = ("n_frames", "fps", "times", "constant_rate", "__dict__")

    def __init__(self, n_frames: int, fps: float, times: np.ndarray | None = None, constant_rate: bool = True):
        self.n_frames = int(n_frames)
        self.fps = float(fps)
        self.times = None if times is None else np.asarray(times, dtype=np.float64)
        self.constant_rate = bool(constant_rate)

    @cached_property
    def step(self) -> float:
        """The median frame duration in seconds (``1 / fps`` without two positive times)."""
        t = self.times
        if t is not None and len(t) >= 2:
            step = float(np.median(np.diff(t)))
            if step > 0:
                return step
        return 1.0 / self.fps

    def at(self, frame: int) -> float:
        """Start time in seconds of ``frame`` (``frame == n_frames``: the end of the last one)."""
        t = self.times
        if self.constant_rate or t is None or len(t) == 0:
            return frame / self.fps
        n = len(t)
        if frame < n:
            return float(t[frame])
        return float(t[-1]) + self.step * (frame - n + 1)

    @property
    def duration(self) -> float:
        """Seconds from the first frame's start to the end of the last frame."""
        return self.at(self.n_frames)

    def __repr__(self) -> str:
        rate = "constant" if self.constant_rate else "variable"
        return f"FrameTimes({self.n_frames} frames, {self.fps:g} fps, {rate} rate)"
