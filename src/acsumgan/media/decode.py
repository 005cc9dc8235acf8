"""Decoding videos with PyAV, and sampling them at the benchmark's rate.

Sampling rule
-------------
(Written once, by time and by pts, in :mod:`.sampling`.)
The eccv16 benchmarks (TVSum, SumMe) keep every 15th frame of a 30 fps video, i.e.
2 steps per second. We sample by *time* so that any frame rate, including a
variable one, gives the same number of steps per second:

* Every decoded video frame gets an index ``i`` (0, 1, 2, ... in decode output
  order, counting ALL frames) and a presentation time ``t_i`` in seconds, relative
  to the first frame, computed exactly as ``Fraction(pts) * time_base`` minus the
  first frame's value (rational arithmetic, no floating-point rounding).
* A frame without a pts gets ``t_i = i / fps`` (``fps`` from the stream's
  metadata, see :attr:`VideoInfo.fps`).
* Step ``k`` (k = 0, 1, 2, ...) is the first frame with ``t_i >= k / rate``
  (``rate`` = steps per second, default 2.0). When one frame is the first to reach
  several thresholds (a gap in a variable-rate video, or ``rate`` above the frame
  rate) it is taken once, and the next threshold is the first ``k / rate`` after
  it; so ``picks`` is strictly increasing.

A constant 30 fps video therefore gives frames 0, 15, 30, ... exactly; 25 fps gives
0, 13, 25, 38, 50, ... (the first frame at or after each half second); 10 fps gives
0, 5, 10, ...

The frame rate reported after decoding (:attr:`FrameSampler.fps`) is the
stream's metadata rate (FFmpeg's guessed rate, else the average rate), unless the
rate measured from the timestamps, ``(n - 1) / (t_last - t_first)``, differs from
it by more than 1% (variable frame rate, wrong metadata); then the measured one.
A video is treated as constant-rate when every frame time is within half a frame
of ``i / fps``.

Only the sampled frames are converted to RGB (and resized); the others are
decoded (they must be, to count them and to decode what follows) but never
converted. After a full pass, the number of decoded frames is known exactly.

Errors
------
Problems with the input raise :class:`~acsumgan.errors.VideoError` with a one-line
message: a missing file, a folder, an empty (0-byte) file, a file that is not a
media file, a media file without a video stream (audio only; cover art does not
count), a playlist or script that names other files (an ffconcat script, an HLS playlist:
only the file itself is read, as a plain local file, whatever its name), a video without
any decodable frame, and a decoding error in the middle of the file (a packet fails to
decode and later packets decode again). A file that is truncated, as an interrupted
download or copy is, is accepted when its container still opens: what is there is
decoded, and ``n_frames`` is the number of frames that decoded (a decoding error with
nothing decodable after it is taken as the end of a truncated file). An MP4 whose index
(moov atom) was cut off cannot be opened at all and is reported as truncated.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator, Sequence, TypeVar

import av
import numpy as np

from ..errors import ConfigError, VideoError
from ..fileio import check_input_file, local_url
from .sampling import DEFAULT_RATE, StepRule, check_rate

T = TypeVar("T")
#: Used only when a video's metadata gives no frame rate at all.
FALLBACK_FPS = Fraction(25)
#: File name suffixes taken as videos when a folder is given: the video containers FFmpeg
#: (hence PyAV) demuxes, camera and phone formats included (AVCHD .mts/.m2ts, 3GPP, MXF, DV).
#: Images, audio and other files of a folder are skipped (and named, see :func:`folder_videos`).
VIDEO_SUFFIXES = {
    ".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
    ".mts", ".m2ts", ".m2t", ".3gp", ".3g2", ".mxf", ".ogv", ".vob", ".divx", ".f4v", ".asf",
    ".dv", ".mk3d", ".mod", ".tod", ".qt", ".rm", ".rmvb", ".nut", ".y4m", ".h264", ".264", ".hevc",
    ".h265", ".m1v", ".m2v", ".mpv",
}  # fmt: skip


def folder_videos(folder: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """``(videos, skipped)`` of a folder, each sorted by name: the files with a video suffix
    (:data:`VIDEO_SUFFIXES`) and the other files (hidden ones, ``.name``, left out of both
    unless they have a video suffix). Sub-folders are not searched."""
    videos, skipped = [], []
    for q in sorted(Path(folder).iterdir()):
        if not q.is_file():
            continue
        if q.suffix.lower() in VIDEO_SUFFIXES:
            videos.append(q)
        elif not q.name.startswith("."):
            skipped.append(q)
    return videos, skipped


def videos_in(folder: str | os.PathLike) -> list[Path]:
    """The video files of a folder (by suffix, :data:`VIDEO_SUFFIXES`), sorted by name."""
    return folder_videos(folder)[0]


def skipped_note(folder: str | os.PathLike, skipped: Sequence[Path], limit: int = 8) -> str:
    """One line naming the files of ``folder`` that were skipped as not videos."""
    names = [q.name for q in skipped]
    shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    what = "1 file that is not a video" if len(names) == 1 else f"{len(names)} files that are not videos"
    return f"{folder}: skipped {what} (by name): {shown}"


@dataclass
class VideoInfo:
    """What the container says about a video (before decoding it)."""

    path: Path
    fps: float
    n_frames: int
    """Estimate from the container (exact count is known only after decoding)."""
    width: int
    height: int
    duration: float
    has_audio: bool
    codec: str = ""
    container: str = ""
    fps_fraction: Fraction = field(default=FALLBACK_FPS, repr=False)


@dataclass
class SampledFrame:
    """One sampled step: its step number, frame index, time and RGB image."""

    step: int
    index: int
    time: float
    image: np.ndarray


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    text = msg[0] if msg else type(exc).__name__
    # PyAV messages look like "[Errno 1094995529] Invalid data found ...: 'path'".
    if text.startswith("[Errno"):
        text = text.split("]", 1)[-1].strip()
    # ... and often end with ": 'avcodec_send_packet()'" or ": '/the/path'".
    if text.endswith("'") and ": '" in text:
        text = text[: text.rindex(": '")]
    return text


def _check_file(path: Path) -> None:
    check_input_file(path, VideoError, "a video file")
    if not os.access(path, os.R_OK):
        raise VideoError(path, "cannot read (permission denied)")


def _looks_like_mp4(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"mdat", b"moov", b"wide", b"free")


#: Demuxers never used on a user's file: they read a list of other files or addresses from the
#: file (a script, a playlist, a session description) and open those, or run a script. Those
#: that open their own input (FFmpeg's ``AVFMT_NOFILE``: ``image2`` patterns, devices, network
#: streams, ``lavfi`` graphs) are left out as well, see :func:`plain_demuxers`.
INDIRECT_DEMUXERS = frozenset(
    {"concat", "hls", "applehttp", "dash", "imf", "sdp", "rtp", "rtsp", "sap", "avisynth", "vapoursynth", "lavfi"}
)


@functools.lru_cache(maxsize=1)
def plain_demuxers() -> str:
    """The demuxers :func:`open_media` allows (FFmpeg's ``format_whitelist``, comma-separated):
    every one of this FFmpeg that reads the bytes of the file it is given, except the
    :data:`INDIRECT_DEMUXERS`."""
    names: set[str] = set()
    for name in av.formats_available:
        try:
            fmt = av.ContainerFormat(name, "r")
        except ValueError:  # a muxer only
            continue
        parts = fmt.name.split(",")  # "mov,mp4,m4a,3gp,3g2,mj2": FFmpeg matches each
        if fmt.no_file or INDIRECT_DEMUXERS.intersection(parts):
            continue
        names.update(parts)
    return ",".join(sorted(names))


def open_media(path: str | os.PathLike, mode: str = "r", **kwargs):
    """``av.open`` of the local file ``path`` (:func:`acsumgan.fileio.local_url`): reading
    (``mode`` "r") only through the file protocol and with one of :func:`plain_demuxers`, else
    PyAV's ``av.error.ArgumentError`` (a playlist or a script, say) or its usual errors (e.g.
    ``InvalidDataError``: no demuxer recognises the file). ``kwargs`` go to ``av.open``."""
    if mode == "r":
        options = {"protocol_whitelist": "file", "format_whitelist": plain_demuxers()}
        kwargs["container_options"] = {**kwargs.get("container_options", {}), **options}
    return av.open(local_url(path), mode=mode, **kwargs)


def open_container(path: str | os.PathLike) -> "av.container.InputContainer":
    """Open ``path`` for reading with PyAV, translating failures into VideoError.

    The file is opened as a local file by a demuxer that reads only its bytes
    (:func:`open_media`): a name like ``concat:a.mp4|b.mp4`` is that file, and
    a playlist or a script (an ffconcat file, an HLS ``.m3u8``) is not a video file.
    """
    p = Path(path)
    _check_file(p)
    try:
        return open_media(p, mode="r")
    except av.error.InvalidDataError:
        if _looks_like_mp4(p):
            raise VideoError(
                p, "truncated or corrupt MP4 (its index, the moov atom, is missing or unreadable)"
            ) from None
        raise VideoError(p, "not a video file (unrecognised format)") from None
    except av.error.ArgumentError:
        # a demuxer recognised it that open_media does not allow (concat, hls, ...)
        raise VideoError(p, "not a video file (unrecognised format)") from None
    except av.error.FFmpegError as exc:
        raise VideoError(p, f"cannot open as a video ({_one_line(exc)})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise VideoError(p, f"cannot open ({_one_line(exc)})") from None


def video_stream(container, path) -> "av.video.stream.VideoStream":
    """The main video stream (cover art / attached pictures do not count)."""
    candidates = []
    for s in container.streams.video:
        try:
            attached = bool(s.disposition & av.stream.Disposition.attached_pic)
        except Exception:  # pragma: no cover - older PyAV without dispositions
            attached = False
        if not attached:
            candidates.append(s)
    if not candidates:
        if container.streams.audio:
            raise VideoError(path, "has no video stream (audio only)")
        raise VideoError(path, "has no video stream")
    stream = candidates[0]
    if stream.codec_context is None:
        raise VideoError(path, "video codec is not supported by this build of FFmpeg")
    return stream


def audio_stream(container):
    """The first audio stream, or None."""
    return container.streams.audio[0] if container.streams.audio else None


def _positive(x) -> Fraction | None:
    try:
        if x is None:
            return None
        f = Fraction(x)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return f if f > 0 and f < 10000 else None


def metadata_fps(stream) -> Fraction | None:
    """Frame rate from the stream's metadata (guessed, else average, else base rate)."""
    for name in ("guessed_rate", "average_rate", "base_rate"):
        try:
            f = _positive(getattr(stream, name))
        except Exception:  # noqa: BLE001 - attribute access can fail on odd streams
            f = None
        if f is not None:
            return f
    return None


