"""Command: ``baseline random|uniform|human``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ..data.splits import check_split_index, check_split_keys, read_splits
from ..errors import ConfigError, DatasetError
from ..evaluation.baselines import DEFAULT_DRAWS, KINDS
from ..evaluation.metrics import METRICS
from .common import CONTEXT, budget_option, check_seed, cli, console, shown


def _fmt(row: dict, m: str, digits: int) -> str:
    v = row.get(m)
    if v is None:
        return "-"
    s = f"{v:.{digits}f}"
    sd = row.get(f"{m}_std")
    return s if sd is None else f"{s} ± {sd:.{digits}f}"


@cli.command(context_settings=CONTEXT)
@click.argument("kind", type=click.Choice(KINDS))
@click.option(
    "--dataset",
    "dataset_path",
    required=True,
    type=click.Path(path_type=Path),
    help="eccv16 dataset file with labels (e.g. from `acsumgan dataset import-gt`).",
)
@click.option(
    "--splits",
    "splits_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Splits file: report per split (its test videos) and the mean over splits.",
)
@click.option(
    "--split-index",
    type=click.IntRange(min=0),
    default=None,
    help="Only this split (needs --splits). Default: all splits.",
)
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    default=None,
    help="Reduce F-scores over users: max (SumMe) or avg (TVSum). Default: from the file.",
)
@click.option(
    "--draws", type=click.IntRange(min=1), default=DEFAULT_DRAWS, show_default=True, help="Random draws (random only)."
)
@click.option("--seed", type=int, default=0, show_default=True, callback=check_seed, help="Seed of the random draws.")
@budget_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def baseline(
    kind: str,
    dataset_path: Path,
    splits_path: Path | None,
    split_index: int | None,
    metric: str | None,
    draws: int,
    seed: int,
    budget: float,
    as_json: bool,
) -> None:
    """Score a baseline with the benchmark's protocol: random, uniform or human.

    \b
    random   uniform random step scores; mean ± std over --draws seeded draws
    uniform  the same score for every step (the keyshot protocol alone decides)
    human    leave-one-out: each annotator against the others, averaged

    F-score (keyshot summary by knapsack at --budget, reduced with --metric) where
    the file has user_summary and change_points; Kendall tau and Spearman rho
    (Otani et al., CVPR 2019) where it has user_scores or user_summary.
    """
    from ..data.dataset import load_dataset  # h5py: loaded when needed
    from ..evaluation.baselines import baseline_rows
    from ..evaluation.metrics import resolve_metric

    videos = load_dataset(dataset_path, "any")
    metric = resolve_metric(dataset_path, metric, required=False)
    if metric is None:  # this command's own wording, which its tests check
        raise ConfigError(dataset_path, "cannot tell whether this is SumMe (max) or TVSum (avg): give --metric")
    splits = None
    indices = None
    if splits_path is not None:
        splits = read_splits(splits_path, videos=list(videos))
        if split_index is not None:
            indices = [check_split_index(splits_path, split_index, len(splits))]
        for i in indices if indices is not None else range(len(splits)):
            check_split_keys(splits_path, i, splits[i], need_train=False, need_test=True)
    elif split_index is not None:
        raise ConfigError(None, "--split-index needs --splits")

    rows = baseline_rows(videos, splits, metric, budget, draws, seed, kinds=[kind], split_indices=indices)
    if all(r["f_score"] is None and r["kendall"] is None for r in rows):
        need = "user_summary" if kind == "human" else "user_summary and change_points, or user_scores/user_summary"
        raise DatasetError(
            dataset_path,
            f"nothing to score the {kind} baseline against (needs {need}"
            + (", with at least 2 users" if kind == "human" else "")
            + ")",
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "baseline": kind,
                    "dataset": str(dataset_path),
                    "splits": None if splits_path is None else str(splits_path),
                    "metric": metric,
                    "budget": budget,
                    "draws": draws if kind == "random" else None,
                    "seed": seed,
                    "rows": rows,
                },
                indent=2,
            )
        )
        return
    title = f"{kind} baseline on {shown(dataset_path.name)}"
    if kind == "random":
        title += f" ({draws} draws, seed {seed})"
    table = Table(title=title)
    for col in ("split", "videos", f"F-score ({metric}, %)", "Kendall tau", "Spearman rho"):
        table.add_column(col, justify="right" if col != "split" else "left")
    for r in rows:
        table.add_row(
            str(r["split"]), str(r["n_videos"]), _fmt(r, "f_score", 2), _fmt(r, "kendall", 3), _fmt(r, "spearman", 3)
        )
    console.print(table)
    if rows and rows[0].get("rank_reference"):
        console.print(f"rank correlation against each annotator's {rows[0]['rank_reference']}")
