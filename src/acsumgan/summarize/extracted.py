"""One video's extracted features: :class:`ExtractedFeatures`, in a module of its own that
imports no torch, so that readers of a summary (``analysis.h5``, the studio's server) start
quickly. :mod:`acsumgan.summarize.features` computes them and re-exports the class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..media.decode import DEFAULT_RATE
from ..media.times import FrameTimes

if TYPE_CHECKING:  # scipy: not for a reader that never reframes
    from ..media.saliency import SaliencyMaps

__all__ = ["ExtractedFeatures"]


@dataclass
class ExtractedFeatures:
    """Per-step features of one video and what is needed to map steps to frames."""

    features: np.ndarray  # (T, D) float32
    picks: np.ndarray  # (T,) int64 frame index of each step
    timestamps: np.ndarray  # (T,) float64 seconds of each step
    n_frames: int
    fps: float
    width: int
    height: int
    has_audio: bool
    frame_times: np.ndarray | None = None  # (n_frames,) float64 seconds of every frame
    frame_pts: list | None = None  # raw pts of every frame (stream time base; None if absent)
    key_frames: list | None = None  # indices of the keyframes
    constant_rate: bool = True
    backbone: str = ""
    rate: float = DEFAULT_RATE
    seconds: float = 0.0  # wall-clock time the extraction took
    parts: int = 1  # decoded in this many parts at once (:mod:`acsumgan.media.decode_parts`)
    decoder_peak_rss: int = 0  # bytes: sum of the part processes' peaks (0: decoded here)
    # the steps' saliency maps (reframing), made in the same pass as the features; None when
    # not known (features read from a cache: :func:`acsumgan.summarize.reframing.with_saliency`)
    saliency: "SaliencyMaps | None" = None

    @property
    def times(self) -> FrameTimes:
        """When each frame starts (:class:`~acsumgan.media.times.FrameTimes`)."""
        return FrameTimes(self.n_frames, self.fps, self.frame_times, self.constant_rate)

    @property
    def duration(self) -> float:
        """Video duration in seconds (end of the last frame)."""
        return self.times.duration
