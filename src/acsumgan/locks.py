"""One writer per folder, and every termination signal treated as Ctrl-C.

**Locks.** A command that writes a run folder, an experiment folder, a summary folder
or a dataset file holds an OS file lock (``fcntl.flock``) on ``<folder>/.lock`` or
``<dir>/.<file name>.lock`` while it writes (:func:`hold_lock`). The operating system
drops the lock when the process ends, however it ends (SIGKILL included), so a lock
is never stale; the file itself only records who holds it (process id, start time)
for the message a second writer gets at once:
``<target>: is in use by process 1234 since 10:42; wait or use another --out``
(:class:`~acsumgan.errors.BusyError`). Readers take no lock. A process may take the
same lock again (nested holds are counted). Once a lock is taken, the temporary files
of atomic writes whose writer process is gone are removed from the target
(:func:`acsumgan.fileio.remove_stale_temporaries`).

**Nested folders.** A command's own output (``summarize``, ``train`` and ``experiment``
``--out``, the dataset file of ``dataset build/synth/merge``) is held with ``tree=True``:
besides its ``.lock``, the holder takes an exclusive lock on the folder's entry in a
per-user registry (:func:`registry_dir`, outside every user folder) and a shared one on
each folder above it. A writer of a folder inside a held one, or of one containing it,
then gets the same BusyError at once (``a folder inside it is in use by process ...``).
The registry's files are empty-ish and removed by the last holder; where the registry
cannot be made (no writable temporary folder), the plain ``.lock`` alone applies.

**Signals.** :func:`install_signal_handlers` makes SIGTERM and SIGHUP raise
:class:`~acsumgan.errors.Terminated`, a KeyboardInterrupt, so that everything that
handles Ctrl-C handles them too; :func:`signals_held` holds any of the three inside
an atomic unit (an epoch's files) until the unit is done.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import signal
import stat
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

from .errors import BusyError, OutputError, Terminated
from .fileio import ensure_dir, output_error, process_alive, remove_stale_temporaries

LOCK_NAME = ".lock"

#: Open lock files of this process: lock path -> [fd, holds].
_held: dict[str, list[int]] = {}
_held_guard = threading.Lock()


def lock_path(target: str | os.PathLike, is_file: bool = False) -> Path:
    """Where the lock of ``target`` lives: ``<folder>/.lock``, or ``<dir>/.<name>.lock`` for a file."""
    t = Path(target)
    return t.with_name(f".{t.name}.lock") if is_file else t / LOCK_NAME


def holder(path: str | os.PathLike) -> dict | None:
    """What a lock file says about its holder (``pid``, ``since``, ``command``), or None."""
    try:
        info = json.loads(Path(path).read_text())
        return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else None
    except (OSError, ValueError):
        return None


def is_locked(target: str | os.PathLike, is_file: bool = False) -> bool:
    """True when some process holds the lock of ``target`` (this process's own holds included)."""
    p = lock_path(target, is_file)
    if str(p) in _held:
        return True
    try:
        fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def hold_lock(target: str | os.PathLike, is_file: bool = False, tree: bool = False) -> Iterator[Path]:
    """Hold the writer's lock of ``target`` (a folder, created if needed, or a file when
    ``is_file``) for the block; a BusyError at once when another process holds it. With
    ``tree``, also a BusyError when another process holds (with ``tree``) a folder inside
    ``target`` or one containing it (see the module docstring)."""
    target = Path(target)
    nodes = _hold_tree(target) if tree else []  # first: a refusal writes nothing
    try:
        ensure_dir(target.parent if is_file else target)
        path = lock_path(target, is_file)
        _refuse_foreign_lock_file(path)
        key = str(path)
        with _held_guard:
            if key in _held:
                _held[key][1] += 1
                nested = True
            else:
                _held[key] = [_acquire(path, target), 1]
                nested = False
    except BaseException:
        _release_tree(nodes)
        raise
    try:
        if not nested:
            remove_stale_temporaries(target.parent if is_file else target, name=target.name if is_file else None)
        yield target
    finally:
        _release_tree(nodes)
        with _held_guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                _release(path, entry[0])


@contextlib.contextmanager
def hold_tree(target: str | os.PathLike) -> Iterator[Path]:
    """The nested-folder half of ``hold_lock(target, tree=True)`` alone: it writes nothing
    at ``target`` (the command's own lock there comes later, e.g. the trainer's)."""
    nodes = _hold_tree(Path(target))
    try:
        yield Path(target)
    finally:
        _release_tree(nodes)


def _refuse_foreign_lock_file(path: Path) -> None:
    """A file at the lock's place that acsumgan did not write (not a holder's note, not
    empty) is never truncated or removed: a one-line OutputError."""
    if str(path) in _held:
        return
    try:
        if path.is_symlink() or path.is_dir():
            raise OutputError(path, "exists and was not written by acsumgan (a lock file goes here); use another --out")
        if not path.is_file() or path.stat().st_size == 0:
            return
        text = path.read_bytes()[:4096]
    except OSError:
        return
    if holder(path) is None and text.strip():
        raise OutputError(path, "exists and was not written by acsumgan (a lock file goes here); use another --out")


# --- nested folders: the registry ------------------------------------------------------------

#: Registry entries of this process: node path -> [fd, exclusive holds, shared holds].
_nodes: dict[str, list[int]] = {}


def registry_dir() -> Path | None:
    """The folder of the tree locks' entries: ``$ACSUMGAN_LOCK_DIR``, else
    ``<temporary folder>/acsumgan-<uid>-locks`` (made private to the user); None when it
    cannot be made or is not the user's own."""
    path = Path(os.environ.get("ACSUMGAN_LOCK_DIR") or Path(tempfile.gettempdir()) / f"acsumgan-{os.getuid()}-locks")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or not os.access(path, os.W_OK):
        return None
    return path


def _node_file(registry: Path, node: str) -> Path:
    return registry / (hashlib.sha256(os.fsencode(node)).hexdigest()[:40] + ".lock")


def _hold_tree(target: Path) -> list[tuple[str, bool]]:
    """Shared locks on the entries of every folder above ``target``, then an exclusive one
    on its own; the nodes held (to release), or a BusyError (nothing held)."""
    node = os.path.realpath(target)
    if any(node == t or Path(t) in Path(node).parents for t in _inherited_trees()):
        return []  # a worker of the process that holds the tree: its parent's lock covers it
    registry = registry_dir()
    if registry is None:
        return []
    chain = [str(p) for p in reversed(Path(node).parents)] + [node]
    held: list[tuple[str, bool]] = []
    try:
        for n in chain:
            exclusive = n == node
            if not _take_node(registry, n, exclusive):
                raise BusyError(target, _tree_busy(registry, node, n, exclusive))
            held.append((n, exclusive))
    except BaseException:
        _release_tree(held)
        raise
    return held


#: Set in the environment of a worker (:func:`worker_env`): the trees its parent holds.
HELD_TREES_ENV = "ACSUMGAN_HELD_TREES"


def _inherited_trees() -> list[str]:
    return [t for t in os.environ.get(HELD_TREES_ENV, "").split(os.pathsep) if t]


def _held_trees() -> list[str]:
    """The trees this process holds (exclusively) and those its parent held."""
    with _held_guard:
        mine = [n for n, entry in _nodes.items() if entry[1] > 0]
    return list(dict.fromkeys(mine + _inherited_trees()))


def _take_node(registry: Path, node: str, exclusive: bool) -> bool:
    """Take (or count again) this process's lock on ``node``'s entry; False when another
    process holds it in a conflicting way."""
    with _held_guard:
        entry = _nodes.get(node)
        if entry is not None:
            if exclusive and entry[1] == 0:
                try:
                    fcntl.flock(entry[0], fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return False
            entry[1 if exclusive else 2] += 1
            return True
        path = _node_file(registry, node)
        for _ in range(20):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return True  # the registry cannot be written: the plain lock alone applies
            try:
                fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in _NO_LOCKS:
                    return True
                return False
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # its last holder removed it meanwhile
                os.close(fd)
                continue
            if exclusive:
                sign = json.dumps({"pid": os.getpid(), "since": time.time(), "path": node}) + "\n"
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, sign.encode("utf-8", "surrogateescape"), 0)
            _nodes[node] = [fd, int(exclusive), int(not exclusive)]
            return True
        return False


def _release_tree(nodes: list[tuple[str, bool]]) -> None:
    """Give back this process's holds of ``nodes`` ((node, exclusive) pairs); an entry no
    one else holds is removed."""
    if not nodes:
        return
    with _held_guard:
        for n, exclusive in reversed(nodes):
            entry = _nodes.get(n)
            if entry is None:
                continue
            entry[1 if exclusive else 2] -= 1
            if entry[1] == 0 and entry[2] > 0:
                with contextlib.suppress(OSError):
                    fcntl.flock(entry[0], fcntl.LOCK_SH)  # down to shared (never blocks: we hold it)
            if entry[1] + entry[2] > 0:
                continue
            del _nodes[n]
            registry = registry_dir()
            try:
                fcntl.flock(entry[0], fcntl.LOCK_EX | fcntl.LOCK_NB)
                if registry is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(_node_file(registry, n))
            except OSError:
                pass  # another process holds it too: it stays
            os.close(entry[0])


def _tree_busy(registry: Path, node: str, where: str, exclusive: bool) -> str:
    """The message of a tree lock refused at ``where``: who writes ``node`` itself (the
    plain lock's message), the folder containing it (a shared lock refused) or one inside
    it (the exclusive lock refused)."""
    want, at = Path(node), Path(where)
    deadline = time.monotonic() + 1.0
    while True:
        same = other = None
        try:
            entries = list(registry.glob("*.lock"))
        except OSError:
            entries = []
        for p in entries:
            found = holder(p)
            if not found or not isinstance(found.get("path"), str) or not process_alive(found["pid"]):
                continue
            path = Path(found["path"])
            if path == want:
                same = found
            elif (not exclusive and path == at) or (exclusive and want in path.parents):
                other = found
        if same or other or time.monotonic() > deadline:
            break
        time.sleep(0.02)  # the holder has locked its entry but not yet signed it
    if same is not None:
        return _busy(same)
    what = "a folder inside it" if exclusive else "the folder that contains it"
    if other is None:
        return f"{what} is being written by another process; wait or use another --out"
    return f"{what} ({other['path']}) is being written by process {other['pid']}; wait or use another --out"


def _acquire(path: Path, target: Path) -> int:
    """Open, lock and sign the lock file; the same inode must still be at ``path`` once
    locked (a releasing holder unlinks it), else try again with the new one."""
    deadline = time.monotonic() + 1.0
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise output_error(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in _NO_LOCKS:  # a file system without locks (some network mounts): unlocked, as before
                return fd
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise output_error(path, exc) from None
            info = holder(path)
            if (info is None or not process_alive(info["pid"])) and time.monotonic() < deadline:
                time.sleep(0.02)  # the holder has locked but not yet signed the file
                continue
            raise BusyError(target, _busy(info)) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        sign = json.dumps({"pid": os.getpid(), "since": time.time(), "command": " ".join(["acsumgan", *sys.argv[1:2]])})
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (sign + "\n").encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise output_error(path, exc) from None
        return fd


#: flock errors of a file system that has no locks.
_NO_LOCKS = {getattr(errno, n) for n in ("ENOLCK", "EOPNOTSUPP", "ENOTSUP", "ENOSYS") if hasattr(errno, n)}


def _release(path: Path, fd: int) -> None:
    """Remove the lock file, then unlock (in this order: a waiter that opened the old
    file sees it gone and starts again)."""
    with contextlib.suppress(OSError):
        os.unlink(path)
    os.close(fd)


def _busy(info: dict | None) -> str:
    if info is None:
        return "is in use by another process; wait or use another --out"
    since = time.localtime(float(info.get("since") or 0))
    fmt = "%H:%M" if since[:3] == time.localtime()[:3] else "%Y-%m-%d %H:%M"
    return f"is in use by process {info['pid']} since {time.strftime(fmt, since)}; wait or use another --out"


# --- signals ----------------------------------------------------------------------------

#: The signals that end a command the way Ctrl-C does.
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


#: The SIGTERM / SIGHUP signals this process received (a library that turns the exception into
#: a plain KeyboardInterrupt, as Ray's ``wait`` does, loses which signal it was; this keeps it).
_received: list[int] = []


def _raise_terminated(signum, frame) -> None:
    _received.append(int(signum))
    raise Terminated(signum)


def signal_received() -> int | None:
    """The first SIGTERM or SIGHUP this process received through :func:`install_signal_handlers`, if any."""
    return _received[0] if _received else None


def _interrupt(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def install_signal_handlers() -> dict:
    """SIGTERM and SIGHUP raise :class:`Terminated` (in the main thread, where their
    handler is the default; an ignored SIGHUP, as under nohup, stays ignored). Returns
    the handlers replaced, for :func:`restore_signal_handlers`."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _received.clear()
    replaced = {}
    for s in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(s) is signal.SIG_DFL:
            replaced[s] = signal.signal(s, _raise_terminated)
    return replaced


def restore_signal_handlers(replaced: dict) -> None:
    for s, h in replaced.items():
        signal.signal(s, h)


def is_ours(handler) -> bool:
    """True for the handlers that turn a signal into a KeyboardInterrupt (Python's own for
    SIGINT, :func:`install_signal_handlers`'s for SIGTERM and SIGHUP)."""
    return handler is signal.default_int_handler or handler is _raise_terminated


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold a Ctrl-C, SIGTERM or SIGHUP that arrives inside the block until the block is
    done, then raise it (a second signal interrupts at once).

    Only for the signals whose handler :func:`is_ours`, in the main thread; elsewhere (Ray
    workers, other handlers) the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    ours = {s: h for s in SIGNALS if is_ours(h := signal.getsignal(s))}
    if not ours:
        yield
        return
    caught: list[int] = []

    def hold(signum, frame):
        if signum != signal.SIGINT:
            _received.append(int(signum))
        if caught:
            raise _interrupt(signum)
        caught.append(signum)

    for s in ours:
        signal.signal(s, hold)
    try:
        yield
    finally:
        for s, h in ours.items():
            signal.signal(s, h)
    if caught:
        raise _interrupt(caught[0])


# --- workers that die with their parent -----------------------------------------------------

#: Set by a parent (the local executor) in the environment of each worker it starts: its pid.
PARENT_PID_ENV = "ACSUMGAN_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def worker_env() -> dict[str, str]:
    """The environment of a ``python -m acsumgan...`` worker started by this process: this
    one's, with :data:`PARENT_PID_ENV` (for :func:`die_with_parent`), the trees this process
    holds (:data:`HELD_TREES_ENV`: the worker's own tree locks inside them are its parent's)
    and this package's folder first on ``PYTHONPATH`` (so a source checkout imports the same code)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env[PARENT_PID_ENV] = str(os.getpid())
    trees = _held_trees()
    if trees:  # the worker writes inside what this process holds: not a second writer
        env[HELD_TREES_ENV] = os.pathsep.join(trees)
    return env


def die_with_parent(poll_s: float = 0.5, grace_s: float = 15.0) -> bool:
    """In a worker started with :data:`PARENT_PID_ENV`: end this process when that parent
    dies (kill -9 included). The kernel sends SIGTERM at the parent's death (Linux
    ``PR_SET_PDEATHSIG``); a watchdog thread checks the parent's pid as well, sends the
    same SIGTERM (which stops the worker as Ctrl-C would: finished epochs kept), and
    ends the process outright ``grace_s`` seconds later if it is still there. Returns
    whether a parent is watched."""
    value = os.environ.pop(PARENT_PID_ENV, None)
    try:
        parent = int(value or "")
    except ValueError:
        return False
    by_kernel = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            by_kernel = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0

    # the kernel's SIGTERM comes only for a death after the prctl call
    by_kernel = by_kernel and os.getppid() == parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        if not by_kernel:  # one SIGTERM only: a second one would not wait for the epoch's files
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os._exit(128 + int(signal.SIGTERM))

    threading.Thread(target=watch, name="acsumgan-parent-watch", daemon=True).start()
    return True