def _info_from(container, stream, p: Path) -> VideoInfo:
    fps = metadata_fps(stream) or FALLBACK_FPS
    duration = 0.0
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / av.time_base
    n = int(stream.frames or 0)
    if n <= 0:
        n = max(1, int(round(duration * float(fps)))) if duration > 0 else 0
    if duration <= 0 and n > 0:
        duration = n / float(fps)
    cc = stream.codec_context
    return VideoInfo(
        path=p,
        fps=float(fps),
        n_frames=n,
        width=int(cc.width or 0),
        height=int(cc.height or 0),
        duration=duration,
        has_audio=bool(container.streams.audio),
        codec=cc.name or "",
        container=container.format.name if container.format else "",
        fps_fraction=fps,
    )


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's metadata (frame rate, frame count estimate, size, duration, audio)."""
    p = Path(path)
    with open_container(p) as container:
        stream = video_stream(container, p)
        info = _info_from(container, stream, p)
    if info.width <= 0 or info.height <= 0:
        raise VideoError(p, "video stream has no frame size (unsupported or corrupt)")
    return info


class FrameClock:
    """Gives each decoded frame its index and exact time (relative to the first frame)."""

    def __init__(self, time_base, fallback_fps: Fraction):
        self.time_base = Fraction(time_base) if time_base else None
        self.fallback_fps = fallback_fps
        self.origin: Fraction | None = None
        self.index = 0
        self.any_missing_pts = False

    def tick(self, frame) -> tuple[int, Fraction]:
        i = self.index
        self.index += 1
        pts = frame.pts
        tb = frame.time_base if frame.time_base else self.time_base
        if pts is None or tb is None:
            self.any_missing_pts = True
            return i, Fraction(i) / self.fallback_fps
        t = Fraction(pts) * Fraction(tb)
        if self.origin is None:
            # The origin is the first frame's time; if frame 0 had no pts, place the
            # origin so that this frame's time agrees with index / fps.
            self.origin = t - Fraction(i) / self.fallback_fps
        return i, t - self.origin


