"""One Ray task per item (a video's features, a video's summary), results in the order they
finish: :class:`RayPool`.

The driver hands each task its arguments (small: paths, options, arrays) and gets back
what the task computed; it writes every result itself, atomically, as it arrives, so a
run stopped anywhere (Ctrl-C, SIGKILL of the driver, a lost node) keeps what finished
and a rerun does only the rest (the callers' per-video caches). Failures:

* a worker process or node that dies mid-task (killed, out of memory, node lost): Ray
  runs the task again on another worker, up to ``retries`` times;
* an exception in the task: the task is submitted again, up to ``retries`` times, unless
  it is an :class:`~acsumgan.errors.AcsumganError` (a bad input: a corrupt video fails the
  same way every time), which is reported at once;
* a task still failing after that is reported as a :class:`Failed` item with its one-line
  error, and the others go on.

Ray starts a local instance when no ``address`` is given (``num_cpus``: its CPUs), or
joins a cluster (``address="auto"`` on a node of one, or ``ray://`` / ``host:port``).
The command's own Ctrl-C, SIGTERM and SIGHUP handlers are kept (``ray.init`` installs
its own SIGTERM handler that exits at once).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..errors import AcsumganError, ConfigError, MissingDependencyError


@dataclass
class Failed:
    """An item whose task failed for good: ``error`` is one line."""

    error: str
    attempts: int


@dataclass
class _Outcome:
    """What a task body returns: a value, or the one-line error of a bad input."""

    value: Any = None
    error: str | None = None


def _run(fn: Callable, args: tuple) -> _Outcome:
    """The body of every task: ``fn(*args)``; a bad input becomes a reported error (no retry)."""
    try:
        return _Outcome(fn(*args))
    except AcsumganError as exc:
        return _Outcome(error=exc.one_line())


def init_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Start (or join) Ray once per process, keeping the command's signal handlers."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(None, "--executor ray needs Ray: pip install 'acsumgan[ray]'") from None
    if ray.is_initialized():
        return
    kept = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        if address:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=512 * 1024 * 1024,
                logging_level=logging.ERROR,
            )
    except ConnectionError as exc:
        raise ConfigError(None, f"--ray-address {address}: cannot connect to a Ray cluster ({exc})") from None
    if threading.current_thread() is threading.main_thread():
        for s, h in kept.items():
            if h is not None:
                signal.signal(s, h)


class RayPool:
    """Run ``fn(*args)`` for each item as a Ray task (``cpus``/``gpus`` each), ``retries``
    times more on failure (see the module docstring)."""

    def __init__(
        self,
        address: str | None = None,
        retries: int = 2,
        cpus: float = 1,
        gpus: float = 0,
        num_cpus: int | None = None,
    ):
        if retries < 0:
            raise ConfigError(None, f"--retries must be >= 0, got {retries}")
        self.address = address
        self.retries = int(retries)
        self.cpus = cpus
        self.gpus = gpus
        self.num_cpus = num_cpus

    def map(self, fn: Callable, items: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, result)`` as the tasks finish; ``result`` is the value of
        ``fn(*items[index])`` or a :class:`Failed`. Stopping the iteration (an exception
        in the caller, Ctrl-C) cancels the tasks still running."""
        if not items:
            return
        init_ray(self.address, self.num_cpus)
        import ray

        task = ray.remote(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=self.retries, retry_exceptions=False)(
            _run
        )
        fn_ref = ray.put(fn)
        refs: dict = {}
        attempts: dict[int, int] = {}

        def submit(i: int) -> None:
            attempts[i] = attempts.get(i, 0) + 1
            refs[task.remote(fn_ref, items[i])] = i

        # a bounded number in flight: the arguments of a catalogue's tasks (features, arrays) go to
        # the object store a few at a time, not all at once
        cap = max(4, 2 * int(ray.cluster_resources().get("CPU", 1) / max(self.cpus, 1e-3)))
        queue = iter(range(len(items)))
        for i in queue:
            submit(i)
            if len(refs) >= cap:
                break
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    i = refs.pop(ref)
                    try:
                        out = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the task raised, or its workers kept dying
                        if isinstance(exc, ray.exceptions.RayTaskError) and attempts[i] <= self.retries:
                            submit(i)
                            continue
                        yield i, Failed(_one_line(exc), attempts[i])
                        continue
                    yield i, (out.value if out.error is None else Failed(out.error, attempts[i]))
                while len(refs) < cap:
                    nxt = next(queue, None)
                    if nxt is None:
                        break
                    submit(nxt)
        finally:
            for ref in list(refs):
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)


def _one_line(exc: BaseException) -> str:
    """The last line of what a failed task says (its exception, not Ray's traceback)."""
    cause = getattr(exc, "cause", None)
    if cause is not None and not isinstance(cause, type(exc)):
        text = f"{type(cause).__name__}: {cause}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:500]
