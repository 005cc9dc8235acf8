"""A summary folder is one unit: all of one video's outputs are written to a staging folder,
then swapped in, so a reader (or a later call) sees the previous summary or the new one,
never a mix.

:func:`summary_unit` yields the staging folder to write into. When the block succeeds:

* ``whole=True`` (the summary has a folder of its own, ``OUT/<video>/``): the staging
  folder, a sibling ``.<video>.<pid>.<random>.new``, takes the final folder's place in one
  step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere the old folder is renamed aside,
  the new one renamed in, the old one removed: a reader may find no folder for that
  instant, but never a mixed one);
* ``whole=False`` (one video: its outputs lie in ``OUT`` itself, beside ``features.h5`` and
  ``model/``): the staging folder is ``OUT/.summary.<pid>.<random>.new``; each of its
  files (and ``thumbs/``) is renamed over the old one, ``segments.json`` last, then the old
  unit's members the new one lacks (``summary.html`` after ``--no-page``, ``original.mp4``)
  are removed. Renames do not need disk space, so a full disk, an error or Ctrl-C while
  writing leaves the previous summary whole. ``whole=False`` on a video's folder of a
  several-video ``summarize`` (it carries the marker; ``acsumgan render DIR/<video>``)
  commits the same way, member by member, from a staging folder beside it
  (``DIR/.<video>.<pid>.<random>.new``, so that a killed process leaves nothing inside
  the unit), the marker being the record (:class:`~.ownership.Marker`).

A whole unit that replaces an older one of acsumgan's takes over the person's edits of
it (``edits.json`` and its lock, :data:`CARRIED`): they are linked (or copied) into the
staging folder before the swap, recorded in the new marker, and their analysis digest
tells the studio and ``render`` whether they were made on this analysis. The old unit's
other files (exports/, ``acsumgan export``'s files: made from the old summary) go with it.

When the block fails (disk full, an error, Ctrl-C, SIGTERM) the staging folder is
removed and the previous summary is untouched. Staging folders of a process that died
(SIGKILL) are removed by the next call.

Only acsumgan's own outputs are replaced or removed (:mod:`acsumgan.summarize.ownership`): a
whole unit gets its marker before it is swapped in, and the folder it replaces must
carry one (the caller chose a name where that holds; it is checked again at the swap);
the members of a unit in ``OUT`` are entered in ``OUT``'s manifest, and a member there
that the manifest does not own is never replaced.
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import OutputError
from ..fileio import ensure_dir, output_error, process_alive
from .ownership import MARKER, Manifest, Marker, occupied, owned_folder, write_marker

#: The files and folders of one video's summary (what a unit replaces).
MEMBERS = (
    "summary.mp4",
    "scores.png",
    "summary.html",
    "thumbs",
    "original.mp4",
    "analysis.h5",
    "segments.json",
)
#: What a whole unit takes over from the acsumgan unit it replaces: the person's edits.
CARRIED = ("edits.json", ".edits.json.lock")
#: Staging (``.new``) and set-aside (``.old``) folders: ``.<name>.<pid>.<random>.new|old``.
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.(new|old)$")


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove the staging and set-aside folders in ``folder`` whose process is gone."""
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _STAGING.match(p.name)
        if m and p.is_dir() and not p.is_symlink() and not process_alive(int(m["pid"])):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _staging_name(name: str, kind: str) -> str:
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}"


def _replace_dir(new: Path, final: Path) -> None:
    """Put the folder ``new`` at ``final`` (replacing a folder there); ``new`` is gone after."""
    if not final.exists():
        os.replace(new, final)
        return
    if _exchange(new, final):
        shutil.rmtree(new, ignore_errors=True)  # now holds the old one
        return
    aside = final.with_name(_staging_name(final.name, "old"))
    os.replace(final, aside)
    os.replace(new, final)
    shutil.rmtree(aside, ignore_errors=True)


def _carry(old: Path, stage: Path) -> None:
    """Link (or copy) :data:`CARRIED` from ``old`` (an acsumgan unit, checked) into ``stage``."""
    for n in CARRIED:
        src, dst = old / n, stage / n
        if src.is_file() and not src.is_symlink() and not occupied(dst):
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


def _commit_members(stage: Path, final: Path, manifest: Manifest | Marker | None = None) -> None:
    """Move the unit's members from ``stage`` into ``final`` (segments.json last), then drop
    the members of the old unit that the new one lacks; each one entered in ``final``'s
    record (``manifest``, default its manifest), and only what it owns replaced or removed."""
    names = [n for n in MEMBERS if (stage / n).exists()]
    names += sorted(p.name for p in stage.iterdir() if p.name not in MEMBERS)
    names.sort(key=lambda n: n == "segments.json")
    manifest = manifest if manifest is not None else Manifest(final)
    gone = [n for n in MEMBERS if n not in names and occupied(final / n) and manifest.owns(n)]
    for n in names:
        if not manifest.owns(n):
            raise OutputError(final / n, "exists and was not written by acsumgan; move it or use another --out")
    manifest.begin(names + gone)
    for n in names:
        src, dst = stage / n, final / n
        if src.is_dir() and not src.is_symlink():
            if dst.exists() and not dst.is_dir():
                dst.unlink()
            _replace_dir(src, dst)
        else:
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            os.replace(src, dst)
    for n in gone:
        old = final / n
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    manifest.settle(names + gone)
    shutil.rmtree(stage, ignore_errors=True)


def _named_finally(exc: OutputError, stage: Path, final: Path) -> OutputError:
    """``exc`` naming the file where it would have been (not its staging folder)."""
    if exc.path is None:
        return exc
    try:
        rel = Path(exc.path).relative_to(stage)
    except ValueError:
        return exc
    out = type(exc)(final / rel, exc.problem)
    out.exit_code = exc.exit_code
    return out


@contextmanager
def summary_unit(
    final: str | os.PathLike, whole: bool = True, source: str | os.PathLike = "", made: dict | None = None
) -> Iterator[Path]:
    """Yield a staging folder for one video's summary (of the video ``source``); swap it in
    at ``final`` when the block succeeds, remove it when it fails (see the module docstring).
    ``made``: what a whole unit was made from, kept in its marker
    (:func:`~acsumgan.summarize.ownership.write_marker`)."""
    final = Path(final)
    marked = not whole and occupied(final / MARKER)  # a video's folder of a several-video summarize
    record = Marker(final) if marked else None  # one-line refusal of a marker not acsumgan's
    parent = ensure_dir(final.parent if whole or marked else final)
    remove_stale_staging(parent)
    stage = parent / _staging_name(final.name if whole or marked else "summary", "new")
    try:
        stage.mkdir()
    except OSError as exc:
        raise output_error(stage, exc) from None
    try:
        try:
            yield stage
        except OutputError as exc:
            raise _named_finally(exc, stage, final) from None
        try:
            if whole:
                if occupied(final) and not owned_folder(final):
                    raise OutputError(
                        final, "was not written by acsumgan (or was changed meanwhile); it was left as it is"
                    )
                if occupied(final):
                    _carry(final, stage)
                write_marker(stage, source, made)
                _replace_dir(stage, final)
            else:
                _commit_members(stage, final, record)
        except OSError as exc:
            raise output_error(final, exc) from None
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
