"""The studio's library: the videos of the FOLDERs and the uploaded ones, and each one's
state, read from disk only (a restarted server recomputes nothing).

Layout of DIR (``--out``): ``DIR/uploads/<file>`` the uploads; ``DIR/<name>/`` a video's
output folder (what ``acsumgan summarize <video> --out DIR/<name>`` writes, plus
``edits.json`` and ``exports/``); ``DIR/library.json`` the names given
(:class:`~acsumgan.studio.names.NameBook`).

States (:func:`video_state`): ``new``; ``features`` (``features.h5``); ``model``
(``model.json``); ``summarized`` (``analysis.h5`` and ``segments.json``); ``edited``
(``edits.json`` of version >= 1 too).

A library of thousands of videos is listed a page at a time (:meth:`Library.page`): the
scan reads only the folders' names (kept while no folder changes: :meth:`Library.scan`),
and only the page's videos are looked at (state, duration, summary).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import AcsumganError
from ..media.decode import VIDEO_SUFFIXES, folder_videos, probe
from .names import NameBook

__all__ = ["UPLOADS", "Library", "LibraryPage", "LibraryVideo", "video_state", "STATES"]

UPLOADS = "uploads"
#: Video states, in the order a video goes through them.
STATES = ("new", "features", "model", "summarized", "edited")
ANALYSIS = "analysis.h5"
SEGMENTS = "segments.json"
EDITS = "edits.json"
THUMBS = "thumbs"
#: A scan is reused only while no folder changed since this long before it began: a change
#: in the same tick of the file system's clock as the scan could leave the folder's time as it was.
QUIET_NS = 1_000_000_000


@dataclass(frozen=True)
class LibraryVideo:
    name: str  # the video's name (its folder under DIR, its URL part)
    path: Path  # the source video (absolute)
    folder: Path  # DIR/<name>


@dataclass(frozen=True)
class LibraryPage:
    """One page of the library: ``videos`` (at most the page's size, in the library's
    order), of ``total`` that match the filter, of ``library_total`` videos in all."""

    videos: list[LibraryVideo]
    total: int
    library_total: int


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def edits_version(folder: Path) -> int:
    """The version of ``folder/edits.json`` (0 when there is none or it is unreadable)."""
    data = _json(folder / EDITS)
    v = data.get("version") if data else 0
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def video_state(folder: Path) -> str:
    """The state of the video whose output folder is ``folder`` (see the module docstring)."""
    if (folder / ANALYSIS).is_file() and (folder / SEGMENTS).is_file():
        return "edited" if edits_version(folder) >= 1 else "summarized"
    if (folder / "model.json").is_file():
        return "model"
    if (folder / "features.h5").is_file():
        return "features"
    return "new"


def _stat_key(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class Library:
    """The videos of ``folders`` and of ``out/uploads``, by name. Thread-safe; what it
    reads from the files (a video's duration, a summary's segments) is kept in memory
    while the file is unchanged."""

    def __init__(self, folders: list[Path], out: Path):
        self.folders = [Path(f).resolve() for f in folders]
        self.out = Path(out).resolve()
        self.uploads = self.out / UPLOADS
        self.names = NameBook(self.out)
        self._lock = threading.Lock()
        self._durations: dict[str, tuple] = {}
        self._segments: dict[str, tuple] = {}
        self._videos: dict[str, LibraryVideo] = {}
        self._scanned: tuple | None = None  # (the folders' times when the scan began, when it began)

    def roots(self) -> list[Path]:
        """The folders files may be served from: the FOLDERs and DIR."""
        return [*self.folders, self.out]

    def _stamps(self) -> tuple:
        """Each listed folder's (modification time, inode), None where it is no folder."""
        stamps = []
        for root in [*self.folders, self.uploads]:
            try:
                st = root.stat()
            except OSError:
                stamps.append(None)
                continue
            stamps.append((st.st_mtime_ns, st.st_ino) if os.path.isdir(root) else None)
        return tuple(stamps)

    def scan(self, fresh: bool = False) -> dict[str, LibraryVideo]:
        """Every video now on disk, name -> :class:`LibraryVideo`: each FOLDER's video files
        (by suffix; a symlink pointing outside its folder is left out), then the uploads.
        The last scan is reused while no folder has changed (``fresh``: never)."""
        stamps = self._stamps()
        with self._lock:
            if not fresh and self._scanned is not None:
                before, began = self._scanned
                quiet = all(s is None or s[0] < began - QUIET_NS for s in before)
                if quiet and before == stamps:
                    return self._videos
        began = time.time_ns()
        paths: list[Path] = []
        seen: set[Path] = set()
        for root in [*self.folders, self.uploads]:
            if not root.is_dir():
                continue
            found, _ = folder_videos(root)
            real_root = root.resolve()
            for p in found:
                try:  # only a link needs resolving: another entry lies in the folder itself
                    real = p.resolve(strict=True) if p.is_symlink() else real_root / p.name
                except (OSError, RuntimeError):
                    continue
                if not real.is_relative_to(root) or real in seen:
                    continue
                seen.add(real)
                paths.append(root / p.name)
        named = self.names.assign(paths)
        videos = {n: LibraryVideo(n, p, self.out / n) for n, p in named.items()}
        with self._lock:
            self._videos = videos
            self._scanned = (stamps, began)
        return videos

    def page(self, offset: int = 0, limit: int | None = None, q: str = "") -> LibraryPage:
        """The videos ``offset`` to ``offset + limit`` (all from ``offset`` when ``limit`` is
        None) of those whose name or file name holds ``q`` (case ignored)."""
        videos = list(self.scan().values())
        needle = q.casefold()
        match = [v for v in videos if needle in v.name.casefold() or needle in v.path.name.casefold()] if q else videos
        end = len(match) if limit is None else offset + limit
        return LibraryPage(match[offset:end], len(match), len(videos))

    def get(self, name: str) -> LibraryVideo | None:
        """The video called ``name`` (a scan when it is not known yet)."""
        with self._lock:
            v = self._videos.get(name)
        if v is None or not v.path.is_file():
            v = self.scan(fresh=True).get(name)
        return v

    def duration(self, path: Path) -> float | None:
        """The video's duration in seconds (PyAV's probe, once per file version); None when
        it cannot be read."""
        key = _stat_key(path)
        cached = self._durations.get(str(path))
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            d = float(probe(path).duration)
        except AcsumganError:
            d = None
        self._durations[str(path)] = (key, d)
        return d

    def segments(self, folder: Path) -> dict | None:
        """``folder/segments.json`` (None when missing or unreadable), read once per version."""
        path = folder / SEGMENTS
        key = _stat_key(path)
        if key is None:
            return None
        cached = self._segments.get(str(path))
        if cached is not None and cached[0] == key:
            return cached[1]
        data = _json(path)
        self._segments[str(path)] = (key, data)
        return data

    def state_of(self, v: LibraryVideo) -> str:
        return video_state(v.folder)

    def card(self, v: LibraryVideo) -> dict:
        """The library's VIDEO value of ``v`` (without ``job``)."""
        state = video_state(v.folder)
        seg = self.segments(v.folder) if state in ("summarized", "edited") else None
        duration = None
        summary_seconds = None
        thumb = None
        if seg is not None:
            duration = seg.get("duration_seconds")
            summary_seconds = seg.get("summary_seconds")
            thumb = first_thumb(v.name, v.folder, seg)
        if duration is None:
            duration = self.duration(v.path)
        try:
            size = v.path.stat().st_size
        except OSError:
            size = None
        return {
            "name": v.name,
            "file": v.path.name,
            "size": size,
            "duration": duration,
            "state": state,
            "thumb": thumb,
            "summary_seconds": summary_seconds,
        }


def thumb_name(shot: int, n_shots: int) -> str:
    """The thumbnail file of shot ``shot`` (0-based) among ``n_shots`` (as the review page names them)."""
    digits = max(4, len(str(n_shots)))
    return f"shot{shot + 1:0{digits}d}.jpg"


def file_url(name: str, rel: str) -> str:
    return f"/files/{quote(name)}/{quote(rel)}"


def first_thumb(name: str, folder: Path, seg: dict) -> str | None:
    """The URL of the first kept shot's thumbnail (else the first shot's), or None."""
    try:
        n_shots = int(seg.get("n_shots") or 0)
        shots = seg.get("shots") or []
        first = int(shots[0]["shot"]) if shots else 0
    except (TypeError, ValueError, KeyError):
        return None
    rel = f"{THUMBS}/{thumb_name(first, max(n_shots, first + 1))}"
    return file_url(name, rel) if (folder / rel).is_file() else None


def is_video_name(filename: str) -> bool:
    return os.path.splitext(filename)[1].lower() in VIDEO_SUFFIXES
