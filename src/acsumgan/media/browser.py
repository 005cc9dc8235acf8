"""The media files of a review page: shot thumbnails and a video the browser can play.

:func:`write_thumbnails` writes one JPEG per shot, the shot's middle frame, decoding
the video once from the start and stopping after the last frame it needs (no seek,
so it costs one decode of the file up to there, and holds one frame at a time).
Frames are counted in the order the decoder returns them, every frame counted, as
:mod:`acsumgan.media.decode` numbers them, so shots given as frame ranges of the
summarizer pick the intended frames. Rotation metadata (a display matrix) and
non-square pixels are honoured (:mod:`.geometry`, as in the summary video): a thumbnail
looks as the video plays. A video is opened as :func:`acsumgan.media.decode.open_container`
opens it (the same checks and messages), its main video stream (cover art does not count).

:func:`playable_href` gives the ``src`` of the page's ``<video>``: a relative link to
the original when a browser plays it (H.264 / VP9 / AV1 in MP4 or MOV, VP8 / VP9 /
AV1 in WebM, with browser audio or none), else it writes a small H.264 copy
(:func:`write_browser_copy`, at most 640 pixels wide, same frame rate and
timestamps) beside the page and links that. Every file is written through
:func:`acsumgan.fileio.atomic_path`.
"""

from __future__ import annotations

import os
import urllib.parse
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import av

from ..errors import VideoError
from ..fileio import atomic_path, local_url
from .decode import open_container, video_stream
from .geometry import even, rotation_of, sample_aspect_ratio

if TYPE_CHECKING:  # the images PyAV's to_image() makes
    from PIL import Image

#: The name of the browser copy beside the page.
COPY_NAME = "original.mp4"
#: The browser copy is scaled down to at most this width (pixels).
COPY_MAX_WIDTH = 640
#: Container families by file suffix, and the codecs browsers play in each.
FAMILY = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mp4", ".webm": "webm"}
#: The demuxer FFmpeg reports for each family (a .mp4 that is really an AVI is copied).
DEMUXER = {"mp4": ("mov", "mp4"), "webm": ("webm", "matroska")}
BROWSER_VIDEO = {"mp4": {"h264", "vp9", "av1"}, "webm": {"vp8", "vp9", "av1"}}
BROWSER_AUDIO = {"mp4": {"aac", "mp3", "opus", "flac"}, "webm": {"opus", "vorbis"}}
#: H.264 plays in browsers in 8-bit 4:2:0 only (not High 10 or 4:4:4).
H264_PIX_FMTS = {"yuv420p", "yuvj420p"}
#: Sample rates and channel layouts the browser copy's audio keeps as they are (others:
#: 48 kHz, stereo). Fewer than the summary video keeps
#: (:data:`acsumgan.media.encode.SUMMARY_AAC_LAYOUTS`, and every rate of FFmpeg's AAC
#: encoder, 7350 Hz included): the copy is a small preview for a browser's player, where
#: mono or stereo is what plays everywhere.
BROWSER_AAC_RATES = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}
BROWSER_AAC_LAYOUTS = {"mono", "stereo"}
AAC_FRAME = 1024


def relative_href(target: str | os.PathLike, base_dir: str | os.PathLike) -> str:
    """A URL to ``target`` relative to the folder ``base_dir`` (its bytes quoted, so a name that is
    not UTF-8 links right too; ``/`` separators)."""
    try:
        rel = os.path.relpath(os.path.abspath(target), os.path.abspath(base_dir))
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(target).resolve().as_uri()
    return urllib.parse.quote(os.fsencode(Path(rel).as_posix()))


# ----------------------------------------------------------------------------- reading


def _open(path: str | os.PathLike):
    """(path, container, main video stream) of a readable video, else a one-line VideoError."""
    p = Path(path)
    container = open_container(p)
    try:
        return p, container, video_stream(container, p)
    except BaseException:
        container.close()
        raise


def _decoded(container, streams) -> Iterator:
    """Decoded frames of ``streams``, in file order; packets that do not decode are skipped."""
    for packet in container.demux(*streams):
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            continue
        yield from frames


def _display_size(frame, sar: float = 1.0) -> tuple[float, float]:
    """Width and height as shown (pixel aspect ratio ``sar`` applied), before rotation."""
    w, h = frame.width, frame.height
    return (w * sar if sar > 0 else w), h


def _thumbnail(frame, width: int, sar: float = 1.0):
    """The frame as an RGB Pillow image ``width`` pixels wide (never enlarged), upright."""
    dw, dh = _display_size(frame, sar)
    rot = rotation_of(frame)
    shown_w, shown_h = (dh, dw) if rot in (90, 270) else (dw, dh)
    tw = max(1, min(int(width), int(round(shown_w))))
    th = max(1, int(round(shown_h * tw / shown_w)))
    sw, sh = (th, tw) if rot in (90, 270) else (tw, th)  # the size before rotating
    img = frame.to_image(width=sw, height=sh, interpolation="AREA")
    return img.rotate(rot, expand=True) if rot else img


