"""Commands: ``train`` (and the options ``experiment`` shares with it)."""

from __future__ import annotations

import contextlib

import click
from click.core import ParameterSource
from rich.table import Table

from ..config import TrainConfig, available_cores, load_config_file, set_threads
from ..locks import hold_tree
from .common import cli, console, finite, note, shown

# (TrainConfig field, click type, help). Each is accepted as --name_with_underscores
# (the release's spelling) and --name-with-dashes.
RELEASE_OPTIONS = [
    (
        "video_type",
        click.Choice(["SumMe", "TVSum"]),
        "SumMe or TVSum. The release used it to name folders; here it also picks the "
        "evaluation metric (max / avg) when the dataset file does not say.",
    ),
    (
        "input_size",
        int,
        "Feature size D (1024 for GoogLeNet pool5, 1280 for EfficientNet-Lite0).  [default: "
        "the dataset's feature size]",
    ),
    ("hidden_size", int, "LSTM hidden size H.  [default: 512]"),
    ("num_layers", int, "LSTM layers.  [default: 2]"),
    ("regularization_factor", float, "sigma: the target mean frame score of the sparsity loss.  [default: 0.5]"),
    ("entropy_coef", float, "Weight of the actor's entropy bonus.  [default: 0.1]"),
    ("n_epochs", int, "Training epochs.  [default: 100]"),
    (
        "batch_size",
        int,
        "Videos per update (default: all training videos, one update per epoch, as the "
        "release is run: 20 for SumMe, 40 for TVSum).",
    ),
    ("clip", float, "Global gradient-norm clip of every phase.  [default: 5.0]"),
    ("lr", float, "Learning rate of encoder, decoder, scorer, actor and critic.  [default: 1e-4]"),
    (
        "discriminator_lr",
        float,
        "Learning rate of the discriminator (and linear_compress in phase 3).  [default: 1e-5]",
    ),
    ("split_index", int, "Which split of --splits to train (0-based).  [default: 0]"),
    ("action_state_size", int, "Fragments M the actor chooses among.  [default: 60]"),
]


def train_options(f):
    """The options ``train`` and ``experiment`` share (applied in reverse for --help order)."""
    opts = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            default=None,
            help="YAML file of options (names as below, with _ or -); command-line flags win.",
        ),
        click.option("--seed", type=int, default=None, help="Random seed of the run.  [default: 0]"),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default=None,
            help="auto: cuda when a GPU is visible, else cpu.  [default: auto]",
        ),
        click.option(
            "--eval-policy",
            "--eval_policy",
            "eval_policy",
            type=click.Choice(["sample", "greedy"]),
            default=None,
            help="Test-time actor: sample (faithful to the release, seeded) or greedy "
            "(deterministic, no repeated picks).  [default: sample]",
        ),
        click.option(
            "--eval-samples",
            "--eval_samples",
            "eval_samples",
            type=click.IntRange(min=1),
            default=None,
            help="Score the test videos with K seeded draws of the sampled policy: metrics.csv gets the mean "
            "F-score and its std (f_score_std), scores.h5 every draw (1: the release's single draw).  [default: 1]",
        ),
        click.option(
            "--eval-metric",
            "--eval_metric",
            "eval_metric",
            type=click.Choice(["max", "avg"]),
            default=None,
            help="F-score reduction over users (default: from the dataset file; max for SumMe, avg for TVSum).",
        ),
        click.option(
            "--budget",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=None,
            callback=finite,
            help="Summary length used by evaluation, fraction of the video.  [default: 0.15]",
        ),
        threads_option(
            "CPU threads of PyTorch, at most the cores available.  [default: train: OMP_NUM_THREADS when set, "
            "else every available core; experiment: 2 per run, whatever the executor and --workers]"
        ),
        click.option(
            "--checkpoint-interval",
            "checkpoint_interval_s",
            type=click.FloatRange(min=0),
            default=None,
            help="Seconds between saves of the resumable state (0: every epoch).  [default: 60]",
        ),
    ]
    for name, typ, help_ in RELEASE_OPTIONS:
        spellings = dict.fromkeys([f"--{name}", f"--{name.replace('_', '-')}"])
        opts.append(click.option(*spellings, name, type=typ, default=None, help=help_))
    for o in reversed(opts):
        f = o(f)
    return f


