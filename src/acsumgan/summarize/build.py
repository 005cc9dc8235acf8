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
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

from ..data.dataset import Video, derive_fields, write_dataset_stream
from ..errors import ConfigError, OutputError, TasksFailed
from ..fileio import ensure_dir
from ..media.decode import DEFAULT_RATE, check_rate, probe
from ..progress import Progress, report
from .backbones import DEFAULT_BACKBONE, Backbone, as_backbone
from .features import (
    compute_features,
    driver_threads,
    entry_key,
    entry_video,
    features_task,
    read_feature_cache,
    save_entries,
    source_identity,
)
from .summary import shot_steps_of

if TYPE_CHECKING:
    from ..cluster.pool import RayPool

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
    pool: RayPool | None = None,
) -> Path:
    """Extract features and KTS shots of ``video_paths`` into the eccv16 file ``out_path``.

    ``progress`` (a :data:`~acsumgan.progress.Progress`) gets stage "videos" events (videos
    done of all, the note "cached" for a video taken from an earlier run's part file) and
    the "features" and "shots" events of each video computed (``item``: its name).
    ``max_shot_seconds`` (default: none, pure KTS) splits longer shots, see
    :func:`acsumgan.summarize.kts.split_long_segments`. ``pool`` (a
    :class:`~acsumgan.cluster.pool.RayPool`): one task per video not finished yet, each
    part file written here as its task returns; a video whose task fails for good is named
    in the :class:`~acsumgan.errors.TasksFailed` raised after the others finish (their
    parts kept: a rerun does only the failed ones).
    """
    paths = [Path(p) for p in video_paths]
    if not paths:
        raise ConfigError(None, "no videos given")
    check_rate(rate)
    if max_shot_seconds is not None:
        try:
            int(float(max_shot_seconds) * float(rate))  # inf and nan: refused below
            ok = float(max_shot_seconds) > 0
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ConfigError(None, f"maximum shot length must be > 0 seconds, got {max_shot_seconds!r}")
    shot_steps = shot_steps_of(max_shot_seconds)
    for p in paths:  # fail on a bad file before any work (not after hours on the others)
        probe(p)
    out_path = Path(out_path)
    if out_path.is_dir():
        raise OutputError(out_path, "is a folder, expected a file name for the dataset")
    bb = as_backbone(backbone, device)
    bb_name = getattr(bb, "name", type(bb).__name__)
    if pool is not None and not isinstance(backbone, str):
        raise ConfigError(None, "--executor ray takes a backbone by name")
    parts = ensure_dir(parts_dir(out_path))
    n = len(paths)
    todo = [(p, source_identity(p)) for p in paths]
    keys = [entry_key(ident, bb_name, rate, PART_VERSION, max_shot_seconds) for _, ident in todo]
    report(progress, "videos", 0, n)
    if pool is None:
        for i, (p, ident) in enumerate(todo):
            part = parts / f"{keys[i]}.h5"
            cached = _cached_part(part, bb_name, rate, keys[i], ident) is not None
            if not cached:
                ex, cps = compute_features(p, bb, rate, progress, shot_steps)
                _save_part(part, p, ex, cps, ident, bb_name, rate, keys[i])
            report(progress, "videos", i + 1, n, "cached" if cached else "")
    else:
        _build_on(pool, todo, keys, parts, bb_name, device, rate, max_shot_seconds, out_path, progress)
    _assemble(out_path, todo, keys, parts, bb_name, rate, max_shot_seconds)
    shutil.rmtree(parts, ignore_errors=True)
    return out_path


def _save_part(part: Path, p: Path, ex, cps, ident: dict, bb_name: str, rate: float, key: str) -> None:
    save_entries(part, [entry_video("video_1", p, ex, cps, ident)], [], bb_name, rate, {"entry_key": key})


def _build_on(pool, todo, keys, parts, bb_name, device, rate, max_shot_seconds, out_path, progress) -> None:
    """The videos without a part file, one task each; each part written as its task returns."""
    from ..cluster.pool import Failed

    n = len(todo)
    missing = []
    for i, (_, ident) in enumerate(todo):
        if _cached_part(parts / f"{keys[i]}.h5", bb_name, rate, keys[i], ident) is None:
            missing.append(i)
    done = n - len(missing)
    report(progress, "videos", done, n, "cached" if done else "")
    threads = driver_threads()
    args = [(str(todo[i][0]), bb_name, device, float(rate), threads, max_shot_seconds) for i in missing]
    failed = []
    for j, res in pool.map(features_task, args):
        i = missing[j]
        p, ident = todo[i]
        if isinstance(res, Failed):
            failed.append(f"{p}: {res.error}")
            continue
        ex, cps = res
        _save_part(parts / f"{keys[i]}.h5", p, ex, cps, ident, bb_name, rate, keys[i])
        done += 1
        report(progress, "videos", done, n, p.name)
    if failed:
        raise TasksFailed(out_path, failed, n)


def _cached_part(part: Path, bb_name: str, rate: float, key: str, ident: dict):
    hit = read_feature_cache(part, bb_name, rate, {"entry_key": key}).get(ident["source_path"])
    return hit if hit is not None and hit.ident == ident else None


def _assemble(out_path: Path, todo, keys, parts: Path, bb_name: str, rate: float, max_shot_seconds) -> None:
    """Write the dataset from the part files, one video in memory at a time."""

    def videos() -> Iterator[Video]:
        for i, (p, ident) in enumerate(todo):
            key = keys[i]
            hit = _cached_part(parts / f"{key}.h5", bb_name, rate, key, ident)
            if hit is None:
                raise OutputError(parts / f"{key}.h5", "a finished video's part file vanished or changed; run again")
            ex = hit.extracted
            yield derive_fields(
                Video(
                    key=f"video_{i + 1}",
                    features=ex.features,
                    picks=ex.picks,
                    n_frames=ex.n_frames,
                    change_points=hit.change_points,
                    video_name=p.name,
                    extra={"fps": np.float64(ex.fps), "source_path": str(p.resolve())},
                )
            )

    first = _cached_part(parts / f"{keys[0]}.h5", bb_name, rate, keys[0], todo[0][1])
    dim = int(first.extracted.features.shape[1]) if first is not None else 0
    attrs = {"backbone": bb_name, "rate": float(rate), "feature_dim": dim}
    if max_shot_seconds is not None:
        attrs["max_shot_seconds"] = float(max_shot_seconds)
    write_dataset_stream(out_path, videos(), attrs=attrs)
