"""Write a summary video: chosen frame ranges of a source video, re-encoded.

Video: H.264 (libx264, yuv420p, ``crf`` quality, ``preset`` speed) at the size the
source is *shown* at, upright and with square pixels: a display rotation (the display
matrix of a phone video, read as :attr:`av.VideoFrame.rotation`) is applied to the
pixels, so summary.mp4 is upright in every player whether or not it reads rotation
metadata (it carries none), and a non-square sample aspect ratio is applied by scaling
the width (e.g. 720x576 at 16:15 becomes 768x576). An odd width or height is then
scaled to the even size below it (yuv420p requires even sizes; e.g. 321x241 becomes
320x240, a 0.3 % squeeze rather than a lost or padded line); :class:`WriteStats` gives
the size written. Horizontal or vertical flips in a display matrix are not applied
(PyAV exposes the rotation only). A constant-rate source keeps its frame rate
(frames one after another at ``fps``); with ``frame_times`` (the times of every
frame, as the first pass measured them) a variable-rate source keeps its frames'
timestamps: each range plays for as long as it lasted in the source, a frame for as
long as it was shown (until the source's next frame; the source's last frame for the median
frame step, :attr:`acsumgan.media.times.FrameTimes.step`), each packet carrying its
frame's duration, so the MP4 lasts what segments.json says even when the source's average
rate is far from its frames' (a gap of an hour). Frames are taken by index, in decode order counting every
frame, exactly as :mod:`.decode` numbers them, so ranges computed from ``picks``
select the intended frames.

Audio (when the source has an audio stream and ``keep_audio``): for each range the
source audio starting at the range's first frame's presentation time is kept for
as long as the range lasts in the output (frames / fps, or its source duration for a
variable rate), re-encoded to AAC (the
source's sample rate and channel layout when AAC supports them, else 48 kHz /
stereo). Each range's audio starts exactly where its video starts in the output
(sample counts are derived from the cumulative output time, so there is no drift);
missing audio is filled with silence.

What an earlier full pass over the source measured (its frame rate, every frame's pts,
the keyframes, every frame's time) is given as one :class:`SourceFrames`.
The source is read in one pass (decoding stops after the last range). When the
pts of every frame (and the keyframes) are known from an earlier pass, the writer
instead seeks to the keyframe before a range whenever that skips decoding, and
identifies frames by their pts, so it decodes little more than the summary; if
the file cannot seek it falls back to the single pass. The output is an MP4
written through :func:`acsumgan.fileio.atomic_path`, so it appears complete or
not at all. Progress is reported as :class:`acsumgan.progress.Event` values of the stage
``"encoding"`` (frames written, frames to write). This module writes with one writer;
:mod:`.encode_parts` writes a long summary with several processes at once, each of them
this writer.
"""

from __future__ import annotations

import bisect
import os
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av
import numpy as np

from ..errors import ConfigError, OutputError, VideoError
from ..fileio import atomic_path, local_url
from ..progress import Progress, report
from .decode import FALLBACK_FPS, decode_frames, metadata_fps, open_container, open_media, video_stream
from .geometry import Crop, even, rotation_of, sample_aspect_ratio
from .times import FrameTimes

DEFAULT_CRF = 18
#: x264 speed preset. Measured at 1280x720 on 2 CPU cores (crf 18): medium ~26
#: frames/s, veryfast ~75, superfast ~145, ultrafast ~210 (with files ~2.4x the
#: size of superfast's). At a given crf the quality is similar; faster presets
#: make larger files.
DEFAULT_PRESET = "superfast"
#: Without keyframe positions, seek (rather than decode through) when the next
#: range starts this many seconds after the current frame.
SEEK_GAP_SECONDS = 10.0
#: With audio kept, seek to a keyframe at least this long before a range's first frame
#: (so the audio that goes with the range's start is read too). Without audio, to the
#: keyframe at or before it: on a 10-minute 720p summary (36 ranges, 26 seeks) that
#: decoded 2,886 instead of 5,420 frames, 23.2 instead of 25.4 s, the same file.
SEEK_MARGIN_SECONDS = 0.5
#: Output time base of a variable-rate summary (90 kHz, MPEG's clock; exact for 24, 25,
#: 30, 50, 60 and 120 fps and for millisecond timestamps).
VFR_TIME_BASE = Fraction(1, 90000)
#: Channel layouts of the summary's audio kept as they are (checked to encode with FFmpeg's
#: AAC encoder through PyAV); others are mixed down to stereo. (The browser copy of
#: :mod:`.browser` keeps mono and stereo only: :data:`.browser.BROWSER_AAC_LAYOUTS`.)
SUMMARY_AAC_LAYOUTS = ("mono", "stereo", "2.1", "3.0", "quad", "4.0", "5.0", "5.1", "5.0(side)", "5.1(side)")
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


