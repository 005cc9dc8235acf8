"""The editor's side of the server: a summarized video's analysis, its length re-selected on the
cached scores, its reframing (every shot's crop window path), its edits saved, its exports.

Each video's :class:`~acsumgan.summarize.summary.Summary` is read back from ``analysis.h5``
(:func:`~acsumgan.summarize.analysis.load_summary`) once per version of that file and kept
in memory, so a length change costs only the selection (no model, no features, no file).
The crop paths of an aspect (:meth:`Editor.reframe`) are kept per (version of the analysis,
aspect, mode); an analysis without saliency maps gets them once
(:func:`~acsumgan.summarize.reframing.with_saliency`: the video decoded at the steps' rate).
"""

from __future__ import annotations

import json
import threading
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote

from starlette.exceptions import HTTPException

from ..errors import ConfigError
from ..media.reframe import MODES, aspect_text, parse_aspect, window_size
from ..summarize.analysis import ANALYSIS_FILE, load_summary
from ..summarize.edits import (
    EDITS_FILE,
    EditConflict,
    check_edits,
    length_options,
    model_edits,
    read_edits,
    save_edits,
)
from ..summarize.exports import DEFAULT_NAMES, FORMATS, export_summary
from ..summarize.reframing import frame_size, shot_paths, with_saliency
from ..summarize.summary import Summary, reselect, resolve_budget, select_keyshots
from .library import SEGMENTS, THUMBS, LibraryVideo, file_url, thumb_name

__all__ = ["EXPORTS", "EXPORT_FORMATS", "Editor"]

#: Where exports are written, inside a video's folder.
EXPORTS = "exports"
#: What ``/api/videos/<name>/export/<fmt>`` gives: the export formats, and two files as they are.
EXPORT_FORMATS = (*FORMATS, "summary.mp4", "segments.json")


