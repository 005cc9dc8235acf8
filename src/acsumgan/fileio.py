"""Atomic writes: every result file appears whole or not at all; media files opened as local files.

A writer gets a temporary path beside the final one (same folder, so the rename is
atomic on POSIX), writes there, and only on success is it renamed into place. Errors
of the operating system become one-line :class:`OutputError` / :class:`DiskFullError`.
A temporary file is named ``.<name>.<pid>.<random>.tmp``: an interruption (Ctrl-C,
SIGTERM, SIGHUP) removes it; one left by a killed writer is removed by the next command
that takes the folder's lock (:func:`remove_stale_temporaries`, :mod:`acsumgan.locks`).

Every media file the package reads or writes with PyAV is named by :func:`local_url` (and
read through :func:`acsumgan.media.decode.open_media`): as the local file of that name,
never as an FFmpeg protocol URL (``concat:a.mp4|b.mp4``, ``http://...``, ``clip:1.mp4`` would
be protocols), and read only by a demuxer that reads the file's own bytes: not by one that
reads a list of other files or addresses from it (an ffconcat script, an HLS playlist, an SDP description) or opens its
own input (image sequences by a ``%d`` pattern, devices, network streams).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .errors import AcsumganError, DiskFullError, OutputError

COMPLETE_MARKER = "COMPLETE"


def check_input_file(
    path: str | os.PathLike,
    error_cls: type[AcsumganError],
    expected: str,
    *,
    allow_empty: bool = False,
    not_found: str = "file not found",
) -> Path:
    """``path`` as a Path once it names an existing file, else a one-line ``error_cls``:
    ``file not found`` (or ``not_found``), ``is a folder, expected {expected}``,
    ``is not a regular file (a named pipe)`` (:func:`not_regular`: never opened, so a
    pipe cannot block), and, unless ``allow_empty``, ``is empty (0 bytes)`` or
    ``cannot read (...)``."""
    p = Path(path)
    if not p.exists():
        raise error_cls(p, not_found)
    if p.is_dir():
        raise error_cls(p, f"is a folder, expected {expected}")
    problem = not_regular(p)
    if problem:
        raise error_cls(p, f"{problem}, expected {expected}")
    if not allow_empty:
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise error_cls(p, f"cannot read ({exc.strerror or exc})") from None
        if size == 0:
            raise error_cls(p, "is empty (0 bytes)")
    return p


def local_url(path: str | os.PathLike) -> str:
    """FFmpeg's name of the local file ``path``: ``file:`` and its absolute path, so that no
    part of the name is taken for a protocol (``concat:b.mp4|b.mp4`` is then that file)."""
    return "file:" + os.path.abspath(os.fspath(path))


#: What each kind of file that is not a regular file is called in a message.
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def not_regular(path: str | os.PathLike) -> str | None:
    """``is not a regular file (a named pipe)`` (a socket, a device) when ``path`` (links
    followed) exists and is neither a regular file nor a folder, else None. Looks at the
    file's status only: a named pipe is never opened (opening one blocks until a writer comes)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = next((name for test, name in _SPECIAL if test(mode)), "a special file")
    return f"is not a regular file ({kind})"


