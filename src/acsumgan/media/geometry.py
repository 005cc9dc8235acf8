"""How a decoded frame is shown: its display rotation, its pixels' aspect ratio, even sizes.

One rule each, for the summary video (:mod:`.encode`) and the review page's media
(:mod:`.browser`: thumbnails, the browser copy):

* :func:`rotation_of`: a frame's display rotation (the display matrix of a phone video,
  read as :attr:`av.VideoFrame.rotation`), counter-clockwise, as 0, 90, 180 or 270;
* :func:`sample_aspect_ratio`: a stream's sample (pixel) aspect ratio (PyAV's frames do
  not carry it), 1 when unknown or implausible (outside 1/10 to 10);
* :func:`even`: the even size at or below a size, at least 2 (yuv420p needs even sizes).
"""

from __future__ import annotations

from fractions import Fraction

import av


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
