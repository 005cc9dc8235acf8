"""Score files: ``{video_key: [T floats]}`` per epoch, as JSON or HDF5.

Accepted layouts (``read_scores``):

* JSON ``{"video_1": [...], ...}`` — one set of scores (the release's per-epoch file).
* JSON ``{"epochs": {"-1": {"video_1": [...]}, "0": {...}}}`` — several epochs.
* HDF5 with one 1-D dataset per video at the root — one set.
* HDF5 with groups ``epoch_-1``, ``epoch_0``, ... each holding one dataset per video
  — what ``acsumgan train`` writes (``scores.h5`` in the run folder).

Single-set files are returned under the epoch key ``None``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Mapping, Sequence

import h5py
import numpy as np

from ..data.dataset import never_written, open_h5
from ..errors import ScoresError
from ..fileio import atomic_path, check_input_file

EPOCH_GROUP = re.compile(r"^epoch_(-?\d+)$")
#: The other draws of an epoch evaluated with K > 1 policy samples (draw 0 is ``epoch_E``).
DRAW_GROUP = re.compile(r"^epoch_(-?\d+)_draw_(\d+)$")
MAX_SCORES = 10_000_000

Scores = dict[str, np.ndarray]


def _check(path, where: str, arr) -> np.ndarray:
    try:
        a = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise ScoresError(path, f"{where}: must be a list of numbers") from None
    if a.ndim != 1 or a.size == 0:
        raise ScoresError(path, f"{where}: must be a non-empty 1-D list of numbers, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ScoresError(path, f"{where}: contains NaN or inf")
    return a


def _from_mapping(path, obj, prefix: str = "") -> Scores:
    if not isinstance(obj, Mapping) or not obj:
        raise ScoresError(path, f"{prefix or 'top level'}: expected a non-empty object of video -> scores")
    return {str(k): _check(path, f"{prefix}{k}", v) for k, v in obj.items()}


def read_scores(path: str | os.PathLike) -> dict[int | None, Scores]:
    """Read a scores file; returns ``{epoch or None: {video: scores}}``."""
    p = check_input_file(path, ScoresError, "a scores file (.json or .h5)")
    with open(p, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89HDF"):
        return _read_h5(p)
    try:
        with open(p, "rb") as f:
            obj = json.loads(f.read().decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # also numbers beyond Python's int-digit limit
        raise ScoresError(p, f"neither HDF5 nor valid JSON ({type(exc).__name__})") from None
    if isinstance(obj, Mapping) and set(obj) == {"epochs"}:
        epochs = obj["epochs"]
        if not isinstance(epochs, Mapping) or not epochs:
            raise ScoresError(p, "epochs: expected a non-empty object")
        out = {}
        for e, s in epochs.items():
            try:
                ei = int(e)
            except ValueError:
                raise ScoresError(p, f"epochs: key {e!r} is not an integer epoch") from None
            out[ei] = _from_mapping(p, s, f"epochs/{e}/")
        return out
    return {None: _from_mapping(p, obj)}


def _read_h5(p: Path) -> dict[int | None, Scores]:
    def read_group(g: h5py.Group, prefix: str, nested: bool = True) -> Scores:
        out: Scores = {}
        for k in g:
            d = g[k]
            if isinstance(d, h5py.Group) and nested:  # a merged dataset's videos: name/video_k
                out.update({f"{k}/{kk}": v for kk, v in read_group(d, f"{prefix}{k}/", nested=False).items()})
                continue
            if not isinstance(d, h5py.Dataset):
                raise ScoresError(p, f"{prefix}{k}: expected a dataset of scores, found a group")
            if d.dtype.kind not in "biuf":
                raise ScoresError(p, f"{prefix}{k}: must be numeric, got {d.dtype}")
            if d.size > MAX_SCORES:
                raise ScoresError(p, f"{prefix}{k}: too large ({d.shape})")
            if never_written(d):
                raise ScoresError(p, f"{prefix}{k}: declares shape {d.shape} but its data was never written")
            out[k] = _check(p, f"{prefix}{k}", d[()])
        if not out:
            raise ScoresError(p, f"{prefix or 'file'}: holds no scores")
        return out

    try:
        with open_h5(p, error=ScoresError) as h5:
            names = [n for n in h5.keys() if not DRAW_GROUP.match(n)]
            if names and all(EPOCH_GROUP.match(n) for n in names):
                res = {}
                for n in names:
                    g = h5[n]
                    if not isinstance(g, h5py.Group):
                        raise ScoresError(p, f"{n}: expected a group of videos")
                    res[int(EPOCH_GROUP.match(n).group(1))] = read_group(g, f"{n}/")
                return dict(sorted(res.items()))
            return {None: read_group(h5, "")}
    except ScoresError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise ScoresError(
            p, f"unreadable HDF5 ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None


def write_scores(
    path: str | os.PathLike,
    scores: Mapping[int | None, Mapping[str, np.ndarray]],
    draws: Mapping[int, Sequence[Mapping[str, np.ndarray]]] | None = None,
) -> Path:
    """Write ``{epoch: {video: scores}}`` to HDF5 atomically (epoch ``None`` = flat).
    ``draws`` (``{epoch: [draw 1, draw 2, ...]}``, each ``{video: scores}``) adds the other
    policy samples of an epoch as groups ``epoch_E_draw_J``; ``epoch_E`` is draw 0."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for epoch, per_video in scores.items():
                g = h5 if epoch is None else h5.create_group(f"epoch_{int(epoch)}")
                for k, v in per_video.items():
                    g.create_dataset(k, data=np.asarray(v, dtype=np.float32))
            for epoch, more in (draws or {}).items():
                for j, per_video in enumerate(more, start=1):
                    g = h5.create_group(f"epoch_{int(epoch)}_draw_{j}")
                    for k, v in per_video.items():
                        g.create_dataset(k, data=np.asarray(v, dtype=np.float32))
    return Path(path)


