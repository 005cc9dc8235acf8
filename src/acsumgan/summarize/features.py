"""Features of a video: decode, sample, run a backbone (:mod:`.backbones`) on each step.

:class:`ExtractedFeatures` is one video's per-step features with what maps steps to
frames; :func:`extract_features` makes it, decoding a long H.264/HEVC video in parts at
once (:mod:`acsumgan.media.decode_parts`).

The per-video feature cache of ``summarize`` (``DIR/features.h5``, :func:`video_features`)
and ``dataset build`` (``OUT.parts/``, :mod:`.build`): one entry format, one identity
(:func:`source_identity`, :func:`entry_key`), one reader (:func:`read_feature_cache`) and
one writer (:func:`entry_video`, :func:`save_entries`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import h5py
import numpy as np
import torch

from ..config import set_threads
from ..data.dataset import Video, derive_fields, load_dataset, save_dataset
from ..errors import ConfigError
from ..fileio import readable
from ..media.decode import DEFAULT_RATE, FrameSampler, check_rate, prefetch, probe
from ..media.decode_parts import PartDecoders, PartsMismatch, plan_parts
from ..media.encode import full_frame
from ..media.saliency import SaliencyMaps, SaliencyTracker
from ..progress import Progress, for_item, report
from . import backbones
from .backbones import DECODER_THREADS, DEFAULT_BACKBONE, Backbone, as_backbone
from .extracted import ExtractedFeatures  # noqa: F401  (re-exported: defined torch-free)
from .kts import shot_boundaries
from .summary import shot_steps_of

_log = logging.getLogger(__name__)


def extract_features(
    path: str | os.PathLike,
    backbone: str | Backbone = DEFAULT_BACKBONE,
    rate: float = DEFAULT_RATE,
    batch_size: int = 16,
    progress: Progress | None = None,
    device: str | torch.device = "cpu",
    background_decode: bool = False,
    decoder_threads: int = DECODER_THREADS,
    parts: int | None = None,
    saliency: bool = True,
) -> ExtractedFeatures:
    """Decode ``path``, sample ``rate`` steps per second, and run ``backbone`` on them.

    With ``saliency`` each step's image also feeds a saliency map
    (:class:`~acsumgan.media.saliency.SaliencyTracker`, about 2 ms a step: what reframing
    needs, :attr:`ExtractedFeatures.saliency`), in the same pass, not a second decode.

    A long H.264/HEVC video is decoded in ``parts`` parts at once, one process each
    (default: torch's thread count, the cores this run uses), cut at instantaneous
    decoder refreshes so that the frames, steps and features are those of one pass
    (:mod:`acsumgan.media.decode_parts`, checked at the end; on any mismatch the video is decoded again in
    one pass). ``parts=1``, other codecs and videos shorter than two
    :data:`~acsumgan.media.decode_parts.MIN_DECODE_PART_SECONDS`: one pass, as follows.

    Frames are streamed ``batch_size`` at a time (memory stays bounded whatever the
    video's length). With ``background_decode`` decoding, colour conversion and
    resizing run on a thread of their own, up to two batches ahead of the network
    (:func:`acsumgan.media.decode.prefetch`); off by default: on 2 idle cores it was
    11 % slower at 720p and equal at 160x120 (``benchmarks/video_speed.py``), because
    FFmpeg's frame threads already decode on every core while the network waits, and a
    third busy thread only adds contention. The features are the same either way.
    ``decoder_threads`` is FFmpeg's thread count (:data:`DECODER_THREADS`; it changes
    no feature either).
    ``progress`` (a :data:`~acsumgan.progress.Progress`) gets a stage "features" event
    after each batch (frames decoded so far, estimated total) and once at the end with
    the exact count twice.
    """
    t0 = time.perf_counter()
    bb = as_backbone(backbone, device)
    if int(batch_size) < 1:
        raise ConfigError(None, f"batch size must be >= 1, got {batch_size}")
    batch_size = int(batch_size)
    check_rate(rate)
    info = probe(path)
    n_parts = torch.get_num_threads() if parts is None else int(parts)
    plan = plan_parts(path, n_parts, info.duration) if n_parts > 1 else None
    if plan is not None:
        try:
            tracker = _tracker(path) if saliency else None
            return _extract_in_parts(plan, info, bb, rate, batch_size, progress, t0, tracker)
        except PartsMismatch as exc:
            _log.info("%s: decoding again in one pass (%s)", path, exc)
    tracker = _tracker(path) if saliency else None
    sampler = FrameSampler(path, rate=rate, size=bb.input_size, decoder_threads=decoder_threads)
    total = max(1, sampler.info.n_frames)
    w, h = bb.input_size
    buf = np.empty((batch_size, h, w, 3), dtype=np.uint8)
    chunks: list[np.ndarray] = []
    fill = 0
    frames = prefetch(sampler, 2 * batch_size) if background_decode else iter(sampler)
    with contextlib.closing(frames):
        for sf in frames:
            buf[fill] = sf.image
            if tracker is not None:
                tracker.add(sf.image, sf.time, sf.index)
            fill += 1
            if fill == batch_size:
                chunks.append(bb(buf))
                fill = 0
                report(progress, "features", sf.index + 1, max(total, sf.index + 1))
    if fill:
        chunks.append(bb(buf[:fill]))
    n = int(sampler.n_frames)
    report(progress, "features", n, n)
    return _extracted(np.concatenate(chunks, axis=0), sampler, info, bb, rate, t0, tracker)


def _tracker(path) -> SaliencyTracker | None:
    """A saliency tracker of the video's upright frame (None, and a log line, when its frame
    cannot be read: the summary is then reframed from a second decode if asked)."""
    try:
        ff = full_frame(path)
    except Exception as exc:  # noqa: BLE001 - the features do not depend on it
        _log.info("%s: no saliency maps (%s)", path, exc)
        return None
    return SaliencyTracker((ff.width, ff.height), ff.rotation)


def _maps(tracker: SaliencyTracker | None, frames) -> SaliencyMaps | None:
    """The tracker's maps, timed and numbered as the features' steps (None: no tracker)."""
    if tracker is None:
        return None
    m = tracker.finish()
    picks = np.asarray(frames.picks, dtype=np.int64)
    if len(m) != len(picks):
        return None
    return SaliencyMaps(m.maps, np.asarray(frames.timestamps, dtype=np.float64), picks, m.frame_size)


def _extracted(
    features: np.ndarray, frames, info, bb: Backbone, rate: float, t0: float, tracker=None, **extra
) -> ExtractedFeatures:
    """The result, from ``frames``: a finished :class:`FrameSampler` or the parts' ``Joined``."""
    saliency = _maps(tracker, frames)
    return ExtractedFeatures(
        features=features.astype(np.float32, copy=False),
        picks=np.asarray(frames.picks, dtype=np.int64),
        timestamps=np.asarray(frames.timestamps, dtype=np.float64),
        n_frames=int(frames.n_frames),
        fps=float(frames.fps_fraction),
        width=info.width,
        height=info.height,
        has_audio=info.has_audio,
        frame_times=frames.frame_times,
        frame_pts=list(frames.frame_pts),
        key_frames=list(frames.key_frames),
        constant_rate=bool(frames.constant_rate),
        backbone=getattr(bb, "name", type(bb).__name__),
        rate=float(rate),
        seconds=time.perf_counter() - t0,
        saliency=saliency,
        **extra,
    )


