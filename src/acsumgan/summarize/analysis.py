"""A summary's analysis, kept beside it: ``analysis.h5``.

Everything needed to rebuild the :class:`~acsumgan.summarize.summary.Summary` of a video
without its features and without a model: the steps (``picks``, ``timestamps``), the
step ``scores``, every shot (``change_points``) and its ``shot_scores``, the ``selected``
shots, each frame's time (``frame_times``, ``frame_pts``: a variable frame rate) and the
key frames, and as attributes the video's numbers (``n_frames``, ``fps``, ``width``,
``height``, ``has_audio``, ``constant_rate``, ``backbone``, ``rate``), the length the
summary was made at (``budget``, ``seconds``, ``max_shot_seconds``), the video's path and
the content of segments.json but what writing summary.mp4 adds. Reframing: the steps'
saliency maps when known (dataset ``saliency``, (T, rows, columns) uint8, with the upright
frame's size as its attributes ``frame_width``, ``frame_height``), and, for a reframed
summary only, the attributes ``aspect``, ``reframe`` and ``crops`` (a person's windows, JSON).

:func:`write_analysis` writes it (atomically); :func:`load_summary` reads a summary
folder's back: :func:`~acsumgan.summarize.summary.reselect` of it gives the same
selection as of the summary it was written from, at any length, with no model and no
features (its ``features`` are an empty ``(T, 0)`` array). :func:`analysis_digest`
names an analysis (its shots and scores): an edit made on one is refused on another.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import h5py
import numpy as np

from ..errors import ConfigError
from ..fileio import atomic_path
from ..media.saliency import SaliencyMaps
from .extracted import ExtractedFeatures
from .summary import Summary

__all__ = [
    "ANALYSIS_FILE",
    "FORMAT",
    "analysis_digest",
    "load_summary",
    "read_analysis",
    "source_changed",
    "write_analysis",
]

ANALYSIS_FILE = "analysis.h5"
FORMAT = "acsumgan-analysis/1"
_NO_PTS = np.iinfo(np.int64).min  # frame_pts entry of a frame without a pts


def analysis_digest(summary: Summary) -> str:
    """16 hex characters: SHA-256 of the summary's shots (``change_points``, int64) and
    step scores (float64)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(summary.change_points, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(summary.scores, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _dataset(h5: h5py.File, name: str, data) -> None:
    h5.create_dataset(name, data=data, track_times=False)


def write_analysis(path: str | os.PathLike, summary: Summary) -> Path:
    """``analysis.h5`` of ``summary`` at ``path`` (atomically); the path."""
    ex = summary.extracted
    path = Path(path)
    # built in memory, then written as bytes: a full disk is one clean OSError (a DiskFullError
    # line), never an HDF5 error printed while h5py closes a half-written file
    buf = io.BytesIO()
    with h5py.File(buf, "w", track_order=True) as h5:
        a = h5.attrs
        a["format"] = FORMAT
        a["digest"] = analysis_digest(summary)
        a["video"] = np.bytes_(os.fsencode(summary.video_path))
        a["video_abs"] = np.bytes_(os.fsencode(os.path.abspath(summary.video_path)))
        try:  # what the video file was (render refuses one that changed since)
            st = os.stat(summary.video_path)
            a["source_size"] = int(st.st_size)
            a["source_mtime_ns"] = int(st.st_mtime_ns)
        except OSError:
            pass
        a["n_frames"] = int(ex.n_frames)
        a["fps"] = np.float64(ex.fps)
        a["width"] = int(ex.width)
        a["height"] = int(ex.height)
        a["has_audio"] = bool(ex.has_audio)
        a["constant_rate"] = bool(ex.constant_rate)
        a["backbone"] = str(ex.backbone)
        a["rate"] = np.float64(ex.rate)
        a["budget"] = np.float64(summary.budget)
        if summary.seconds is not None:
            a["seconds"] = np.float64(summary.seconds)
        if summary.max_shot_seconds is not None:
            a["max_shot_seconds"] = np.float64(summary.max_shot_seconds)
        a["segments"] = json.dumps(summary.segments, default=_json_default, ensure_ascii=True)
        _dataset(h5, "picks", np.asarray(ex.picks, dtype=np.int64))
        _dataset(h5, "timestamps", np.asarray(ex.timestamps, dtype=np.float64))
        _dataset(h5, "scores", np.asarray(summary.scores, dtype=np.float64))
        _dataset(h5, "change_points", np.asarray(summary.change_points, dtype=np.int64).reshape(-1, 2))
        _dataset(h5, "shot_scores", np.asarray(summary.shot_scores, dtype=np.float64))
        _dataset(h5, "selected", np.asarray(summary.selected, dtype=np.int64))
        if ex.frame_times is not None:
            _dataset(h5, "frame_times", np.asarray(ex.frame_times, dtype=np.float64))
        if ex.frame_pts is not None:
            pts = [_NO_PTS if p is None else int(p) for p in ex.frame_pts]
            _dataset(h5, "frame_pts", np.asarray(pts, dtype=np.int64))
        if ex.key_frames is not None:
            _dataset(h5, "key_frames", np.asarray(ex.key_frames, dtype=np.int64))
        kept = getattr(summary, "kept", None)
        if kept is not None:
            _dataset(h5, "kept", np.asarray(kept, dtype=np.int64).reshape(-1, 2))
        sal = getattr(ex, "saliency", None)
        if sal is not None:
            d = h5.create_dataset(
                "saliency", data=np.asarray(sal.maps, dtype=np.uint8), track_times=False, compression="gzip"
            )
            d.attrs["frame_width"] = int(sal.frame_size[0])
            d.attrs["frame_height"] = int(sal.frame_size[1])
        if summary.aspect != "keep":  # only a reframed summary: else the file is as before reframing
            a["aspect"] = str(summary.aspect)
            a["reframe"] = str(summary.reframe or "follow")
            if summary.crops:
                a["crops"] = json.dumps({str(k): v for k, v in sorted(summary.crops.items())})
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())
    return path


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _video_path(given: bytes, absolute: bytes) -> Path:
    """The video as the summary named it; its absolute path when that name (relative) does
    not lead to it from here."""
    p = Path(os.fsdecode(bytes(given)))
    if p.is_absolute() or p.exists():
        return p
    q = Path(os.fsdecode(bytes(absolute)))
    return q if q.exists() else p


def read_analysis(path: str | os.PathLike) -> Summary:
    """The Summary of an ``analysis.h5`` file; a one-line ConfigError when it cannot be read."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as h5:
            a = h5.attrs
            if _text(a.get("format", "")) != FORMAT:
                raise ConfigError(path, "not an acsumgan analysis file (no format acsumgan-analysis/1)")

            def get(name):
                return h5[name][()] if name in h5 else None

            pts = get("frame_pts")
            picks = np.asarray(get("picks"), dtype=np.int64)
            ex = ExtractedFeatures(
                features=np.zeros((picks.shape[0], 0), dtype=np.float32),
                picks=picks,
                timestamps=np.asarray(get("timestamps"), dtype=np.float64),
                n_frames=int(a["n_frames"]),
                fps=float(a["fps"]),
                width=int(a["width"]),
                height=int(a["height"]),
                has_audio=bool(a["has_audio"]),
                frame_times=None if get("frame_times") is None else np.asarray(get("frame_times"), dtype=np.float64),
                frame_pts=None if pts is None else [None if int(p) == _NO_PTS else int(p) for p in pts],
                key_frames=None if get("key_frames") is None else [int(k) for k in get("key_frames")],
                constant_rate=bool(a["constant_rate"]),
                backbone=_text(a["backbone"]),
                rate=float(a["rate"]),
            )
            change_points = np.asarray(get("change_points"), dtype=np.int64).reshape(-1, 2)
            scores = np.asarray(get("scores"), dtype=np.float64)
            shot_values = [float(x) for x in np.asarray(get("shot_scores"), dtype=np.float64)]
            selected = [int(i) for i in np.asarray(get("selected"), dtype=np.int64)]
            kept = get("kept")
            if "saliency" in h5:
                d = h5["saliency"]
                ex.saliency = SaliencyMaps(
                    np.asarray(d[()], dtype=np.uint8),
                    ex.timestamps,
                    picks,
                    (int(d.attrs["frame_width"]), int(d.attrs["frame_height"])),
                )
            reframing = {}
            if "aspect" in a:
                reframing["aspect"] = _text(a["aspect"])
                reframing["reframe"] = _text(a["reframe"]) if "reframe" in a else "follow"
                if "crops" in a:
                    reframing["crops"] = {int(k): v for k, v in json.loads(_text(a["crops"])).items()}
            segments = json.loads(_text(a["segments"]))
            video = _video_path(a["video"], a["video_abs"])
            budget = float(a["budget"])
            seconds = float(a["seconds"]) if "seconds" in a else None
            mss = float(a["max_shot_seconds"]) if "max_shot_seconds" in a else None
            digest = _text(a.get("digest", ""))
    except ConfigError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ConfigError(path, f"corrupt analysis file ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    n_steps, n_shots = picks.shape[0], change_points.shape[0]
    if (
        scores.shape != (n_steps,)
        or ex.timestamps.shape != (n_steps,)
        or len(shot_values) != n_shots
        or n_shots == 0
        or any(not 0 <= i < n_shots for i in selected)
        or not isinstance(segments, dict)
        or (ex.saliency is not None and ex.saliency.maps.shape[0] != n_steps)
    ):
        raise ConfigError(path, "corrupt analysis file (its arrays do not fit together)")
    extra = {}
    if kept is not None:
        extra["kept"] = tuple((int(s), int(e)) for s, e in np.asarray(kept, dtype=np.int64).reshape(-1, 2))
    summary = Summary(
        video_path=video,
        extracted=ex,
        change_points=change_points,
        scores=scores,
        shot_scores=shot_values,
        selected=selected,
        budget=budget,
        seconds=seconds,
        max_shot_seconds=mss,
        segments=segments,
        **extra,
        **reframing,
    )
    if digest and digest != analysis_digest(summary):
        raise ConfigError(path, "corrupt analysis file (its shots or scores do not match its digest)")
    return summary


def source_changed(folder: str | os.PathLike, summary: Summary) -> bool:
    """Whether the video of a summary folder's analysis changed since (size or modification
    time; False when the analysis does not record them)."""
    try:
        with h5py.File(Path(folder) / ANALYSIS_FILE, "r") as h5:
            size, mtime = h5.attrs.get("source_size"), h5.attrs.get("source_mtime_ns")
    except OSError:
        return False
    if size is None or mtime is None:
        return False
    try:
        st = os.stat(summary.video_path)
    except OSError:
        return True
    return (int(st.st_size), int(st.st_mtime_ns)) != (int(size), int(mtime))


def load_summary(folder: str | os.PathLike) -> Summary:
    """The Summary of a summary folder (its ``analysis.h5``): a one-line ConfigError when it
    has none ("no analysis.h5: summarize the video first") or it is corrupt."""
    path = Path(folder) / ANALYSIS_FILE
    if not path.is_file():
        raise ConfigError(Path(folder), f"no {ANALYSIS_FILE}: summarize the video first")
    return read_analysis(path)