class DecodeErrorPolicy:
    """Tell a truncated end (tolerated) from corruption mid-file (an error)."""

    def __init__(self, path):
        self.path = path
        self.error: BaseException | None = None
        self.error_at = 0

    def failed(self, exc: BaseException, frames_so_far: int) -> None:
        if self.error is None:
            self.error = exc
            self.error_at = frames_so_far

    def decoded_again(self) -> None:
        if self.error is not None:
            raise VideoError(
                self.path,
                f"corrupt video data: decoding failed after frame {self.error_at} "
                f"({_one_line(self.error)}) and resumed later",
            )


def set_decoder_threads(stream, threads: int = 0) -> None:
    """``threads`` 0: FFmpeg's frame and slice threads on every core (``AUTO``); ``n >= 1``:
    at most ``n`` decoder threads (1 decodes on the calling thread only)."""
    try:
        if threads == 1:
            stream.thread_type = "NONE"
        else:
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = max(0, int(threads))
    except (RuntimeError, ValueError):
        pass  # decoder already open (decoding again after a seek): keeps its setting


def decode_frames(container, stream, path, extra_streams: Sequence = (), threads: int = 0) -> Iterator:
    """Demux and decode; yield ``("video", index, time, frame)`` for every video frame
    and ``("audio", None, None, frame)`` for frames of ``extra_streams`` (audio).

    ``threads``: FFmpeg's decoder threads (:func:`set_decoder_threads`). Video decoding
    errors follow :class:`DecodeErrorPolicy`; errors in the extra streams skip that
    packet. Raises VideoError when no video frame decodes.
    """
    set_decoder_threads(stream, threads)
    clock = FrameClock(stream.time_base, metadata_fps(stream) or FALLBACK_FPS)
    policy = DecodeErrorPolicy(path)
    streams = [stream, *extra_streams]
    try:
        packets = container.demux(streams)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.EOFError:
                break
            except av.error.FFmpegError as exc:
                # A read error: whatever follows is unreadable, like a truncated file.
                policy.failed(exc, clock.index)
                break
            is_video = packet.stream.index == stream.index
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:
                if is_video:
                    policy.failed(exc, clock.index)
                continue
            for frame in frames:
                if is_video:
                    policy.decoded_again()
                    i, t = clock.tick(frame)
                    yield "video", i, t, frame
                else:
                    yield "audio", None, None, frame
        # Flush the decoders (the demuxer's final empty packets usually do this
        # already; a second flush yields nothing).
        for s in streams:
            try:
                frames = s.decode(None)
            except av.error.FFmpegError:
                continue
            for frame in frames:
                if s.index == stream.index:
                    i, t = clock.tick(frame)
                    yield "video", i, t, frame
                else:
                    yield "audio", None, None, frame
    except VideoError:
        raise
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"cannot decode ({_one_line(exc)})") from None
    if clock.index == 0:
        if policy.error is not None:
            raise VideoError(path, f"no decodable video frames ({_one_line(policy.error)})")
        raise VideoError(path, "no decodable video frames")


