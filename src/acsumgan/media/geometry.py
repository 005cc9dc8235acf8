"""How a decoded frame is shown: its display rotation, its pixels' aspect ratio, even sizes.

One rule each, for the summary video (:mod:`.encode`) and the review page's media
(:mod:`.browser`: thumbnails, the browser copy):

* :func:`rotation_of`: a frame's display rotation (the display matrix of a phone video,
  read as :attr:`av.VideoFrame.rotation`), counter-clockwise, as 0, 90, 180 or 270;
* :func:`sample_aspect_ratio`: a stream's sample (pixel) aspect ratio (PyAV's frames do
  not carry it), 1 when unknown or implausible (outside 1/10 to 10);
* :func:`even`: the even size at or below a size, at least 2 (yuv420p needs even sizes);
* :class:`Crop`: a crop window per written frame (reframing, :mod:`.reframe`), cut out of
  the upright frame.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np


def rotation_of(frame) -> int:
    """A decoded frame's display rotation (counter-clockwise) as 0, 90, 180 or 270."""
    try:
        r = frame.rotation
    except (AttributeError, av.error.FFmpegError):
        return 0
    return int(round((r or 0) / 90.0)) * 90 % 360


def sample_aspect_ratio(stream) -> Fraction:
    """The stream's sample (pixel) aspect ratio; 1 when unknown or implausible."""
    for sar in (
        getattr(stream, "sample_aspect_ratio", None),
        getattr(stream.codec_context, "sample_aspect_ratio", None),
    ):
        try:
            f = Fraction(sar) if sar else None
        except (TypeError, ValueError, ZeroDivisionError):
            f = None
        if f is not None and Fraction(1, 10) <= f <= 10:
            return f
    return Fraction(1)


def even(x: float) -> int:
    """``x`` rounded down to an integer, then to an even one; at least 2."""
    return max(2, int(x) - int(x) % 2)


class Crop:
    """A crop window for each written frame: the summary shows only that part of the frame.

    Windows lie in the upright, square-pixelled frame the writer makes of a source frame
    (:class:`acsumgan.media.encode.FullFrame`: display rotation and pixel aspect applied,
    made even), all ``width`` x ``height`` (even); frame ``frames[k]`` (a source frame
    index, in decode order) is cut at left ``x[k]``, top ``y[k]`` (even, so the 4:2:0
    chroma is cut on its own samples). A frame not listed takes the window of the nearest
    listed frame before it (the first one before the first). Made by
    :meth:`acsumgan.media.reframe.Reframe.crop`; picklable (the parts writer sends it to
    its processes).
    """

    __slots__ = ("width", "height", "frames", "x", "y")

    def __init__(self, width: int, height: int, frames, x, y):
        self.width, self.height = int(width), int(height)
        if self.width < 2 or self.height < 2 or self.width % 2 or self.height % 2:
            raise ValueError(f"crop size must be even and at least 2x2, got {self.width}x{self.height}")
        self.frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        self.x = np.asarray(x, dtype=np.int64).reshape(-1)
        self.y = np.asarray(y, dtype=np.int64).reshape(-1)
        if not (len(self.frames) == len(self.x) == len(self.y)) or len(self.frames) == 0:
            raise ValueError("a crop needs one window (x, y) per listed frame, at least one")
        if np.any(np.diff(self.frames) <= 0):
            raise ValueError("a crop's frames must be ascending and distinct")
        if np.any(self.x % 2) or np.any(self.y % 2) or np.any(self.x < 0) or np.any(self.y < 0):
            raise ValueError("a crop window's left and top must be even and >= 0")

    def __getstate__(self):
        return (self.width, self.height, self.frames, self.x, self.y)

    def __setstate__(self, state):
        self.width, self.height, self.frames, self.x, self.y = state

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Crop)
            and self.__getstate__()[:2] == other.__getstate__()[:2]
            and all(np.array_equal(a, b) for a, b in zip(self.__getstate__()[2:], other.__getstate__()[2:]))
        )

    def __repr__(self) -> str:
        return f"Crop({self.width}x{self.height}, {len(self.frames)} frames)"

    def fits(self, frame_width: int, frame_height: int) -> bool:
        """Whether every window lies inside a ``frame_width`` x ``frame_height`` frame."""
        return (
            self.width <= frame_width
            and self.height <= frame_height
            and int(self.x.max()) + self.width <= frame_width
            and int(self.y.max()) + self.height <= frame_height
        )

    def at(self, frame: int) -> tuple[int, int]:
        """(left, top) of the window of source frame ``frame``."""
        k = max(0, int(np.searchsorted(self.frames, frame, side="right")) - 1)
        return int(self.x[k]), int(self.y[k])

    def apply(self, frame, index: int):
        """The window of source frame ``index`` cut out of ``frame`` (a yuv420p
        :class:`av.VideoFrame` of the full upright frame), as a new yuv420p frame."""
        x, y = self.at(index)
        w, h = self.width, self.height
        if x == 0 and y == 0 and frame.width == w and frame.height == h:
            return frame
        cut = []
        for k in range(3):  # Y at full size, U and V at half
            px, py, pw, ph = (x, y, w, h) if k == 0 else (x // 2, y // 2, w // 2, h // 2)
            plane = frame.planes[k]
            rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
            cut.append(rows[py : py + ph, px : px + pw].ravel())
        packed = np.concatenate(cut).reshape(h * 3 // 2, w)
        return av.VideoFrame.from_ndarray(packed, format="yuv420p")