def write_thumbnails(
    video_path: str | os.PathLike, shots: Sequence[tuple[int, int]], out_dir: str | os.PathLike, width: int = 320
) -> list[Path]:
    """One JPEG per shot (``out_dir/shot0001.jpg``, ...): the middle frame ``(first + last) // 2``
    of each inclusive frame range, at most ``width`` pixels wide. One pass over the file;
    a shot whose middle frame lies past the video's end gets the last frame."""
    ranges = _checked_shots(shots, width)
    out = Path(out_dir)
    digits = max(4, len(str(len(ranges))))
    paths = [out / f"shot{i + 1:0{digits}d}.jpg" for i in range(len(ranges))]
    for shot_indices, img in _middle_thumbnails(video_path, ranges, width):
        for i in shot_indices:
            with atomic_path(paths[i]) as tmp:
                img.save(tmp, format="JPEG", quality=82)
    return paths


def middle_frames(video_path: str | os.PathLike, shots: Sequence[tuple[int, int]], width: int = 320) -> list:
    """The middle frame ``(first + last) // 2`` of each inclusive frame range, as RGB Pillow
    images at most ``width`` pixels wide, upright (as :func:`write_thumbnails` saves them),
    in the order of ``shots``. One pass over the file; a middle frame past the video's end
    gives the last frame."""
    ranges = _checked_shots(shots, width)
    images: list = [None] * len(ranges)
    for shot_indices, img in _middle_thumbnails(video_path, ranges, width):
        for i in shot_indices:
            images[i] = img
    return images