class FrameSampler:
    """Iterate over the sampled frames of a video, resized to ``size`` (w, h) RGB uint8.

    After the iteration ends, :attr:`n_frames` (exact decoded count),
    :attr:`frame_times` (seconds of every decoded frame), :attr:`frame_pts` (their
    raw pts, None where absent), :attr:`key_frames` (indices of keyframes),
    :attr:`fps` and :attr:`constant_rate` are set.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        rate: float = DEFAULT_RATE,
        size: tuple[int, int] | None = None,
        decoder_threads: int = 0,
    ):
        self.path = Path(path)
        self.rate = check_rate(rate)
        self.decoder_threads = int(decoder_threads)
        if size is not None:
            w, h = (int(size[0]), int(size[1]))
            if w <= 0 or h <= 0:
                raise ConfigError(None, f"frame size must be positive, got {size}")
            size = (w, h)
        self.size = size
        self.info = probe(self.path)
        self.n_frames: int | None = None
        self.frame_times: np.ndarray | None = None
        self.fps: float | None = None
        self.fps_fraction: Fraction | None = None
        self.constant_rate: bool | None = None
        self.picks: list[int] = []
        self.timestamps: list[float] = []
        self.frame_pts: list[int | None] = []
        self.key_frames: list[int] = []

    def __iter__(self) -> Iterator[SampledFrame]:
        p = self.path
        times: list[float] = []
        pts_list: list[int | None] = []
        keys: list[int] = []
        picks: list[int] = []
        stamps: list[float] = []
        last_t: Fraction | None = None
        first_t: Fraction | None = None
        missing = False
        rule = StepRule(self.rate)
        with open_container(p) as container:
            stream = video_stream(container, p)
            for _, i, t, frame in decode_frames(container, stream, p, threads=self.decoder_threads):
                times.append(float(t))
                pts_list.append(frame.pts)
                if frame.key_frame:
                    keys.append(i)
                if first_t is None:
                    first_t = t
                last_t = t
                if frame.pts is None:
                    missing = True
                if rule.take(rule.cell_at(t)):
                    try:
                        if self.size is None:
                            img = frame.to_ndarray(format="rgb24")
                        else:
                            img = frame.to_ndarray(width=self.size[0], height=self.size[1], format="rgb24")
                    except (av.error.FFmpegError, ValueError) as exc:
                        raise VideoError(p, f"cannot convert frame {i} to RGB ({_one_line(exc)})") from None
                    picks.append(i)
                    stamps.append(float(t))
                    yield SampledFrame(step=len(picks) - 1, index=i, time=float(t), image=img)
        n = len(times)
        self.n_frames = n
        self.frame_times = np.asarray(times, dtype=np.float64)
        self.picks = picks
        self.timestamps = stamps
        self.frame_pts = pts_list
        self.key_frames = keys
        span = None if missing or last_t is None or first_t is None else last_t - first_t
        self.fps_fraction = frame_rate(n, span, self.info.fps_fraction)
        self.fps = float(self.fps_fraction)
        self.constant_rate = is_constant_rate(self.frame_times, self.fps)


def frame_rate(n: int, span: Fraction | None, metadata: Fraction | None) -> Fraction:
    """The reported frame rate of ``n`` frames whose times span ``span`` seconds (None:
    some frame had no pts): the metadata rate unless the measured one differs by > 1 %."""
    meta = _positive(metadata)
    measured = Fraction(n - 1) / span if n >= 2 and span is not None and span > 0 else None
    fps = meta
    if measured is not None and (meta is None or abs(measured - meta) > meta / 100):
        fps = measured.limit_denominator(1001)
    return fps or FALLBACK_FPS


def is_constant_rate(frame_times: np.ndarray, fps: float) -> bool:
    """Every frame time within half a frame of ``index / fps``."""
    n = len(frame_times)
    ideal = np.arange(n, dtype=np.float64) / fps
    return bool(n == 0 or np.max(np.abs(frame_times - ideal)) <= 0.5 / fps)


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterate over ``items`` on a background thread, at most ``depth`` items ahead.

    Decoding (FFmpeg, which releases the GIL) then runs beside what the caller does
    with the items (the network). An exception in the background is raised here, at
    the item where it happened; when the caller stops early (an error, Ctrl-C, a
    ``break``) the background iteration is closed on its own thread and joined.
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        it = iter(items)
        try:
            for x in it:
                if not put((x, None)):
                    return
            put((done, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((None, exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="acsumgan-decode", daemon=True)
    worker.start()
    try:
        while True:
            x, exc = q.get()
            if exc is not None:
                raise exc
            if x is done:
                return
            yield x
    finally:
        stop.set()
        worker.join()