def _extract_in_parts(
    plan, info, bb: Backbone, rate: float, batch_size: int, progress, t0: float, tracker=None
) -> ExtractedFeatures:
    """:func:`extract_features` with the video decoded in parts (:mod:`acsumgan.media.decode_parts`).

    The network runs on exactly the groups of steps one pass gives it (``batch_size`` at
    a time, :data:`backbones.FORWARD_BATCH` per forward pass), numbered as one pass numbers them:
    a frame's features depend on how many frames share its forward pass (measured: a
    frame alone differs from the same frame among 4 by up to 1.4e-6).
    ``tracker``: each step's image feeds it as it comes (steps out of order across parts),
    timed by the pts the plan read (the ones :meth:`PartDecoders.join` checks).
    """
    total = max(1, info.n_frames)
    origin, tb = plan.origin, plan.time_base
    with PartDecoders(plan, rate, bb.input_size, info.fps_fraction) as dec:
        n_steps = len(dec.expected)
        features = np.empty((n_steps, bb.dim), dtype=np.float32)
        waiting: dict[int, np.ndarray] = {}
        for batch in dec.batches():
            for step, image in batch:
                if step >= n_steps:
                    raise PartsMismatch("more steps than one pass has")
                waiting[step] = image
                if tracker is not None:
                    frame = int(dec.expected[step])
                    tracker.add(image, float((plan.frame_pts[frame] - origin) * tb), frame, step=step)
            for a, b in _groups_ready(waiting, n_steps, batch_size):
                features[a:b] = bb(np.stack([waiting.pop(k) for k in range(a, b)]))
            done = dec.frames_done
            report(progress, "features", done, max(total, done))
        if waiting:
            raise PartsMismatch("steps missing")
        joined = dec.join()
    report(progress, "features", joined.n_frames, joined.n_frames)
    return _extracted(features, joined, info, bb, rate, t0, tracker, parts=plan.parts, decoder_peak_rss=joined.peak_rss)


