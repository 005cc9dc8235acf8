"""The studio's jobs: ``acsumgan summarize`` and ``acsumgan render`` as subprocesses, queued,
``workers`` at a time, their progress read from ``--progress json`` (one JSON object per
line on stdout).

A job is a :class:`Job` (its JSON is the API's JOB); :class:`Jobs` runs them on the
server's event loop and tells every listener (the ``/api/events`` streams) of each
change. Cancel: SIGTERM to the subprocess (which stops as Ctrl-C does: the summary's
staging unit leaves the previous summary whole), SIGKILL 10 s later if it is still there.
Jobs live in memory: a restarted server starts none (what finished is on disk).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from ..locks import worker_env

__all__ = ["KINDS", "Job", "Jobs", "JobBusy"]

KINDS = ("summarize", "render")
ACTIVE = ("queued", "running")
#: Seconds between SIGTERM and SIGKILL of a cancelled job.
KILL_AFTER = 10.0
#: At most this many progress messages per second per job to the listeners (stage changes
#: and the end always go out).
MAX_RATE = 10.0


class JobBusy(Exception):
    """A job of that video is queued or running already."""


@dataclass
class Job:
    id: str
    video: str
    kind: str
    argv: list[str] = field(repr=False)
    state: str = "queued"
    stage: str = ""
    done: int = 0
    total: int | None = None
    note: str = ""
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    cancel_requested: bool = False
    last_sent: float = 0.0
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=40), repr=False)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "video": self.video,
            "kind": self.kind,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "note": self.note,
            "error": self.error,
            "created": self.created,
            "finished": self.finished,
        }


def error_line(lines) -> str:
    """The one-line error of a failed command's stderr (its ``acsumgan: error:`` line)."""
    for line in reversed(list(lines)):
        if line.startswith("acsumgan: error: "):
            return line[len("acsumgan: error: ") :]
    for line in reversed(list(lines)):
        if line.strip():
            return line.strip()[:500]
    return "failed"


