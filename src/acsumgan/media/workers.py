"""Worker processes of the media layer: ``python -m acsumgan.media.<module>`` children.

The part decoders (:mod:`.decode_parts`) and the part writers (:mod:`.encode_parts`) run in
processes of their own (PyAV holds the GIL while it decodes or encodes). What they
exchange differs (a decoder streams frames and waits for credits; a writer reports a
count of frames and leaves its result in a file), but they are started, watched, followed
and ended by this one piece of code:

* **started** (:meth:`WorkerGroup.start`) as ``python -m MODULE ARGS`` with
  :func:`acsumgan.locks.worker_env` (this process's environment, this package first on
  ``PYTHONPATH``, the parent's pid, the trees it holds), stdout a pipe (bytes), stdin a
  pipe when asked for, stderr discarded;
* **in the child**, :func:`worker_channel` makes the worker end when its parent dies
  (:func:`acsumgan.locks.die_with_parent`) and returns the protocol stream: the real
  stdout, file descriptor 1 being pointed at stderr so that a stray print cannot corrupt it;
* **progress lines**: a child writes counts with :class:`CountLines` (one integer a line, at
  most every 0.2 s), the parent reads them on a thread (:meth:`Worker.follow_counts`);
* **ended** when the :class:`WorkerGroup` is left, normally, on an exception or on Ctrl-C:
  every worker still running is killed and waited for, its pipes closed, and the group's
  scratch files (:meth:`WorkerGroup.scratch_file`) removed. No worker outlives its parent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable

from ..locks import die_with_parent, worker_env

#: A child writes a progress line at most this often (seconds).
PROGRESS_EVERY_S = 0.2


class Worker:
    """One worker process (see the module docstring); made by :meth:`WorkerGroup.start`."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.follower: threading.Thread | None = None

    @property
    def stdout(self) -> BinaryIO:
        """What the worker writes on its protocol stream (:func:`worker_channel`)."""
        return self.proc.stdout

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def send_line(self, text: str) -> bool:
        """Write ``text`` and a newline to the worker's stdin; False when it is gone."""
        try:
            self.proc.stdin.write(f"{text}\n".encode())
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):  # a broken pipe, or closed by :meth:`end`
            return False

    def follow_counts(self, on_count: Callable[[int], None]) -> threading.Thread:
        """Call ``on_count(n)`` for every progress line (:class:`CountLines`) the worker
        writes, on a thread of its own, until its stdout ends (:meth:`end` waits for the
        thread, so that every line the worker wrote has been counted)."""

        def follow() -> None:
            try:
                for line in self.proc.stdout:
                    try:
                        n = int(line)
                    except ValueError:
                        continue
                    on_count(n)
            except (OSError, ValueError):  # the pipe closed under it
                pass

        self.follower = threading.Thread(target=follow, name=f"acsumgan-worker-{self.pid}", daemon=True)
        self.follower.start()
        return self.follower

    def wait(self) -> int:
        """Wait for the worker to end; its exit status."""
        return self.proc.wait()

    def end(self) -> None:
        """Kill the worker if it still runs, wait for it (and for :meth:`follow_counts`'s
        thread), close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.follower is not None:
            self.follower.join(timeout=5.0)
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass


class WorkerGroup:
    """Worker processes and scratch files that live as long as a ``with`` block."""

    def __init__(self) -> None:
        self.workers: list[Worker] = []
        self.files: list[Path] = []

    def start(self, module: str, *args: str, stdin: bool = False) -> Worker:
        """Start ``python -m module args`` (see the module docstring)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=worker_env(),
        )
        worker = Worker(proc)
        self.workers.append(worker)
        return worker

    def scratch_file(self, beside: str | os.PathLike) -> Path:
        """An empty temporary file beside ``beside``, removed when the group ends; named as
        :func:`acsumgan.fileio.atomic_path` names its temporaries (so one left by a killed run
        is removed as stale by the next)."""
        beside = Path(beside)
        fd, name = tempfile.mkstemp(prefix=f".{beside.name}.{os.getpid()}.", suffix=".tmp", dir=beside.parent)
        os.close(fd)
        self.files.append(Path(name))
        return self.files[-1]

    def close(self) -> None:
        """End every worker (killed if still running) and remove the scratch files."""
        try:
            for w in self.workers:
                w.end()
        finally:
            for f in self.files:
                f.unlink(missing_ok=True)

    def __enter__(self) -> "WorkerGroup":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ----------------------------------------------------------------------------- in the worker


def worker_channel() -> BinaryIO:
    """In a worker: end with the parent (:func:`acsumgan.locks.die_with_parent`), and the
    protocol stream to the parent (the process's stdout; anything else printed goes to
    stderr from now on)."""
    die_with_parent()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return out


class CountLines:
    """In a worker: ``lines(n)`` writes ``n`` as a progress line on ``out``, at most every
    :data:`PROGRESS_EVERY_S` seconds (read by :meth:`Worker.follow_counts`)."""

    def __init__(self, out: BinaryIO, every_s: float = PROGRESS_EVERY_S):
        self.out = out
        self.every_s = every_s
        self.last = 0.0

    def __call__(self, n: int) -> None:
        now = time.monotonic()
        if now - self.last > self.every_s:
            self.last = now
            self.out.write(b"%d\n" % int(n))
            self.out.flush()