def _groups_ready(waiting: dict, n_steps: int, batch_size: int) -> list[tuple[int, int]]:
    """The forward passes of one pass (steps ``a`` to ``b - 1``) whose frames are all in ``waiting``."""
    ready, seen = [], set()
    for k in sorted(waiting):
        a = (k // batch_size) * batch_size + ((k % batch_size) // backbones.FORWARD_BATCH) * backbones.FORWARD_BATCH
        b = min(a + backbones.FORWARD_BATCH, (k // batch_size + 1) * batch_size, n_steps)
        if a not in seen and all(i in waiting for i in range(a, b)):
            seen.add(a)
            ready.append((a, b))
    return ready


# --- the per-video feature cache ---------------------------------------------------------------
#
# One video's entry: an eccv16 group (:func:`entry_video`) with what summarize needs to map steps
# to frames and the source file's identity (:func:`source_identity`), in an HDF5 file whose
# attributes record the backbone, rate and :data:`CACHE_VERSION`; read back by
# :func:`read_feature_cache`. ``summarize`` keeps every video's entry in ``DIR/features.h5``
# (:func:`video_features`); ``dataset build`` keeps one file per video in ``OUT.parts/``
# (:mod:`.build`), named by :func:`entry_key`. An entry is reused when the file's identity
# (path, size, mtime), the backbone and the rate are the same (and, for build, the maximum
# shot length its change points were split at).

FEATURES_FILE = "features.h5"
CACHE_VERSION = 1
_NO_PTS = np.iinfo(np.int64).min  # frame_pts entry of a frame without a pts
log = logging.getLogger("acsumgan.summarize")  # into summarize's log file


def source_identity(path: Path) -> dict:
    """What identifies a video file's content for the cache: its path (as the cache stores
    it, :func:`~acsumgan.fileio.readable`), size and mtime."""
    st = path.stat()
    return {
        "source_path": readable(path.resolve()),
        "source_size": int(st.st_size),
        "source_mtime_ns": int(st.st_mtime_ns),
    }


def entry_key(ident: dict, backbone: str, rate: float, *extra) -> str:
    """A file name for one video's entry: a hash of its identity (:func:`source_identity`),
    the backbone, the rate and ``extra`` settings the entry depends on."""
    text = "|".join(
        [str(CACHE_VERSION), ident["source_path"], str(ident["source_size"]), str(ident["source_mtime_ns"])]
        + [backbone, repr(float(rate)), *map(repr, extra)]
    )
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def compute_features(
    path: Path,
    bb: Backbone,
    rate: float,
    progress: Progress | None = None,
    shot_steps: Callable[[ExtractedFeatures], int] | None = None,
) -> tuple[ExtractedFeatures, np.ndarray]:
    """(features, KTS shots) of one video: :func:`extract_features` then
    :func:`~acsumgan.summarize.kts.shot_boundaries`, with shots split at ``shot_steps(ex)``
    steps (default: pure KTS); ``progress`` gets their "features" and "shots" events with
    ``item`` the video's name."""
    progress = for_item(progress, path.name)
    ex = extract_features(path, bb, rate=rate, progress=progress)
    max_steps = None if shot_steps is None else shot_steps(ex)
    cps = shot_boundaries(ex.features, ex.picks, ex.n_frames, max_shot_steps=max_steps, progress=progress)
    return ex, cps


def driver_threads() -> int:
    """The thread count of this process (``--threads``, set by the command): every Ray task
    uses it, so that its results are a local run's."""
    return int(torch.get_num_threads())


#: Per worker process of ``--executor ray``: the backbones already loaded (every task needs one).
_BACKBONES: dict = {}


def task_backbone(name: str, device: str) -> Backbone:
    """The backbone ``name`` on ``device``, loaded once per process (Ray tasks)."""
    if (name, device) not in _BACKBONES:
        _BACKBONES[(name, device)] = as_backbone(name, device)
    return _BACKBONES[(name, device)]


def features_task(
    path: str, backbone: str, device: str, rate: float, threads: int | None, max_shot_seconds: float | None
) -> tuple[ExtractedFeatures, np.ndarray]:
    """(features, pure or split KTS shots) of the video ``path``, as ``dataset build`` and
    ``summarize`` compute them locally."""
    set_threads(threads)
    return compute_features(Path(path), task_backbone(backbone, device), rate, None, shot_steps_of(max_shot_seconds))


def entry_video(
    key: str, path: Path, ex: ExtractedFeatures, change_points: np.ndarray, ident: dict | None = None
) -> Video:
    """One video's cache entry, as the video ``key`` of an eccv16 file (with the identity
    ``ident`` of ``path``, default its current one)."""
    pts = None
    if ex.frame_pts is not None:
        pts = np.asarray([_NO_PTS if p is None else int(p) for p in ex.frame_pts], dtype=np.int64)
    extra = {
        **(ident or source_identity(path)),
        "fps": np.float64(ex.fps),
        "timestamps": np.asarray(ex.timestamps, dtype=np.float64),
        "width": int(ex.width),
        "height": int(ex.height),
        "has_audio": int(bool(ex.has_audio)),
        "constant_rate": int(bool(ex.constant_rate)),
        "backbone": ex.backbone,
        "rate": float(ex.rate),
        "extract_seconds": float(ex.seconds),
    }
    if ex.frame_times is not None:
        extra["frame_times"] = np.asarray(ex.frame_times, dtype=np.float64)
    if pts is not None:
        extra["frame_pts"] = pts
    if ex.key_frames is not None:
        extra["key_frames"] = np.asarray(ex.key_frames, dtype=np.int64)
    return derive_fields(
        Video(
            key=key,
            features=ex.features,
            picks=ex.picks,
            n_frames=ex.n_frames,
            change_points=change_points,
            video_name=Path(path).name,
            extra=extra,
        )
    )


def _read_extracted(grp: h5py.Group) -> tuple[dict, ExtractedFeatures]:
    """(source identity, ExtractedFeatures) of one cached video group."""

    def get(name, default=None):
        return grp[name][()] if name in grp else default

    def text(name):
        v = get(name, b"")
        return v.decode() if isinstance(v, bytes) else str(v)

    pts = get("frame_pts")
    ex = ExtractedFeatures(
        features=np.asarray(grp["features"][()], dtype=np.float32),
        picks=np.asarray(grp["picks"][()], dtype=np.int64),
        timestamps=np.asarray(get("timestamps"), dtype=np.float64),
        n_frames=int(get("n_frames")),
        fps=float(get("fps")),
        width=int(get("width")),
        height=int(get("height")),
        has_audio=bool(get("has_audio")),
        frame_times=None if get("frame_times") is None else np.asarray(get("frame_times"), dtype=np.float64),
        frame_pts=None if pts is None else [None if int(p) == _NO_PTS else int(p) for p in pts],
        key_frames=None if get("key_frames") is None else [int(k) for k in get("key_frames")],
        constant_rate=bool(get("constant_rate", 1)),
        backbone=text("backbone"),
        rate=float(get("rate")),
        seconds=float(get("extract_seconds", 0.0)),
    )
    ident = {
        "source_path": text("source_path"),
        "source_size": int(get("source_size", -1)),
        "source_mtime_ns": int(get("source_mtime_ns", -1)),
    }
    return ident, ex


class CacheEntry(NamedTuple):
    """One video's entry of a feature cache file."""

    ident: dict  # source_identity() of the video it was made from
    extracted: ExtractedFeatures
    change_points: np.ndarray  # pure KTS shots
    key: str  # its group in the file (video_1, ...)


def read_feature_cache(path: Path, backbone: str, rate: float, match: dict | None = None) -> dict[str, CacheEntry]:
    """``{source path: entry}`` of a features.h5 made with the same backbone and rate and
    the attributes ``match`` ({} when there is none, or it is unreadable or other)."""
    if not path.is_file():
        return {}
    out = {}
    try:
        with h5py.File(path, "r") as h5:
            a = dict(h5.attrs)
            if (
                a.get("cache_version") != CACHE_VERSION
                or str(a.get("backbone")) != backbone
                or float(a.get("rate", -1)) != float(rate)
                or any(a.get(k) != v for k, v in (match or {}).items())
            ):
                return {}
            for key in h5:
                grp = h5[key]
                ident, ex = _read_extracted(grp)
                cps = np.asarray(grp["change_points"][()], dtype=np.int64)
                out[ident["source_path"]] = CacheEntry(ident, ex, cps, key)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        log.warning("features cache %s unreadable (%s); computing the features again", path, type(exc).__name__)
        return {}
    return out


@dataclass
class Features:
    """The features of the videos of one call, in the order given."""

    path: Path  # features.h5
    keys: list[str]  # video_1 ... in the order given
    extracted: list[ExtractedFeatures]
    change_points: list[np.ndarray]
    computed: list[Path] = field(default_factory=list)  # videos whose features were computed by this call
    reused: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "<video>: <problem>" of the tasks that failed (Ray)

    def digest(self, keys: Sequence[str] | None = None) -> str:
        """:func:`features_digest` of features.h5, from memory: after :func:`video_features` the
        file holds exactly these videos under these keys."""
        by_key = {k: ex.features for k, ex in zip(self.keys, self.extracted)}
        return _digest((k, by_key[k]) for k in (sorted(by_key) if keys is None else keys))


def video_features(
    paths: Sequence[Path],
    out: Path,
    backbone: str = DEFAULT_BACKBONE,
    device: str = "cpu",
    rate: float = DEFAULT_RATE,
    progress: Progress | None = None,
    pool=None,
) -> Features:
    """Features and KTS shots of ``paths`` in ``out/features.h5``: read back where the file
    is unchanged, computed (and the file rewritten, atomically) where not.

    ``pool`` (a :class:`~acsumgan.cluster.pool.RayPool`): the videos to compute are one task
    each; the file is rewritten as their results arrive (each time while rewriting is cheap,
    and at most every tenth of the time spent so far once it is not, so a collection of
    thousands is not rewritten thousands of times), and once at the end. Videos whose task
    failed for good are left out of ``Features`` and named in ``Features.failed``.

    ``progress`` gets, for each video (``item``: its name), the "features" (frames) and
    "shots" (KTS windows) events of a computation, then a last "features" event with the
    note "reused" or "computed"."""
    check_rate(rate)
    target = out / FEATURES_FILE
    cache = read_feature_cache(target, backbone, rate)
    if pool is not None:
        return _features_on(pool, paths, target, cache, backbone, device, rate, progress)
    bb = moved = None
    result = Features(target, [], [], [])
    videos = []
    for i, p in enumerate(paths):
        ident = source_identity(p)
        hit = cache.get(ident["source_path"])
        reused = hit is not None and hit.ident == ident
        key = f"video_{i + 1}"
        if reused:
            ex, cps = hit.extracted, hit.change_points
            moved = moved or hit.key != key  # stored under another key: the file is rewritten
            result.reused.append(p)
            log.info("features: %s reused from %s", p.name, target.name)
        else:
            if bb is None:
                bb = as_backbone(backbone, device)
            t0 = time.perf_counter()
            ex, cps = compute_features(p, bb, rate, progress)
            result.computed.append(p)
            log.info("features: %s computed (%d steps, %.1f s)", p.name, len(ex.picks), time.perf_counter() - t0)
        result.keys.append(key)
        result.extracted.append(ex)
        result.change_points.append(cps)
        videos.append(entry_video(key, p, ex, cps))
        report(progress, "features", ex.n_frames, ex.n_frames, "reused" if reused else "computed", p.name)
        if not reused and i + 1 < len(paths):  # kept at once: an interrupted call loses no finished video
            save_entries(target, videos, _unvisited(cache, paths[i + 1 :], len(videos)), backbone, rate)
    # the file holds exactly this call's videos, under this call's keys (the training's keys)
    if result.computed or moved or len(cache) != len(paths) or not target.is_file():
        save_entries(target, videos, [], backbone, rate)
    return result


def _features_on(pool, paths, target: Path, cache: dict, backbone: str, device: str, rate: float, progress) -> Features:
    """:func:`video_features` with one Ray task per video to compute."""
    from ..cluster.pool import Failed

    n = len(paths)
    slots: list = [None] * n  # (ExtractedFeatures, change points) per video
    idents = [source_identity(p) for p in paths]
    result = Features(target, [], [], [])
    missing = []
    for i, p in enumerate(paths):
        hit = cache.get(idents[i]["source_path"])
        if hit is not None and hit.ident == idents[i]:
            slots[i] = (hit.extracted, hit.change_points)
            result.reused.append(p)
            log.info("features: %s reused from %s", p.name, target.name)
            report(progress, "features", hit.extracted.n_frames, hit.extracted.n_frames, "reused", p.name)
        else:
            missing.append(i)

    def save() -> None:
        have = [i for i in range(n) if slots[i] is not None]
        if have:
            videos = [entry_video(f"video_{i + 1}", paths[i], *slots[i], idents[i]) for i in have]
            save_entries(target, videos, [], backbone, rate)

    threads = driver_threads()
    args = [(str(paths[i]), backbone, device, float(rate), threads, None) for i in missing]
    started = time.perf_counter()
    saving = 0.0  # seconds spent rewriting the file
    for j, res in pool.map(features_task, args):
        i = missing[j]
        p = paths[i]
        if isinstance(res, Failed):
            result.failed.append(f"{p}: {res.error}")
            log.info("features: %s failed: %s", p.name, res.error)
            continue
        slots[i] = res
        result.computed.append(p)
        log.info("features: %s computed (%d steps)", p.name, len(res[0].picks))
        report(progress, "features", res[0].n_frames, res[0].n_frames, "computed", p.name)
        if saving <= 0.1 * (time.perf_counter() - started):  # kept at once while that is cheap
            t0 = time.perf_counter()
            save()
            saving += time.perf_counter() - t0
    for i in range(n):
        if slots[i] is not None:
            result.keys.append(f"video_{i + 1}")
            result.extracted.append(slots[i][0])
            result.change_points.append(slots[i][1])
    if result.computed or len(cache) != n or not target.is_file():
        save()
    return result


def _unvisited(cache: dict, rest: Sequence[Path], start: int) -> list[Video]:
    """The cached videos among ``rest`` (still to visit), as videos to keep in the file."""
    out = []
    for p in rest:
        hit = cache.get(readable(p.resolve()))
        if hit is not None:
            key = f"video_{start + len(out) + 1}"
            out.append(entry_video(key, Path(hit.ident["source_path"]), hit.extracted, hit.change_points, hit.ident))
    return out


def save_entries(
    target: Path, videos: list[Video], kept: list[Video], backbone: str, rate: float, attrs: dict | None = None
) -> None:
    """Write the cache entries ``videos`` and ``kept`` to ``target`` (atomically), with ``attrs`` added."""
    dim = int(videos[0].features.shape[1])
    save_dataset(
        target,
        [*videos, *kept],
        attrs={
            "backbone": backbone,
            "rate": float(rate),
            "feature_dim": dim,
            "cache_version": CACHE_VERSION,
            **(attrs or {}),
        },
    )


def _digest(pairs) -> str:
    """SHA-256 of ``(key, features)`` pairs in order (key, shape and float32 values)."""
    h = hashlib.sha256()
    for k, f in pairs:
        f = np.ascontiguousarray(f, dtype=np.float32)
        h.update(f"{k}:{f.shape}".encode())
        h.update(f.tobytes())
    return h.hexdigest()


def features_digest(dataset: Path, keys: Sequence[str] | None = None) -> str:
    """SHA-256 of the training features of a file (key order, shapes and float32 values)."""
    videos = load_dataset(dataset, purpose="train")
    return _digest((k, videos[k].features) for k in (sorted(videos) if keys is None else keys))