def check_threads_flag(ctx, param, value):
    """Click callback of --threads: between 1 and the cores this process may use (a usage error otherwise)."""
    if value is None:
        return None
    cores = available_cores()
    if not 1 <= value <= cores:
        raise click.BadParameter(
            f"{value} threads: give between 1 and {cores} (the CPU cores available to this process)"
        )
    return value


def threads_option(help_: str):
    """``--threads N``: checked against the available cores (:func:`check_threads_flag`)."""
    return click.option("--threads", type=int, default=None, callback=check_threads_flag, help=help_)


def apply_threads(threads: int | None) -> int:
    """At the start of a command: PyTorch's CPU threads, ``threads`` or the default (``config.set_threads``)."""

    return set_threads(threads)


def config_from_cli(ctx: click.Context, values: dict) -> TrainConfig:
    """Defaults < --config file < flags given on the command line, checked by one
    validation (:meth:`TrainConfig.validate`: the file's values name the file and key)."""
    merged: dict = {}
    if values.get("config_file"):
        merged.update(load_config_file(values["config_file"]))
    for name in [n for n, _, _ in RELEASE_OPTIONS] + [
        "seed",
        "device",
        "eval_policy",
        "eval_samples",
        "eval_metric",
        "budget",
        "threads",
        "checkpoint_interval_s",
    ]:
        if values.get(name) is not None and ctx.get_parameter_source(name) != ParameterSource.DEFAULT:
            merged[name] = values[name]
    return TrainConfig.from_dict(merged, values.get("config_file")).validate()


@cli.command()
@click.option(
    "--dataset",
    "dataset_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="eccv16-schema HDF5 file (features needed; annotations only for the F-score).",
)
@click.option(
    "--splits",
    "splits_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Splits JSON. Without it every video trains and none is tested (your own unlabeled collection).",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Run folder to write.")
@click.option("--force", is_flag=True, help="Start over in a folder that holds another run.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
@train_options
@click.pass_context
def train(
    ctx: click.Context, dataset_path: str, splits_path: str | None, out: str, force: bool, progress: bool, **values
) -> None:
    """Train AC-SUM-GAN without labels and evaluate it after every epoch.

    Writes into OUT: config.yaml (resolved options, seed, versions), metrics.csv (per
    epoch: F-score, reward, every loss), scores.h5 (test scores of every epoch, readable
    by `acsumgan evaluate`), tensorboard/, checkpoints/ and COMPLETE when done. Running
    the same command again resumes an unfinished run from its last saved epoch.
    """
    cfg = config_from_cli(ctx, values)  # before torch is imported: a bad option fails at once

    from ..train.trainer import train as run_train  # torch: loaded when needed
    from .progress import ProgressBars  # rich.progress: loaded when needed

    with hold_tree(out):  # no other command writes a folder inside or around OUT meanwhile
        with ProgressBars() if progress else contextlib.nullcontext() as bars:
            result = run_train(
                cfg,
                dataset_path,
                splits_path,
                out,
                progress=bars,
                force=force,
                notify=note,
            )
    _print_run_summary(result)


def _print_run_summary(result) -> None:
    rows = result.rows
    table = Table(title=f"run {shown(result.run_dir)}")
    table.add_column("")
    table.add_column("epoch", justify="right")
    table.add_column("reward", justify="right")
    table.add_column("actor loss", justify="right")
    table.add_column(f"F-score ({result.metric})" if result.metric else "F-score", justify="right")

    def add(label, r):
        f = r.get("f_score")
        table.add_row(
            label,
            str(r["epoch"]),
            "-" if r.get("reward") is None else f"{r['reward']:.4f}",
            "-" if r.get("actor_loss") is None else f"{r['actor_loss']:.4f}",
            "-" if f is None else f"{f:.2f}",
        )

    add("untrained", rows[0])
    if result.chosen_epoch is not None:
        add("criterion's epoch", result.row(result.chosen_epoch))
        add("last epoch", rows[-1])
    console.print(table)
