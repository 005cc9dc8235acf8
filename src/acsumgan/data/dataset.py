"""The eccv16 HDF5 dataset schema: read, validate, write.

One group per video (``video_1``, ``video_2``, ...) holding (method.md section 1):

========================  ==================  ===========================================
field                     shape               meaning
========================  ==================  ===========================================
``features``              (T, D) float        one feature vector per sub-sampled step
``picks``                 (T,) int            original-frame index of each step
``n_frames``              scalar int          frames of the original video
``n_steps``               scalar int          T
``change_points``         (S, 2) int          inclusive [start, end] frames of each shot
``n_frame_per_seg``       (S,) int            end - start + 1
``user_summary``          (U, n_frames) 0/1   one row per annotator
``user_scores``           (U, n_frames)       per-annotator frame importance (optional)
``gtscore``               (T,) float          mean annotator score per step
``gtsummary``             (T,) 0/1            a reference keyshot summary per step
``video_name``            string              original name (SumMe, own videos)
========================  ==================  ===========================================

Training needs only ``features``; evaluation needs only ``user_summary``,
``change_points``, ``n_frames`` and ``picks``; a user's own collection has
``features``, ``picks``, ``n_frames`` and ``change_points`` and no labels. Every
problem is reported as one line naming the file, the video and the field.

A merged file (``acsumgan dataset merge``, the augmented and transfer settings of
Zhang et al., ECCV 2016) holds one group per dataset, each with its video groups:
its video keys are ``dataset/video_k`` (one ``/``), the root attribute
``merged_datasets`` lists the dataset groups in order, and each dataset group carries
the root attributes of the file it came from (``eval_metric``, ``backbone``, ...).
A file without that attribute is flat: its root members are the videos.

**What is a video**: a group that holds at least one field of the table above (usually
``features``), or that a caller names explicitly (``keys``). Anything else in a file, a
group without any of the fields (e.g. ``metadata``), a dataset outside a video group,
attributes, is not a video: train, evaluate and validate ignore it, and ``dataset merge``
copies it unchanged into the input's dataset group (:mod:`acsumgan.data.merge`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable, Mapping

import h5py
import numpy as np

from ..errors import DatasetError
from ..fileio import atomic_path, check_input_file, readable

ARRAY_FIELDS = (
    "features",
    "picks",
    "change_points",
    "n_frame_per_seg",
    "user_summary",
    "user_scores",
    "gtscore",
    "gtsummary",
)
SCALAR_FIELDS = ("n_frames", "n_steps")
STRING_FIELDS = ("video_name",)
KNOWN_FIELDS = ARRAY_FIELDS + SCALAR_FIELDS + STRING_FIELDS

#: Fields each use needs. ``any`` checks only what is present.
REQUIRED = {
    "any": (),
    "train": ("features",),
    "evaluate": ("user_summary", "change_points", "n_frames", "picks"),
    "summarize": ("features", "picks", "n_frames", "change_points"),
}

# Guards against crafted files whose declared shapes would exhaust memory.
MAX_ELEMENTS = 1 << 28
MAX_STEPS = 1_000_000
MAX_FRAMES = 100_000_000
#: Unknown (extra) fields and names larger than this are not read.
MAX_EXTRA_BYTES = 1 << 20
#: Root attribute of a merged file: the names of its dataset groups, in order.
MERGED_ATTR = "merged_datasets"
MAX_DATASETS = 1000


def key_problem(key) -> str | None:
    """Why ``key`` cannot name a video (``video`` or ``dataset/video``), or None."""
    if not isinstance(key, str) or not key:
        return "a video name must be a non-empty string"
    parts = key.split("/")
    if len(parts) > 2 or any(part in ("", ".", "..") for part in parts):
        return f"{key!r} is not a video name (video or dataset/video: one '/')"
    return None


def dataset_of(key: str) -> str | None:
    """The dataset prefix of a merged file's key (``summe/video_1`` -> ``summe``); None for a flat key."""
    return key.split("/", 1)[0] if "/" in key else None