def read_score_draws(path: str | os.PathLike) -> dict[int, list[Scores]]:
    """Every policy sample of a run's scores.h5: ``{epoch: [draw 0, draw 1, ...]}``
    (one draw per epoch for a run evaluated with K = 1)."""
    out = {e: [s] for e, s in read_scores(path).items() if e is not None}
    with open_h5(Path(path), error=ScoresError) as h5:
        found = sorted((int(m.group(1)), int(m.group(2)), n) for n in h5.keys() if (m := DRAW_GROUP.match(n)))
        for epoch, _, name in found:
            if epoch in out:
                out[epoch].append({k: np.asarray(h5[name][k][()], dtype=np.float32) for k in h5[name]})
    return out


def select_epoch(
    all_scores: Mapping[int | None, Scores], epoch: int | None, scores_path: str | os.PathLike
) -> dict[int | None, Scores]:
    """``{epoch: scores}`` of one epoch of a ``read_scores`` result (all of it when
    ``epoch`` is None); ScoresError naming the file's epochs when it has no such epoch."""
    if epoch is None:
        return dict(all_scores)
    if epoch not in all_scores:
        raise ScoresError(scores_path, f"has no epoch {epoch} (epochs: {', '.join(str(e) for e in all_scores)})")
    return {epoch: all_scores[epoch]}


def check_scores(
    all_scores: Mapping[int | None, Scores],
    videos: Mapping,
    scores_path: str | os.PathLike,
    dataset_path: str | os.PathLike,
) -> None:
    """Every scored video is one of ``videos`` (the dataset's) and has one score per
    step; else a one-line ScoresError naming the video."""
    for sc in all_scores.values():
        for k, s in sc.items():
            if k not in videos:
                raise ScoresError(scores_path, f"{k}: not a video of {dataset_path}")
            if s.shape[0] != videos[k].steps:
                raise ScoresError(
                    scores_path, f"{k}: has {s.shape[0]} scores but the video has {videos[k].steps} steps"
                )