def output_error(path: str | os.PathLike, exc: OSError) -> OutputError:
    """Translate an OSError raised while writing ``path`` into a one-line error."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return DiskFullError(path, "disk full while writing (nothing was half-written)")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(path, "cannot write here (permission denied or read-only)")
    return OutputError(path, f"cannot write: {exc.strerror or exc}")


def refuse_to_replace(path: str | os.PathLike, force: bool, resuming: bool = False) -> None:
    """A one-line OutputError when the file ``path`` exists and neither ``force`` (--force)
    nor ``resuming`` (the command's own unfinished work on it) allows replacing it."""
    p = Path(path)
    if p.exists() and not p.is_dir() and not (force or resuming):
        raise OutputError(p, "exists; pass --force to replace it, or use another --out")


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) or raise a one-line OutputError."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(p, "exists and is not a folder") from None
    except OSError as exc:
        raise output_error(p, exc) from None
    if not os.access(p, os.W_OK):
        raise OutputError(p, "cannot write here (permission denied or read-only)")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path; rename it to ``path`` if the block succeeds."""
    final = Path(path)
    ensure_dir(final.parent if str(final.parent) else ".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
    except OSError as exc:
        raise output_error(final, exc) from None
    tmp_path = Path(tmp)
    try:
        os.chmod(tmp_path, 0o666 & ~_umask())
        yield tmp_path
        os.replace(tmp_path, final)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise output_error(final, exc) from None
    except Exception:
        # Some writers (torch.save) report a full disk as a RuntimeError of their own;
        # look at the free space before the temporary file is removed.
        full = _out_of_space(final.parent)
        tmp_path.unlink(missing_ok=True)
        if full:
            raise DiskFullError(final, "disk full while writing (nothing was half-written)") from None
        raise
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


#: ``.<name>.<pid>.<random>.tmp``: a temporary file of :func:`atomic_path`, with its writer's process id.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]{8}\.tmp$")


def stale_temporaries(folder: str | os.PathLike, name: str | None = None, depth: int = 3) -> list[Path]:
    """Temporary files of :func:`atomic_path` in ``folder`` and its sub-folders (``depth``
    levels down: a run's checkpoints/, an experiment's sigma*/split*/checkpoints/) whose
    writer process is gone; with ``name``, only those of the file ``folder/name``."""
    found = []
    top = Path(folder)
    walk = [(str(top), [], os.listdir(top) if top.is_dir() else [])] if name else os.walk(top)
    seen = 0
    for root, dirs, files in walk:
        seen += len(files) + len(dirs)
        if seen > 200_000:  # an --out pointed at a huge folder: enough
            break
        if len(Path(root).relative_to(top).parts) >= depth:
            dirs.clear()
        for f in files:
            m = _TEMPORARY.match(f)
            if m and (name is None or m["name"] == name) and not process_alive(int(m["pid"])):
                p = Path(root) / f
                if p.is_file() and not p.is_symlink():
                    found.append(p)
    return sorted(found)


def remove_stale_temporaries(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove :func:`stale_temporaries` (left by a writer killed mid-write); returns them.
    Never fails: a file that cannot be removed stays."""
    removed = []
    try:
        stale = stale_temporaries(folder, name)
    except OSError:
        return removed
    for p in stale:
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a pid that cannot be checked counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True
    return True


def _out_of_space(folder: Path) -> bool:
    """True when the file system holding ``folder`` has (almost) no space left."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return st.f_bavail * st.f_frsize < (1 << 20)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def readable(text: str | os.PathLike) -> str:
    """``text`` (a name, a path) fit for a UTF-8 file (JSON, HTML, HDF5 strings, logs, plot
    titles): a file name's bytes, which Python decodes with surrogateescape, as UTF-8, and a
    byte that is not UTF-8 as U+FFFD (``caf\\xe9.mp4`` -> ``caf\ufffd.mp4``); never a lone
    surrogate, which no UTF-8 file can hold. Under ``LC_ALL=C`` a UTF-8 name comes out as itself."""
    text = os.fsdecode(text)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that is no byte of a name
        return text.encode("utf-8", "replace").decode("utf-8")


class LogFile(logging.FileHandler):
    """A log file appended in UTF-8 whatever the locale, each line :func:`readable`."""

    def __init__(self, path: str | os.PathLike):
        super().__init__(path, encoding="utf-8")

    def format(self, record: logging.LogRecord) -> str:
        return readable(super().format(record))


def _readable_strings(obj: Any) -> Any:
    """``obj`` with every string (keys too) :func:`readable`."""
    if isinstance(obj, (str, Path)):
        return readable(obj)
    if isinstance(obj, dict):
        return {readable(k) if isinstance(k, str) else k: _readable_strings(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_readable_strings(v) for v in obj]
    return obj


def _default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON atomically (numpy scalars and arrays allowed; strings :func:`readable`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_readable_strings(obj), f, indent=indent, default=_default)
            f.write("\n")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` atomically, in UTF-8 whatever the locale (:func:`readable`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(readable(text), encoding="utf-8")
    return Path(path)


def mark_complete(folder: str | os.PathLike, info: dict | None = None) -> Path:
    """Write the completion marker of a run folder; always the last file written."""
    return write_json(Path(folder) / COMPLETE_MARKER, info or {})


def is_complete(folder: str | os.PathLike) -> bool:
    """True if ``folder`` holds the completion marker (readers skip other folders)."""
    return (Path(folder) / COMPLETE_MARKER).is_file()