@dataclass
class WriteStats:
    path: Path
    frames_written: int
    duration: float  # seconds of video in the output (frames / fps)
    fps: float
    width: int
    height: int
    has_audio: bool
    audio_seconds: float
    seconds: float  # wall-clock time taken
    decoded_frames: int = 0  # source video frames decoded and looked at
    seeks: int = 0  # seeks made (0: one pass from the start)
    rotation: int = 0  # display rotation of the source applied to the pixels (degrees, counter-clockwise)
    sample_aspect_ratio: Fraction = Fraction(1)  # of the source, applied by scaling (the output's is 1)
    source_timestamps: bool = False  # a variable-rate source: its frame times kept (else frames / fps)
    parts: int = 1  # written by this many processes at once and joined (:mod:`.encode_parts`)


@dataclass(frozen=True)
class SourceFrames:
    """What an earlier full pass over the source knows of its frames (every field optional).

    ``fps``: the output frame rate (default: the source's average rate). ``frame_pts``: the
    pts of every frame in decode order; lets the writer seek ahead instead of decoding
    everything in between, identifying frames by pts. ``key_frames``: indices of the
    keyframes; tells it when a seek saves decoding (without them it seeks when the next range
    is more than :data:`SEEK_GAP_SECONDS` ahead). ``frame_times``: seconds of every frame in
    decode order, given for a variable-rate source only (None at a constant rate): the output
    keeps those timestamps instead of playing the frames at ``fps``.
    """

    fps: float | Fraction | None = None
    frame_pts: Sequence[int | None] | None = None
    key_frames: Sequence[int] | None = None
    frame_times: Sequence[float] | None = None

    @classmethod
    def of(cls, first_pass) -> "SourceFrames":
        """From a finished first pass: anything with ``fps``, ``frame_pts``, ``key_frames``,
        ``frame_times`` and ``constant_rate`` (a finished :class:`~.decode.FrameSampler`, the
        summarizer's extracted features); ``frame_times`` kept at a variable rate only."""
        return cls(
            fps=first_pass.fps,
            frame_pts=first_pass.frame_pts,
            key_frames=first_pass.key_frames,
            frame_times=None if first_pass.constant_rate else first_pass.frame_times,
        )