@dataclass
class Video:
    """One video of a dataset file; absent fields are ``None``."""

    key: str
    features: np.ndarray | None = None
    picks: np.ndarray | None = None
    n_frames: int | None = None
    n_steps: int | None = None
    change_points: np.ndarray | None = None
    n_frame_per_seg: np.ndarray | None = None
    user_summary: np.ndarray | None = None
    user_scores: np.ndarray | None = None
    gtscore: np.ndarray | None = None
    gtsummary: np.ndarray | None = None
    video_name: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Number of steps T (from the features, else picks, else n_steps)."""
        if self.features is not None:
            return int(self.features.shape[0])
        if self.picks is not None:
            return int(self.picks.shape[0])
        if self.n_steps is not None:
            return int(self.n_steps)
        raise ValueError(f"{self.key}: no field gives the number of steps")

    def present(self) -> list[str]:
        return [f.name for f in fields(self) if f.name in KNOWN_FIELDS and getattr(self, f.name) is not None]


def _fail(path, key: str | None, fld: str | None, problem: str) -> DatasetError:
    where = "/".join(p for p in (key, fld) if p)
    return DatasetError(path, f"{where}: {problem}" if where else problem)


def _frame_indices(a: np.ndarray) -> np.ndarray | None:
    """``a`` as int64 frame indices, or None when it holds anything else (booleans,
    fractions, NaN, values beyond MAX_FRAMES). The checks run on int64: differences of
    unsigned integers would wrap around."""
    if a.dtype.kind not in "iuf":
        return None
    if a.dtype.kind == "f" and not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
        return None
    if a.size and np.max(np.abs(a.astype(np.float64))) > MAX_FRAMES:
        return None
    return a.astype(np.int64)


def _not_indices(a: np.ndarray, n_frames) -> str:
    """Why ``a`` is no array of frame indices (:func:`_frame_indices` said None): integers
    beyond any video's frames are named (``frame 5000000000 (entry 3) is beyond n_frames=1341``),
    anything else ``must hold integer frame indices``."""
    if a.dtype.kind not in "iuf" or a.dtype.kind == "f" and not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
        return "must hold integer frame indices"
    flat = a.reshape(-1)
    i = int(np.argmax(np.abs(flat.astype(np.float64)) > MAX_FRAMES))
    value = flat[i]
    text = f"{value:.6g}" if a.dtype.kind == "f" and abs(value) >= 1e15 else str(int(value))
    if value < 0:
        return f"holds a negative frame ({text}, entry {i})"
    beyond = f"n_frames={n_frames}" if n_frames is not None else f"any video ({MAX_FRAMES:,} frames at most)"
    return f"frame {text} (entry {i}) is beyond {beyond}"


def validate_video(v: Video, path: str | os.PathLike = "<memory>", purpose: str = "any") -> None:
    """Check one video's fields against the schema; raise a one-line DatasetError.

    The checks run in this order (the first problem found is reported): the fields
    ``purpose`` needs, then features, n_frames, n_steps, picks, change_points (with
    n_frame_per_seg), user_summary / user_scores, gtscore / gtsummary.
    """
    if purpose not in REQUIRED:
        raise ValueError(f"unknown purpose {purpose!r}")
    problem = key_problem(v.key)
    if problem:
        raise DatasetError(path, problem)
    for name in REQUIRED[purpose]:
        if getattr(v, name) is None:
            raise _fail(path, v.key, name, f"missing (needed to {purpose})")
    T = _check_features(v, path)
    _check_n_frames(v, path)
    _check_n_steps(v, path, T)
    T = _check_picks(v, path, T)
    _check_change_points(v, path)
    _check_user_annotations(v, path)
    _check_step_labels(v, path, T)


def _check_features(v: Video, path) -> int | None:
    """(T, D) finite floats with T, D > 0; returns T (None without features)."""
    f = v.features
    if f is None:
        return None
    if f.ndim != 2:
        raise _fail(path, v.key, "features", f"must be 2-D (steps x dims), got shape {f.shape}")
    if f.shape[0] == 0:
        raise _fail(path, v.key, "features", "has 0 steps")
    if f.shape[1] == 0:
        raise _fail(path, v.key, "features", "has 0 dimensions")
    if f.dtype.kind != "f":
        raise _fail(path, v.key, "features", f"must be floating point, got {f.dtype}")
    if not np.all(np.isfinite(f)):
        bad = int(np.argwhere(~np.isfinite(f))[0][0])
        raise _fail(path, v.key, "features", f"contains NaN or inf (first at step {bad})")
    return f.shape[0]


def _check_n_frames(v: Video, path) -> None:
    n_frames = v.n_frames
    if n_frames is not None and (int(n_frames) != n_frames or n_frames < 1):
        raise _fail(path, v.key, "n_frames", f"must be a positive integer, got {n_frames}")


def _check_n_steps(v: Video, path, T: int | None) -> None:
    if v.n_steps is None:
        return
    if v.n_steps < 0:
        raise _fail(path, v.key, "n_steps", f"must be >= 0, got {v.n_steps}")
    if T is not None and v.n_steps != T:
        raise _fail(path, v.key, "n_steps", f"is {v.n_steps} but features have {T} steps")


def _check_picks(v: Video, path, T: int | None) -> int | None:
    """Strictly increasing frame indices inside the video, one per step; returns T
    (from the picks when there are no features)."""
    if v.picks is None:
        return T
    key, n_frames = v.key, v.n_frames
    p = v.picks
    if p.ndim != 1:
        raise _fail(path, key, "picks", f"must be 1-D, got shape {p.shape}")
    q = _frame_indices(p)
    if q is None:
        raise _fail(path, key, "picks", _not_indices(p, n_frames))
    p = q
    if T is not None and p.shape[0] != T:
        raise _fail(path, key, "picks", f"has {p.shape[0]} entries but features have {T} steps")
    if p.size and p[0] < 0:
        raise _fail(path, key, "picks", f"starts at a negative frame ({int(p[0])})")
    if p.size > 1 and np.any(np.diff(p) <= 0):
        i = int(np.argwhere(np.diff(p) <= 0)[0][0])
        raise _fail(path, key, "picks", f"not strictly increasing (at index {i + 1})")
    if n_frames is not None and p.size and p[-1] >= n_frames:
        raise _fail(path, key, "picks", f"frame {int(p[-1])} is beyond n_frames={n_frames}")
    return p.shape[0] if T is None else T


def _check_change_points(v: Video, path) -> None:
    """Shots (start, end) that cover the video without gaps; n_frame_per_seg matches them."""
    if v.change_points is None:
        return
    key, n_frames = v.key, v.n_frames
    cp = v.change_points
    if cp.ndim != 2 or cp.shape[1] != 2 or cp.shape[0] == 0:
        raise _fail(path, key, "change_points", f"must be (shots x 2), got shape {cp.shape}")
    q = _frame_indices(cp)
    if q is None:
        raise _fail(path, key, "change_points", _not_indices(cp, n_frames))
    cp = q
    if np.any(cp[:, 1] < cp[:, 0]):
        i = int(np.argwhere(cp[:, 1] < cp[:, 0])[0][0])
        raise _fail(path, key, "change_points", f"shot {i} ends before it starts")
    if cp[0, 0] != 0:
        raise _fail(
            path, key, "change_points", f"do not cover the video: first shot starts at frame {int(cp[0, 0])}, not 0"
        )
    gaps = cp[1:, 0] != cp[:-1, 1] + 1
    if np.any(gaps):
        i = int(np.argwhere(gaps)[0][0])
        raise _fail(
            path,
            key,
            "change_points",
            f"do not cover the video: shot {i + 1} starts at frame {int(cp[i + 1, 0])}, "
            f"shot {i} ends at {int(cp[i, 1])}",
        )
    if n_frames is not None and cp[-1, 1] != n_frames - 1:
        raise _fail(
            path,
            key,
            "change_points",
            f"do not cover the video: last shot ends at frame {int(cp[-1, 1])}, n_frames is {n_frames}",
        )
    if v.n_frame_per_seg is not None:
        nps = v.n_frame_per_seg
        if nps.shape != (cp.shape[0],) or np.any(nps != cp[:, 1] - cp[:, 0] + 1):
            raise _fail(path, key, "n_frame_per_seg", "does not equal end - start + 1 of change_points")


def _check_user_annotations(v: Video, path) -> None:
    """user_summary / user_scores: (users x n_frames), finite numbers; the summary 0/1."""
    for name in ("user_summary", "user_scores"):
        us = getattr(v, name)
        if us is None:
            continue
        if us.ndim != 2 or us.shape[0] == 0:
            raise _fail(path, v.key, name, f"must be (users x frames), got shape {us.shape}")
        if us.dtype.kind not in "biuf":
            raise _fail(path, v.key, name, f"must be numeric, got {us.dtype}")
        if not np.all(np.isfinite(us)):
            raise _fail(path, v.key, name, "contains NaN or inf")
        if v.n_frames is not None and us.shape[1] != v.n_frames:
            raise _fail(path, v.key, name, f"has {us.shape[1]} frames per user but n_frames is {v.n_frames}")
        if name == "user_summary" and not np.all((us == 0) | (us == 1)):
            raise _fail(path, v.key, name, "must hold only 0 and 1")


def _check_step_labels(v: Video, path, T: int | None) -> None:
    """gtscore / gtsummary: 1-D, finite, one entry per step."""
    for name in ("gtscore", "gtsummary"):
        a = getattr(v, name)
        if a is None:
            continue
        if a.ndim != 1:
            raise _fail(path, v.key, name, f"must be 1-D, got shape {a.shape}")
        if not np.all(np.isfinite(a.astype(np.float64))):
            raise _fail(path, v.key, name, "contains NaN or inf")
        if T is not None and a.shape[0] != T:
            raise _fail(path, v.key, name, f"has {a.shape[0]} entries but the video has {T} steps")


def never_written(obj: h5py.Dataset) -> bool:
    """True when part of the dataset's declared shape holds no stored data (a declared
    but never written dataset, an interrupted writer, a crafted file, or virtual or
    external storage). Reading such a dataset gives fill values, and HDF5 spends memory
    on every unwritten chunk, so it is refused before reading."""
    if not obj.shape or not obj.size:
        return False
    try:
        if obj.chunks is None:
            return obj.id.get_storage_size() == 0
        total = math.prod(-(-n // c) for n, c in zip(obj.shape, obj.chunks))
        return obj.id.get_num_chunks() < total
    except (AttributeError, RuntimeError, ValueError, OSError):  # old HDF5: cannot tell
        return False


def _read_array(path, key: str, grp: h5py.Group, name: str) -> np.ndarray:
    obj = grp[name]
    if not isinstance(obj, h5py.Dataset):
        raise _fail(path, key, name, "is a group, expected a dataset")
    if obj.dtype.kind not in "biuf":
        raise _fail(path, key, name, f"must be numeric, got dtype {obj.dtype}")
    if obj.size > MAX_ELEMENTS:
        raise _fail(path, key, name, f"is too large ({obj.shape})")
    if name == "features" and obj.ndim >= 1 and obj.shape[0] > MAX_STEPS:
        raise _fail(path, key, name, f"has too many steps ({obj.shape[0]})")
    if never_written(obj):
        raise _fail(path, key, name, f"declares shape {obj.shape} but its data was never written (incomplete file?)")
    return np.asarray(obj[()])


def _read_scalar(path, key: str, grp: h5py.Group, name: str) -> int:
    obj = grp[name]
    if not isinstance(obj, h5py.Dataset):
        raise _fail(path, key, name, "is a group, expected a scalar")
    if obj.dtype.kind not in "biuf" or obj.size != 1:
        raise _fail(path, key, name, f"must be one number, got dtype {obj.dtype} shape {obj.shape}")
    val = np.asarray(obj[()]).reshape(()).item()
    if not np.isfinite(val) or val != int(val):
        raise _fail(path, key, name, f"must be an integer, got {val}")
    if abs(val) > MAX_FRAMES:
        raise _fail(path, key, name, f"is implausibly large ({val})")
    return int(val)


def _read_string(path, key: str, grp: h5py.Group, name: str) -> str:
    obj = grp[name]
    if (
        not isinstance(obj, h5py.Dataset)
        or obj.size > 1_000_000
        or obj.size * obj.dtype.itemsize > MAX_EXTRA_BYTES
        or never_written(obj)
    ):
        raise _fail(path, key, name, "must be a string")
    val = obj[()]
    if isinstance(val, np.ndarray):
        val = val.reshape(-1)[0] if val.size else b""
    if isinstance(val, bytes):
        return val.decode("utf-8", errors="replace")
    if isinstance(val, str):
        return val
    raise _fail(path, key, name, f"must be a string, got {type(val).__name__}")


def _read_video(path, key: str, grp: h5py.Group) -> Video:
    v = Video(key=key)
    for name in ARRAY_FIELDS:
        if name in grp:
            setattr(v, name, _read_array(path, key, grp, name))
    for name in SCALAR_FIELDS:
        if name in grp:
            setattr(v, name, _read_scalar(path, key, grp, name))
    for name in STRING_FIELDS:
        if name in grp:
            setattr(v, name, _read_string(path, key, grp, name))
    for name in grp:
        if name not in KNOWN_FIELDS:
            obj = grp[name]
            if (
                isinstance(obj, h5py.Dataset)
                and obj.size is not None
                and obj.size * obj.dtype.itemsize <= MAX_EXTRA_BYTES
                and not never_written(obj)
            ):
                val = obj[()]
                v.extra[name] = val.decode() if isinstance(val, bytes) else val
    return v


def open_h5(path: str | os.PathLike, error=DatasetError) -> h5py.File:
    """Open an HDF5 file for reading with one-line errors for the usual failures (a file
    another process holds open for writing among them: HDF5 locks it)."""
    p = check_input_file(path, error, "an HDF5 file")
    try:
        return h5py.File(p, "r")
    except OSError as exc:
        msg = str(exc)
        if "truncated" in msg:
            raise error(p, "truncated HDF5 file (incomplete copy?)") from None
        if "signature" in msg or "not an HDF5" in msg or "file format" in msg.lower():
            raise error(p, "not an HDF5 file") from None
        if "unable to lock file" in msg.lower():  # HDF5's file lock: a writer holds the file
            raise error(
                p, "is open for writing by another process (HDF5 file lock); wait until that process has finished"
            ) from None
        raise error(p, f"cannot open as HDF5 ({msg.splitlines()[0] if msg else 'unknown error'})") from None


def merged_datasets(h5: h5py.File, path: str | os.PathLike = "<memory>") -> list[str] | None:
    """The dataset groups of a merged file (its ``merged_datasets`` root attribute, each
    checked to be a group), or None for a flat file."""
    try:
        if MERGED_ATTR not in h5.attrs:
            return None
        raw = h5.attrs[MERGED_ATTR]
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise DatasetError(path, f"root attribute {MERGED_ATTR!r} is unreadable ({type(exc).__name__})") from None
    bad = DatasetError(path, f"root attribute {MERGED_ATTR!r} must list the names of the dataset groups")
    items = [raw] if isinstance(raw, (str, bytes)) else raw
    if isinstance(items, np.ndarray):
        if not 0 < items.size <= MAX_DATASETS:
            raise bad
        items = items.reshape(-1).tolist()
    if not isinstance(items, list) or not 0 < len(items) <= MAX_DATASETS:
        raise bad
    names = []
    for item in items:
        if isinstance(item, bytes):
            try:
                item = item.decode("utf-8")
            except UnicodeDecodeError:
                raise bad from None
        if not isinstance(item, str) or key_problem(item) or "/" in item or item in names:
            raise bad
        names.append(item)
    for name in names:
        try:
            ok = name in h5 and isinstance(h5[name], h5py.Group)
        except (OSError, RuntimeError, KeyError, ValueError, TypeError):
            ok = False
        if not ok:
            raise DatasetError(path, f"{name}: listed in {MERGED_ATTR!r} but is not a dataset group")
    return names


def is_video_group(obj) -> bool:
    """True for a video: an HDF5 group holding at least one field of the schema (see the
    module docstring). A link that does not resolve, a dataset or a group without any of
    the fields is not one."""
    try:
        return isinstance(obj, h5py.Group) and any(name in obj for name in KNOWN_FIELDS)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False


def get_member(node, name: str):
    """``node[name]``, or None when it cannot be opened (a dangling link, a damaged object)."""
    try:
        return node.get(name)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return None


def _videos_of(node) -> list[str]:
    """The names of the video groups among ``node``'s members, in file order."""
    return [name for name in node.keys() if is_video_group(get_member(node, name))]


