"""Where the eye goes in each sampled step of a video: a low-resolution saliency map.

Made for reframing (:mod:`.reframe`): it runs on the frames the summarizer already decodes
(its steps, :data:`~acsumgan.media.sampling.DEFAULT_RATE` per second, at the backbone's
input size: the whole frame, squeezed to a square), not on a second decode. Each step's
image (RGB uint8, any size: the whole coded frame) is reduced to grey at a
:data:`GRID_WIDTH`-cell-wide grid with the upright frame's shape (display rotation and
pixel aspect applied), and its map is the weighted sum of two terms, each in 0..1:

* **motion energy** (weight :data:`MOTION_WEIGHT`): the absolute grey difference between
  the step and its neighbours (the steps before and after it, half a second away at
  2 per second) after compensating a global, camera-like shift of the whole picture: the
  shift is measured by phase correlation (numpy FFT, to a fraction of a cell) and the
  neighbour moved by it (Fourier shift) before the difference. The two differences are
  averaged; one that is a cut (its mean difference more than :data:`CUT_RATIO` times the
  other's and over :data:`CUT_LEVEL` grey levels) is left out, so a step at a shot's edge
  sees its own shot's motion only. Scaled by its peak, but never by less than
  :data:`MOTION_FLOOR` grey levels, so a still shot's sensor noise stays near 0;
* **static contrast** (weight ``1 - MOTION_WEIGHT``): the spectral residual of the grey
  grid (the log amplitude spectrum less its local mean, back with the original phase,
  squared), scaled by its peak.

The sum is blurred (Gaussian, :data:`BLUR_CELLS`) and stored as uint8 (0-255):
:class:`SaliencyMaps`, one ``(rows, GRID_WIDTH)`` map per step, upright. A step's map is
final once the next step came (the motion term looks one step ahead):
:class:`SaliencyTracker` takes steps one by one (``add``) and returns the maps at
``finish``; :func:`video_saliency` decodes a video's steps itself (the fallback when the
summarizer's frames were not kept). Cost: see :data:`MEASURED_MS_PER_STEP`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import ndimage

from .decode import FrameSampler
from .sampling import DEFAULT_RATE

#: Columns of the maps; rows follow the upright frame's shape (36 for 16:9, 114 for 9:16).
GRID_WIDTH = 64
#: Weight of the motion term in the map (the static term has the rest).
MOTION_WEIGHT = 0.75
#: Motion is scaled by its peak, but by no less than this many grey levels (0-255).
MOTION_FLOOR = 12.0
#: A neighbour whose mean difference is this many times the other's (and over
#: :data:`CUT_LEVEL`) is across a cut: its difference is left out.
CUT_RATIO = 2.5
CUT_LEVEL = 8.0
#: Gaussian blur of the map (sigma, in cells).
BLUR_CELLS = 1.0
#: Size the steps are decoded at by :func:`video_saliency` (the summarizer's backbones see 224x224).
DECODE_SIZE = (224, 224)
#: Measured cost per step (ms): ``add`` on a 224x224 RGB step, 2 busy CPU cores, torch loaded
#: (median of 5 runs of 200 steps; 1.2 ms on idle cores): 2 s for the 1,200 steps of 10 minutes.
MEASURED_MS_PER_STEP = 1.7

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def grid_shape(width: int, height: int, grid_width: int = GRID_WIDTH) -> tuple[int, int]:
    """(rows, columns) of the maps of an upright ``width`` x ``height`` frame."""
    rows = max(2, int(round(grid_width * height / max(1, width))))
    return rows, int(grid_width)


def _bins(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``n_out`` about equal bins of ``n_in`` samples starts, and its size."""
    starts = np.floor(np.arange(n_out) * n_in / n_out).astype(np.intp)
    sizes = np.diff(np.append(starts, n_in))
    return starts, np.maximum(sizes, 1)


