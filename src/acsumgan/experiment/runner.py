"""The paper's protocol in one command: every (sigma, split) run, W at a time.

Layout of an experiment folder::

    DIR/experiment.yaml             the request (dataset, splits, sigmas, splits, options)
    DIR/sigma0.5/split0/            one run folder (see acsumgan.train.trainer), plus run.log
    DIR/selection.json              model selection (acsumgan select)
    DIR/report.md, results.csv, results.json, plots/   (acsumgan report)
    DIR/best/<rule>/split<k>.pt     the selected checkpoints

Each run is a separate ``acsumgan train`` process writing its own run folder, so a
run killed at any moment (kill -9 included) leaves a folder without its COMPLETE
marker. Running the same command again skips complete runs and resumes unfinished
ones from their last saved state (saved every ``checkpoint_interval_s`` seconds;
epochs after it are recomputed, with identical results).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from ..config import TrainConfig, dump_yaml
from ..errors import ConfigError, MissingDependencyError
from ..fileio import ensure_dir, is_complete, write_text

DEFAULT_SIGMAS = tuple(round(0.1 * i, 1) for i in range(1, 11))


def sigma_name(sigma: float) -> str:
    """Folder name of a sigma: ``sigma0.5`` (as the release's folders)."""
    return f"sigma{float(sigma):g}"


@dataclass
class RunSpec:
    """One (sigma, split) run of an experiment."""

    sigma: float
    split: int
    run_dir: Path
    dataset: str
    splits: str
    config: dict

    @property
    def name(self) -> str:
        return f"{sigma_name(self.sigma)}/split{self.split}"

    def train_config(self) -> TrainConfig:
        return TrainConfig.from_dict(self.config)


@dataclass
class Experiment:
    out: Path
    dataset: str
    splits: str
    sigmas: list[float]
    split_indices: list[int]
    base: TrainConfig
    specs: list[RunSpec] = field(default_factory=list)


def plan(out: str | os.PathLike, dataset: str, splits: str, sigmas, split_indices, base: TrainConfig,
         force: bool = False) -> Experiment:
    """Check the request against an existing experiment folder and list its runs."""
    from ..data.dataset import load_dataset
    from ..data.splits import read_splits

    out = Path(out)
    videos = load_dataset(dataset, purpose="train")
    all_splits = read_splits(splits, videos)
    split_indices = list(range(len(all_splits))) if split_indices is None else list(split_indices)
    for k in split_indices:
        if not 0 <= k < len(all_splits):
            raise ConfigError(splits, f"split index {k} out of range (file has {len(all_splits)} splits)")
    sigmas = [float(s) for s in (DEFAULT_SIGMAS if sigmas is None else sigmas)]
    if not sigmas or len(set(sigmas)) != len(sigmas):
        raise ConfigError(None, "--sigmas must list distinct values")
    request = {"dataset": str(Path(dataset).resolve()), "splits": str(Path(splits).resolve()),
               "sigmas": sigmas, "split_indices": split_indices,
               "config": {k: v for k, v in base.to_dict().items()
                          if k not in ("regularization_factor", "split_index", "device", "threads",
                                       "checkpoint_interval_s", "reward_chunk_steps")}}
    ensure_dir(out)
    req_file = out / "experiment.yaml"
    if req_file.exists() and not force:
        old = yaml.safe_load(req_file.read_text()) or {}
        if old.get("request", {}).get("config") != request["config"] or \
                old.get("request", {}).get("dataset") != request["dataset"] or \
                old.get("request", {}).get("splits") != request["splits"]:
            raise ConfigError(out, "holds an experiment with another config, dataset or splits file; use another "
                                   "--out or --force to start over")
    if force:
        for d in out.glob("sigma*/split*"):
            shutil.rmtree(d, ignore_errors=True)
    write_text(req_file, dump_yaml({"request": request}))
    exp = Experiment(out, dataset, splits, sigmas, split_indices, base)
    for s in sigmas:
        for k in split_indices:
            cfg = base.to_dict() | {"regularization_factor": s, "split_index": k}
            exp.specs.append(RunSpec(s, k, out / sigma_name(s) / f"split{k}", dataset, splits, cfg))
    return exp


def default_workers(device: str, threads: int | None = None) -> int:
    """Runs at a time: one per GPU on CUDA; on CPU, cores / 2 (each run gets two
    threads), capped by memory (about 4 GiB per run)."""
    if device.startswith("cuda"):
        import torch

        return max(1, torch.cuda.device_count())
    cores = os.cpu_count() or 1
    per = threads or 2
    by_cpu = max(1, cores // per)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_mem = max(1, int(avail // (4 << 30)))
    except (ValueError, OSError, AttributeError):
        by_mem = by_cpu
    return max(1, min(by_cpu, by_mem))


def epochs_done(run_dir: Path) -> int:
    """Trained epochs recorded in a run folder (for progress)."""
    f = run_dir / "metrics.csv"
    if not f.exists():
        return 0
    try:
        return max(0, sum(1 for _ in open(f)) - 2)  # header and epoch -1
    except OSError:
        return 0


def train_command(spec: RunSpec, threads: int | None) -> list[str]:
    """The ``acsumgan train`` command line of one run (its options in a YAML file)."""
    return [sys.executable, "-m", "acsumgan", "train", "--dataset", spec.dataset, "--splits", spec.splits,
            "--out", str(spec.run_dir), "--config", str(spec.run_dir / "request.yaml"), "--no-progress"] + \
        ([] if threads is None else ["--threads", str(threads)])


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
        gpus = _gpu_ids() if self.device.startswith("cuda") else []
        free_gpus = list(gpus)
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    spec = pending.pop(0)
                    ensure_dir(spec.run_dir)
                    write_text(spec.run_dir / "request.yaml", dump_yaml(spec.config))
                    env = dict(os.environ)
                    if self.threads:
                        env["OMP_NUM_THREADS"] = str(self.threads)
                    gpu = None
                    if free_gpus:
                        gpu = free_gpus.pop(0)
                        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
                    log = open(spec.run_dir / "run.log", "a")
                    log.write(f"--- start {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
                    log.flush()
                    proc = subprocess.Popen(train_command(spec, self.threads), stdout=log, stderr=subprocess.STDOUT,
                                            env=env, stdin=subprocess.DEVNULL)
                    running[spec.name] = (proc, spec, (log, gpu))
                for name, (proc, spec, (log, gpu)) in list(running.items()):
                    rc = proc.poll()
                    if rc is not None:
                        log.close()
                        codes[name] = rc
                        del running[name]
                        if gpu is not None:
                            free_gpus.append(gpu)
                on_tick()
                time.sleep(0.5)
        except BaseException:
            for proc, _, (log, _) in running.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
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
    import torch

    return list(range(torch.cuda.device_count()))


def run_experiment(exp: Experiment, workers: int | None = None, threads: int | None = None,
                   executor: str = "local", ray_address: str | None = None, progress: bool = True,
                   ray_options: dict | None = None) -> dict[str, int]:
    """Run every unfinished run of ``exp``; returns ``{run name: exit code}`` of those run now."""
    from ..config import resolve_device

    device = resolve_device(exp.base.device)
    todo = [s for s in exp.specs if not is_complete(s.run_dir)]
    total_epochs = len(exp.specs) * exp.base.n_epochs
    if workers is None:
        workers = default_workers(device, threads)
    if threads is None and device == "cpu":
        threads = max(1, (os.cpu_count() or 1) // workers)
    if executor == "ray":
        try:
            from .ray_executor import RayExecutor
        except ImportError as exc:
            raise MissingDependencyError(None, "--executor ray needs Ray: pip install 'acsumgan[ray]' "
                                               f"(or pip install 'ray[default]') ({exc})") from None
        runner = RayExecutor(address=ray_address, device=device, threads=threads, **(ray_options or {}))
    else:
        runner = LocalExecutor(workers, threads, device)

    bar = _ExperimentBar(len(exp.specs), total_epochs) if progress else None

    def tick() -> None:
        if bar:
            done_runs = sum(is_complete(s.run_dir) for s in exp.specs)
            remote = getattr(runner, "epochs_done", None)
            done_epochs = sum(exp.base.n_epochs if is_complete(s.run_dir) else
                              ((remote(s) if remote else None) or epochs_done(s.run_dir)) for s in exp.specs)
            bar.update(done_runs, done_epochs)

    try:
        codes = runner.run(todo, tick) if todo else {}
        tick()
    finally:
        if bar:
            bar.close()
    return codes


class _ExperimentBar:
    def __init__(self, runs: int, epochs: int):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.p = Progress(TextColumn("[bold]experiment[/bold]"), BarColumn(),
                          TextColumn("{task.fields[runs]}"), TextColumn("{task.completed}/{task.total} epochs"),
                          TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
        self.runs = runs
        self.p.start()
        self.task = self.p.add_task("x", total=epochs, runs=f"0/{runs} runs")

    def update(self, done_runs: int, done_epochs: int) -> None:
        self.p.update(self.task, completed=done_epochs, runs=f"{done_runs}/{self.runs} runs")

    def close(self) -> None:
        self.p.stop()
