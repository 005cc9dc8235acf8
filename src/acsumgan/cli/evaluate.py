"""Command: ``evaluate`` (F-score and rank correlation of step scores)."""

from __future__ import annotations

import json

import click
import numpy as np
from rich.table import Table

from ..data.splits import get_split
from ..errors import ConfigError
from .common import budget_option, check_seed, cli, console, note, shown


@cli.command()
@click.option(
    "--dataset",
    "dataset_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Dataset with annotations (user_summary, change_points, n_frames, picks).",
)
@click.option(
    "--scores",
    "scores_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Scores: JSON {video: [T floats]} or HDF5 (one dataset per video, or epoch_<n> groups "
    "as written by `acsumgan train`).",
)
@click.option(
    "--metric",
    type=click.Choice(["max", "avg", "kendall", "spearman", "all"]),
    default=None,
    help="F-score reduction over users (max: SumMe, avg: TVSum; default from the file), rank "
    "correlation (kendall, spearman), or all of them.",
)
@click.option(
    "--epoch",
    type=int,
    default=None,
    help="With a multi-epoch scores file: evaluate this epoch per video (default: a table of all epochs).",
)
@click.option(
    "--reference",
    type=click.Choice(["users", "gtscore", "gtsummary"]),
    default="users",
    show_default=True,
    help="What the F-score compares with: every annotator's summary (users, the multi-user protocol), or one "
    "reference per video: the keyshot summary of the file's gtscore (what the authors' *_with_gts scripts use) "
    "or its gtsummary.",
)
@click.option(
    "--model",
    "model_path",
    default=None,
    help="Instead of --scores: score the videos with this model (a checkpoint, run or experiment folder) and "
    "evaluate every policy sample (--eval-samples): one row per draw, then their mean and std.",
)
@click.option(
    "--splits",
    "splits_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --model: evaluate the test videos of --split of this file (default: every video).",
)
@click.option("--split", "split_index", type=int, default=0, show_default=True, help="With --model and --splits.")
@click.option(
    "--eval-samples",
    "eval_samples",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="With --model: seeded draws of the sampled policy.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    callback=check_seed,
    help="With --model: seed of the sampled policy.",
)
@budget_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
def evaluate(
    dataset_path: str,
    scores_path: str,
    metric: str | None,
    epoch: int | None,
    reference: str,
    model_path: str | None,
    splits_path: str | None,
    split_index: int,
    eval_samples: int,
    seed: int,
    budget: float,
    as_json: bool,
) -> None:
    """Evaluate step scores with the benchmark protocol.

    Step scores -> frame scores -> shot means -> 0/1 knapsack at int(budget x n_frames)
    -> keyshot summary -> F-score (percent) against each annotator, reduced with max
    (SumMe) or avg (TVSum), then averaged over videos. With --reference gtscore or
    gtsummary the F-score is taken against one synthesized reference per video instead
    (the paper's single-reference protocol; never mixed with the multi-user one). Rank
    correlation (Kendall tau, Spearman rho; Otani et al. 2019) compares frame scores
    with each annotator's.
    """
    from ..evaluation.run import run_evaluation  # h5py: loaded when needed

    if (scores_path is None) == (model_path is None):
        raise ConfigError(None, "give either --scores (a scores file) or --model (a model to score the videos with)")
    score = None
    if model_path is not None:

        def score(videos: dict) -> dict:
            return _score_with_model(model_path, videos, dataset_path, splits_path, split_index, eval_samples, seed)

    ev = run_evaluation(
        dataset_path,
        model_path if model_path is not None else scores_path,
        metric=metric,
        reference=reference,
        budget=budget,
        epoch=epoch,
        score=score,
        note=note,
    )
    names, results = ev.names, ev.results
    if model_path is not None:
        _print_model_result(model_path, names, results, as_json)
        return
    if as_json:
        if list(results) == [None] or len(results) == 1:
            e = next(iter(results))
            out = results[e] if len(names) > 1 else results[e][names[0]]
            if e is not None:
                out = {"epoch": e, **out}
        else:
            out = {
                "metric": names if len(names) > 1 else names[0],
                "epochs": {str(e): (r if len(names) > 1 else r[names[0]]) for e, r in results.items()},
            }
        click.echo(json.dumps(out, indent=2))
        return

    f_unit = "F-score %" if reference == "users" else f"F-score % vs {reference}"
    unit = {"max": f_unit, "avg": f_unit, "kendall": "Kendall tau", "spearman": "Spearman rho"}
    if len(results) == 1:
        e, per = next(iter(results.items()))
        table = Table(title=shown(scores_path) + (f" (epoch {e})" if e is not None else ""))
        table.add_column("video")
        for name in names:
            table.add_column(f"{unit[name]} ({name})" if name in ("max", "avg") else unit[name], justify="right")
        keys = list(per[names[0]]["videos"])
        for k in keys:
            table.add_row(shown(k), *[_fmt(per[n]["videos"].get(k), n) for n in names])
        table.add_row("[bold]mean[/bold]", *[f"[bold]{_fmt(per[n]['mean'], n)}[/bold]" for n in names])
        console.print(table)
    else:
        table = Table(title=f"{shown(scores_path)}: {len(results)} epochs")
        table.add_column("epoch", justify="right")
        for name in names:
            table.add_column(f"mean {unit[name]}" + (f" ({name})" if name in ("max", "avg") else ""), justify="right")
        for e, per in results.items():
            table.add_row(str(e), *[_fmt(per[n]["mean"], n) for n in names])
        console.print(table)


def _fmt(x, name: str) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    return f"{x:.2f}" if name in ("max", "avg") else f"{x:.4f}"


def _score_with_model(model_path, videos, dataset_path, splits_path, split_index, samples, seed) -> dict:
    """``{draw: {video: scores}}`` of the model on the test videos of a split (or every video)."""
    from ..inference import Scorer, score_dataset  # torch: loaded when needed

    keys = list(videos) if splits_path is None else get_split(splits_path, split_index, videos)["test_keys"]
    scorer = Scorer.load(model_path, seed=seed, samples=samples)
    return score_dataset(scorer, videos, keys)


def _print_model_result(model_path, names: list[str], results: dict, as_json: bool) -> None:
    """One row per policy sample, then the mean and the std over the samples."""
    means = {n: [results[j][n]["mean"] for j in results] for n in names}
    summary = {n: {"mean": float(np.mean(v)), "std": float(np.std(v))} for n, v in means.items()}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "model": str(model_path),
                    "eval_samples": len(results),
                    "summary": summary,
                    "draws": {str(j): r for j, r in results.items()},
                },
                indent=2,
            )
        )
        return
    table = Table(title=f"{shown(model_path)}: {len(results)} policy sample(s)")
    table.add_column("draw", justify="right")
    for n in names:
        table.add_column(n, justify="right")
    for j, per in results.items():
        table.add_row(str(j), *[_fmt(per[n]["mean"], n) for n in names])
    table.add_row(
        "[bold]mean ± std[/bold]",
        *[f"[bold]{_fmt(summary[n]['mean'], n)} ± {_fmt(summary[n]['std'], n)}[/bold]" for n in names],
    )
    console.print(table)
