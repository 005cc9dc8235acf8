"""Build an eccv16-schema dataset file from your own videos (features and shots, no labels).

Each video becomes a group ``video_1``, ``video_2``, ... (in the order given) with
``features``, ``picks``, ``n_frames``, ``n_steps``, ``change_points`` (KTS),
``n_frame_per_seg``, ``video_name`` (the file name), and the extra fields ``fps``
and ``source_path``. Root attributes: ``backbone``, ``rate``, ``feature_dim``.

Resumable: each finished video is kept at once as an entry of the per-video feature
cache (:mod:`.features`, the format of ``summarize``'s ``features.h5``), one small HDF5
file per video in the sibling folder ``<out>.parts/``, named by the entry's identity
(:func:`~acsumgan.summarize.features.entry_key`: the video's path, size and
modification time, the backbone, the sampling rate and the maximum shot length, which
the file also records), so a rerun after an interruption skips the videos already done
and a rerun with other settings or a changed file does not reuse stale entries (nor
the part files of an older format, :data:`PART_VERSION`). The final file is assembled
atomically at the end, then the parts folder is removed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np

from ..data.dataset import Video, derive_fields, save_dataset
from ..errors import ConfigError, OutputError
from ..fileio import ensure_dir
from ..media.decode import DEFAULT_RATE, check_rate, probe
from ..progress import Progress, report
from .backbones import DEFAULT_BACKBONE, Backbone, as_backbone
from .features import compute_features, entry_key, entry_video, read_feature_cache, save_entries, source_identity
from .summary import steps_per_second

#: The format of the files in ``<out>.parts/`` (1: own part files; 2: feature cache entries).
PART_VERSION = 2


def parts_dir(out_path: str | os.PathLike) -> Path:
    p = Path(out_path)
    return p.with_name(p.name + ".parts")


def build_dataset(
    video_paths: Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    backbone: str | Backbone = DEFAULT_BACKBONE,
    device: str = "cpu",
    rate: float = DEFAULT_RATE,
    progress: Progress | None = None,
    max_shot_seconds: float | None = None,
) -> Path:
    """Extract features and KTS shots of ``video_paths`` into the eccv16 file ``out_path``.

    ``progress`` (a :data:`~acsumgan.progress.Progress`) gets stage "videos" events (videos
    done of all, the note "cached" for a video taken from an earlier run's part file) and
    the "features" and "shots" events of each video computed (``item``: its name).
    ``max_shot_seconds`` (default: none, pure KTS) splits longer shots, see
    :func:`acsumgan.summarize.kts.split_long_segments`.
    """
    paths = [Path(p) for p in video_paths]
    if not paths:
        raise ConfigError(None, "no videos given")
    check_rate(rate)
    shot_steps = None
    if max_shot_seconds is not None:
        try:
            int(float(max_shot_seconds) * float(rate))  # inf and nan: refused below
            ok = float(max_shot_seconds) > 0
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ConfigError(None, f"maximum shot length must be > 0 seconds, got {max_shot_seconds!r}")

        def shot_steps(ex) -> int:  # the steps per second of this video (fewer below `rate` fps)
            return max(1, int(float(max_shot_seconds) * steps_per_second(ex)))

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
    report(progress, "videos", 0, n)
    for i, p in enumerate(paths):
        ident = source_identity(p)
        key = entry_key(ident, bb_name, rate, PART_VERSION, max_shot_seconds)
        part = parts / f"{key}.h5"
        hit = read_feature_cache(part, bb_name, rate, {"entry_key": key}).get(ident["source_path"])
        cached = hit is not None and hit.ident == ident
        if cached:
            ex, cps = hit.extracted, hit.change_points
        else:
            ex, cps = compute_features(p, bb, rate, progress, shot_steps)
            save_entries(part, [entry_video("video_1", p, ex, cps, ident)], [], bb_name, rate, {"entry_key": key})
        v = derive_fields(
            Video(
                key=f"video_{i + 1}",
                features=ex.features,
                picks=ex.picks,
                n_frames=ex.n_frames,
                change_points=cps,
                video_name=p.name,
                extra={"fps": np.float64(ex.fps), "source_path": str(p.resolve())},
            )
        )
        if dim is None:
            dim = int(v.features.shape[1])
        videos.append(v)
        report(progress, "videos", i + 1, n, "cached" if cached else "")
    attrs = {"backbone": bb_name, "rate": float(rate), "feature_dim": int(dim)}
    if max_shot_seconds is not None:
        attrs["max_shot_seconds"] = float(max_shot_seconds)
    save_dataset(out_path, videos, attrs=attrs)
    shutil.rmtree(parts, ignore_errors=True)
    return out_path
