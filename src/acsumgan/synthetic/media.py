"""Small videos with known scene changes, made with PyAV (for the demo without sample
videos, and for tests): each scene has its own look and motion, and a tone of its
own on the audio track."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..fileio import atomic_path

SAMPLE_RATE = 16000


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
    img[y0:y0 + size, x0:x0 + size] = rng.integers(0, 256, 3)
    return img


def make_scene_video(path: str | os.PathLike, scene_lengths: list[int], fps: int = 25,
                     size: tuple[int, int] = (320, 240), audio: bool = True) -> Path:
    """Write an H.264 video whose scene ``i`` lasts ``scene_lengths[i]`` frames."""
    w, h = size
    with atomic_path(path) as tmp:
        with av.open(str(tmp), "w", format="mp4") as out:
            vs = out.add_stream("libx264", rate=fps, options={"preset": "veryfast"})
            vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
            aus = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono") if audio else None
            a_pos = 0
            i = 0
            for scene, n in enumerate(scene_lengths):
                freq = 220.0 * 2 ** (scene / 4)
                for j in range(n):
                    frame = av.VideoFrame.from_ndarray(scene_frame(scene, j, w, h), format="rgb24")
                    frame.pts = i
                    frame.time_base = Fraction(1, fps)
                    for p in vs.encode(frame):
                        out.mux(p)
                    i += 1
                    if aus is not None:
                        end = int(round(i / fps * SAMPLE_RATE))
                        while a_pos < end:
                            k = min(1024, end - a_pos)
                            t = np.arange(a_pos, a_pos + k) / SAMPLE_RATE
                            af = av.AudioFrame.from_ndarray((0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None],
                                                            format="flt", layout="mono")
                            af.sample_rate, af.pts, af.time_base = SAMPLE_RATE, a_pos, Fraction(1, SAMPLE_RATE)
                            for p in aus.encode(af):
                                out.mux(p)
                            a_pos += k
            for p in vs.encode(None):
                out.mux(p)
            if aus is not None:
                for p in aus.encode(None):
                    out.mux(p)
    return Path(path)
