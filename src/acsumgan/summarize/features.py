"""Features of a video: decode, sample, run a backbone (:mod:`.backbones`) on each step.

:class:`ExtractedFeatures` is one video's per-step features with what maps steps to
frames; :func:`extract_features` makes it, decoding a long H.264/HEVC video in parts at
once (:mod:`acsumgan.media.decode_parts`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..errors import ConfigError
from ..media.decode import DEFAULT_RATE, FrameSampler, check_rate, prefetch, probe
from ..media.decode_parts import PartDecoders, PartsMismatch, plan_parts
from ..media.times import FrameTimes
from . import backbones
from .backbones import DECODER_THREADS, DEFAULT_BACKBONE, Backbone, as_backbone

_log = logging.getLogger(__name__)


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

    @property
    def times(self) -> FrameTimes:
        """When each frame starts (:class:`~acsumgan.media.times.FrameTimes`)."""
        return FrameTimes(self.n_frames, self.fps, self.frame_times, self.constant_rate)

    @property
    def duration(self) -> float:
        """Video duration in seconds (end of the last frame)."""
        return self.times.duration


def extract_features(
    path: str | os.PathLike,
    backbone: str | Backbone = DEFAULT_BACKBONE,
    rate: float = DEFAULT_RATE,
    batch_size: int = 16,
    progress: Callable[[int, int], None] | None = None,
    device: str | torch.device = "cpu",
    background_decode: bool = False,
    decoder_threads: int = DECODER_THREADS,
    parts: int | None = None,
) -> ExtractedFeatures:
    """Decode ``path``, sample ``rate`` steps per second, and run ``backbone`` on them.

    A long H.264/HEVC video is decoded in ``parts`` parts at once, one process each
    (default: torch's thread count, the cores this run uses), cut at instantaneous
    decoder refreshes so that the frames, steps and features are those of one pass
    (:mod:`acsumgan.media.decode_parts`, checked at the end; on any mismatch the video is decoded again in
    one pass). ``parts=1``, other codecs and videos shorter than two
    :data:`~acsumgan.media.decode_parts.MIN_DECODE_PART_SECONDS`: one pass, as follows.

    Frames are streamed ``batch_size`` at a time (memory stays bounded whatever the
    video's length). With ``background_decode`` decoding, colour conversion and
    resizing run on a thread of their own, up to two batches ahead of the network
    (:func:`acsumgan.media.decode.prefetch`); off by default: on 2 idle cores it was
    11 % slower at 720p and equal at 160x120 (``benchmarks/video_speed.py``), because
    FFmpeg's frame threads already decode on every core while the network waits, and a
    third busy thread only adds contention. The features are the same either way.
    ``decoder_threads`` is FFmpeg's thread count (:data:`DECODER_THREADS`; it changes
    no feature either).
    ``progress(done_frames, total_estimate)`` is called after each batch (frames
    decoded so far, estimated total) and once at the end with the exact count twice.
    """
    t0 = time.perf_counter()
    bb = as_backbone(backbone, device)
    if int(batch_size) < 1:
        raise ConfigError(None, f"batch size must be >= 1, got {batch_size}")
    batch_size = int(batch_size)
    check_rate(rate)
    info = probe(path)
    n_parts = torch.get_num_threads() if parts is None else int(parts)
    plan = plan_parts(path, n_parts, info.duration) if n_parts > 1 else None
    if plan is not None:
        try:
            return _extract_in_parts(plan, info, bb, rate, batch_size, progress, t0)
        except PartsMismatch as exc:
            _log.info("%s: decoding again in one pass (%s)", path, exc)
    sampler = FrameSampler(path, rate=rate, size=bb.input_size, decoder_threads=decoder_threads)
    total = max(1, sampler.info.n_frames)
    w, h = bb.input_size
    buf = np.empty((batch_size, h, w, 3), dtype=np.uint8)
    chunks: list[np.ndarray] = []
    fill = 0
    frames = prefetch(sampler, 2 * batch_size) if background_decode else iter(sampler)
    with contextlib.closing(frames):
        for sf in frames:
            buf[fill] = sf.image
            fill += 1
            if fill == batch_size:
                chunks.append(bb(buf))
                fill = 0
                if progress is not None:
                    progress(sf.index + 1, max(total, sf.index + 1))
    if fill:
        chunks.append(bb(buf[:fill]))
    n = int(sampler.n_frames)
    if progress is not None:
        progress(n, n)
    return _extracted(np.concatenate(chunks, axis=0), sampler, info, bb, rate, t0)


def _extracted(features: np.ndarray, frames, info, bb: Backbone, rate: float, t0: float, **extra) -> ExtractedFeatures:
    """The result, from ``frames``: a finished :class:`FrameSampler` or the parts' ``Joined``."""
    return ExtractedFeatures(
        features=features.astype(np.float32, copy=False),
        picks=np.asarray(frames.picks, dtype=np.int64),
        timestamps=np.asarray(frames.timestamps, dtype=np.float64),
        n_frames=int(frames.n_frames),
        fps=float(frames.fps_fraction),
        width=info.width,
        height=info.height,
        has_audio=info.has_audio,
        frame_times=frames.frame_times,
        frame_pts=list(frames.frame_pts),
        key_frames=list(frames.key_frames),
        constant_rate=bool(frames.constant_rate),
        backbone=getattr(bb, "name", type(bb).__name__),
        rate=float(rate),
        seconds=time.perf_counter() - t0,
        **extra,
    )


def _extract_in_parts(plan, info, bb: Backbone, rate: float, batch_size: int, progress, t0: float) -> ExtractedFeatures:
    """:func:`extract_features` with the video decoded in parts (:mod:`acsumgan.media.decode_parts`).

    The network runs on exactly the groups of steps one pass gives it (``batch_size`` at
    a time, :data:`backbones.FORWARD_BATCH` per forward pass), numbered as one pass numbers them:
    a frame's features depend on how many frames share its forward pass (measured: a
    frame alone differs from the same frame among 4 by up to 1.4e-6).
    """
    total = max(1, info.n_frames)
    with PartDecoders(plan, rate, bb.input_size, info.fps_fraction) as dec:
        n_steps = len(dec.expected)
        features = np.empty((n_steps, bb.dim), dtype=np.float32)
        waiting: dict[int, np.ndarray] = {}
        for batch in dec.batches():
            for step, image in batch:
                if step >= n_steps:
                    raise PartsMismatch("more steps than one pass has")
                waiting[step] = image
            for a, b in _groups_ready(waiting, n_steps, batch_size):
                features[a:b] = bb(np.stack([waiting.pop(k) for k in range(a, b)]))
            if progress is not None:
                done = dec.frames_done
                progress(done, max(total, done))
        if waiting:
            raise PartsMismatch("steps missing")
        joined = dec.join()
    if progress is not None:
        progress(joined.n_frames, joined.n_frames)
    return _extracted(features, joined, info, bb, rate, t0, parts=plan.parts, decoder_peak_rss=joined.peak_rss)


def _groups_ready(waiting: dict, n_steps: int, batch_size: int) -> list[tuple[int, int]]:
    """The forward passes of one pass (steps ``a`` to ``b - 1``) whose frames are all in ``waiting``."""
    ready, seen = [], set()
    for k in sorted(waiting):
        a = (k // batch_size) * batch_size + ((k % batch_size) // backbones.FORWARD_BATCH) * backbones.FORWARD_BATCH
        b = min(a + backbones.FORWARD_BATCH, (k // batch_size + 1) * batch_size, n_steps)
        if a not in seen and all(i in waiting for i in range(a, b)):
            seen.add(a)
            ready.append((a, b))
    return ready