def check_ranges(frame_ranges: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Validate inclusive ``(start, end)`` frame ranges: ascending, disjoint, start <= end."""
    out: list[tuple[int, int]] = []
    try:
        pairs = [(int(a), int(b)) for a, b in frame_ranges]
    except (TypeError, ValueError):
        raise ConfigError(None, "frame ranges must be (start, end) pairs of frame indices") from None
    if not pairs:
        raise ConfigError(None, "no frame ranges to write (the summary would be empty)")
    prev_end = -1
    for i, (a, b) in enumerate(pairs):
        if a < 0 or b < a:
            raise ConfigError(None, f"frame range {i} ({a}, {b}) is invalid: need 0 <= start <= end")
        if a <= prev_end:
            raise ConfigError(None, f"frame range {i} ({a}, {b}) overlaps or precedes the one before it")
        out.append((a, b))
        prev_end = b
    return out


def _output_fps(stream, fps) -> Fraction:
    if fps is not None:
        f = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
        if f <= 0:
            raise ConfigError(None, f"frame rate must be > 0, got {fps}")
        return f
    for name in ("average_rate", "guessed_rate", "base_rate"):
        try:
            v = getattr(stream, name)
        except Exception:  # noqa: BLE001
            v = None
        if v:
            f = Fraction(v)
            if 0 < f < 10000:
                return f.limit_denominator(1001)
    return metadata_fps(stream) or FALLBACK_FPS


def _audio_format(astream) -> tuple[int, str]:
    """Output sample rate and layout for the AAC encoder."""
    cc = astream.codec_context
    rate = int(cc.sample_rate or 48000)
    rates = av.codec.Codec("aac", "w").audio_rates or ()
    if rates and rate not in rates:
        rate = 48000
    try:
        layout = cc.layout.name
        channels = cc.layout.nb_channels
    except Exception:  # noqa: BLE001
        layout, channels = "stereo", 2
    if channels == 1:
        layout = "mono"
    elif layout not in SUMMARY_AAC_LAYOUTS:
        layout = "stereo"
    return rate, layout


class _AudioCutter:
    """Collects decoded source audio and emits, per range, the samples that go with it."""

    def __init__(self, ostream, rate: int, layout: str, fps: Fraction, container):
        self.ostream = ostream
        self.rate = rate
        self.layout = layout
        self.channels = av.AudioLayout(layout).nb_channels
        self.fps = fps
        self.out = container
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        self.chunks: deque = deque()  # (abs_start_sample, array (C, n))
        self.buffer_end: int | None = None
        self.eof = False
        self.written_samples = 0
        self.pending: list[list] = []  # [abs_start_sample, out_start, out_len, closed]

    def add(self, frame) -> None:
        try:
            outs = self.resampler.resample(frame)
        except (av.error.FFmpegError, ValueError):
            return
        for o in outs:
            arr = o.to_ndarray()
            if arr.ndim == 1:
                arr = arr.reshape(self.channels, -1)
            arr = arr.astype(np.float32, copy=False)
            if o.pts is not None and o.time_base:
                start = int(round(Fraction(o.pts) * Fraction(o.time_base) * self.rate))
            else:
                start = self.buffer_end or 0
            self.chunks.append((start, arr))
            end = start + arr.shape[1]
            self.buffer_end = end if self.buffer_end is None else max(self.buffer_end, end)
        self.flush()

    def start_range(self, abs_time: Fraction, out_time: Fraction) -> None:
        """A range starts at source time ``abs_time``, output time ``out_time`` (seconds)."""
        out_start = int(out_time * self.rate)
        self.pending.append([int(round(abs_time * self.rate)), out_start, None, False])

    def close_range(self, out_time: Fraction) -> None:
        """The open range ends at output time ``out_time`` (seconds)."""
        seg = self.pending[-1]
        seg[2] = int(out_time * self.rate) - seg[1]
        seg[3] = True
        self.flush()

    def prune(self, before_abs_time: Fraction) -> None:
        """Drop audio that ends before ``before_abs_time`` and that no range needs."""
        limit = int(round(before_abs_time * self.rate)) - self.rate  # keep 1 s of slack
        if self.pending:
            limit = min(limit, self.pending[0][0])
        while self.chunks and self.chunks[0][0] + self.chunks[0][1].shape[1] <= limit:
            self.chunks.popleft()

    def flush(self) -> None:
        while self.pending and self.pending[0][3]:
            a, o, n, _ = self.pending[0]
            if not self.eof and (self.buffer_end is None or self.buffer_end < a + n):
                return
            self._emit(a, o, n)
            self.pending.pop(0)

    def _emit(self, a: int, o: int, n: int) -> None:
        if n <= 0:
            return
        seg = np.zeros((self.channels, n), dtype=np.float32)
        for start, arr in self.chunks:
            lo, hi = max(start, a), min(start + arr.shape[1], a + n)
            if hi > lo:
                seg[:, lo - a : hi - a] = arr[:, lo - start : hi - start]
        frame = av.AudioFrame.from_ndarray(seg, format="fltp", layout=self.layout)
        frame.sample_rate = self.rate
        frame.pts = o
        frame.time_base = Fraction(1, self.rate)
        for p in self.ostream.encode(frame):
            self.out.mux(p)
        self.written_samples = o + n

    def finish(self) -> None:
        self.eof = True
        # A range left open (truncated source) is closed by the caller first.
        self.flush()
        for p in self.ostream.encode(None):
            self.out.mux(p)


class _Timing:
    """The output's timestamps: frames one after another at ``fps`` (``frame_times`` None), or
    a variable-rate source's frame times kept, each range shifted to start where the one
    before it ended (in :data:`VFR_TIME_BASE` units)."""

    def __init__(self, fps: Fraction, frame_times=None):
        self.fps = fps
        self.vfr = frame_times is not None and len(frame_times) > 0
        self.tb = VFR_TIME_BASE if self.vfr else 1 / fps
        self.end = 0  # output pts where the next range starts (variable rate)
        self.offset = 0
        self.first = 0  # source index of the open range's first frame
        self.last_pts = -1
        self.durations: dict[int, int] = {}  # output pts -> duration of the frames not yet muxed (variable rate)
        if self.vfr:
            self.times = FrameTimes(len(frame_times), float(fps), frame_times, constant_rate=False)
            self._t = self.times.at

    def _units(self, seconds: float) -> int:
        return int(round(Fraction(seconds) / self.tb))

    def start(self, i: int, written: int) -> Fraction:
        """A range starts with source frame ``i``; returns its output time (seconds)."""
        if not self.vfr:
            return Fraction(written) / self.fps
        self.first, self.offset = i, self.end
        return self.offset * self.tb

    def frame(self, i: int, written: int) -> tuple[int, int | None]:
        """(pts, duration or None) of source frame ``i`` written as the ``written``-th frame."""
        if not self.vfr:
            return written, None
        pts = max(self.offset + self._units(self._t(i) - self._t(self.first)), self.last_pts + 1)
        self.last_pts = pts
        self.end = max(pts + 1, self.offset + self._units(self._t(i + 1) - self._t(self.first)))
        self.durations[pts] = self.end - pts
        return pts, self.end - pts

    def mux(self, out, packets) -> None:
        """Mux the video encoder's ``packets``. At a variable rate each carries its frame's
        duration: the encoder leaves it 0, and the MP4 muxer then makes the last frame last
        one frame of the stream's rate (the source's average, an hour for a video with a gap)
        instead of the time to the source's next frame (or the median frame step)."""
        for p in packets:
            if self.vfr and p.pts is not None:
                p.duration = self.durations.pop(p.pts, p.duration)
            out.mux(p)

    def close(self, written: int) -> Fraction:
        """The open range ends; returns the output time (seconds) it ends at."""
        return Fraction(written) / self.fps if not self.vfr else self.end * self.tb


