"""Small synthetic videos made with PyAV, for the demo without sample videos and for tests.

:func:`write_video` is the one encoder: any frames, any codec and container, a
constant frame rate or explicit timestamps (variable frame rate), and optionally a
mono tone track whose pitch follows the frames. Painters draw the frames:

- :func:`scene_frame`: the demo's look, a colour field with stripes and a moving
  square, different for every scene;
- :func:`plain_scene_frame`: four plain looks (red field, checkerboard, stripes,
  gradient) that the scenes cycle through, with mild motion inside;
- :func:`counter_frame`: every frame a different flat grey level plus a bar, so a
  decoded frame tells its index.

:func:`scene_video` and :func:`counter_video` write such videos and return what is
known about them (:class:`GeneratedVideo`); :func:`make_scene_video` is the demo's
video (each scene with a tone of its own); :func:`write_tone` writes an audio-only
file. For reframing (known answers of :mod:`acsumgan.media.reframe`):
:func:`moving_object_video` (a bright disc going left to right and back at a known speed
over a drifting textured background; its true centre per frame), :func:`two_regions_video`
(two salient discs far apart) and :func:`still_video` (nothing moves). Every file is
written through :func:`acsumgan.fileio.atomic_path`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Sequence

import av
import numpy as np
from scipy import ndimage

from ..fileio import atomic_path, local_url

SAMPLE_RATE = 16000
#: Audio is encoded in frames of at most this many samples.
AUDIO_BLOCK = 1024
#: The container format of a file suffix, when ``fmt`` is not given.
MUXERS = {".mp4": "mp4", ".m4a": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}

#: ``painter(scene, j, width, height) -> H x W x 3 uint8``: frame ``j`` of scene ``scene``.
Painter = Callable[[int, int, int, int], np.ndarray]


@dataclass
class GeneratedVideo:
    """A generated video and what is known about it."""

    path: Path
    n_frames: int
    fps: Fraction
    width: int
    height: int
    pts: list[int] | None = None  # in time_base units
    time_base: Fraction | None = None
    scene_starts: list[int] = field(default_factory=list)  # first frame of each scene
    tones: list[float] = field(default_factory=list)  # audio frequency per scene (Hz)


# ----------------------------------------------------------------------------- painters


def scene_frame(scene: int, j: int, w: int, h: int) -> np.ndarray:
    """Frame ``j`` of scene ``scene`` (H x W x 3 uint8): a colour field with a moving shape."""
    rng = np.random.default_rng(scene)
    base = rng.integers(30, 226, 3)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = base
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = ((xx + yy * (scene % 3)) // (8 + 4 * (scene % 4)) + j // 2) % 2 == 0
    img[stripes] = (255 - base) // 2
    size = h // 4
    x0 = (j * (2 + scene % 3)) % max(1, w - size)
    y0 = (h // 3 + scene * 7) % max(1, h - size)
    img[y0 : y0 + size, x0 : x0 + size] = rng.integers(0, 256, 3)
    return img


def plain_scene_frame(scene: int, j: int, w: int, h: int) -> np.ndarray:
    """Frame ``j`` of scene ``scene``: one of four plain looks (by ``scene % 4``), mild motion inside."""
    yy, xx = np.mgrid[0:h, 0:w]
    kind = scene % 4
    if kind == 0:  # red field, white square moving right
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 0] = 200
        x0 = (j * 2) % max(1, w - h // 3)
        img[h // 3 : 2 * h // 3, x0 : x0 + h // 3] = 255
    elif kind == 1:  # blue/yellow checkerboard drifting
        c = (((xx + j) // 12 + yy // 12) % 2).astype(bool)
        img = np.zeros((h, w, 3), np.uint8)
        img[c] = (250, 220, 0)
        img[~c] = (0, 40, 180)
    elif kind == 2:  # green horizontal stripes scrolling
        s = (((yy + j) // 6) % 2).astype(bool)
        img = np.zeros((h, w, 3), np.uint8)
        img[s] = (20, 160, 40)
        img[~s] = (230, 240, 230)
    else:  # grey diagonal gradient with a dark disc moving down
        g = ((xx + yy) * 255 // (w + h)).astype(np.uint8)
        img = np.repeat(g[..., None], 3, axis=2)
        cy, cx = (h // 4 + j) % h, w // 2
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < (h // 5) ** 2] = (10, 10, 10)
    return img


def counter_frame(i: int, w: int, h: int) -> np.ndarray:
    """Frame ``i``: flat grey level ``(i * 37) % 256`` with a bar in the opposite level at column ``3i % w``."""
    img = np.full((h, w, 3), (i * 37) % 256, np.uint8)
    img[:, (i * 3) % w] = 255 - img[0, 0]
    return img


# ----------------------------------------------------------------------------- encoding


def _muxer(path: str | os.PathLike, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in MUXERS:
        raise ValueError(f"{path}: no container format known for {suffix!r} files; give fmt")
    return MUXERS[suffix]


def _encode(container, stream, frame) -> None:
    """Encode ``frame`` (``None``: flush the encoder) and mux its packets."""
    for packet in stream.encode(frame):
        container.mux(packet)


class _ToneTrack:
    """A mono sine tone, encoded in blocks as the video advances."""

    def __init__(self, container, codec: str, level: float):
        self.container = container
        self.stream = container.add_stream(codec, rate=SAMPLE_RATE, layout="mono")
        self.level = level
        self.pos = 0  # samples written

    def fill_to(self, end: int, freq: float) -> None:
        """Tone of ``freq`` Hz from the current position up to sample ``end``."""
        while self.pos < end:
            n = min(AUDIO_BLOCK, end - self.pos)
            t = np.arange(self.pos, self.pos + n) / SAMPLE_RATE
            samples = (self.level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(samples[None], format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, self.pos, Fraction(1, SAMPLE_RATE)
            _encode(self.container, self.stream, frame)
            self.pos += n

    def close(self) -> None:
        _encode(self.container, self.stream, None)


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    *,
    fps: int | Fraction = 25,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
    fmt: str | None = None,
    options: dict | None = None,
    pix_fmt: str = "yuv420p",
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    frame_tones: Sequence[float] | None = None,
    tone_level: float = 0.2,
    audio_codec: str = "aac",
    container_options: dict | None = None,
    rotation: int = 0,
    sample_aspect_ratio: Fraction | None = None,
) -> Path:
    """Encode ``frames`` (H x W x 3 uint8 each, ``size`` = (W, H)) to ``path``.

    ``fmt`` is the container format (default: from the suffix, see :data:`MUXERS`),
    ``options`` the video encoder's options, ``container_options`` the muxer's (e.g.
    ``{"movflags": "+faststart"}``). Frame ``i`` has timestamp ``pts[i]`` in
    ``time_base`` units when ``pts`` is given (variable frame rate), else ``i`` in
    units of ``1 / fps``. With ``frame_tones`` (Hz, one per frame) the file gets a
    mono tone track (``audio_codec``, amplitude ``tone_level``) whose pitch during
    frame ``i`` (up to the next frame's time: ``(i + 1) / fps``, or ``pts[i + 1]``) is
    ``frame_tones[i]``.
    ``rotation`` (degrees counter-clockwise, a multiple of 90) is written as the stream's
    display matrix, as phones do (FFmpeg 7 and later ignore a ``rotate`` metadata tag when
    writing, so the matrix is the way); ``sample_aspect_ratio`` makes the pixels non-square.
    """
    w, h = size
    fps = Fraction(fps)
    tb = time_base or (1 / fps)
    with atomic_path(path) as tmp:
        with av.open(local_url(tmp), "w", format=_muxer(path, fmt), options=container_options or {}) as out:
            vs = out.add_stream(codec, rate=fps, options=options or {})
            vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
            if time_base is not None:
                vs.codec_context.time_base = time_base
            if rotation:
                vs.set_display_rotation(int(rotation))
            if sample_aspect_ratio is not None:
                vs.codec_context.sample_aspect_ratio = Fraction(sample_aspect_ratio)
            track = _ToneTrack(out, audio_codec, tone_level) if frame_tones is not None else None
            for i, img in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                frame.pts = pts[i] if pts is not None else i
                frame.time_base = tb
                _encode(out, vs, frame)
                if track is not None:
                    if pts is None:
                        end = Fraction(i + 1) / fps
                    elif i + 1 < len(pts):
                        end = pts[i + 1] * tb
                    else:
                        end = pts[i] * tb + 1 / fps
                    track.fill_to(int(round(end * SAMPLE_RATE)), frame_tones[i])
            _encode(out, vs, None)
            if track is not None:
                track.close()
    return Path(path)


def write_tone(
    path: str | os.PathLike,
    freq: float = 440.0,
    n_samples: int = 20 * AUDIO_BLOCK,
    *,
    fmt: str | None = None,
    codec: str = "aac",
    level: float = 0.2,
) -> Path:
    """An audio-only file (no video stream): ``n_samples`` of a ``freq`` Hz mono tone."""
    with atomic_path(path) as tmp:
        with av.open(local_url(tmp), "w", format=_muxer(path, fmt)) as out:
            track = _ToneTrack(out, codec, level)
            track.fill_to(n_samples, freq)
            track.close()
    return Path(path)


# ----------------------------------------------------------------------------- videos


def scene_video(
    path: str | os.PathLike,
    scene_lengths: Sequence[int],
    *,
    fps: int | Fraction = 25,
    size: tuple[int, int] = (320, 240),
    painter: Painter = scene_frame,
    tones: Sequence[float] | None = None,
    **write_options,
) -> GeneratedVideo:
    """A video whose scene ``i`` lasts ``scene_lengths[i]`` frames drawn by ``painter``.

    With ``tones`` (Hz, one per scene) the audio track changes pitch with the scenes.
    Other keywords go to :func:`write_video` (``codec``, ``fmt``, ``options``, ...).
    """
    lengths = [int(n) for n in scene_lengths]
    starts = [sum(lengths[:k]) for k in range(len(lengths))]
    w, h = size
    frames = (painter(scene, j, w, h) for scene, n in enumerate(lengths) for j in range(n))
    frame_tones = None
    if tones is not None:
        frame_tones = [tones[scene] for scene, n in enumerate(lengths) for _ in range(n)]
    write_video(path, frames, fps=fps, size=size, frame_tones=frame_tones, **write_options)
    return GeneratedVideo(Path(path), sum(lengths), Fraction(fps), w, h, scene_starts=starts, tones=list(tones or []))


def counter_video(
    path: str | os.PathLike, n: int, *, fps: int | Fraction = 30, size: tuple[int, int] = (64, 48), **write_options
) -> GeneratedVideo:
    """``n`` frames of :func:`counter_frame` (every frame distinct); keywords as :func:`write_video`."""
    w, h = size
    write_video(path, (counter_frame(i, w, h) for i in range(n)), fps=fps, size=size, **write_options)
    return GeneratedVideo(
        Path(path), n, Fraction(fps), w, h, pts=write_options.get("pts"), time_base=write_options.get("time_base")
    )


def make_scene_video(
    path: str | os.PathLike,
    scene_lengths: list[int],
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    audio: bool = True,
) -> Path:
    """Write an H.264 video whose scene ``i`` lasts ``scene_lengths[i]`` frames (the demo's
    videos: :func:`scene_frame` looks and, with ``audio``, a tone of its own per scene)."""
    tones = [220.0 * 2 ** (scene / 4) for scene in range(len(scene_lengths))] if audio else None
    return scene_video(
        path, scene_lengths, fps=fps, size=size, tones=tones, fmt="mp4", options={"preset": "veryfast"}
    ).path


# ----------------------------------------------------------------------------- reframing


@dataclass
class TrackedVideo(GeneratedVideo):
    """A generated video with the true centre(s) of its salient object(s): ``centres``
    (n_frames, k, 2) float (x, y) in pixels of the frame, one row per object."""

    centres: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 2)))


def textured_background(width: int, height: int, seed: int = 0, cell: int = 24) -> np.ndarray:
    """A dim textured picture (H x W x 3 uint8, levels 30-150): smooth random blobs of about
    ``cell`` pixels plus fine grain, tinted; what phase correlation can lock on to."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0.0, 1.0, (height // cell + 2, width // cell + 2))
    blobs = ndimage.zoom(coarse, cell, order=1)[:height, :width]
    grain = rng.uniform(-0.15, 0.15, (height, width))
    level = 30 + 120 * np.clip(0.85 * blobs + grain, 0, 1)
    tint = np.array([0.9, 1.0, 0.8])
    return np.clip(level[..., None] * tint, 0, 255).astype(np.uint8)


def _disc(img: np.ndarray, cx: float, cy: float, r: float, colour=(255, 255, 240)) -> None:
    h, w = img.shape[:2]
    y0, y1 = max(0, int(cy - r) - 1), min(h, int(cy + r) + 2)
    x0, x1 = max(0, int(cx - r) - 1), min(w, int(cx + r) + 2)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    img[y0:y1, x0:x1][(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = colour


def back_and_forth(t: np.ndarray, lo: float, hi: float, speed: float) -> np.ndarray:
    """Position at times ``t`` of a point going from ``lo`` to ``hi`` and back at ``speed`` (per second)."""
    span = hi - lo
    d = np.mod(np.asarray(t, dtype=np.float64) * speed, 2 * span)
    return np.where(d <= span, lo + d, lo + 2 * span - d)


def moving_object_video(
    path: str | os.PathLike,
    *,
    size: tuple[int, int] = (1280, 720),
    fps: int = 15,
    seconds: float = 10.0,
    speed: float = 240.0,
    radius: float = 40.0,
    margin: float = 100.0,
    drift: float = 60.0,
    seed: int = 0,
    **write_options,
) -> TrackedVideo:
    """The known answer of reframing: a bright disc (``radius``) that goes left to right and
    back at ``speed`` pixels per second (centre from ``margin`` to width - ``margin``, at
    0.55 of the height) over a textured background that drifts like a hand-held camera
    (up to ``drift`` pixels sideways and a quarter of that up and down, slow sines).
    ``centres``: the disc's centre in each frame. Keywords as :func:`write_video`."""
    w, h = size
    n = int(round(seconds * fps))
    t = np.arange(n) / fps
    xs = back_and_forth(t, margin, w - margin, speed)
    ys = np.full(n, 0.55 * h)
    pad = int(drift) + 2
    canvas = textured_background(w + 2 * pad, h + 2 * pad, seed)
    ox = np.rint(pad + drift * np.sin(2 * np.pi * t / 7.0)).astype(int)
    oy = np.rint(pad + drift / 4 * np.sin(2 * np.pi * t / 5.0 + 1.0)).astype(int)

    def frames():
        for i in range(n):
            img = canvas[oy[i] : oy[i] + h, ox[i] : ox[i] + w].copy()
            _disc(img, xs[i], ys[i], radius)
            yield img

    options = {"fps": fps, "size": size, "options": {"preset": "ultrafast", "crf": "20"}, **write_options}
    write_video(path, frames(), **options)
    centres = np.stack([xs, ys], axis=1)[:, None, :]
    return TrackedVideo(Path(path), n, Fraction(fps), w, h, centres=centres)


def two_regions_video(
    path: str | os.PathLike,
    *,
    size: tuple[int, int] = (320, 180),
    fps: int = 10,
    seconds: float = 4.0,
    radius: float = 14.0,
    seed: int = 1,
    **write_options,
) -> TrackedVideo:
    """Two bright discs far apart (at 1/8 and 7/8 of the width), each circling in place
    (4 pixels, one turn a second) over a still textured background: salient content that
    no window narrower than the frame holds whole."""
    w, h = size
    n = int(round(seconds * fps))
    base = textured_background(w, h, seed, cell=max(4, w // 40))
    centres = np.zeros((n, 2, 2))
    frames = []
    for i in range(n):
        img = base.copy()
        a = 2 * np.pi * i / fps
        for k, fx in enumerate((0.125, 0.875)):
            cx, cy = fx * w + 4 * np.cos(a + k), 0.5 * h + 4 * np.sin(a + k)
            _disc(img, cx, cy, radius)
            centres[i, k] = (cx, cy)
        frames.append(img)
    options = {"fps": fps, "size": size, "options": {"preset": "ultrafast", "crf": "20"}, **write_options}
    write_video(path, frames, **options)
    return TrackedVideo(Path(path), n, Fraction(fps), w, h, centres=centres)


def still_video(
    path: str | os.PathLike,
    *,
    size: tuple[int, int] = (320, 180),
    fps: int = 10,
    seconds: float = 4.0,
    radius: float = 14.0,
    seed: int = 2,
    **write_options,
) -> TrackedVideo:
    """Nothing moves: a textured background and a bright disc at 0.3 of the width."""
    w, h = size
    n = int(round(seconds * fps))
    img = textured_background(w, h, seed, cell=max(4, w // 40))
    _disc(img, 0.3 * w, 0.5 * h, radius)
    options = {"fps": fps, "size": size, "options": {"preset": "ultrafast", "crf": "20"}, **write_options}
    write_video(path, (img for _ in range(n)), **options)
    return TrackedVideo(Path(path), n, Fraction(fps), w, h, centres=np.tile([[[0.3 * w, 0.5 * h]]], (n, 1, 1)))
