"""The local executor: each run an ``acsumgan train`` process on this machine, W at a time.

Each run is a separate process writing its own run folder, so a run killed at any
moment (kill -9 included) leaves a folder without its COMPLETE marker; the next
``experiment`` command resumes it.

The workers die with the driver: each runs in a session of its own (a Ctrl-C in the
terminal reaches the driver alone, which passes its signal on, once, to every worker),
asks the kernel for a SIGTERM when its parent dies (``PR_SET_PDEATHSIG``) and watches
its parent's process id as a fallback (:func:`acsumgan.locks.die_with_parent`). A run
folder still locked by a worker that is stopping makes its run wait, never a second
trainer on the folder.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Callable

from ..config import dump_yaml
from ..errors import BusyError
from ..fileio import ensure_dir, write_text
from ..locks import signal_received, worker_env
from ..runs import RunFolder
from .plan import RunSpec

#: How long a run whose folder another process still holds waits for it (seconds).
BUSY_WAIT_S = 120.0


def train_command(spec: RunSpec, threads: int | None) -> list[str]:
    """The ``acsumgan train`` command line of one run (its options in a YAML file)."""
    return [
        sys.executable,
        "-m",
        "acsumgan",
        "train",
        "--dataset",
        spec.dataset,
        "--splits",
        spec.splits,
        "--out",
        str(spec.run_dir),
        "--config",
        str(spec.run_dir / "request.yaml"),
        "--no-progress",
    ] + ([] if threads is None else ["--threads", str(threads)])


class LocalExecutor:
    """Runs each spec as an ``acsumgan train`` subprocess, ``workers`` at a time."""

    def __init__(self, workers: int, threads: int | None, device: str):
        self.workers = workers
        self.threads = threads
        self.device = device

    def run(self, specs: list[RunSpec], on_tick: Callable[[], None]) -> dict[str, int]:
        pending = list(specs)
        running: dict[str, tuple[subprocess.Popen, RunSpec, object]] = {}
        codes: dict[str, int] = {}
        busy_since: dict[str, float] = {}  # runs whose folder was in use: since when, and not before when
        not_before: dict[str, float] = {}
        gpus = _gpu_ids() if self.device.startswith("cuda") else []
        free_gpus = list(gpus)
        try:
            while pending or running:
                while len(running) < self.workers:
                    ready = [sp for sp in pending if not_before.get(sp.name, 0.0) <= time.time()]
                    if not ready:
                        break
                    spec = ready[0]
                    pending.remove(spec)
                    ensure_dir(spec.run_dir)
                    write_text(spec.run_dir / "request.yaml", dump_yaml(spec.config))
                    run = RunFolder(spec.run_dir)
                    env = worker_env()  # dies with this process; writes inside the folder it holds
                    if self.threads:
                        env["OMP_NUM_THREADS"] = str(self.threads)
                    gpu = None
                    if free_gpus:
                        gpu = free_gpus.pop(0)
                        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
                    log = open(run.run_log, "a")
                    log.write(f"--- start {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
                    log.flush()
                    proc = subprocess.Popen(
                        train_command(spec, self.threads),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                    running[spec.name] = (proc, spec, (log, gpu))
                for name, (proc, _spec, (log, gpu)) in list(running.items()):
                    rc = proc.poll()
                    if rc is not None:
                        log.close()
                        del running[name]
                        if gpu is not None:
                            free_gpus.append(gpu)
                        if rc == BusyError.exit_code and time.time() - busy_since.setdefault(name, time.time()) < (
                            BUSY_WAIT_S
                        ):
                            pending.append(_spec)  # its folder is still held (a worker stopping): try again soon
                            not_before[name] = time.time() + 1.0
                            continue
                        codes[name] = rc
                on_tick()
                time.sleep(0.5)
        except BaseException as exc:
            # the workers get the driver's own signal (Ctrl-C, SIGTERM or SIGHUP), once
            sig = getattr(exc, "signum", None) or signal_received() or signal.SIGINT
            for proc, _, _ in running.values():
                if proc.poll() is None:
                    proc.send_signal(sig)
            deadline = time.time() + 20
            for proc, _, (log, _) in running.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                log.close()
            raise
        return codes


def _gpu_ids() -> list[int]:
    import torch  # loaded when needed (the driver of CPU runs never needs it)

    return list(range(torch.cuda.device_count()))
