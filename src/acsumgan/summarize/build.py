"""Build an eccv16-schema dataset file from your own videos (features and shots, no labels).

Each video becomes a group ``video_1``, ``video_2``, ... (in the order given) with
``features``, ``picks``, ``n_frames``, ``n_steps``, ``change_points`` (KTS),
``n_frame_per_seg``, ``video_name`` (the file name), and the extra fields ``fps``
and ``source_path``. Root attributes: ``backbone``, ``rate``, ``feature_dim``.

Resumable: each finished video is cached atomically as a small HDF5 file in the
sibling folder ``<out>.parts/``, named by a hash of the video's absolute path,
size and modification time together with the backbone and sampling rate (which
the part also records as attributes), so a rerun after an interruption skips the
videos already done and a rerun with other settings or a changed file does not
reuse stale parts. The final file is assembled from the parts atomically at the
end, then the parts folder is removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import h5py
import numpy as np

from ..data.dataset import Video, derive_fields, load_dataset, save_dataset
from ..errors import ConfigError, DatasetError, OutputError
from ..fileio import ensure_dir
from ..media.decode import DEFAULT_RATE, check_rate, probe
from .backbones import DEFAULT_BACKBONE, Backbone, as_backbone
from .features import extract_features
from .kts import shot_boundaries

PART_VERSION = 1


@dataclass
class BuildProgress:
    """One progress event of :func:`build_dataset`."""

    video_index: int  # 0-based position in the list
    n_videos: int
    path: Path
    done_frames: int
    total_frames: int
    finished: bool  # this video is done (features, shots, part file written)
    cached: bool  # ... and was taken from an earlier run's part file


def parts_dir(out_path: str | os.PathLike) -> Path:
    p = Path(out_path)
    return p.with_name(p.name + ".parts")


def part_key(video_path: Path, backbone: str, rate: float, max_shot_seconds: float | None = None) -> str:
    """Identity of one video's part: its file (path as bytes, size, mtime) and the settings."""
    st = video_path.stat()
    ident = (
        f"{PART_VERSION}|{video_path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{backbone}|{float(rate)!r}"
        f"|{max_shot_seconds!r}"
    )
    return hashlib.sha1(ident.encode("utf-8", "surrogateescape")).hexdigest()[:20]  # a name need not be UTF-8


def _read_part(part: Path, backbone: str, rate: float, key: str) -> Video | None:
    """The cached video of ``part`` if it exists and matches the settings, else None."""
    if not part.is_file():
        return None
    try:
        with h5py.File(part, "r") as h5:
            attrs = dict(h5.attrs)
        if (
            attrs.get("backbone") != backbone
            or float(attrs.get("rate", -1)) != float(rate)
            or attrs.get("part_key") != key
        ):
            return None
        videos = load_dataset(part, purpose="summarize")
    except (OSError, DatasetError, ValueError, KeyError):
        return None
    if len(videos) != 1:
        return None
    return next(iter(videos.values()))


def build_dataset(
    video_paths: Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    backbone: str | Backbone = DEFAULT_BACKBONE,
    device: str = "cpu",
    rate: float = DEFAULT_RATE,
    progress: Callable[[BuildProgress], None] | None = None,
    max_shot_seconds: float | None = None,
) -> Path:
    """Extract features and KTS shots of ``video_paths`` into the eccv16 file ``out_path``.

    ``progress(BuildProgress)`` reports frames decoded and each finished video.
    ``max_shot_seconds`` (default: none, pure KTS) splits longer shots, see
    :func:`acsumgan.summarize.kts.split_long_segments`.
    """
    paths = [Path(p) for p in video_paths]
    if not paths:
        raise ConfigError(None, "no videos given")
    check_rate(rate)
    max_steps = None
    if max_shot_seconds is not None:
        try:
            max_steps = max(1, int(float(max_shot_seconds) * float(rate)))
            ok = float(max_shot_seconds) > 0
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ConfigError(None, f"maximum shot length must be > 0 seconds, got {max_shot_seconds!r}")
    for p in paths:  # fail on a bad file before any work (not after hours on the others)
        probe(p)
    out_path = Path(out_path)
    if out_path.is_dir():
        raise OutputError(out_path, "is a folder, expected a file name for the dataset")
    bb = as_backbone(backbone, device)
    bb_name = getattr(bb, "name", type(bb).__name__)
    parts = ensure_dir(parts_dir(out_path))
    n = len(paths)
    videos: list[Video] = []
    dim = None
    for i, p in enumerate(paths):
        key = part_key(p, bb_name, rate, max_shot_seconds)
        part = parts / f"{key}.h5"
        v = _read_part(part, bb_name, rate, key)
        cached = v is not None
        if v is None:

            def on_frames(done: int, total: int, _i=i, _p=p) -> None:
                if progress is not None:
                    progress(BuildProgress(_i, n, _p, done, total, False, False))

            ex = extract_features(p, bb, rate=rate, progress=on_frames)
            if max_steps is not None:  # the steps per second of this video (fewer below `rate` fps)
                from .summary import steps_per_second

                max_steps = max(1, int(float(max_shot_seconds) * steps_per_second(ex)))
            cps = shot_boundaries(ex.features, ex.picks, ex.n_frames, max_shot_steps=max_steps)
            v = derive_fields(
                Video(
                    key="video_1",
                    features=ex.features,
                    picks=ex.picks,
                    n_frames=ex.n_frames,
                    change_points=cps,
                    video_name=p.name,
                    extra={"fps": np.float64(ex.fps), "source_path": str(p.resolve())},
                )
            )
            save_dataset(
                part,
                [v],
                attrs={
                    "backbone": bb_name,
                    "rate": float(rate),
                    "part_key": key,
                    "feature_dim": int(ex.features.shape[1]),
                    "built_at": time.time(),
                },
            )
        if dim is None:
            dim = int(v.features.shape[1])
        v.key = f"video_{i + 1}"
        videos.append(v)
        if progress is not None:
            progress(BuildProgress(i, n, p, int(v.n_frames), int(v.n_frames), True, cached))
    attrs = {"backbone": bb_name, "rate": float(rate), "feature_dim": int(dim)}
    if max_shot_seconds is not None:
        attrs["max_shot_seconds"] = float(max_shot_seconds)
    save_dataset(out_path, videos, attrs=attrs)
    shutil.rmtree(parts, ignore_errors=True)
    return out_path