def _key(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class Editor:
    """The loaded summaries, by folder (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._summaries: dict[Path, tuple] = {}
        self._views: dict[Path, tuple] = {}
        self._model: dict[Path, tuple] = {}
        self._salient: dict[Path, tuple] = {}  # folder -> (analysis key, the Summary with saliency maps)
        self._paths: dict[Path, dict] = {}  # folder -> {(analysis key, aspect, mode): the /reframe answer}
        self._folder_locks: dict[Path, threading.Lock] = {}

    def forget(self, folder: Path) -> None:
        with self._lock:
            for cache in (self._summaries, self._views, self._model, self._salient, self._paths):
                cache.pop(Path(folder), None)

    def _folder_lock(self, folder: Path) -> threading.Lock:
        with self._lock:
            return self._folder_locks.setdefault(Path(folder), threading.Lock())

    def summary(self, folder: Path) -> Summary:
        """The folder's Summary (from its analysis.h5); 409 when the video is not summarized."""
        folder = Path(folder)
        key = _key(folder / ANALYSIS_FILE)
        if key is None or not (folder / SEGMENTS).is_file():
            raise HTTPException(409, f"{folder.name}: not summarized yet: summarize the video first")
        with self._lock:
            cached = self._summaries.get(folder)
        if cached is not None and cached[0] == key:
            return cached[1]
        s = load_summary(folder)
        with self._lock:
            self._summaries[folder] = (key, s)
        return s

    def _view(self, v: LibraryVideo, s: Summary) -> dict:
        """The parts of the video's JSON that depend on its analysis only (cached with it)."""
        key = _key(v.folder / ANALYSIS_FILE)
        with self._lock:
            cached = self._views.get(v.folder)
        if cached is not None and cached[0] == key:
            return cached[1]
        ex = s.extracted
        at = ex.times.at
        cp = s.change_points
        n = int(cp.shape[0])
        shots = []
        for i in range(n):
            a, b = int(cp[i, 0]), int(cp[i, 1])
            rel = f"{THUMBS}/{thumb_name(i, n)}"
            shots.append(
                {
                    "shot": i,
                    "start_frame": a,
                    "end_frame": b,
                    "start_seconds": round(float(at(a)), 6),
                    "end_seconds": round(float(at(b + 1)), 6),
                    "score": float(s.shot_scores[i]),
                    "thumb": file_url(v.name, rel) if (v.folder / rel).is_file() else None,
                }
            )
        view = {
            "fps": float(ex.fps),
            "n_frames": int(ex.n_frames),
            "duration": round(float(at(int(ex.n_frames))), 6),
            "constant_rate": bool(ex.constant_rate),
            "width": int(ex.width),
            "height": int(ex.height),
            "frame": _frame(s),
            "shots": shots,
            "curve": {"times": [float(t) for t in s.timestamps], "scores": [float(x) for x in s.scores]},
        }
        with self._lock:
            self._views[v.folder] = (key, view)
        return view

    def model_edits(self, folder: Path, s: Summary) -> dict:
        """:func:`~acsumgan.summarize.edits.model_edits` of the summary at its own length
        (kept with the summary: a copy each time)."""
        key = _key(folder / ANALYSIS_FILE)
        with self._lock:
            cached = self._model.get(folder)
        if cached is None or cached[0] != key:
            cached = (key, model_edits(s))
            with self._lock:
                self._model[folder] = cached
        return json.loads(json.dumps(cached[1]))

    def edits(self, folder: Path, s: Summary) -> dict:
        """The saved edits, else the model's choice at the summary's own length."""
        try:
            saved = read_edits(folder)
        except ConfigError:  # a corrupt edits.json: the model's choice is shown; a save names the file
            saved = None
        if saved is None:
            return self.model_edits(folder, s)
        try:
            return check_edits(s, saved, folder / EDITS_FILE)
        except ConfigError:  # made on another analysis (summarized again): the model's, on top of the saved version
            fresh = self.model_edits(folder, s)
            fresh["version"] = int(saved.get("version") or 0)
            return fresh

    def video(self, v: LibraryVideo, state: str) -> dict:
        """The editor's JSON of ``v`` (``GET /api/videos/<name>``)."""
        s = self.summary(v.folder)
        seg = _segments(v.folder)
        data = {"name": v.name, "file": v.path.name, "state": state}
        data.update(self._view(v, s))
        data["source_url"] = f"/media/{quote(v.name)}/source"
        data["summary_url"] = file_url(v.name, "summary.mp4") if (v.folder / "summary.mp4").is_file() else None
        data["edits"] = self.edits(v.folder, s)
        rendered = seg.get("edits_version") if seg else None
        data["rendered_version"] = rendered if isinstance(rendered, int) else None
        return data

    def select(self, folder: Path, length) -> dict:
        """The model's choice at ``length`` (a LENGTH value), on the cached scores: the
        selection of :func:`~acsumgan.summarize.summary.reselect` (its budget and keyshots),
        without building the segments it does not need (a 2-hour video: milliseconds)."""
        if not isinstance(length, dict):
            raise HTTPException(400, 'the body must be {"length": {"mode": ..., "value": ..., "preset": ...}}')
        s = self.summary(folder)
        options = length_options(length)
        ex = s.extracted
        budget = resolve_budget(options, ex)
        selected = [int(i) for i in select_keyshots(s.scores, ex, s.change_points, budget)]
        if not selected:
            reselect(s, options)  # raises its one-line ConfigError: no shot fits
            raise ConfigError(folder, "no shot fits this length")
        cp = s.change_points
        if ex.constant_rate:  # as build_segments counts it
            seconds = sum(int(cp[i, 1]) - int(cp[i, 0]) + 1 for i in selected) / ex.fps
        else:
            at = ex.times.at
            seconds = sum(at(int(cp[i, 1]) + 1) - at(int(cp[i, 0])) for i in selected)
        return {
            "model_selected": selected,
            "kept": [{"shot": i, "start_frame": int(cp[i, 0]), "end_frame": int(cp[i, 1])} for i in selected],
            "budget": float(budget),
            "summary_seconds": round(float(seconds), 6),
        }

    def reframe(self, folder: Path, body: dict) -> dict:
        """Every shot's crop window path in ``body["aspect"]`` (``"keep"`` or ``"W:H"``) and
        ``body["reframe"]`` (``"follow"`` | ``"center"``; None: follow): ``{"window": {"w", "h"},
        "shots": {"<shot>": [[t, x, y, w, h], ...]}}``
        (:func:`~acsumgan.summarize.reframing.shot_paths`); keep: ``{"window": None, "shots": {}}``.
        Runs in a worker thread: the first ``follow`` of an analysis without saliency maps
        decodes the video for them (once; later calls wait for it, then use it)."""
        aspect = body.get("aspect", "keep")
        mode = body.get("reframe")
        if not isinstance(aspect, str):
            raise HTTPException(400, f"aspect must be keep, 9:16, 1:1, 4:5 or W:H, got {aspect!r}"[:200])
        if mode is not None and mode not in MODES:
            raise HTTPException(400, f"reframe must be one of {', '.join(MODES)}, got {mode!r}"[:200])
        ratio = parse_aspect(aspect)  # a one-line ConfigError: 400
        s = self.summary(folder)
        if ratio is None:
            return {"window": None, "shots": {}}
        text, mode = aspect_text(ratio), mode or "follow"
        key = (_key(folder / ANALYSIS_FILE), text, mode)
        with self._lock:
            done = self._paths.get(folder, {}).get(key)
        if done is not None:
            return done
        if mode == "follow":
            s = self._with_saliency(folder, s, key[0])
        paths = shot_paths(s, text, mode)
        w, h = _window(s, ratio)
        answer = {
            "window": {"w": w, "h": h},
            "shots": {str(int(i)): [list(k) for k in keys] for i, keys in sorted(paths.items())},
        }
        with self._lock:
            cache = self._paths.setdefault(folder, {})
            for old in [k for k in cache if k[0] != key[0]]:
                del cache[old]
            cache[key] = answer
        return answer

    def _with_saliency(self, folder: Path, s: Summary, version) -> Summary:
        """``s`` with its steps' saliency maps (computed once per analysis version, under the
        folder's lock: two requests never decode the video twice)."""
        with self._folder_lock(folder):
            with self._lock:
                cached = self._salient.get(folder)
            if cached is not None and cached[0] == version:
                return cached[1]
            salient = with_saliency(s)
            with self._lock:
                self._salient[folder] = (version, salient)
            return salient

    def save(self, folder: Path, body: dict) -> dict:
        """Save EDITS made on version ``body["version"]``; 409 when another save came first."""
        base = body.get("version")
        if not isinstance(base, int) or isinstance(base, bool) or base < 0:
            raise HTTPException(400, f"{EDITS_FILE}: version must be the integer version the edit was made on")
        s = self.summary(folder)
        data = check_edits(s, body, folder / EDITS_FILE)
        try:
            return save_edits(folder, data, base)
        except EditConflict as exc:
            raise HTTPException(409, exc.one_line()) from None

    def export(self, folder: Path, fmt: str) -> Path:
        """The file of export ``fmt`` (written to ``folder/exports/``, or the folder's own file).
        An export acsumgan wrote there is replaced (the folder's record says so); a file the
        user put in its place is a one-line refusal (400), never replaced."""
        if fmt not in EXPORT_FORMATS:
            raise HTTPException(404, f"unknown export {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}")
        self.summary(folder)  # 409 before a summary
        if fmt in FORMATS:
            return export_summary(folder, fmt, folder / EXPORTS / DEFAULT_NAMES[fmt])
        path = folder / fmt
        if not path.is_file():
            raise HTTPException(404, f"{folder.name}: no {fmt}")
        return path


def _frame(s: Summary) -> dict:
    """The upright display size of the summary's frames (what crop windows lie in)."""
    w, h = frame_size(s)
    return {"width": int(w), "height": int(h)}


def _window(s: Summary, ratio: Fraction) -> tuple[int, int]:
    w, h = frame_size(s)
    return window_size(int(w), int(h), ratio)


def _segments(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / SEGMENTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