def _video_names(path, h5: h5py.File) -> list[str]:
    """Every video key of the file, in file order (``dataset/video`` in a merged file);
    members that are not videos are left out."""
    groups = merged_datasets(h5, path)
    if groups is None:
        return _videos_of(h5)
    stray = [n for n in _videos_of(h5) if n not in groups]
    if stray:
        raise _fail(path, stray[0], None, f"is a video but not in one of the merged datasets ({', '.join(groups)})")
    names = []
    for g in groups:
        inner = _videos_of(h5[g])
        if not inner:
            raise _fail(path, g, None, "dataset group contains no videos")
        names += [f"{g}/{k}" for k in inner]
    return names


def other_members(path: str | os.PathLike) -> list[str]:
    """The members of a file that are not videos (groups without a field of the schema,
    datasets outside video groups), as paths in the file, in file order; those inside a
    merged file's dataset groups as ``dataset/name``. Readers ignore them."""
    out = []
    with open_h5(path) as h5:
        groups = merged_datasets(h5, path)
        for name in h5.keys():
            if groups is not None and name in groups:
                out += [f"{name}/{k}" for k in h5[name].keys() if not is_video_group(get_member(h5[name], k))]
            elif not (groups is None and is_video_group(get_member(h5, name))):
                out.append(name)
    return out


