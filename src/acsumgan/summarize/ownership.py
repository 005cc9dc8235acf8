"""What ``summarize`` wrote, so that it replaces or removes nothing else.

acsumgan replaces or removes only what it wrote itself. Two records say what that is:

* **a summary folder's marker**, ``OUT/<video>/.acsumgan-summary.json``: written last
  into the staging folder, so it travels with the folder when the folder is swapped in.
  It lists every file of the folder with its size and SHA-256. A folder at
  ``OUT/<video>`` is replaced only when it carries a marker and holds exactly the files
  the marker lists, unchanged (:func:`owned_folder`); a folder that is not (the user's
  photos, a summary the user added a file to) is left alone and the summary gets
  another name (``<video>-2``).
* **the output folder's manifest**, ``OUT/.acsumgan.json``: the files and folders
  ``summarize`` wrote directly into ``OUT`` (``features.h5``, ``model/``, ``model.json``,
  ``summarize.log``, ``index.html``, and one video's ``summary.mp4``, ``segments.json``,
  ... when the summary lies in ``OUT`` itself). A name is entered as *pending* before it
  is first written and with its size and SHA-256 once written (:class:`Manifest`), so a
  run killed in between still owns what it was writing; a file there that is neither
  (the user's own ``segments.json``, an edited ``index.html``) is refused before any
  work, with one line.

A file whose size and modification time equal the record's is taken as unchanged
without reading it; otherwise its SHA-256 decides.

**Files written later beside a summary** (``acsumgan render``'s new summary, ``edits.json``
and its lock ``.edits.json.lock``, the studio's ``exports/``, ``acsumgan export``'s default
files) are entered in the record of the folder they are written to (:func:`records_of`):
the marker of a video's folder of a several-video ``summarize`` (:class:`Marker`: its
``files`` get the new records, and ``pending`` the names being written, so a process
killed in between leaves the folder still acsumgan's), else the folder's manifest. Only
the names written are entered: a file the user put there is never recorded, so a folder
holding one stays the user's (a later ``summarize`` leaves it alone). Changes of a
folder's record are serialised by :func:`record_lock` (threads and processes).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .. import __version__
from ..errors import OutputError
from ..fileio import process_alive, write_json
from ..locks import LOCK_NAME, holder

#: The marker inside one video's summary folder.
MARKER = ".acsumgan-summary.json"
#: The manifest of what summarize wrote directly into the output folder.
MANIFEST = ".acsumgan.json"
WRITTEN_BY = "acsumgan summarize"
#: Kinds of manifest entries: a file with its record, a name being written, a log that
#: only grows, a folder acsumgan manages itself (a run folder).
PENDING, LOG, FOLDER = "pending", "log", "folder"


def file_record(path: str | os.PathLike) -> dict:
    """``{"size", "mtime_ns", "sha256"}`` of a file."""
    p = Path(path)
    st = p.stat()
    return {"size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns), "sha256": sha256_of(p)}


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def matches(path: Path, record: dict) -> bool:
    """Whether the regular file ``path`` is the one ``record`` describes."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_size != record.get("size"):
        return False
    if st.st_mtime_ns == record.get("mtime_ns"):
        return True
    try:
        return sha256_of(path) == record.get("sha256")
    except OSError:
        return False


def folder_files(folder: Path) -> dict[str, Path] | None:
    """``{relative name: path}`` of every entry below ``folder`` that is not a folder
    (None when something there is neither a folder nor a regular file, or unreadable)."""
    out = {}
    try:
        for root, dirs, files in os.walk(folder, followlinks=False):
            for d in dirs:
                if os.path.islink(os.path.join(root, d)):
                    return None
            for f in files:
                p = Path(root) / f
                if not stat.S_ISREG(os.lstat(p).st_mode):
                    return None
                out[p.relative_to(folder).as_posix()] = p
    except OSError:
        return None
    return out


def folder_records(folder: Path, skip: tuple[str, ...] = (MARKER,)) -> dict[str, dict]:
    """Records of every file below ``folder`` (but ``skip``)."""
    files = folder_files(folder) or {}
    return {name: file_record(p) for name, p in sorted(files.items()) if name not in skip}


