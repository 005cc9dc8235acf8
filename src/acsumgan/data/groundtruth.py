"""Importers of the official SumMe and TVSum ground truth into eccv16-schema videos.

The standard feature files (``eccv16_dataset_{summe,tvsum}_google_pool5.h5``, Zhang et
al. ECCV 2016) hold, besides GoogLeNet features, label fields that can be rebuilt
exactly from the datasets' own public ground truth. These importers rebuild them, so
that evaluation works without the feature files, and can add them to a features file
(``merge_features``).

SumMe (Gygli et al., ECCV 2014), one MATLAB v5 file per video (``GT/<name>.mat``):

===================  =========================================================
field                how it is made
===================  =========================================================
key                  ``video_i``: the i-th GT file name in byte-wise sorted order
                     (cross-checked against ``mapped_video_names.json`` if given)
``n_frames``         ``nFrames`` (must equal the rows of ``user_score``)
``picks``            ``arange(0, n_frames, 15)``
``n_steps``          ``ceil(n_frames / 15)``
``user_summary``     ``(user_score > 0).T`` (users x n_frames, uint8 0/1)
``gtscore``          ``gt_score[picks]`` (float32)
``change_points``    from the change-points JSON ``{"video_i": [[start, end], ...]}``
                     (inclusive), with ``n_frame_per_seg = end - start + 1``; absent
                     if no change-points file is given
``video_name``       the GT file name without ``.mat``
===================  =========================================================

SumMe ``user_score`` is NOT written as ``user_scores``: its non-zero values number
the segments a user selected (1, 2, 3, ... in the order of selection), they are not
an importance scale, so the only per-user frame-level information is the binary
selection, which ``user_summary`` already holds.

TVSum (Song et al., CVPR 2015), ``ydata-tvsum50.mat`` (MATLAB v7.3, read with h5py)
or ``ydata-tvsum50-anno.tsv`` (optionally gzip-compressed; either input may be gzipped):

===================  =========================================================
field                how it is made
===================  =========================================================
key                  ``video_i``: the i-th video in file order
``n_frames``         ``nframes`` (.mat; must equal the annotation length) or the
                     annotation length (.tsv)
``picks``            ``arange(0, n_frames, 15)``
``n_steps``          ``ceil(n_frames / 15)``
``user_scores``      ``user_anno`` (users x n_frames, importance 1..5, uint8)
``gtscore``          ``((mean over users of user_anno)[picks] - 1) / 4`` (float32)
``video_name``       the YouTube id
===================  =========================================================

TVSum ``change_points`` and ``user_summary`` are ABSENT: the standard file's TVSum user
summaries were made by a knapsack over KTS shots that are not public, and nothing is
invented here. ``features`` are never imported. ``merge_features`` keeps whatever the
features file has for the fields an import lacks.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

import h5py
import numpy as np

from ..errors import DatasetError
from ..fileio import check_input_file
from .dataset import Video, derive_fields, load_dataset, validate_video

PICK_STEP = 15
"""One step every 15th frame, as in the standard files."""

#: The 25 SumMe videos: the names of their GT files, in the byte-wise sorted order that
#: numbers them ``video_1`` .. ``video_25``.
SUMME_NAMES = (
    "Air_Force_One",
    "Base jumping",
    "Bearpark_climbing",
    "Bike Polo",
    "Bus_in_Rock_Tunnel",
    "Car_railcrossing",
    "Cockpit_Landing",
    "Cooking",
    "Eiffel Tower",
    "Excavators river crossing",
    "Fire Domino",
    "Jumps",
    "Kids_playing_in_leaves",
    "Notre_Dame",
    "Paintball",
    "Playing_on_water_slide",
    "Saving dolphines",
    "Scuba",
    "St Maarten Landing",
    "Statue of Liberty",
    "Uncut_Evening_Flight",
    "Valparaiso_Downhill",
    "car_over_camera",
    "paluma_jump",
    "playing_ball",
)

DATASETS = ("summe", "tvsum")
EVAL_METRIC = {"summe": "max", "tvsum": "avg"}

# Guards against inputs that would exhaust memory.
MAX_INPUT_BYTES = 1 << 30
MAX_USERS = 10_000

GZIP_MAGIC = b"\x1f\x8b"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


# --------------------------------------------------------------------------- common


def step_picks(n_frames: int) -> np.ndarray:
    """``arange(0, n_frames, 15)``: the original-frame index of each step."""
    return np.arange(0, int(n_frames), PICK_STEP, dtype=np.int64)


def n_steps_for(n_frames: int) -> int:
    """``ceil(n_frames / 15)``."""
    return int(math.ceil(int(n_frames) / PICK_STEP))


def _first_line(exc: BaseException) -> str:
    msg = str(exc).strip()
    return msg.splitlines()[0] if msg else type(exc).__name__


def _read_bytes(path: Path, what: str) -> bytes:
    """The file's bytes, gunzipped if it is gzip-compressed (one-line errors)."""
    check_input_file(path, DatasetError, what)
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise DatasetError(path, f"is too large ({size} bytes)")
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(path, f"cannot read ({exc.strerror or exc})") from None
    if data.startswith(GZIP_MAGIC):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(MAX_INPUT_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise DatasetError(path, f"corrupt gzip data ({_first_line(exc)})") from None
        if len(data) > MAX_INPUT_BYTES:
            raise DatasetError(path, "decompresses to more than 1 GiB")
        if not data:
            raise DatasetError(path, "is empty after gzip decompression")
    return data


def _read_json(path: Path, what: str):
    data = _read_bytes(path, what)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DatasetError(path, f"not valid JSON ({type(exc).__name__})") from None


# --------------------------------------------------------------------------- SumMe


@dataclass
class SumMeGT:
    """One official SumMe ground-truth file."""

    name: str
    user_score: np.ndarray  # n_frames x n_users (segment numbers, 0 = not selected)
    gt_score: np.ndarray  # n_frames
    n_frames: int
    fps: float | None = None


def read_summe_gt(path: str | os.PathLike) -> SumMeGT:
    """Read one SumMe ``GT/<name>.mat`` file (MATLAB v5, scipy.io.loadmat)."""
    import scipy.io  # SciPy only for SumMe's .mat files (it costs start-up time elsewhere)

    p = check_input_file(path, DatasetError, "a SumMe GT .mat file")
    try:
        m = scipy.io.loadmat(str(p))
    except (ValueError, TypeError, OSError, NotImplementedError, KeyError, IndexError, EOFError) as exc:
        raise DatasetError(p, f"not a readable MATLAB v5 file ({_first_line(exc)})") from None
    for k in ("user_score", "gt_score", "nFrames"):
        if k not in m:
            raise DatasetError(p, f"has no {k!r} (not a SumMe GT file?)")
    try:
        n_frames_val = np.asarray(m["nFrames"], dtype=np.float64).reshape(-1)
        us = np.asarray(m["user_score"])
        gt = np.asarray(m["gt_score"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DatasetError(p, f"unexpected content ({_first_line(exc)})") from None
    if (
        n_frames_val.size != 1
        or not np.isfinite(n_frames_val[0])
        or n_frames_val[0] != int(n_frames_val[0])
        or n_frames_val[0] < 1
    ):
        raise DatasetError(p, f"nFrames must be one positive integer, got {n_frames_val.tolist()[:3]}")
    n_frames = int(n_frames_val[0])
    if us.ndim != 2 or us.shape[1] == 0 or us.dtype.kind not in "biuf":
        raise DatasetError(p, f"user_score must be a numeric (frames x users) matrix, got shape {us.shape}")
    if us.shape[1] > MAX_USERS:
        raise DatasetError(p, f"user_score has {us.shape[1]} users (frames x users expected)")
    if us.shape[0] != n_frames:
        raise DatasetError(p, f"user_score has {us.shape[0]} frames but nFrames is {n_frames}")
    if not np.all(np.isfinite(us)):
        raise DatasetError(p, "user_score contains NaN or inf")
    gt = gt.reshape(-1)
    if gt.shape[0] != n_frames:
        raise DatasetError(p, f"gt_score has {gt.shape[0]} values but nFrames is {n_frames}")
    if not np.all(np.isfinite(gt)):
        raise DatasetError(p, "gt_score contains NaN or inf")
    fps = None
    if "FPS" in m:
        try:
            fps = float(np.asarray(m["FPS"], dtype=np.float64).reshape(-1)[0])
        except (TypeError, ValueError, IndexError):
            fps = None
    return SumMeGT(name=p.stem, user_score=us, gt_score=gt, n_frames=n_frames, fps=fps)


def summe_gt_files(gt_dir: str | os.PathLike) -> list[Path]:
    """The ``.mat`` files of a SumMe GT folder in byte-wise sorted order of their names."""
    d = Path(gt_dir)
    if not d.exists():
        raise DatasetError(d, "folder not found")
    if not d.is_dir():
        raise DatasetError(d, "is not a folder (give the SumMe GT folder holding <name>.mat files)")
    try:
        files = [f for f in d.iterdir() if f.suffix == ".mat" and f.is_file()]
    except OSError as exc:
        raise DatasetError(d, f"cannot list ({exc.strerror or exc})") from None
    if not files:
        raise DatasetError(d, "holds no .mat files (give the SumMe GT folder)")
    return sorted(files, key=lambda f: os.fsencode(f.name))


def read_change_points(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``{"video_i": [[start, end], ...]}`` (inclusive frame indices)."""
    p = Path(path)
    obj = _read_json(p, "a change-points JSON file")
    if not isinstance(obj, dict) or not obj:
        raise DatasetError(p, 'must be a JSON object {"video_i": [[start, end], ...], ...}')
    out = {}
    for key, rows in obj.items():
        try:
            a = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise DatasetError(p, f"{key}: must be a list of [start, end] pairs of integers") from None
        if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] == 0:
            raise DatasetError(p, f"{key}: must be a non-empty list of [start, end] pairs, got shape {a.shape}")
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise DatasetError(p, f"{key}: frame indices must be integers")
        out[str(key)] = a.astype(np.int64)
    return out


def read_summe_mapping(path: str | os.PathLike) -> dict[str, str]:
    """Read ``mapped_video_names.json``: ``{real name: "video_i"}``."""
    p = Path(path)
    obj = _read_json(p, "a JSON mapping file")
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, str) for v in obj.values()):
        raise DatasetError(p, 'must be a JSON object {"real name": "video_i", ...}')
    return {str(k): v for k, v in obj.items()}


def summe_video(key: str, gt: SumMeGT, change_points: np.ndarray | None = None) -> Video:
    """The eccv16 fields of one SumMe video (see the module docstring)."""
    picks = step_picks(gt.n_frames)
    v = Video(
        key=key,
        picks=picks,
        n_frames=gt.n_frames,
        n_steps=n_steps_for(gt.n_frames),
        user_summary=np.ascontiguousarray((gt.user_score > 0).T.astype(np.uint8)),
        gtscore=gt.gt_score[picks].astype(np.float32),
        video_name=gt.name,
    )
    if change_points is not None:
        cp = np.asarray(change_points, dtype=np.int64)
        v.change_points = cp
        v.n_frame_per_seg = (cp[:, 1] - cp[:, 0] + 1).astype(np.int64)
    return v


def import_summe(
    gt_dir: str | os.PathLike,
    change_points: str | os.PathLike | None = None,
    mapping: str | os.PathLike | None = None,
) -> dict[str, Video]:
    """Import the official SumMe ground truth of a GT folder.

    ``change_points`` is the JSON file of KTS shots per ``video_i`` (it must name
    exactly the folder's videos); ``mapping`` is ``mapped_video_names.json``, which
    must agree with the sorted order. Returns ``{video_i: Video}`` in order.
    """
    files = summe_gt_files(gt_dir)
    keys = [f"video_{i + 1}" for i in range(len(files))]
    names = [f.stem for f in files]
    cps: dict[str, np.ndarray] | None = None if change_points is None else read_change_points(change_points)
    mp = None if mapping is None else read_summe_mapping(mapping)
    _refuse_extra_files(files, cps, mp)

    if mapping is not None:
        ours = dict(zip(names, keys))
        missing = [n for n in names if n not in mp]
        if missing:
            raise DatasetError(mapping, f"does not name {missing[0]!r}, which the GT folder has")
        extra = [n for n in mp if n not in ours]
        if extra:
            raise DatasetError(mapping, f"names {extra[0]!r}, which the GT folder lacks")
        for n in names:
            if mp[n] != ours[n]:
                raise DatasetError(
                    mapping, f"maps {n!r} to {mp[n]}, but it is {ours[n]} in the sorted order of the GT files"
                )

    if cps is not None:
        missing = [k for k in keys if k not in cps]
        if missing:
            raise DatasetError(
                change_points, f"has no change points for {missing[0]} ({names[keys.index(missing[0])]})"
            )
        extra = [k for k in cps if k not in keys]
        if extra:
            raise DatasetError(
                change_points, f"has change points for {extra[0]}, but the GT folder has only {len(keys)} videos"
            )

    videos: dict[str, Video] = {}
    for key, f in zip(keys, files):
        gt = read_summe_gt(f)
        v = summe_video(key, gt, None if cps is None else cps[key])
        # Shots must cover exactly the GT's frames; report against the change-points file.
        validate_video(v, change_points if cps is not None else f)
        videos[key] = v
    return videos


def _refuse_extra_files(files: list[Path], cps: dict | None, mapping: dict | None) -> None:
    """A DatasetError naming the first ``.mat`` file of the GT folder that is none of the 25
    SumMe videos (:data:`SUMME_NAMES`) when it is sure to be one too many: the folder holds
    all 25 besides it, or more files than the change-points file has videos, or the mapping
    does not name it. Videos are numbered in sorted order, so it would shift the ones after it.
    (A folder of other names alone, one's own ground truth in SumMe's format, is imported.)"""
    extra = [f for f in files if f.stem not in SUMME_NAMES]
    if mapping is not None:
        extra = [f for f in extra if f.stem not in mapping]
    elif not (len(files) - len(extra) == len(SUMME_NAMES) or (cps is not None and len(files) > len(cps))):
        return
    if extra:
        raise DatasetError(
            extra[0],
            f"is not one of the {len(SUMME_NAMES)} SumMe videos: an extra .mat file in the GT folder "
            "(video_i is the i-th file in sorted order, so it would renumber the videos); move it out of the folder",
        )


# --------------------------------------------------------------------------- TVSum


@dataclass
class TVSumAnno:
    """One TVSum video's annotation: ``user_anno`` is users x n_frames (1..5)."""

    video_id: str
    category: str
    user_anno: np.ndarray
    n_frames: int
    title: str | None = None


def _check_anno(path, where: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise DatasetError(path, f"{where}: scores contain NaN or inf")
    lo, hi = float(a.min()), float(a.max())
    if lo < 1 or hi > 5:
        raise DatasetError(path, f"{where}: scores must be TVSum importance values 1..5, found {lo:g}..{hi:g}")


def _parse_tsv(path: Path, data: bytes) -> list[TVSumAnno]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DatasetError(path, "not a UTF-8 text (.tsv) file, nor a TVSum .mat file") from None
    groups: list[list] = []  # [video_id, category, [rows], first line]
    index: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.rstrip("\r").split("\t")
        if len(parts) != 3:
            raise DatasetError(
                path, f"line {lineno}: expected 3 tab-separated fields (video id, category, scores), found {len(parts)}"
            )
        vid, cat, scores = (s.strip() for s in parts)
        if not vid:
            raise DatasetError(path, f"line {lineno}: empty video id")
        tokens = scores.split(",")
        try:
            row = np.array(tokens, dtype=np.float64)
        except ValueError:
            bad = next((i for i, t in enumerate(tokens) if not _is_number(t)), 0)
            raise DatasetError(path, f"line {lineno}: score {bad + 1} ({tokens[bad][:20]!r}) is not a number") from None
        _check_anno(path, f"line {lineno}", row)
        if vid in index:
            g = groups[index[vid]]
            if index[vid] != len(groups) - 1:
                raise DatasetError(
                    path, f"line {lineno}: rows of video {vid!r} are not consecutive (it appeared before line {g[3]})"
                )
            if row.shape[0] != g[2][0].shape[0]:
                raise DatasetError(
                    path,
                    f"line {lineno}: video {vid!r} has {row.shape[0]} scores here but "
                    f"{g[2][0].shape[0]} on line {g[3]} (every user must score every frame)",
                )
            g[2].append(row)
        else:
            index[vid] = len(groups)
            groups.append([vid, cat, [row], lineno])
    if not groups:
        raise DatasetError(path, "holds no annotation lines")
    out = []
    for vid, cat, rows, _ in groups:
        a = np.vstack(rows)
        out.append(TVSumAnno(video_id=vid, category=cat, user_anno=a, n_frames=a.shape[1]))
    return out


def _is_number(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False


def _mat_string(h5: h5py.File, ref) -> str:
    a = np.asarray(h5[ref]).reshape(-1)
    if a.dtype.kind not in "iu":
        raise ValueError("expected a MATLAB char array")
    return "".join(chr(int(c)) for c in a)


def _parse_mat73(path: Path, data: bytes) -> list[TVSumAnno]:
    try:
        h5 = h5py.File(io.BytesIO(data), "r")
    except OSError as exc:
        raise DatasetError(path, f"cannot open as MATLAB v7.3 / HDF5 ({_first_line(exc)})") from None
    try:
        with h5:
            if "tvsum50" not in h5 or not isinstance(h5["tvsum50"], h5py.Group):
                raise DatasetError(path, "has no struct 'tvsum50' (not ydata-tvsum50.mat?)")
            t = h5["tvsum50"]
            for k in ("video", "category", "user_anno", "nframes"):
                if k not in t:
                    raise DatasetError(path, f"tvsum50 has no field {k!r}")
            n = t["video"].shape[0] * (t["video"].shape[1] if len(t["video"].shape) > 1 else 1)
            if n == 0:
                raise DatasetError(path, "tvsum50 holds no videos")
            out = []
            for i in range(n):

                def ref(field: str, i=i):
                    return np.asarray(t[field]).reshape(-1)[i]

                vid = _mat_string(h5, ref("video"))
                cat = _mat_string(h5, ref("category"))
                title = _mat_string(h5, ref("title")) if "title" in t else None
                ua = np.asarray(h5[ref("user_anno")], dtype=np.float64)
                nf = np.asarray(h5[ref("nframes")], dtype=np.float64).reshape(-1)
                if nf.size != 1 or not np.isfinite(nf[0]) or nf[0] != int(nf[0]) or nf[0] < 1:
                    raise DatasetError(path, f"tvsum50({i + 1}) {vid}: nframes must be one positive integer")
                n_frames = int(nf[0])
                if ua.ndim != 2:
                    raise DatasetError(path, f"tvsum50({i + 1}) {vid}: user_anno must be 2-D, got shape {ua.shape}")
                if ua.shape[1] != n_frames and ua.shape[0] == n_frames:
                    ua = ua.T
                if ua.shape[1] != n_frames:
                    raise DatasetError(
                        path, f"tvsum50({i + 1}) {vid}: user_anno has shape {ua.shape} but nframes is {n_frames}"
                    )
                _check_anno(path, f"tvsum50({i + 1}) {vid}", ua)
                out.append(TVSumAnno(video_id=vid, category=cat, user_anno=ua, n_frames=n_frames, title=title))
            return out
    except DatasetError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise DatasetError(path, f"unexpected tvsum50 layout ({_first_line(exc)})") from None


def read_tvsum_anno(path: str | os.PathLike) -> list[TVSumAnno]:
    """Read the TVSum annotation from ``ydata-tvsum50.mat`` (v7.3) or ``-anno.tsv``.

    The format is told from the content, not the name; either may be gzipped. The
    two official files give identical results (same videos, order and scores).
    """
    p = Path(path)
    data = _read_bytes(p, "the TVSum annotation (ydata-tvsum50.mat or ydata-tvsum50-anno.tsv[.gz])")
    if data.startswith(HDF5_MAGIC) or data[512:520] == HDF5_MAGIC:
        return _parse_mat73(p, data)
    if data.startswith(b"MATLAB"):
        raise DatasetError(p, "is a MATLAB file older than v7.3; expected the official ydata-tvsum50.mat (v7.3)")
    return _parse_tsv(p, data)


def tvsum_video(key: str, ann: TVSumAnno) -> Video:
    """The eccv16 fields of one TVSum video (see the module docstring)."""
    ua = ann.user_anno
    picks = step_picks(ann.n_frames)
    gtscore = ((ua.mean(axis=0)[picks] - 1.0) / 4.0).astype(np.float32)
    integral = bool(np.all(ua == np.round(ua)))
    user_scores = ua.astype(np.uint8) if integral else ua.astype(np.float32)
    return Video(
        key=key,
        picks=picks,
        n_frames=ann.n_frames,
        n_steps=n_steps_for(ann.n_frames),
        user_scores=np.ascontiguousarray(user_scores),
        gtscore=gtscore,
        video_name=ann.video_id,
    )


def import_tvsum(anno: str | os.PathLike) -> dict[str, Video]:
    """Import the official TVSum annotation (.mat or .tsv[.gz]); ``{video_i: Video}``."""
    videos: dict[str, Video] = {}
    for i, a in enumerate(read_tvsum_anno(anno)):
        v = tvsum_video(f"video_{i + 1}", a)
        validate_video(v, anno)
        videos[v.key] = v
    return videos


# --------------------------------------------------------------------------- merge

IMPORTED_FIELDS = (
    "picks",
    "n_frames",
    "n_steps",
    "change_points",
    "n_frame_per_seg",
    "user_summary",
    "user_scores",
    "gtscore",
    "video_name",
)


def merge_features(imported: Mapping[str, Video], features: str | os.PathLike) -> dict[str, Video]:
    """The features file's videos (in its order) with the imported fields added.

    Both must hold the same video keys, and per video ``n_frames``, the number of
    steps and ``picks`` (where the features file has them) and ``video_name`` (where
    both have one) must agree. Imported fields replace the file's; fields the import
    lacks (e.g. TVSum ``change_points``, ``user_summary``) are kept from the file.
    """
    fp = Path(features)
    feats = load_dataset(fp, "any")
    fk, ik = list(feats), list(imported)
    if set(fk) != set(ik):
        only_f = [k for k in fk if k not in imported]
        only_i = [k for k in ik if k not in feats]
        detail = (
            f"it has {only_f[0]}, which the ground truth lacks"
            if only_f
            else f"it lacks {only_i[0]}, which the ground truth has"
        )
        raise DatasetError(
            fp, f"holds {len(fk)} videos, the ground truth {len(ik)}: {detail} (is this the right features file?)"
        )
    out: dict[str, Video] = {}
    for key in fk:
        f, g = feats[key], imported[key]
        if f.n_frames is not None and f.n_frames != g.n_frames:
            raise DatasetError(
                fp,
                f"{key}: n_frames is {f.n_frames} but the ground truth has {g.n_frames} frames "
                f"(is this the right features file?)",
            )
        try:
            t = f.steps
        except ValueError:
            t = None
        if t is not None and t != g.n_steps:
            raise DatasetError(
                fp,
                f"{key}: has {t} steps but the ground truth's {g.n_frames} frames give "
                f"{g.n_steps} (one every {PICK_STEP}th frame)",
            )
        if f.picks is not None and not np.array_equal(np.asarray(f.picks, dtype=np.int64), g.picks):
            raise DatasetError(fp, f"{key}: picks differ from arange(0, n_frames, {PICK_STEP}) of the ground truth")
        if f.video_name is not None and g.video_name is not None and f.video_name != g.video_name:
            raise DatasetError(fp, f"{key}: video_name is {f.video_name!r} but the ground truth has {g.video_name!r}")
        m = replace(f, extra=dict(f.extra))
        for name in IMPORTED_FIELDS:
            val = getattr(g, name)
            if val is not None:
                setattr(m, name, val)
        if g.change_points is not None:
            m.n_frame_per_seg = g.n_frame_per_seg
        derive_fields(m)
        validate_video(m, fp)
        out[key] = m
    return out