def _has_video(h5: h5py.File, key: str, groups: list[str] | None) -> bool:
    if groups is not None and dataset_of(key) not in groups:
        return False
    try:
        return key in h5
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):
        return False


def load_dataset(
    path: str | os.PathLike,
    purpose: str = "any",
    keys: Iterable[str] | None = None,
) -> dict[str, Video]:
    """Read and validate an eccv16 dataset file.

    ``purpose`` (``any``, ``train``, ``evaluate``, ``summarize``) decides which fields
    must be present; fields that are present are always checked. ``keys`` restricts
    reading to those videos (each must exist). Returns ``{key: Video}`` in file order;
    a merged file's keys are ``dataset/video`` (datasets in ``merged_datasets`` order).
    Members that are not videos (:func:`is_video_group`) are ignored unless ``keys`` names them.
    """
    videos: dict[str, Video] = {}
    with open_h5(path) as h5:
        try:
            names = _video_names(path, h5)
        except DatasetError:
            raise
        except (OSError, RuntimeError, KeyError) as exc:
            raise DatasetError(path, f"unreadable HDF5 structure ({exc})") from None
        if keys is not None:
            keys = list(keys)
            groups = merged_datasets(h5, path)
            missing = [k for k in keys if not _has_video(h5, k, groups)]
            if missing:
                raise DatasetError(path, f"no video named {missing[0]!r} (file has {len(names)} videos)")
            names = keys
        if not names:
            raise DatasetError(path, "contains no videos")
        for key in names:
            try:
                grp = h5[key]
            except (OSError, RuntimeError, KeyError, ValueError) as exc:
                raise _fail(path, key, None, f"unreadable ({exc})") from None
            if not isinstance(grp, h5py.Group):
                raise _fail(path, key, None, "is not a video group")
            try:
                v = _read_video(path, key, grp)
            except DatasetError:
                raise
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
                raise _fail(
                    path, key, None, f"unreadable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                ) from None
            validate_video(v, path, purpose)
            videos[key] = v
    if purpose == "train":
        dims = {v.features.shape[1] for v in videos.values()}
        if len(dims) > 1:
            raise DatasetError(path, f"videos have different feature sizes {sorted(dims)}")
    return videos


def save_dataset(
    path: str | os.PathLike,
    videos: Mapping[str, Video] | Iterable[Video],
    validate: bool = True,
    attrs: Mapping | None = None,
    group_attrs: Mapping[str, Mapping] | None = None,
    extra: Callable[[h5py.File], None] | None = None,
) -> Path:
    """Write videos to an eccv16 HDF5 file atomically (temp file, then rename).

    ``attrs`` become root attributes (e.g. ``eval_metric``). Keys ``dataset/video``
    (all of them, or none) make a merged file: a group per dataset, the root attribute
    ``merged_datasets`` (the datasets in the order of their first video), and
    ``group_attrs[dataset]`` as that group's attributes. ``extra(h5)``, when given, is called
    with the open file after the videos are written (to add members that are not videos)."""
    items = list(videos.values()) if isinstance(videos, Mapping) else list(videos)
    for v in items:
        problem = key_problem(v.key)
        if problem:
            raise DatasetError(path, problem)
    groups = list(dict.fromkeys(dataset_of(v.key) for v in items))
    if None in groups and len(groups) > 1:
        raise DatasetError(path, "video keys mix flat names and dataset/video names")
    merged = bool(groups) and groups[0] is not None
    if (attrs and MERGED_ATTR in attrs) or (group_attrs and not merged):
        raise ValueError(f"{MERGED_ATTR} and group_attrs come from dataset/video keys")
    if group_attrs and set(group_attrs) - set(groups):
        raise ValueError(f"group_attrs names datasets without videos: {sorted(set(group_attrs) - set(groups))}")
    if validate:
        for v in items:
            validate_video(v, path)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for k, val in (attrs or {}).items():
                h5.attrs[k] = readable(val) if isinstance(val, str) else val
            if merged:
                h5.attrs[MERGED_ATTR] = np.array([g.encode("utf-8") for g in groups])
                for g in groups:
                    grp = h5.create_group(g)
                    for k, val in (group_attrs or {}).get(g, {}).items():
                        grp.attrs[k] = readable(val) if isinstance(val, str) else val
            for v in items:
                write_video(h5, v)
            if extra is not None:
                extra(h5)
    return Path(path)


def write_dataset_stream(path: str | os.PathLike, videos: Iterable[Video], attrs: Mapping | None = None) -> Path:
    """:func:`save_dataset` of flat keys (``video_1``, ...) for a collection of any size: the
    videos are taken from the iterable one at a time (each checked, then written), so memory
    holds one video, not the collection. Atomic: the file appears complete or not at all."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for k, val in (attrs or {}).items():
                h5.attrs[k] = readable(val) if isinstance(val, str) else val
            for v in videos:
                problem = key_problem(v.key)
                if problem is None and dataset_of(v.key) is not None:
                    problem = f"{v.key}: a streamed dataset takes flat keys (video_1, ...)"
                if problem:
                    raise DatasetError(path, problem)
                validate_video(v, path)
                write_video(h5, v)
    return Path(path)


def write_video(h5: h5py.File, v: Video) -> None:
    """Write one video group into an open HDF5 file (replacing a group of that name)."""
    if v.key in h5:
        del h5[v.key]
    g = h5.create_group(v.key)
    for name in ARRAY_FIELDS:
        a = getattr(v, name)
        if a is not None:
            g.create_dataset(name, data=np.asarray(a))
    for name in SCALAR_FIELDS:
        a = getattr(v, name)
        if a is not None:
            g.create_dataset(name, data=int(a))
    if v.video_name is not None:  # a file name's byte that is not UTF-8 as U+FFFD: valid UTF-8
        g.create_dataset("video_name", data=np.bytes_(readable(v.video_name).encode("utf-8")))
    for name, val in v.extra.items():
        if name not in KNOWN_FIELDS:
            g.create_dataset(name, data=np.bytes_(readable(val).encode("utf-8")) if isinstance(val, str) else val)


def derive_fields(v: Video) -> Video:
    """Fill ``n_steps`` and ``n_frame_per_seg`` from what they derive from."""
    if v.n_steps is None and (v.features is not None or v.picks is not None):
        v.n_steps = v.steps
    if v.n_frame_per_seg is None and v.change_points is not None:
        cp = v.change_points
        v.n_frame_per_seg = (cp[:, 1] - cp[:, 0] + 1).astype(np.int64)
    return v


def dataset_attrs(path: str | os.PathLike, group: str | None = None) -> dict:
    """The file's root attributes (e.g. ``eval_metric``, ``profile``, ``seed``), or with
    ``group`` those of one dataset group of a merged file."""
    with open_h5(path) as h5:
        node = h5
        if group is not None:
            if group not in (merged_datasets(h5, path) or []):
                raise DatasetError(path, f"has no dataset group {group!r}")
            node = h5[group]
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in node.attrs.items()}


def dataset_names(path: str | os.PathLike) -> list[str] | None:
    """The datasets of a merged file in order, or None for a flat file."""
    with open_h5(path) as h5:
        return merged_datasets(h5, path)
