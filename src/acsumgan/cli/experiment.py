"""Commands: ``experiment``, ``select``, ``report``."""

from __future__ import annotations

import contextlib
import json
import math

import click
from rich.table import Table

from ..config import TrainConfig, available_cores, resolve_device
from ..errors import ConfigError
from ..experiment.plan import default_workers, plan, run_threads
from ..experiment.report import experiment_baselines, write_report
from ..experiment.runner import run_experiment
from ..experiment.select import select_experiment
from ..locks import hold_lock
from ..runs import ExperimentFolder, RunFolder
from .common import cli, console, shown
from .train import config_from_cli, train_options


def _floats(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(None, f"--sigmas must be comma-separated numbers, got {text!r}") from None
    if not values or not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
        raise ConfigError(None, f"--sigmas must be numbers between 0 and 1 (target mean scores), got {text!r}")
    return values


def _ints(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(None, f"--split-indices must be comma-separated integers, got {text!r}") from None


@cli.command()
@click.option(
    "--dataset",
    "dataset_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="eccv16-schema HDF5 file with features (and annotations for the F-score).",
)
@click.option("--splits", "splits_path", type=click.Path(dir_okay=False), required=True, help="Splits JSON.")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Experiment folder.")
@click.option(
    "--sigmas",
    default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
    show_default=True,
    help="regularization_factor values, comma-separated (--sigmas 0.5 with all splits is the release's run_splits.sh).",
)
@click.option(
    "--split-indices",
    "--split_indices",
    "split_indices",
    default=None,
    help="Splits to run, comma-separated (default: all splits of the file).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Runs at a time, each its own process (default: one per GPU; on CPU, cores/2 capped by memory).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: processes on this machine; ray: Ray tasks on a cluster (pip install 'acsumgan[ray]').",
)
@click.option("--ray-address", default=None, help="Ray cluster address (default: start a local Ray instance).")
@click.option(
    "--ray-cpus-per-run",
    type=click.IntRange(min=1),
    default=None,
    help="CPUs each Ray task asks for when running on CPU (default: 2).",
)
@click.option(
    "--ray-max-retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Retries of a run whose Ray worker died.",
)
@click.option(
    "--ray-shared-path",
    is_flag=True,
    help="The dataset and splits paths are readable on every Ray node (else they are shipped "
    "through Ray's object store).",
)
@click.option("--force", is_flag=True, help="Delete the runs of an experiment with another config and start over.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show the overall progress.")
@click.option(
    "--baseline-draws",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Random-baseline draws shown in the report (0: no baselines).",
)
@train_options
@click.pass_context
def experiment(
    ctx,
    dataset_path,
    splits_path,
    out,
    sigmas,
    split_indices,
    workers,
    executor,
    ray_address,
    ray_cpus_per_run,
    ray_max_retries,
    ray_shared_path,
    force,
    progress,
    baseline_draws,
    **values,
):
    """Run the paper's protocol: every sigma on every split, then select and report.

    Each (sigma, split) run goes to OUT/sigma<s>/split<k>/ (a run folder of `acsumgan
    train`, plus run.log). Running the same command again skips finished runs and
    resumes unfinished ones from their last saved epoch. At the end, `select` and
    `report` run: report.md, results.csv, results.json, plots/ and best/<rule>/split<k>.pt.
    """
    from ..model.networks import check_model_fits  # torch: loaded when needed
    from .progress import ProgressBars  # rich.progress: loaded when needed

    cfg = config_from_cli(ctx, values)
    device = resolve_device(cfg.device)  # e.g. --device cuda without CUDA: one line, before anything is written
    # a model that cannot fit (its size without the feature size D: a lower bound), before anything is written
    check_model_fits(1, cfg.hidden_size, cfg.num_layers, cfg.action_state_size, training=True, device=device)
    ctx.with_resource(hold_lock(out, tree=True))  # one writer per experiment folder (and none inside or around it)
    exp = plan(out, dataset_path, splits_path, _floats(sigmas), _ints(split_indices), cfg, force=force)
    threads = run_threads(cfg.threads)
    console.print(
        f"experiment {shown(out)}: {len(exp.specs)} runs ({len(exp.sigmas)} sigmas x "
        f"{len(exp.split_indices)} splits), {cfg.n_epochs} epochs each, {threads} threads per run"
    )
    if executor == "local":
        w = workers or default_workers(device, threads)
        if w * threads > available_cores():
            click.echo(
                f"acsumgan: note: {w} runs at a time x {threads} threads on {available_cores()} cores: slower than "
                f"--threads {max(1, available_cores() // w)} (whose numbers differ in the last digits)",
                err=True,
            )
    ray_opts = {"cpus_per_run": ray_cpus_per_run, "max_retries": ray_max_retries, "shared_path": ray_shared_path}
    with ProgressBars() if progress else contextlib.nullcontext() as bars:
        codes = run_experiment(
            exp,
            workers=workers,
            threads=threads,
            executor=executor,
            ray_address=ray_address,
            progress=bars,
            ray_options=ray_opts,
        )
    failed = {n: c for n, c in codes.items() if c != 0}
    if failed:
        for n, c in failed.items():
            log = RunFolder(next(s for s in exp.specs if s.name == n).run_dir).run_log
            console.print(f"[red]run {shown(n)} failed (exit {c}); see {shown(log)}[/red]")
        raise ConfigError(out, f"{len(failed)} of {len(exp.specs)} runs failed; rerun the command to retry them")
    _select_and_report(out, dataset_path, splits_path, exp.split_indices, cfg, baseline_draws)


def _select_and_report(out, dataset_path, splits_path, split_indices, cfg, draws: int) -> None:

    sel = select_experiment(out)
    baselines = experiment_baselines(dataset_path, splits_path, split_indices, cfg, draws) if draws else []
    files = write_report(out, sel, baselines)
    _print_final(sel.data)
    console.print(f"report: {shown(files['report.md'])}")


def _print_final(sel: dict) -> None:
    table = Table(title="final F-score per selection rule (mean over splits)")
    table.add_column("rule")
    table.add_column("mean", justify="right")
    for k in sel["splits"]:
        table.add_column(f"split {k}", justify="right")
    for rule, f in sel["final"].items():
        cells = []
        for k in sel["splits"]:
            e = sel["per_split"][str(k)].get(rule)
            cells.append("-" if not e or e["f_score"] is None else f"{e['f_score']:.2f}")
        table.add_row(rule, "-" if f["mean"] is None else f"{f['mean']:.2f}", *cells)
    console.print(table)


@cli.command()
@click.argument("exp_dir", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print selection.json.")
def select(exp_dir: str, as_json: bool) -> None:
    """Model selection over an experiment folder (also run by `experiment`).

    Per run the paper's epoch criterion; per split the sigma rules `oracle` (best test
    F-score, what the release does) and `label-free`; plus `untrained` and
    `best-epoch` for reference. Writes selection.json and best/<rule>/split<k>.pt.
    """

    sel = select_experiment(exp_dir).data
    if as_json:
        click.echo(json.dumps(sel, indent=2))
    else:
        _print_final(sel)


@cli.command()
@click.argument("exp_dir", type=click.Path(file_okay=False))
@click.option(
    "--baseline-draws",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Random-baseline draws (0: no baselines).",
)
def report(exp_dir: str, baseline_draws: int) -> None:
    """Write report.md, results.csv, results.json and plots/ for an experiment folder."""

    req = ExperimentFolder(exp_dir).read_request()
    cfg = TrainConfig.from_dict(dict(req["config"]))
    _select_and_report(exp_dir, req["dataset"], req["splits"], req["split_indices"], cfg, baseline_draws)