def write_marker(folder: Path, source: str | os.PathLike, made: dict | None = None) -> Path:
    """Mark ``folder`` (a summary's staging folder, complete) as acsumgan's: its marker
    lists every file in it. ``made`` (what the summary was made from, and its row:
    :func:`made_record`) is kept with a copy of that list, so that a later call can tell
    the summary is still the one it would write (:func:`made_of`)."""
    files = folder_records(folder)
    info = {
        "written_by": WRITTEN_BY,
        "version": __version__,
        "source": os.fsdecode(source).encode("utf-8", "replace").decode("utf-8"),
        "files": files,
    }
    if made is not None:
        info["made"] = {**made, "files": dict(files)}
    return write_json(folder / MARKER, info)


def made_of(folder: Path) -> dict | None:
    """The ``made`` record of a summary folder that acsumgan wrote and nothing changed since
    (no render, export or edit of its files either); None otherwise."""
    if not owned_folder(folder) or empty_folder(folder):
        return None
    marker = read_json_record(folder / MARKER)
    made = None if marker is None else marker.get("made")
    if not isinstance(made, dict) or made.get("files") != marker.get("files"):
        return None
    return made


def read_json_record(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_bytes()[: 64 << 20])
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == WRITTEN_BY else None


def empty_folder(path: Path) -> bool:
    """A real folder (not a link) with nothing in it: taking its place loses nothing."""
    try:
        return not path.is_symlink() and path.is_dir() and not any(os.scandir(path))
    except OSError:
        return False


def owned_folder(folder: Path) -> bool:
    """True when ``folder`` may be replaced: an empty folder, or a summary folder acsumgan
    wrote and nobody changed (a real folder, not a link, with a marker that lists exactly
    its files, each unchanged)."""
    try:
        if folder.is_symlink() or not folder.is_dir():
            return False
    except OSError:
        return False
    if empty_folder(folder):
        return True
    marker = read_json_record(folder / MARKER)
    if marker is None or not isinstance(marker.get("files"), dict):
        return False
    files = folder_files(folder)
    if files is None:
        return False
    files.pop(MARKER, None)
    records = marker["files"]
    if LOCK_NAME in files and LOCK_NAME not in records and _stale_lock(files[LOCK_NAME]):
        del files[LOCK_NAME]  # left by a writer that was killed (render of the folder, SIGKILL)
    pending = _pending_names(marker)
    if any(n not in files and not _is_pending(n, pending) for n in records):
        return False
    return all(
        _is_pending(n, pending) or (isinstance(records.get(n), dict) and matches(p, records[n]))
        for n, p in files.items()
    )


