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
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from .. import __version__
from ..errors import OutputError
from ..fileio import write_json

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


def write_marker(folder: Path, source: str | os.PathLike) -> Path:
    """Mark ``folder`` (a summary's staging folder, complete) as acsumgan's: its marker
    lists every file in it."""
    info = {
        "written_by": WRITTEN_BY,
        "version": __version__,
        "source": os.fsdecode(source).encode("utf-8", "replace").decode("utf-8"),
        "files": folder_records(folder),
    }
    return write_json(folder / MARKER, info)


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
    if set(files) != set(records):
        return False
    return all(isinstance(records[n], dict) and matches(p, records[n]) for n, p in files.items())


def occupied(path: Path) -> bool:
    """Whether anything (a link too, a broken one included) is at ``path``."""
    return os.path.lexists(path)


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

    def forget(self, names) -> None:
        self._load()
        for n in names:
            self.entries.pop(n, None)
        self.save()

    def save(self) -> None:
        write_json(self.path, {"written_by": WRITTEN_BY, "version": __version__, "entries": self.entries})
