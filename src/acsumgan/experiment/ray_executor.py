"""Run an experiment's (sigma, split) runs as Ray tasks, on a cluster or a local Ray.

Each run is one task: one GPU when the device is CUDA, else ``cpus_per_run`` CPUs
(default: the run's threads). Every task trains with the threads the driver decided
(:func:`acsumgan.experiment.plan.run_threads`), as the local executor's processes do,
so that both executors give the same numbers.
The task trains into a folder on its own node and returns that run folder as a tar
archive; the driver unpacks it into ``--out`` with the local executor's layout
(atomically: a folder appears complete or not at all), so resume and reports work
the same. The dataset and splits files travel through Ray's object store, unless
``shared_path`` says every node can read them where the driver does.

A worker process that dies mid-run (killed, out of memory, node lost) makes Ray run
the task again, up to ``max_retries`` times; each attempt is logged to
``<out>/ray_attempts.log`` with its node and process id.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import signal
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import ray

from ..config import TrainConfig
from ..fileio import ensure_dir
from ..runs import ExperimentFolder, RunFolder
from .plan import RunSpec


@ray.remote
class _Attempts:
    """Collects task starts and epoch counts reported by the workers."""

    def __init__(self):
        self.starts: list[tuple[str, int, str, int]] = []
        self.epochs: dict[str, int] = {}

    def start(self, name: str, pid: int, node: str) -> int:
        n = sum(1 for s in self.starts if s[0] == name) + 1
        self.starts.append((name, n, node, pid))
        self.epochs[name] = 0
        return n

    def epoch(self, name: str, done: int) -> None:
        self.epochs[name] = done

    def snapshot(self):
        return list(self.starts), dict(self.epochs)


def _train_task(
    spec: dict, dataset_bytes: bytes | None, splits_bytes: bytes | None, threads: int | None, attempts
) -> bytes:
    """Body of one Ray task: train a run in a local folder, return it as a tar archive.

    The dataset and splits arrive as bytes (Ray resolves the object-store references
    passed as arguments), or as ``None`` when their paths are shared."""
    from ..train.trainer import train  # torch: loaded in the Ray worker, not the driver

    name = spec["name"]
    ray.get(attempts.start.remote(name, os.getpid(), ray.get_runtime_context().get_node_id()))
    work = Path(tempfile.mkdtemp(prefix="acsumgan-ray-"))
    try:
        if dataset_bytes is not None:
            dataset = work / "dataset.h5"
            dataset.write_bytes(dataset_bytes)
            splits = work / "splits.json"
            splits.write_bytes(splits_bytes)
        else:
            dataset, splits = Path(spec["dataset"]), Path(spec["splits"])
        cfg = TrainConfig.from_dict(spec["config"])
        cfg.threads = threads  # the driver's choice (None: the worker's default)
        run_dir = work / "run"

        def on_epoch(row):
            attempts.epoch.remote(name, int(row["epoch"]) + 1)

        train(
            cfg,
            dataset,
            splits,
            run_dir,
            on_epoch=on_epoch,
            identity_paths=(spec["dataset"], spec["splits"]),
        )
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(run_dir, arcname="run")
        return buf.getvalue()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class RayExecutor:
    """Executor of :func:`acsumgan.experiment.runner.run_experiment` on Ray."""

    def __init__(
        self,
        address: str | None,
        device: str,
        threads: int | None,
        cpus_per_run: int | None = None,
        max_retries: int = 3,
        shared_path: bool = False,
        num_cpus: int | None = None,
    ):
        self.address = address
        self.device = device
        self.threads = threads
        self.cpus_per_run = cpus_per_run or threads or 2
        self.max_retries = max_retries
        self.shared_path = shared_path
        self.num_cpus = num_cpus
        self.epochs: dict[str, int] = {}

    def _init(self) -> None:
        if ray.is_initialized():
            return
        kept = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        if self.address:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(
                num_cpus=self.num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=512 * 1024 * 1024,
                logging_level=logging.ERROR,
            )
        if threading.current_thread() is threading.main_thread():  # ray.init's SIGTERM handler exits at once:
            for s, h in kept.items():  # the command's own again, which stops as Ctrl-C does
                if h is not None:
                    signal.signal(s, h)

    def run(self, specs: list[RunSpec], on_tick: Callable[[], None]) -> dict[str, int]:
        if not specs:
            return {}
        self._init()
        log_path = ExperimentFolder(specs[0].experiment).attempts_log
        attempts = _Attempts.remote()
        if self.shared_path:
            dref = sref = None
        else:
            dref = ray.put(Path(specs[0].dataset).read_bytes())
            sref = ray.put(Path(specs[0].splits).read_bytes())
        if self.device.startswith("cuda"):
            resources = {"num_gpus": 1, "num_cpus": 1}
            threads = self.threads
        else:
            resources = {"num_cpus": self.cpus_per_run}
            threads = self.threads
        task = ray.remote(max_retries=self.max_retries, retry_exceptions=False, **resources)(_train_task)
        refs = {}
        for spec in specs:
            payload = {
                "name": spec.name,
                "dataset": str(Path(spec.dataset).resolve()),
                "splits": str(Path(spec.splits).resolve()),
                "config": spec.config,
            }
            refs[task.remote(payload, dref, sref, threads, attempts)] = spec
        codes: dict[str, int] = {}
        logged = 0
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1, timeout=1.0)
                starts, self.epochs = ray.get(attempts.snapshot.remote())
                if len(starts) > logged:
                    with open(log_path, "a") as f:
                        for name, n, node, pid in starts[logged:]:
                            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {name} attempt {n} node {node} pid {pid}\n")
                    logged = len(starts)
                for ref in done:
                    spec = refs[ref]
                    try:
                        data = ray.get(ref)
                    except (
                        ray.exceptions.RayTaskError,
                        ray.exceptions.WorkerCrashedError,
                        ray.exceptions.RayError,
                    ) as exc:
                        ensure_dir(spec.run_dir)
                        with open(RunFolder(spec.run_dir).run_log, "a") as f:
                            f.write(f"ray task failed: {exc}\n")
                        codes[spec.name] = 1
                        continue
                    self._unpack(data, spec.run_dir)
                    codes[spec.name] = 0
                on_tick()
        except BaseException:  # Ctrl-C, SIGTERM, SIGHUP: a KeyboardInterrupt in each task (its trainer
            for ref in pending:  # stops, its temporary folder goes), then by force what is left
                ray.cancel(ref, force=False)
            with contextlib.suppress(Exception):
                _, pending = ray.wait(pending, num_returns=len(pending), timeout=10.0)
            for ref in pending:  # only those still running (a finished one cancelled again upsets Ray)
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            with contextlib.suppress(Exception):
                ray.shutdown()  # now, not at interpreter exit while replies still arrive
            raise
        return codes

    def epochs_done(self, spec: RunSpec) -> int | None:
        return self.epochs.get(spec.name)

    @staticmethod
    def _unpack(data: bytes, run_dir: Path) -> None:
        """Put a returned run folder in place: unpacked beside it, then renamed."""
        ensure_dir(run_dir.parent)
        stage = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.", dir=run_dir.parent))
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
                tar.extractall(stage, filter="data")
            src = stage / "run"
            log = RunFolder(run_dir).run_log
            if log.exists():
                shutil.copy2(log, RunFolder(src).run_log)
            old = stage / "previous"
            if run_dir.exists():  # an unfinished earlier attempt: moved aside, then replaced
                os.replace(run_dir, old)
            os.replace(src, run_dir)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