class _RangeWriter:
    """Feeds frames (by index) and audio into the encoders; knows which frames are wanted."""

    def __init__(self, ranges, ovs, out, geometry, timing, cutter, progress: Progress | None, total):
        self.ranges = ranges
        self.ovs, self.out = ovs, out
        self.geometry = geometry
        self.ow, self.oh = geometry.out_size
        self.timing = timing
        self.vtb = timing.tb
        self.cutter = cutter
        self.progress = progress
        self.total = total
        self.report_every = max(1, total // 100)
        self.j = 0  # next (or current) range
        self.open = False  # inside range j
        self.written = 0
        self.seen = 0
        self.seeks = 0

    @property
    def done(self) -> bool:
        return self.j >= len(self.ranges)

    def next_start(self) -> int | None:
        return None if self.done else self.ranges[self.j][0]

    def _close(self) -> None:
        self.open = False
        self.j += 1
        end = self.timing.close(self.written)
        if self.cutter is not None:
            self.cutter.close_range(end)

    def video(self, i: int, frame, abs_t: Fraction) -> None:
        """Handle decoded frame number ``i`` (frames must come in increasing order)."""
        self.seen += 1
        while not self.done and i > self.ranges[self.j][1]:
            # the rest of range j never came (missing frames): close it
            if self.open:
                self._close()
            else:
                self.j += 1
        if self.done:
            return
        a, b = self.ranges[self.j]
        if i < a:
            if self.cutter is not None:
                self.cutter.prune(abs_t)
            return
        if not self.open:
            self.open = True
            start = self.timing.start(i, self.written)
            if self.cutter is not None:
                self.cutter.start_range(abs_t, start)
        vf = self.geometry.convert(frame, i)
        vf.pts, duration = self.timing.frame(i, self.written)
        vf.time_base = self.vtb
        if duration is not None:
            vf.duration = duration
        vf.pict_type = av.video.frame.PictureType.NONE
        self.timing.mux(self.out, self.ovs.encode(vf))
        self.written += 1
        if self.progress is not None and (self.written % self.report_every == 0 or self.written == self.total):
            report(self.progress, "encoding", self.written, self.total)
        if i == b:
            self._close()

    def audio(self, frame) -> None:
        if self.cutter is not None:
            self.cutter.add(frame)

    def audio_pending(self) -> bool:
        return self.cutter is not None and bool(self.cutter.pending)

    def finish(self) -> None:
        if self.open:
            self._close()


class _AudioDrain:
    """Reading on after the wanted video frames so the audio of a closed range can
    complete: stop once no audio is pending, or DRAIN_SECONDS of video later."""

    DRAIN_SECONDS = 2

    def __init__(self, w: _RangeWriter):
        self.w = w
        self.until: Fraction | None = None

    def stop(self, abs_t: Fraction) -> bool:
        if not self.w.audio_pending():
            return True
        if self.until is None:
            self.until = abs_t + self.DRAIN_SECONDS
        return abs_t > self.until


def _abs_time(frame, t: Fraction) -> Fraction:
    if frame.pts is not None and frame.time_base:
        return Fraction(frame.pts) * Fraction(frame.time_base)
    return t


def _linear(inp, vs, ain, src, w: _RangeWriter, threads: int = 0) -> None:
    """Decode from the start of ``inp``; frames are numbered as they come."""
    extra = [ain] if ain is not None else []
    drain = _AudioDrain(w)
    for kind, i, t, frame in decode_frames(inp, vs, src, extra, threads=threads):
        if kind == "audio":
            w.audio(frame)
            if w.done and not w.audio_pending():
                return
            continue
        abs_t = _abs_time(frame, t)
        if w.done:  # keep reading (audio) a little while the last range's audio completes
            if drain.stop(abs_t):
                return
            continue
        w.video(i, frame, abs_t)
        if w.done and not w.audio_pending():
            return


class _SeekFailed(Exception):
    pass


class _SeekPlan:
    """When seeking to the next range saves decoding, and where to seek."""

    def __init__(self, frame_pts: list[int], key_frames, time_base: Fraction, fps: Fraction, audio: bool):
        self.pts = frame_pts
        self.margin = int(SEEK_MARGIN_SECONDS / time_base) if time_base and audio else 0
        self.gap = int(SEEK_GAP_SECONDS * fps)
        self.min_skip = max(8, int(fps))  # a seek must skip about a second of decoding
        self.keys = None
        if key_frames is not None:
            keys = sorted((frame_pts[k], int(k)) for k in key_frames if 0 <= int(k) < len(frame_pts))
            if keys:
                self.keys = keys
                self.key_pts = [p for p, _ in keys]

    def target(self, start: int) -> int:
        """Seek (backward, to a keyframe) from a little before the range's first frame."""
        return max(self.pts[start] - self.margin, self.pts[0])

    def worth(self, start: int, pos: int) -> bool:
        """Seek to reach frame ``start`` when the last frame decoded is ``pos``?"""
        if self.keys is None:
            return start - pos > self.gap
        k = bisect.bisect_right(self.key_pts, self.target(start)) - 1
        landing = self.keys[k][1] if k >= 0 else 0
        return landing - pos > self.min_skip


def _seeking(inp, vs, ain, src, w: _RangeWriter, plan: _SeekPlan, threads: int = 0) -> None:
    """Decode the ranges, seeking ahead when it saves decoding; frames are identified by pts."""
    frame_pts = plan.pts
    index_of = {p: i for i, p in enumerate(frame_pts)}
    extra = [ain] if ain is not None else []
    need_seek = plan.worth(w.next_start(), -1)
    while not w.done:
        start = w.next_start()
        if start >= len(frame_pts):
            return  # the video has no such frame
        if need_seek:
            try:
                inp.seek(plan.target(start), stream=vs, backward=True, any_frame=False)
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                raise _SeekFailed(str(exc)) from None
            w.seeks += 1
        check_landing = need_seek
        need_seek = False
        drain = _AudioDrain(w)
        for kind, _, t, frame in decode_frames(inp, vs, src, extra, threads=threads):
            if kind == "audio":
                w.audio(frame)
                if need_seek and not w.audio_pending():
                    break
                continue
            i = index_of.get(frame.pts)
            if i is None:
                continue  # e.g. a leading frame of an open GOP, not in the first pass
            abs_t = _abs_time(frame, t)
            if check_landing:
                check_landing = False
                if i > w.next_start():
                    raise _SeekFailed(f"seek landed after frame {w.next_start()}")
            if need_seek or w.done:  # finishing the last range's audio before seeking on (or stopping)
                if drain.stop(abs_t):
                    break
                continue
            j_before = w.j
            w.video(i, frame, abs_t)
            if w.done:
                if not w.audio_pending():
                    return
            elif w.j > j_before and not w.open and plan.worth(w.next_start(), i):
                need_seek = True  # a range just ended and the next one is worth a seek
                if not w.audio_pending():
                    break
        else:
            w.finish()
            return  # end of file


def check_encoder_options(crf: int, preset: str) -> None:
    if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 0 <= int(crf) <= 51:
        raise ConfigError(None, f"crf must be an integer from 0 (lossless) to 51, got {crf!r}")
    if preset not in X264_PRESETS:
        raise ConfigError(None, f"unknown x264 preset {preset!r} (choose from {', '.join(X264_PRESETS)})")


def _source_streams(inp, src: Path, keep_audio: bool):
    """The source's video stream and the audio stream to keep (None: no audio, not
    wanted, or a codec this FFmpeg cannot decode, in which case only video is written)."""
    vs = video_stream(inp, src)
    ain = inp.streams.audio[0] if (keep_audio and inp.streams.audio) else None
    if ain is not None and ain.codec_context is None:
        ain = None
    return vs, ain


def first_frame_rotation(src: Path) -> int:
    """The display rotation of the source's first decodable frame (0 when none decodes)."""
    try:
        with open_media(src, mode="r") as c:
            vs = video_stream(c, src)
            frames = decode_frames(c, vs, src, threads=1)
            try:
                first = next(frames, None)
            finally:
                frames.close()
            return 0 if first is None else rotation_of(first[3])
    except (VideoError, av.error.FFmpegError, OSError, ValueError):
        return 0  # the source's problems are reported when it is opened to be written


@dataclass
class _Geometry:
    """How a source frame becomes an output frame: display rotation and pixel aspect applied,
    then made even (see the module docstring)."""

    width: int  # the full output frame
    height: int
    rotation: int
    sar: Fraction
    crop: Crop | None = None  # windows cut out of the full frame (the output is their size)

    @property
    def out_size(self) -> tuple[int, int]:
        """The size written: the full frame's, or the crop windows'."""
        return (self.width, self.height) if self.crop is None else (self.crop.width, self.crop.height)

    @classmethod
    def of(cls, vs, src: Path, rotation: int) -> "_Geometry":
        w = int(vs.codec_context.width or 0)
        h = int(vs.codec_context.height or 0)
        if w <= 0 or h <= 0:
            raise VideoError(src, "video stream has no frame size (unsupported or corrupt)")
        sar = sample_aspect_ratio(vs)
        dw = w if sar == 1 else int(round(w * sar))
        dw, dh = (h, dw) if rotation in (90, 270) else (dw, h)
        return cls(even(dw), even(dh), rotation, sar)

    def convert(self, frame, index: int = 0):
        """The output frame (yuv420p, output size, upright) of decoded source frame number
        ``index``: the full frame, or its window of :attr:`crop`."""
        if self.crop is not None:
            return self.crop.apply(self._full(frame), index)
        return self._full(frame)

    def _full(self, frame):
        """The full upright frame (yuv420p, even size) of a decoded source frame."""
        ow, oh = self.width, self.height
        if not self.rotation:
            if frame.format.name == "yuv420p" and frame.width == ow and frame.height == oh:
                return frame
            return frame.reformat(width=ow, height=oh, format="yuv420p")
        sw, sh = (oh, ow) if self.rotation in (90, 270) else (ow, oh)  # the size before rotating
        rgb = frame.to_ndarray(width=sw, height=sh, format="rgb24")
        upright = np.ascontiguousarray(np.rot90(rgb, k=self.rotation // 90))  # counter-clockwise
        return av.VideoFrame.from_ndarray(upright, format="rgb24").reformat(format="yuv420p")


def _open_output(tmp: Path, out_path: Path):
    try:
        return av.open(local_url(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
    except av.error.FFmpegError as exc:
        raise OutputError(out_path, f"cannot create the output video ({exc})") from None


def _add_video_stream(out, ofps: Fraction, ow: int, oh: int, vtb: Fraction, crf: int, preset: str, threads: int = 0):
    options = {"crf": str(int(crf)), "preset": preset}
    if threads:
        options["threads"] = str(int(threads))
    ovs = out.add_stream("libx264", rate=ofps, options=options)
    ovs.width, ovs.height, ovs.pix_fmt = ow, oh, "yuv420p"
    ovs.codec_context.time_base = vtb
    return ovs


def _add_audio_stream(out, ain, ofps: Fraction) -> _AudioCutter | None:
    """An AAC stream for the source's audio, and the cutter that fills it (None without audio)."""
    if ain is None:
        return None
    rate, layout = _audio_format(ain)
    try:
        oas = out.add_stream("aac", rate=rate, layout=layout)
    except (av.error.FFmpegError, ValueError):
        rate, layout = 48000, "stereo"
        oas = out.add_stream("aac", rate=rate, layout=layout)
    return _AudioCutter(oas, rate, layout, ofps, out)


def _decode_ranges(
    inp,
    vs,
    ain,
    src: Path,
    writer: _RangeWriter,
    pts_list: list[int] | None,
    key_frames,
    ofps: Fraction,
    threads: int = 0,
) -> None:
    """Feed the wanted frames to ``writer``: seeking when the frames' pts are known, else in one pass."""
    if pts_list is None:
        _linear(inp, vs, ain, src, writer, threads)
        return
    try:
        plan = _SeekPlan(pts_list, key_frames, Fraction(vs.time_base), ofps, audio=ain is not None)
        _seeking(inp, vs, ain, src, writer, plan, threads)
    except _SeekFailed:
        # (raised between ranges only) decode again from the start on a fresh
        # demuxer; frames before the next range are skipped
        with open_container(src) as again:
            vs2 = video_stream(again, src)
            ain2 = again.streams.audio[0] if ain is not None else None
            _linear(again, vs2, ain2, src, writer, threads)


def _finish_streams(ovs, out, cutter: _AudioCutter | None, timing: _Timing) -> float:
    """Flush the encoders; returns the seconds of audio written."""
    timing.mux(out, ovs.encode(None))
    if cutter is None:
        return 0.0
    cutter.finish()
    return cutter.written_samples / cutter.rate


def write_summary_video(
    src_path: str | os.PathLike,
    frame_ranges: Sequence[Sequence[int]],
    out_path: str | os.PathLike,
    *,
    source: SourceFrames | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    keep_audio: bool = True,
    threads: int = 0,
    progress: Progress | None = None,
    crop: Crop | None = None,
) -> WriteStats:
    """Encode the frames in ``frame_ranges`` (inclusive, ascending) of ``src_path``, with one writer.

    ``source``: what an earlier full pass knows of the source's frames (:class:`SourceFrames`:
    the output frame rate, the pts to seek by, the keyframes, a variable rate's frame times).
    Without its ``frame_pts``, or if the file cannot seek, the source is decoded from the
    start in one pass.
    ``threads``: FFmpeg's decoder threads and x264's threads (0: theirs, on every core).
    ``progress`` receives :class:`acsumgan.progress.Event` values of the stage ``"encoding"``
    (frames written, frames to write) as frames are written, and once at the end.
    A long summary may be written by several processes at once instead:
    :func:`acsumgan.media.encode_parts.write_in_parts`.
    ``crop`` (a :class:`~acsumgan.media.geometry.Crop`, e.g. from
    :meth:`acsumgan.media.reframe.Reframe.crop`): each frame is cut to its window of the
    upright frame (:func:`full_frame`) and the output is the windows' size; None: the
    whole frame, as without reframing (the same bytes).
    Returns :class:`WriteStats` (``width``, ``height``: the size written).
    """
    t0 = time.perf_counter()
    source = source or SourceFrames()
    ranges = check_ranges(frame_ranges)
    check_encoder_options(crf, preset)
    src = Path(src_path)
    out_path = Path(out_path)
    total = sum(b - a + 1 for a, b in ranges)
    pts_list = usable_pts(source.frame_pts)
    key_frames = source.key_frames
    rotation = first_frame_rotation(src)

    with open_container(src) as inp:
        vs, ain = _source_streams(inp, src, keep_audio)
        ofps = _output_fps(vs, source.fps)
        geometry = _Geometry.of(vs, src, rotation)
        if crop is not None:
            if not crop.fits(geometry.width, geometry.height):
                raise ConfigError(
                    None, f"{src}: a crop window lies outside the {geometry.width}x{geometry.height} frame"
                )
            geometry.crop = crop
        ow, oh = geometry.out_size
        timing = _Timing(ofps, source.frame_times)
        with atomic_path(out_path) as tmp, _open_output(tmp, out_path) as out:
            ovs = _add_video_stream(out, ofps, ow, oh, timing.tb, crf, preset, threads)
            cutter = _add_audio_stream(out, ain, ofps)
            writer = _RangeWriter(ranges, ovs, out, geometry, timing, cutter, progress, total)
            _decode_ranges(inp, vs, ain, src, writer, pts_list, key_frames, ofps, threads)
            writer.finish()
            if writer.written == 0:
                raise VideoError(
                    src, f"none of the requested frames exist (the video ends before frame {ranges[0][0]})"
                )
            audio_seconds = _finish_streams(ovs, out, cutter, timing)
    written = writer.written
    report(progress, "encoding", written, total)
    return WriteStats(
        path=out_path,
        frames_written=written,
        duration=float(timing.end * timing.tb) if timing.vfr else float(Fraction(written) / ofps),
        fps=float(ofps),
        width=ow,
        height=oh,
        has_audio=cutter is not None,
        audio_seconds=audio_seconds,
        seconds=time.perf_counter() - t0,
        decoded_frames=writer.seen,
        seeks=writer.seeks,
        rotation=geometry.rotation,
        sample_aspect_ratio=geometry.sar,
        source_timestamps=timing.vfr,
    )


@dataclass(frozen=True)
class FullFrame:
    """The frame the writer makes of each source frame before any crop: upright (``rotation``,
    degrees counter-clockwise, applied), square pixels, even ``width`` x ``height``."""

    width: int
    height: int
    rotation: int


def full_frame(src_path: str | os.PathLike) -> FullFrame:
    """The upright, square-pixelled, even frame size :func:`write_summary_video` writes for
    ``src_path`` (crop windows are given in it)."""
    src = Path(src_path)
    rotation = first_frame_rotation(src)
    with open_container(src) as inp:
        g = _Geometry.of(video_stream(inp, src), src, rotation)
    return FullFrame(g.width, g.height, g.rotation)


def usable_pts(frame_pts) -> list[int] | None:
    """The pts list if frames can be identified by it (all present and distinct)."""
    if frame_pts is None:
        return None
    try:
        pts = [int(p) for p in frame_pts]
    except (TypeError, ValueError):
        return None
    if not pts or len(set(pts)) != len(pts):
        return None
    return pts