def _stale_lock(path: Path) -> bool:
    """Whether ``path`` is acsumgan's lock file (:mod:`acsumgan.locks`) of a process that is
    gone (or empty: killed before it signed it)."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        if path.stat().st_size == 0:
            return True
    except OSError:
        return False
    info = holder(path)
    return info is not None and not process_alive(info["pid"])


def _pending_names(marker: dict) -> set[str]:
    pending = marker.get("pending")
    return {n for n in pending if isinstance(n, str) and n} if isinstance(pending, list) else set()


def _is_pending(name: str, pending: set[str]) -> bool:
    """Whether ``name`` (a relative path) is, or lies in, a name being written."""
    return any(name == q or name.startswith(q + "/") for q in pending)


def occupied(path: Path) -> bool:
    """Whether anything (a link too, a broken one included) is at ``path``."""
    return os.path.lexists(path)


#: Record locks of this process: folder -> [RLock, depth, fd of the folder].
_record_locks: dict[str, list] = {}
_record_locks_guard = threading.Lock()


@contextmanager
def record_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold the lock of ``folder``'s record (its manifest or marker) while it is read,
    changed and written: a thread lock (reentrant) and an OS lock (``fcntl.flock`` on the
    folder itself, so no file is added); unlocked where the folder cannot be opened."""
    import fcntl  # POSIX only, as acsumgan.locks

    key = os.path.realpath(folder)
    with _record_locks_guard:
        entry = _record_locks.setdefault(key, [threading.RLock(), 0, -1])
    with entry[0]:
        if entry[1] == 0:
            try:
                fd = os.open(key, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError:
                fd = -1
            if fd >= 0:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:  # a file system without locks
                    pass
            entry[2] = fd
        entry[1] += 1
        try:
            yield
        finally:
            entry[1] -= 1
            if entry[1] == 0 and entry[2] >= 0:
                os.close(entry[2])  # drops the flock
                entry[2] = -1


class Manifest:
    """The manifest of an output folder (see the module docstring)."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.path = self.out / MANIFEST
        self.entries: dict[str, dict] = {}
        self._load()

    def _load(self) -> None:
        """Read the manifest (again: each change starts from what is on disk, so two
        Manifest objects of one folder never undo each other's entries)."""
        self.entries = {}
        if occupied(self.path):
            data = read_json_record(self.path)
            if data is None or not isinstance(data.get("entries"), dict) or self.path.is_symlink():
                raise OutputError(self.path, "exists and was not written by acsumgan; move it or use another --out")
            self.entries = {k: v for k, v in data["entries"].items() if isinstance(v, dict)}

    def owns(self, name: str) -> bool:
        """Whether ``OUT/name`` may be replaced or removed: nothing is there (or an empty
        folder), or what is there is acsumgan's (pending, a log or run folder it made, or an unchanged file or
        folder of files it recorded)."""
        p = self.out / name
        if not occupied(p) or empty_folder(p):
            return True
        entry = self.entries.get(name)
        if entry is None:
            return False
        kind = entry.get("kind")
        if p.is_symlink():
            return False
        if kind == PENDING:
            return True
        if kind == LOG:
            return p.is_file()
        if kind == FOLDER:
            return p.is_dir()
        files = entry.get("files")
        if isinstance(files, dict):  # a folder of files (thumbs/)
            have = folder_files(p) if p.is_dir() else None
            return (
                have is not None
                and set(have) == set(files)
                and all(isinstance(files[n], dict) and matches(q, files[n]) for n, q in have.items())
            )
        return matches(p, entry)

    def begin(self, names, kind: str = PENDING) -> None:
        """Enter ``names`` (about to be written) before writing them."""
        with record_lock(self.out):
            self._begin(names, kind)

    def _begin(self, names, kind: str) -> None:
        self._load()
        changed = False
        for n in names:
            if self.entries.get(n, {}).get("kind") in (LOG, FOLDER) and kind == PENDING:
                continue
            if self.entries.get(n) != {"kind": kind}:
                self.entries[n] = {"kind": kind}
                changed = True
        if changed or not occupied(self.path):
            self.save()

    def settle(self, names) -> None:
        """Record what is now at each of ``names`` (a file or a folder of files), or drop
        the name where nothing is there."""
        with record_lock(self.out):
            self._settle(names)

    def _settle(self, names) -> None:
        self._load()
        for n in names:
            p = self.out / n
            if self.entries.get(n, {}).get("kind") in (LOG, FOLDER):
                continue
            if not occupied(p):
                self.entries.pop(n, None)
            elif p.is_dir() and not p.is_symlink():
                self.entries[n] = {"kind": "files", "files": folder_records(p, skip=())}
            elif p.is_file() and not p.is_symlink():
                self.entries[n] = {"kind": "file", **file_record(p)}
        self.save()

    def release(self, names) -> None:
        """Names no longer being written: a pending entry is dropped, a record kept."""
        with record_lock(self.out):
            self._load()
            gone = [n for n in names if self.entries.get(n, {}).get("kind") == PENDING]
            for n in gone:
                del self.entries[n]
            if gone:
                self.save()

    def forget(self, names) -> None:
        with record_lock(self.out):
            self._load()
            for n in names:
                self.entries.pop(n, None)
            self.save()

    def save(self) -> None:
        write_json(self.path, {"written_by": WRITTEN_BY, "version": __version__, "entries": self.entries})


class Marker:
    """The marker of a video's folder of a several-video ``summarize``, as the record of
    files written into that folder later (see the module docstring): the same
    :meth:`owns`, :meth:`begin` and :meth:`settle` as :class:`Manifest`. Names are
    relative paths (``exports/summary.otio``); a folder's name stands for every file in it."""

    def __init__(self, folder: Path):
        self.out = Path(folder)
        self.path = self.out / MARKER
        self.data: dict = {}
        self._load()

    def _load(self) -> None:
        data = read_json_record(self.path)
        if data is None or not isinstance(data.get("files"), dict) or self.path.is_symlink():
            raise OutputError(self.path, "exists and was not written by acsumgan; move it or use another folder")
        self.data = data

    @property
    def files(self) -> dict:
        return self.data["files"]

    def owns(self, name: str) -> bool:
        """Whether ``folder/name`` may be replaced or removed: nothing is there (or an empty
        folder), it is being written, or it is the unchanged file (or folder of files) the
        marker records."""
        p = self.out / name
        if not occupied(p) or empty_folder(p):
            return True
        if p.is_symlink():
            return False
        if _is_pending(name, _pending_names(self.data)):
            return True
        if p.is_dir():
            have = folder_files(p)
            if have is None:
                return False
            recs = {n: r for n, r in self.files.items() if n.startswith(name + "/")}
            have = {f"{name}/{n}": q for n, q in have.items()}
            return set(have) == set(recs) and all(
                isinstance(recs[n], dict) and matches(q, recs[n]) for n, q in have.items()
            )
        rec = self.files.get(name)
        return isinstance(rec, dict) and matches(p, rec)

    def begin(self, names) -> None:
        """Enter ``names`` as being written, before writing them."""
        with record_lock(self.out):
            self._load()
            pending = sorted(_pending_names(self.data) | set(names))
            if pending != self.data.get("pending"):
                self.data["pending"] = pending
                self.save()

    def settle(self, names) -> None:
        """Record what is now at each of ``names`` (a file, or every file of a folder), or
        drop its records where nothing is there; the names are no longer pending."""
        with record_lock(self.out):
            self._load()
            files = self.files
            for n in names:
                for k in [k for k in files if k == n or k.startswith(n + "/")]:
                    del files[k]
                p = self.out / n
                if p.is_symlink():
                    continue
                if p.is_file():
                    files[n] = file_record(p)
                elif p.is_dir():
                    for k, q in sorted((folder_files(p) or {}).items()):
                        files[f"{n}/{k}"] = file_record(q)
            self.data["files"] = dict(sorted(files.items()))
            pending = sorted(_pending_names(self.data) - set(names))
            if pending:
                self.data["pending"] = pending
            else:
                self.data.pop("pending", None)
            self.save()

    def release(self, names) -> None:
        """Names no longer being written, their records as they were."""
        with record_lock(self.out):
            self._load()
            pending = _pending_names(self.data)
            if pending & set(names):
                pending -= set(names)
                if pending:
                    self.data["pending"] = sorted(pending)
                else:
                    self.data.pop("pending", None)
                self.save()

    def save(self) -> None:
        write_json(self.path, self.data)


def records_of(folder: str | os.PathLike) -> Manifest | Marker | None:
    """The record of what acsumgan writes into ``folder``: its :class:`Marker` (a video's
    folder of a several-video summarize), else its :class:`Manifest` when it has one; None
    when it has neither (a folder ``summarize`` did not write: nothing is recorded)."""
    folder = Path(folder)
    if occupied(folder / MARKER):
        return Marker(folder)
    if occupied(folder / MANIFEST):
        return Manifest(folder)
    return None


@contextmanager
def recorded(folder: str | os.PathLike, names) -> Iterator[Manifest | Marker | None]:
    """Write ``names`` (relative to ``folder``) in the block: entered in the folder's
    record as being written before, with their records after (see :func:`records_of`;
    nothing where the folder has no record). When the block fails, what is at a name
    acsumgan owned (or nothing was at) is recorded; a name that held someone else's file
    (replaced with ``--force``) is not: its file was not written."""
    rec = records_of(folder)
    names = list(names)
    if rec is None:
        yield None
        return
    before = {n: rec.owns(n) for n in names}
    rec.begin(names)
    try:
        yield rec
    except BaseException:
        rec.settle([n for n in names if before[n]])
        rec.release([n for n in names if not before[n]])
        raise
    rec.settle(names)
