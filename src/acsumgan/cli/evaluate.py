"""Command: ``evaluate`` (F-score and rank correlation of step scores)."""

from __future__ import annotations

import json

import click
import numpy as np
from rich.table import Table

from .common import budget_option, cli, console


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
    required=True,
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
@budget_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
def evaluate(
    dataset_path: str,
    scores_path: str,
    metric: str | None,
    epoch: int | None,
    reference: str,
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
    from ..data.dataset import load_dataset
    from ..evaluation.metrics import evaluate_scores, resolve_metric
    from ..evaluation.rank import evaluate_rank
    from ..evaluation.reference import check_reference, evaluate_reference
    from ..evaluation.scores import check_scores, read_scores, select_epoch

    all_scores = read_scores(scores_path)
    names = {
        "max": ["max"],
        "avg": ["avg"],
        "kendall": ["kendall"],
        "spearman": ["spearman"],
        "all": [None, "kendall", "spearman"],
        None: [None],
    }[metric]
    needs_f = None in names or "max" in names or "avg" in names
    videos = load_dataset(dataset_path, purpose="evaluate" if needs_f and reference == "users" else "any")
    if None in names:
        names[names.index(None)] = resolve_metric(dataset_path)
    all_scores = select_epoch(all_scores, epoch, scores_path)
    check_scores(all_scores, videos, scores_path, dataset_path)
    if needs_f and reference != "users":
        check_reference(videos, {k for sc in all_scores.values() for k in sc}, reference, dataset_path)

    cache: dict = {}
    results: dict = {}
    for e, sc in all_scores.items():
        per = {}
        for name in names:
            if name in ("max", "avg") and reference != "users":
                per[name] = {
                    **evaluate_reference(videos, sc, reference, name, budget).to_json(),
                    "reference": reference,
                }
            elif name in ("max", "avg"):
                per[name] = evaluate_scores(videos, sc, name, budget).to_json()
            else:
                per[name] = evaluate_rank(videos, sc, name, cache=cache).to_json()
        results[e] = per

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
        table = Table(title=f"{scores_path}" + (f" (epoch {e})" if e is not None else ""))
        table.add_column("video")
        for name in names:
            table.add_column(f"{unit[name]} ({name})" if name in ("max", "avg") else unit[name], justify="right")
        keys = list(per[names[0]]["videos"])
        for k in keys:
            table.add_row(k, *[_fmt(per[n]["videos"].get(k), n) for n in names])
        table.add_row("[bold]mean[/bold]", *[f"[bold]{_fmt(per[n]['mean'], n)}[/bold]" for n in names])
        console.print(table)
    else:
        table = Table(title=f"{scores_path}: {len(results)} epochs")
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