class Jobs:
    """The job queue of one server. Its methods run on the server's event loop."""

    def __init__(self, workers: int = 1, on_finish: Callable[[Job], None] | None = None):
        self.workers = max(1, int(workers))
        self.jobs: dict[str, Job] = {}
        self.queue: deque[Job] = deque()
        self.running: set[str] = set()
        self.listeners: set[asyncio.Queue] = set()
        self.on_finish = on_finish
        self._tasks: set[asyncio.Task] = set()
        self.closing = False

    # -- what the API asks ----------------------------------------------------------

    def all(self) -> list[Job]:
        return sorted(self.jobs.values(), key=lambda j: j.created)

    def active_of(self, video: str) -> Job | None:
        """The queued or running job of ``video``, if any."""
        for j in self.jobs.values():
            if j.video == video and j.state in ACTIVE:
                return j
        return None

    def latest_of(self, video: str) -> Job | None:
        """The video's active job, else its last job."""
        active = self.active_of(video)
        if active is not None:
            return active
        mine = [j for j in self.jobs.values() if j.video == video]
        return max(mine, key=lambda j: j.created) if mine else None

    def submit(self, video: str, kind: str, argv: list[str]) -> Job:
        """Queue ``argv`` as a ``kind`` job of ``video``; :class:`JobBusy` when one of that
        video is queued or running."""
        if self.active_of(video) is not None:
            raise JobBusy(video)
        job = Job(id=secrets.token_hex(6), video=video, kind=kind, argv=list(argv))
        self.jobs[job.id] = job
        self.queue.append(job)
        self._publish(job, force=True)
        self._pump()
        return job

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a job: a queued one at once, a running one by SIGTERM (SIGKILL after
        :data:`KILL_AFTER` s); its state becomes ``cancelled`` when its process has ended."""
        job = self.jobs.get(job_id)
        if job is None:
            return None
        if job.state == "queued":
            with contextlib.suppress(ValueError):
                self.queue.remove(job)
            self._end(job, "cancelled")
        elif job.state == "running" and not job.cancel_requested:
            job.cancel_requested = True
            job.note = "cancelling"
            self._signal(job, signal.SIGTERM)
            self._spawn(self._kill_later(job))
            self._publish(job, force=True)
        return job

    # -- listeners (server-sent events) -----------------------------------------------

    def listen(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue()
        for job in self.all():
            q.put_nowait(job.to_json())
        self.listeners.add(q)
        return q

    def unlisten(self, q: asyncio.Queue) -> None:
        self.listeners.discard(q)

    def close_listeners(self) -> None:
        """Every listener gets ``None`` (the end of its stream): the server is stopping."""
        self.closing = True
        for q in list(self.listeners):
            q.put_nowait(None)

    async def shutdown(self) -> None:
        """Stop: queued jobs are dropped, running ones get SIGTERM (SIGKILL after
        :data:`KILL_AFTER` s) and are awaited."""
        self.close_listeners()
        while self.queue:
            self._end(self.queue.popleft(), "cancelled")
        for job in list(self.jobs.values()):
            if job.state == "running":
                job.cancel_requested = True
                self._signal(job, signal.SIGTERM)
        procs = [j.process for j in self.jobs.values() if j.state == "running" and j.process is not None]
        if procs:
            try:
                await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), KILL_AFTER)
            except asyncio.TimeoutError:
                for p in procs:
                    with contextlib.suppress(ProcessLookupError):
                        p.kill()
        for t in list(self._tasks):
            t.cancel()

    # -- inside -----------------------------------------------------------------------

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _pump(self) -> None:
        while self.queue and len(self.running) < self.workers and not self.closing:
            job = self.queue.popleft()
            job.state = "running"
            self.running.add(job.id)
            self._publish(job, force=True)
            self._spawn(self._run(job))

    def _publish(self, job: Job, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - job.last_sent < 1.0 / MAX_RATE:
            return
        job.last_sent = now
        data = job.to_json()
        for q in list(self.listeners):
            q.put_nowait(data)

    def _end(self, job: Job, state: str, error: str | None = None) -> None:
        job.state = state
        job.error = error
        job.finished = time.time()
        if state == "cancelled":
            job.note = "cancelled"
        self.running.discard(job.id)
        self._publish(job, force=True)
        if self.on_finish is not None:
            with contextlib.suppress(Exception):
                self.on_finish(job)

    def _signal(self, job: Job, sig: int) -> None:
        if job.process is not None and job.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                job.process.send_signal(sig)

    async def _kill_later(self, job: Job) -> None:
        await asyncio.sleep(KILL_AFTER)
        self._signal(job, signal.SIGKILL)

    async def _run(self, job: Job) -> None:
        try:
            job.process = await asyncio.create_subprocess_exec(
                *job.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=worker_env(),
                limit=1 << 20,
            )
        except OSError as exc:
            self._end(job, "failed", f"could not start: {exc}")
            self._pump()
            return
        try:
            await asyncio.gather(self._read_progress(job), self._read_stderr(job))
            code = await job.process.wait()
            if job.cancel_requested:
                self._end(job, "cancelled")
            elif code == 0:
                if job.total is not None:
                    job.done = job.total
                self._end(job, "done")
            else:
                self._end(job, "failed", error_line(job.stderr_tail))
        except asyncio.CancelledError:
            self._signal(job, signal.SIGKILL)
            raise
        finally:
            self.running.discard(job.id)
            if not self.closing:
                self._pump()

    async def _read_progress(self, job: Job) -> None:
        stream = job.process.stdout
        while True:
            line = await stream.readline()
            if not line:
                return
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict) or "stage" not in event:
                continue
            stage = str(event.get("stage") or "")
            force = stage != job.stage
            job.stage = stage
            job.done = int(event.get("done") or 0)
            total = event.get("total")
            job.total = None if total is None else int(total)
            if not job.cancel_requested:
                job.note = str(event.get("note") or "")
            self._publish(job, force=force or (job.total is not None and job.done >= job.total))

    async def _read_stderr(self, job: Job) -> None:
        stream = job.process.stderr
        while True:
            line = await stream.readline()
            if not line:
                return
            job.stderr_tail.append(line.decode("utf-8", "replace").rstrip("\n"))
