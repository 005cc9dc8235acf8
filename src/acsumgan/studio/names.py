"""Names the studio gives: a video's ``name`` (its folder under DIR and its URL part) and an
uploaded file's name on disk.

A video's name is its file stem made safe (:func:`safe_name`: letters, digits, ``-``,
``_``, ``.``; at most :data:`MAX_NAME` characters; never hidden, never ``.``/``..``, never
a name the studio keeps for itself). Two files with one stem: the second one seen gets
the stem + ``-`` + 8 hex digits of sha256 of its absolute path. The names given are
recorded in ``DIR/library.json`` (:class:`NameBook`), so a video keeps its name (and its
folder of results) across restarts, whatever files are added later.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

from ..fileio import write_json

__all__ = [
    "MAX_NAME",
    "NAMES_FILE",
    "RESERVED",
    "NameBook",
    "safe_file_name",
    "safe_name",
    "suffixed",
]

#: At most this many characters in a video's name.
MAX_NAME = 80
#: At most this many characters in an uploaded file's name.
MAX_FILE_NAME = 120
#: Where the names given are recorded (in DIR).
NAMES_FILE = "library.json"
#: Names of DIR's own entries: never a video's name (compared without case).
RESERVED = frozenset({"uploads", NAMES_FILE, "static", "api", "media", "files"})

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_FILE = re.compile(r"[^\w. -]+")


def safe_name(stem: str) -> str:
    """``stem`` as a video name: each run of other characters becomes ``_``; no leading dot
    or dash; at most :data:`MAX_NAME` characters; ``video`` for what is left empty; a
    reserved name gets ``_`` in front."""
    name = _UNSAFE.sub("_", str(stem)).lstrip(".-")
    name = name[:MAX_NAME].rstrip(".") or "video"
    if name.casefold() in RESERVED:
        name = ("_" + name)[:MAX_NAME]
    return name


def _digest(path: Path) -> str:
    return hashlib.sha256(os.fsencode(str(path))).hexdigest()[:8]


def suffixed(name: str, suffix: str) -> str:
    """``name + suffix`` within :data:`MAX_NAME` characters (``name`` cut)."""
    return name[: MAX_NAME - len(suffix)] + suffix


def safe_file_name(filename: str, fallback_suffix: str = ".mp4") -> str:
    """An uploaded file's name as it is stored: its last path part only; each run of
    characters other than letters, digits, ``.``, ``-``, ``_`` and space becomes ``_``; no
    leading dot or space; at most :data:`MAX_FILE_NAME` characters, the suffix kept."""
    base = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_FILE.sub("_", base).strip().lstrip(".- ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = ("." + suffix) if suffix else ""
    if len(suffix) > 12:
        stem, suffix = base, ""
    stem = stem.strip() or "video"
    return stem[: MAX_FILE_NAME - len(suffix)] + suffix


class NameBook:
    """The video names given so far in one DIR (``DIR/library.json``: name -> absolute path).

    :meth:`assign` gives each path its recorded name, or a new one that no other path has
    (recorded at once, atomically). Thread-safe."""

    def __init__(self, out: Path):
        self.path = Path(out) / NAMES_FILE
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}  # name -> absolute path
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            names = data.get("names", {}) if isinstance(data, dict) else {}
            self._names = {
                str(k): str(v) for k, v in names.items() if isinstance(v, str) and safe_name(str(k)) == str(k)
            }
        except (OSError, ValueError):
            self._names = {}

    def assign(self, paths: list[Path]) -> dict[str, Path]:
        """name -> path for ``paths`` (absolute), in their order; new names recorded."""
        with self._lock:
            by_path = {v: k for k, v in self._names.items()}
            taken = {k.casefold() for k in self._names}
            out: dict[str, Path] = {}
            changed = False
            for p in paths:
                key = str(p)
                name = by_path.get(key)
                if name is None:
                    name = safe_name(p.stem)
                    if name.casefold() in taken:
                        name = suffixed(name, "-" + _digest(p))
                    n = 2
                    base = name
                    while name.casefold() in taken:  # the digest's name taken too: a rare repeat
                        name = suffixed(base, f"-{n}")
                        n += 1
                    self._names[name] = key
                    by_path[key] = name
                    taken.add(name.casefold())
                    changed = True
                out[name] = p
            if changed:
                write_json(self.path, {"format": "acsumgan-studio-names/1", "names": self._names})
            return out