def _reduce(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``image`` (H x W [x C]) averaged into ``rows`` x ``cols`` bins, float32 (no BLAS: on
    small arrays its threads cost more than they give on busy cores)."""
    h, w = image.shape[:2]
    if h < rows or w < cols:  # a picture smaller than the grid: repeat its pixels first
        image = np.repeat(np.repeat(image, -(-rows // h), axis=0), -(-cols // w), axis=1)
        h, w = image.shape[:2]
    ys, ny = _bins(rows, h)
    xs, nx = _bins(cols, w)
    sums = np.add.reduceat(np.add.reduceat(image, ys, axis=0, dtype=np.float32), xs, axis=1, dtype=np.float32)
    scale = (1.0 / np.outer(ny, nx)).astype(np.float32)
    return sums * (scale[..., None] if sums.ndim == 3 else scale)


def phase_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The shift ``(dy, dx)`` (cells, to a fraction) that moves picture ``a`` onto ``b``:
    ``b[y, x] ~ a[y - dy, x - dx]``, by phase correlation (Hann-windowed, the peak refined
    by a parabola through its neighbours)."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    fa = np.fft.rfft2((a - a.mean()) * win)
    fb = np.fft.rfft2((b - b.mean()) * win)
    cross = fb * np.conj(fa)
    cross /= np.maximum(np.abs(cross), 1e-9)
    r = np.fft.irfft2(cross, s=(h, w))
    py, px = np.unravel_index(int(np.argmax(r)), r.shape)

    def refine(c_minus: float, c0: float, c_plus: float) -> float:
        d = c_minus - 2 * c0 + c_plus
        return 0.0 if d >= 0 else float(np.clip(0.5 * (c_minus - c_plus) / d, -0.5, 0.5))

    dy = py + refine(r[py - 1, px], r[py, px], r[(py + 1) % h, px])
    dx = px + refine(r[py, px - 1], r[py, px], r[py, (px + 1) % w])
    if dy > h / 2:
        dy -= h
    if dx > w / 2:
        dx -= w
    return float(dy), float(dx)


def _moved(a: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """``a`` moved by ``(dy, dx)`` cells (Fourier shift; what comes in at an edge wraps)."""
    return np.fft.irfft2(ndimage.fourier_shift(np.fft.rfft2(a), (dy, dx), n=a.shape[1]), s=a.shape).astype(np.float32)


def _border_mask(shape: tuple[int, int], dy: float, dx: float) -> np.ndarray:
    """1 where a picture moved by ``(dy, dx)`` holds real content, 0 on the wrapped edges."""
    h, w = shape
    m = np.ones(shape, dtype=np.float32)
    cy, cx = int(np.ceil(abs(dy))), int(np.ceil(abs(dx)))
    if cy:
        (m[:cy] if dy > 0 else m[h - cy :])[...] = 0
    if cx:
        (m[:, :cx] if dx > 0 else m[:, w - cx :])[...] = 0
    return m


def spectral_residual(grey: np.ndarray) -> np.ndarray:
    """Static saliency of a small grey picture: its spectral residual, squared and scaled to 0..1."""
    f = np.fft.fft2(grey - grey.mean())
    log_amp = np.log(np.abs(f) + 1e-6)
    residual = log_amp - ndimage.uniform_filter(log_amp, size=3, mode="wrap")
    s = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(f)))) ** 2
    s = ndimage.gaussian_filter(s, BLUR_CELLS, mode="nearest")
    peak = float(s.max())
    return (s / peak).astype(np.float32) if peak > 0 else np.zeros_like(grey, dtype=np.float32)


def _difference(cur: np.ndarray, other: np.ndarray) -> np.ndarray:
    """|cur - other moved onto cur| (grey levels), 0 on the edges the shift uncovers."""
    dy, dx = phase_shift(other, cur)
    return np.abs(cur - _moved(other, dy, dx)) * _border_mask(cur.shape, dy, dx)


def motion_energy(prev: np.ndarray | None, cur: np.ndarray, nxt: np.ndarray | None) -> np.ndarray:
    """Motion of step ``cur`` (grey grid) against its neighbours (None: none there), camera
    shift compensated, cuts left out (see the module docstring); 0..1."""
    diffs = [_difference(cur, o) for o in (prev, nxt) if o is not None]
    if len(diffs) == 2:
        m0, m1 = float(diffs[0].mean()), float(diffs[1].mean())
        if m0 > CUT_LEVEL and m0 > CUT_RATIO * m1:
            diffs = [diffs[1]]
        elif m1 > CUT_LEVEL and m1 > CUT_RATIO * m0:
            diffs = [diffs[0]]
    if not diffs:
        return np.zeros_like(cur)
    d = ndimage.gaussian_filter(sum(diffs) / len(diffs), BLUR_CELLS, mode="nearest")
    return (d / max(float(d.max()), MOTION_FLOOR)).astype(np.float32)


@dataclass
class SaliencyMaps:
    """One saliency map per step: ``maps`` (T, rows, columns) uint8 (0-255), upright, covering
    the whole ``frame_size`` (width, height) frame; ``times`` (T,) seconds and ``frames``
    (T,) frame indices of the steps."""

    maps: np.ndarray
    times: np.ndarray
    frames: np.ndarray
    frame_size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.times)

    def profile(self, axis: str) -> np.ndarray:
        """(T, n) the maps summed across the other axis: ``"x"`` (n columns) or ``"y"`` (n rows)."""
        return self.maps.astype(np.float32).sum(axis=1 if axis == "x" else 2)


class SaliencyTracker:
    """Saliency maps of a video's steps, fed one by one as they are decoded.

    ``frame_size``: the upright frame's (width, height) (what the maps cover and what their
    shape follows); ``rotation``: the display rotation (degrees counter-clockwise) to apply
    to the images, which are given as decoded (coded orientation, any size, the whole
    frame: e.g. the summarizer's 224x224 backbone input). Steps may come out of order
    (``step``: from parts decoded at once); a step's map is made as soon as its neighbours
    came, and only the small grey grids of steps still waiting for a neighbour are kept.
    """

    def __init__(self, frame_size: tuple[int, int], rotation: int = 0, grid_width: int = GRID_WIDTH):
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.rotation = int(rotation) % 360
        self.shape = grid_shape(*self.frame_size, grid_width)
        self._grids: dict[int, np.ndarray] = {}  # grey grids of steps whose neighbours still need them
        self._static: dict[int, np.ndarray] = {}
        self._maps: dict[int, np.ndarray] = {}
        self._meta: dict[int, tuple[float, int]] = {}  # step -> (time, frame)
        self._next = 0

    def _grid(self, image: np.ndarray) -> np.ndarray:
        rows, cols = self.shape
        coded = (cols, rows) if self.rotation in (90, 270) else (rows, cols)
        small = _reduce(np.asarray(image), *coded)
        if small.ndim == 3:
            small = small[..., 0] * _LUMA[0] + small[..., 1] * _LUMA[1] + small[..., 2] * _LUMA[2]
        if self.rotation:
            small = np.rot90(small, k=self.rotation // 90)  # counter-clockwise, as the writer turns frames
        return np.ascontiguousarray(small, dtype=np.float32)

    def add(self, image: np.ndarray, time: float, frame: int, step: int | None = None) -> None:
        """A step: its image (H x W x 3 RGB uint8, or H x W grey), time (s), frame index and
        number (default: the one after the last added)."""
        k = self._next if step is None else int(step)
        if k in self._meta:
            raise ValueError(f"step {k} was added already")
        self._next = k + 1
        g = self._grid(image)
        self._grids[k] = g
        self._static[k] = spectral_residual(g)
        self._meta[k] = (float(time), int(frame))
        for j in (k - 1, k, k + 1):
            if j in self._static and (j == 0 or j - 1 in self._grids) and j + 1 in self._grids:
                self._emit(j)
        for j in (k - 2, k - 1, k, k + 1):
            self._release(j)

    def _emit(self, j: int) -> None:
        prev, nxt = self._grids.get(j - 1), self._grids.get(j + 1)
        combined = MOTION_WEIGHT * motion_energy(prev, self._grids[j], nxt) + (1 - MOTION_WEIGHT) * self._static.pop(j)
        self._maps[j] = np.clip(np.rint(combined * 255), 0, 255).astype(np.uint8)

    def _release(self, j: int) -> None:
        """Drop step ``j``'s grid once it and both its neighbours have their maps."""
        if j in self._grids and all(i in self._maps or i < 0 for i in (j - 1, j, j + 1)):
            del self._grids[j]

    def finish(self) -> SaliencyMaps:
        """The maps of every step added (steps 0 to T - 1; a last step's motion looks back only)."""
        for j in sorted(self._static):
            self._emit(j)
        steps = sorted(self._maps)
        if steps != list(range(len(steps))):
            raise ValueError("steps missing: the tracker was not given every step from 0")
        self._grids.clear()
        rows, cols = self.shape
        maps = np.stack([self._maps[k] for k in steps]) if steps else np.zeros((0, rows, cols), np.uint8)
        return SaliencyMaps(
            maps=maps,
            times=np.asarray([self._meta[k][0] for k in steps], dtype=np.float64),
            frames=np.asarray([self._meta[k][1] for k in steps], dtype=np.int64),
            frame_size=self.frame_size,
        )


def video_saliency(
    path: str | os.PathLike,
    frame_size: tuple[int, int],
    rotation: int = 0,
    rate: float | Fraction = DEFAULT_RATE,
    size: tuple[int, int] = DECODE_SIZE,
) -> SaliencyMaps:
    """The maps of a video's steps, decoding them here (``rate`` per second, at ``size``):
    for a summary whose steps' maps were not made while its features were extracted.
    ``frame_size`` and ``rotation``: the upright frame (:func:`acsumgan.media.encode.full_frame`)."""
    tracker = SaliencyTracker(frame_size, rotation)
    for sf in FrameSampler(path, rate=rate, size=size):
        tracker.add(sf.image, sf.time, sf.index)
    return tracker.finish()
