"""Commands: ``splits make`` and ``splits show``."""

from __future__ import annotations

import click
from rich.table import Table

from ..errors import ConfigError
from .common import console, splits


@splits.command("make")
@click.option("--dataset", "dataset_path", type=click.Path(dir_okay=False), required=True,
              help="Dataset whose videos are split.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="JSON splits file to write.")
@click.option("--kind", type=click.Choice(["random", "kfold"]), default="random", show_default=True,
              help="random: independent 80/20 splits (like the standard files, they overlap); "
                   "kfold: a partition, every video tested exactly once.")
@click.option("--n-splits", "--k", "n_splits", type=click.IntRange(min=1), default=5, show_default=True,
              help="Number of splits (folds).")
@click.option("--test-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="Share of videos tested in each random split.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
def splits_make(dataset_path: str, out: str, kind: str, n_splits: int, test_fraction: float, seed: int) -> None:
    """Make a seeded splits file for a dataset."""
    from ..data.dataset import load_dataset
    from ..data.splits import make_kfold_splits, make_random_splits, write_splits

    keys = list(load_dataset(dataset_path).keys())
    if kind == "kfold":
        if not 2 <= n_splits <= len(keys):
            raise ConfigError(dataset_path, f"k-fold needs 2 <= k <= {len(keys)} videos, got k={n_splits}")
        result = make_kfold_splits(keys, n_splits, seed)
    else:
        if len(keys) < 2:
            raise ConfigError(dataset_path, "a split needs at least 2 videos")
        result = make_random_splits(keys, n_splits, test_fraction, seed)
    write_splits(out, result)
    tested = sorted({k for s in result for k in s["test_keys"]})
    console.print(f"wrote {out}: {len(result)} {kind} splits of {len(keys)} videos; "
                  f"{len(tested)}/{len(keys)} videos are tested at least once")


@splits.command("show")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--dataset", "dataset_path", type=click.Path(dir_okay=False), default=None,
              help="Also check that every key is in this dataset.")
def splits_show(path: str, dataset_path: str | None) -> None:
    """Check a splits file and show its sizes and how often each video is tested."""
    from ..data.dataset import load_dataset
    from ..data.splits import read_splits

    keys = list(load_dataset(dataset_path).keys()) if dataset_path else None
    result = read_splits(path, keys)
    table = Table(title=str(path))
    for col in ("split", "train", "test"):
        table.add_column(col, justify="right")
    for i, s in enumerate(result):
        table.add_row(str(i), str(len(s["train_keys"])), str(len(s["test_keys"])))
    console.print(table)
    tested = {k for s in result for k in s["test_keys"]}
    every = {k for s in result for k in s["train_keys"] + s["test_keys"]}
    console.print(f"{len(tested)}/{len(every)} videos are tested at least once")
