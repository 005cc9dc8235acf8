"""The paper's protocol in one command: every (sigma, split) run, W at a time.

:func:`run_experiment` runs the unfinished runs of a :class:`~acsumgan.experiment.plan.Experiment`
with an executor (local processes, or Ray tasks), reporting its overall progress. Running
the same command again skips complete runs and resumes unfinished ones from their last
saved state (saved every ``checkpoint_interval_s`` seconds; epochs after it are
recomputed, with identical results). The folder's layout is :mod:`acsumgan.runs`'.
"""

from __future__ import annotations

from ..config import resolve_device
from ..errors import MissingDependencyError
from ..progress import Progress, report
from ..runs import RunFolder
from .local import LocalExecutor
from .plan import Experiment, default_workers, run_threads


def run_experiment(
    exp: Experiment,
    workers: int | None = None,
    threads: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    progress: Progress | None = None,
    ray_options: dict | None = None,
) -> dict[str, int]:
    """Run every unfinished run of ``exp``; returns ``{run name: exit code}`` of those run now.

    ``progress`` gets stage "training" events: the epochs done of every run's epochs, with
    the note "R/N runs" (complete runs of all)."""

    device = resolve_device(exp.base.device)
    n_epochs = exp.base.n_epochs
    todo = [s for s in exp.specs if not RunFolder(s.run_dir).is_complete(n_epochs)]
    total_epochs = len(exp.specs) * n_epochs
    threads = run_threads(threads)  # the same for every run, executor and --workers
    if workers is None:
        workers = default_workers(device, threads)
    if executor == "ray":
        try:
            from .ray_executor import RayExecutor  # ray: loaded when needed (optional)
        except ImportError as exc:
            raise MissingDependencyError(
                None, f"--executor ray needs Ray: pip install 'acsumgan[ray]' (or pip install 'ray[default]') ({exc})"
            ) from None
        runner = RayExecutor(address=ray_address, device=device, threads=threads, **(ray_options or {}))
    else:
        runner = LocalExecutor(workers, threads, device)

    report(progress, "training", 0, total_epochs, f"0/{len(exp.specs)} runs")

    def tick() -> None:
        if progress is not None:
            done_runs = sum(RunFolder(s.run_dir).is_complete(n_epochs) for s in exp.specs)
            remote = getattr(runner, "epochs_done", None)
            done_epochs = sum(
                n_epochs
                if RunFolder(s.run_dir).is_complete(n_epochs)
                else ((remote(s) if remote else None) or RunFolder(s.run_dir).epochs_done())
                for s in exp.specs
            )
            report(progress, "training", done_epochs, total_epochs, f"{done_runs}/{len(exp.specs)} runs")

    codes = runner.run(todo, tick) if todo else {}
    tick()
    return codes
