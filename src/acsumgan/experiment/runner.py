"""The paper's protocol in one command: every (sigma, split) run, W at a time.

:func:`run_experiment` runs the unfinished runs of a :class:`~acsumgan.experiment.plan.Experiment`
with an executor (local processes, or Ray tasks) and one overall progress bar. Running
the same command again skips complete runs and resumes unfinished ones from their last
saved state (saved every ``checkpoint_interval_s`` seconds; epochs after it are
recomputed, with identical results). The folder's layout is :mod:`acsumgan.runs`'.
"""

from __future__ import annotations

from ..errors import MissingDependencyError
from ..runs import RunFolder
from .local import LocalExecutor
from .plan import Experiment, default_workers, run_threads


def run_experiment(
    exp: Experiment,
    workers: int | None = None,
    threads: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    progress: bool = True,
    ray_options: dict | None = None,
) -> dict[str, int]:
    """Run every unfinished run of ``exp``; returns ``{run name: exit code}`` of those run now."""
    from ..config import resolve_device

    device = resolve_device(exp.base.device)
    n_epochs = exp.base.n_epochs
    todo = [s for s in exp.specs if not RunFolder(s.run_dir).is_complete(n_epochs)]
    total_epochs = len(exp.specs) * n_epochs
    threads = run_threads(threads)  # the same for every run, executor and --workers
    if workers is None:
        workers = default_workers(device, threads)
    if executor == "ray":
        try:
            from .ray_executor import RayExecutor
        except ImportError as exc:
            raise MissingDependencyError(
                None, f"--executor ray needs Ray: pip install 'acsumgan[ray]' (or pip install 'ray[default]') ({exc})"
            ) from None
        runner = RayExecutor(address=ray_address, device=device, threads=threads, **(ray_options or {}))
    else:
        runner = LocalExecutor(workers, threads, device)

    bar = _ExperimentBar(len(exp.specs), total_epochs) if progress else None

    def tick() -> None:
        if bar:
            done_runs = sum(RunFolder(s.run_dir).is_complete(n_epochs) for s in exp.specs)
            remote = getattr(runner, "epochs_done", None)
            done_epochs = sum(
                n_epochs
                if RunFolder(s.run_dir).is_complete(n_epochs)
                else ((remote(s) if remote else None) or RunFolder(s.run_dir).epochs_done())
                for s in exp.specs
            )
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

        self.p = Progress(
            TextColumn("[bold]experiment[/bold]"),
            BarColumn(),
            TextColumn("{task.fields[runs]}"),
            TextColumn("{task.completed}/{task.total} epochs"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        self.runs = runs
        self.p.start()
        self.task = self.p.add_task("x", total=epochs, runs=f"0/{runs} runs")

    def update(self, done_runs: int, done_epochs: int) -> None:
        self.p.update(self.task, completed=done_epochs, runs=f"{done_runs}/{self.runs} runs")

    def close(self) -> None:
        self.p.stop()