def _checked_shots(shots: Sequence[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    ranges = [(int(a), int(b)) for a, b in shots]
    for a, b in ranges:
        if a < 0 or b < a:
            raise ValueError(f"shot ({a}, {b}): expected 0 <= first <= last")
    if int(width) < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    return ranges


def images_at(video_path, wanted, width: int) -> Iterator[tuple[int | None, Image.Image]]:
    """``(index, image)`` of each frame index in ``wanted`` (a collection of ints), at most
    ``width`` wide, upright, square pixels, as the file is decoded: one pass from the start
    up to the last one wanted, one image in memory at a time. If the video ends before some
    of them, last ``(None, image of the last frame)``. One-line VideoErrors for a file that
    cannot be decoded."""
    wanted = set(wanted)
    if not wanted:
        return
    last_needed = max(wanted)
    p, container, stream = _open(video_path)
    sar = float(sample_aspect_ratio(stream))
    with container:
        stream.thread_type = "AUTO"
        last = None
        try:
            for index, frame in enumerate(_decoded(container, [stream])):
                last = frame
                if index in wanted:
                    wanted.discard(index)
                    yield index, _thumbnail(frame, width, sar)
                if index >= last_needed:
                    break
        except av.FFmpegError as exc:
            if last is None:
                raise VideoError(p, f"cannot decode ({exc})".splitlines()[0]) from None
        if last is None:
            raise VideoError(p, "no frame could be decoded")
        if wanted:  # the video ended before these frames
            yield None, _thumbnail(last, width, sar)


def _middle_thumbnails(video_path, ranges: list[tuple[int, int]], width: int):
    """``(shot indices, image)`` for each middle frame ``(first + last) // 2`` of ``ranges``, in
    one pass over the file (:func:`images_at`); the shots whose middle frame lies past the
    video's end get the last frame."""
    wanted: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(ranges):
        wanted.setdefault((a + b) // 2, []).append(i)
    for index, img in images_at(video_path, list(wanted), width):
        if index is None:
            yield sorted(i for ids in wanted.values() for i in ids), img
        else:
            yield wanted.pop(index), img


# ----------------------------------------------------------------------------- playing


def browser_plays(video_path: str | os.PathLike) -> bool:
    """True when a browser plays the file as it is (see the module docstring)."""
    p, container, stream = _open(video_path)
    with container:
        family = FAMILY.get(p.suffix.lower())
        if family is None or not any(d in container.format.name.split(",") for d in DEMUXER[family]):
            return False
        ctx = stream.codec_context
        if ctx.name not in BROWSER_VIDEO[family]:
            return False
        if ctx.name == "h264" and (ctx.pix_fmt or "yuv420p") not in H264_PIX_FMTS:
            return False
        return all(a.codec_context.name in BROWSER_AUDIO[family] for a in container.streams.audio)


def playable_href(
    video_path: str | os.PathLike, out_dir: str | os.PathLike, base_dir: str | os.PathLike | None = None
) -> str:
    """The ``src`` of the page's player, relative to ``out_dir`` (or to ``base_dir``, where the
    page will finally lie when it is written to a staging folder first): the original when
    a browser plays it, else ``original.mp4``, an H.264 copy written to ``out_dir``."""
    if browser_plays(video_path):
        return relative_href(video_path, out_dir if base_dir is None else base_dir)
    write_browser_copy(video_path, Path(out_dir) / COPY_NAME)
    return COPY_NAME


class _AudioCopy:
    """The first audio stream re-encoded to AAC, timed by counting samples (no drift)."""

    def __init__(self, out, ain, t0: float):
        rate = ain.codec_context.sample_rate or 48000
        self.rate = rate if rate in BROWSER_AAC_RATES else 48000
        layout = ain.codec_context.layout.name if ain.codec_context.layout else "stereo"
        layout = layout if layout in BROWSER_AAC_LAYOUTS else "stereo"
        self.stream = out.add_stream("aac", rate=self.rate, layout=layout)
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=self.rate, frame_size=AAC_FRAME)
        self.out, self.t0, self.pos = out, t0, None

    def add(self, frame) -> None:
        if self.pos is None:
            start = (frame.time if frame.time is not None else self.t0) - self.t0
            if start < -frame.samples / max(1, frame.sample_rate):
                return  # wholly before the first video frame
            self.pos = max(0, int(round(start * self.rate)))
        frame.pts = None
        self._encode(self.resampler.resample(frame))

    def close(self) -> None:
        if self.pos is not None:
            self._encode(self.resampler.resample(None))
        for packet in self.stream.encode(None):
            self.out.mux(packet)

    def _encode(self, frames) -> None:
        for f in frames:
            f.pts, f.time_base = self.pos, Fraction(1, self.rate)
            self.pos += f.samples
            for packet in self.stream.encode(f):
                self.out.mux(packet)


def write_browser_copy(
    video_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    max_width: int = COPY_MAX_WIDTH,
    crf: int = 23,
    preset: str = "veryfast",
) -> Path:
    """Re-encode ``video_path`` to an H.264 + AAC MP4 a browser plays: at most ``max_width``
    pixels wide (even sizes), the source's frame timestamps (so its frame rate and duration),
    the first audio stream, the rotation metadata. One streaming pass."""
    p, inp, vs = _open(video_path)
    sar = float(sample_aspect_ratio(vs))
    with inp:
        vs.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        rate = vs.average_rate or vs.guessed_rate or Fraction(25)
        tb = vs.time_base or 1 / Fraction(rate)
        step = max(1, int(round(1 / (Fraction(rate) * tb))))  # one frame in time_base units
        with atomic_path(out_path) as tmp:
            with av.open(local_url(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                ovs = audio = None
                first_pts = last_pts = None
                for frame in _decoded(inp, [vs] + ([ain] if ain is not None else [])):
                    if isinstance(frame, av.AudioFrame):
                        if audio is not None:
                            audio.add(frame)
                        continue
                    if ovs is None:  # the first video frame fixes the output's size and start
                        ovs = _video_stream(out, frame, rate, tb, max_width, crf, preset, sar)
                        first_pts = frame.pts if frame.pts is not None else 0
                        if ain is not None:
                            audio = _AudioCopy(out, ain, float(first_pts * tb))
                    pts = None if frame.pts is None else frame.pts - first_pts
                    if pts is None or (last_pts is not None and pts <= last_pts):
                        pts = 0 if last_pts is None else last_pts + step
                    last_pts = pts
                    small = frame.reformat(width=ovs.width, height=ovs.height, format="yuv420p", interpolation="AREA")
                    small.pts, small.time_base, small.duration = pts, tb, step
                    for packet in ovs.encode(small):
                        out.mux(packet)
                if ovs is None:
                    raise VideoError(p, "no frame could be decoded")
                for packet in ovs.encode(None):
                    out.mux(packet)
                if audio is not None:
                    audio.close()
    return Path(out_path)


def _video_stream(out, frame, rate, tb, max_width: int, crf: int, preset: str, sar: float = 1.0):
    dw, dh = _display_size(frame, sar)
    ow = even(min(max_width, dw))
    oh = even(round(dh * ow / dw))
    ovs = out.add_stream("libx264", rate=rate, options={"crf": str(crf), "preset": preset})
    ovs.width, ovs.height, ovs.pix_fmt = ow, oh, "yuv420p"
    ovs.codec_context.time_base = tb
    rot = rotation_of(frame)
    if rot:
        ovs.set_display_rotation(rot)
    return ovs
