"""An animated preview of frame ranges (a summary's kept shots): GIF or WebP, size-capped.

:func:`write_preview` plays the ranges one after another, as summary.mp4 does, sampled at
``fps`` frames per second of the summary's time (the source's frames counted at
``source_fps``), each frame at most ``width`` pixels wide and upright (as the review
page's thumbnails, :mod:`acsumgan.media.browser`). The file must fit in ``max_bytes``: a
larger one is made again with fewer frames per second, then narrower, in turn, until it
fits (a one-line OutputError when even the smallest does not). PyAV decodes (one pass,
only up to the last frame needed); Pillow writes; the file appears whole or not at all.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PIL import Image

from ..errors import ConfigError, OutputError
from ..fileio import atomic_path
from .browser import images_at

__all__ = ["DEFAULT_FPS", "DEFAULT_MAX_BYTES", "DEFAULT_WIDTH", "PREVIEW_FORMATS", "Preview", "write_preview"]

DEFAULT_WIDTH = 320
DEFAULT_FPS = 6.0
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
#: Preview formats -> Pillow's format name.
PREVIEW_FORMATS = {"gif": "GIF", "webp": "WEBP"}
#: Never narrower than this, never slower than this many frames per second.
MIN_WIDTH = 16
MIN_FPS = 0.25


@dataclass(frozen=True)
class Preview:
    """What :func:`write_preview` wrote."""

    path: Path
    format: str  # "gif" | "webp"
    frames: int
    width: int
    height: int
    fps: float  # frames per second of the preview (of the summary's time)
    bytes: int
    reductions: int  # how many times it was made smaller to fit


def _positions(total: int, source_fps: float, fps: float) -> list[int]:
    """Frame positions in the summary (0 .. total-1) shown at ``fps``: one each 1/fps s."""
    step = source_fps / fps
    n = max(1, math.ceil(total / step - 1e-9))
    return [min(total - 1, int(math.floor(m * step + 1e-9))) for m in range(n)]


def _source_indices(ranges: list[tuple[int, int]], positions: list[int]) -> list[int]:
    """The source frame of each summary position (the ranges played one after another)."""
    out, base, r = [], 0, 0
    for p in positions:
        while p >= base + (ranges[r][1] - ranges[r][0] + 1):
            base += ranges[r][1] - ranges[r][0] + 1
            r += 1
        out.append(ranges[r][0] + (p - base))
    return out


def _frames_at(video_path, indices: list[int], width: int) -> dict[int, Image.Image]:
    """``{index: RGB image}`` of the frames ``indices``, at most ``width`` wide, upright, in
    one pass (:func:`~acsumgan.media.browser.images_at`); indices past the end get the last frame."""
    out: dict[int, Image.Image] = {}
    for index, img in images_at(video_path, indices, width):
        if index is None:
            out.update((i, img) for i in set(indices) - set(out))
        else:
            out[index] = img
    return out


def _encode(frames: list[Image.Image], fmt: str, fps: float, quality: int) -> bytes:
    buf = io.BytesIO()
    duration = max(20, int(round(1000.0 / fps)))  # ms per frame (browsers play GIF frames < 20 ms slower)
    options: dict = {"save_all": True, "append_images": frames[1:], "duration": duration, "loop": 0}
    if fmt == "webp":
        options.update(quality=quality, method=4)
    else:
        options.update(optimize=False, disposal=1)
    frames[0].save(buf, format=PREVIEW_FORMATS[fmt], **options)
    return buf.getvalue()


def write_preview(
    video_path: str | os.PathLike,
    frame_ranges: Sequence[Sequence[int]],
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    source_fps: float,
    width: int = DEFAULT_WIDTH,
    fps: float = DEFAULT_FPS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    quality: int = 70,
) -> Preview:
    """An animated GIF or WebP (``fmt``, default from ``path``'s suffix) at ``path`` of the
    inclusive, ascending ``frame_ranges`` of ``video_path`` played in order (see the module
    docstring): ``fps`` frames per second of the summary (at most the source's
    ``source_fps``), each at most ``width`` pixels wide, the file at most ``max_bytes``
    (fewer frames per second, then narrower, in turn, until it fits)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in PREVIEW_FORMATS:
        raise ConfigError(path, f"a preview is gif or webp, not {fmt!r}")
    ranges = [(int(a), int(b)) for a, b in frame_ranges]
    if not ranges:
        raise ConfigError(path, "no frame range to preview")
    for (a, b), nxt in zip(ranges, ranges[1:] + [None]):
        if a < 0 or b < a or (nxt is not None and nxt[0] <= b):
            raise ConfigError(path, f"frame ranges must be ascending, inclusive and apart, got {(a, b)}")
    for value, what, least in ((source_fps, "source fps", 0), (fps, "preview fps", 0)):
        if not (math.isfinite(float(value)) and float(value) > least):
            raise ConfigError(path, f"{what} must be a number > 0, got {value!r}")
    if int(width) < MIN_WIDTH:
        raise ConfigError(path, f"preview width must be at least {MIN_WIDTH} pixels, got {width}")
    if int(max_bytes) < 1024:
        raise ConfigError(path, f"the preview's size cap must be at least 1 KB, got {max_bytes} bytes")
    total = sum(b - a + 1 for a, b in ranges)
    fps = min(float(fps), float(source_fps))
    positions = _positions(total, float(source_fps), fps)
    indices = _source_indices(ranges, positions)
    images = _frames_at(video_path, indices, int(width))
    full = [images[i] for i in indices]  # the frames at ``fps``, widest
    shown_w = full[0].width
    cur_w, every, reductions = shown_w, 1, 0
    while True:
        frames = full[::every]
        if cur_w != shown_w:
            h = max(1, int(round(full[0].height * cur_w / shown_w)))
            frames = [im.resize((cur_w, h), Image.Resampling.LANCZOS) for im in frames]
        data = _encode(frames, fmt, fps / every, quality)
        if len(data) <= int(max_bytes):
            break
        slower = fps / (every + 1) >= MIN_FPS and len(full[:: every + 1]) >= 1
        narrower = int(cur_w * 0.75) >= MIN_WIDTH
        if not slower and not narrower:
            raise OutputError(
                path, f"the smallest preview is {len(data)} bytes, over the cap of {int(max_bytes)}; raise the cap"
            )
        if slower and (reductions % 2 == 0 or not narrower):  # fewer frames, then narrower, in turn
            every += 1
        else:
            cur_w = int(cur_w * 0.75)
        reductions += 1
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Preview(path, fmt, len(frames), frames[0].width, frames[0].height, fps / every, len(data), reductions)
