"""Commands: ``splits make`` and ``splits show``."""

from __future__ import annotations

import click
from rich.table import Table

from ..data.splits import (
    make_augmented_splits,
    make_kfold_splits,
    make_random_splits,
    make_transfer_splits,
    read_splits,
    write_splits,
)
from ..errors import ConfigError
from .common import check_seed, console, shown, splits


@splits.command("make")
@click.option(
    "--dataset", "dataset_path", type=click.Path(dir_okay=False), required=True, help="Dataset whose videos are split."
)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="JSON splits file to write.")
@click.option(
    "--kind",
    type=click.Choice(["random", "kfold", "augmented", "transfer"]),
    default="random",
    show_default=True,
    help="random: independent 80/20 splits (like the standard files, they overlap); "
    "kfold: a partition, every video tested exactly once; on a merged file (dataset merge), with "
    "--target: augmented: the target's videos split as random (or --kfold) does, every video of "
    "the other datasets added to each training set; transfer: one split, training on the other "
    "datasets, testing all of the target (Zhang et al., ECCV 2016).",
)
@click.option("--target", default=None, help="augmented / transfer: the dataset tested (e.g. summe).")
@click.option("--kfold", "kfold", is_flag=True, help="augmented: a k-fold partition of the target (k = --n-splits).")
@click.option(
    "--n-splits",
    "--k",
    "n_splits",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Number of splits (folds); transfer makes 1 split and accepts only 1.",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of videos (augmented: of the target's) tested in each random split.",
)
@click.option("--seed", type=int, default=0, show_default=True, callback=check_seed, help="Random seed.")
@click.pass_context
def splits_make(
    ctx,
    dataset_path: str,
    out: str,
    kind: str,
    target: str | None,
    kfold: bool,
    n_splits: int,
    test_fraction: float,
    seed: int,
) -> None:
    """Make a seeded splits file for a dataset."""
    from ..data.dataset import load_dataset  # h5py: loaded when needed

    keys = list(load_dataset(dataset_path).keys())
    if kind in ("augmented", "transfer"):
        n_given = ctx.get_parameter_source("n_splits") != click.core.ParameterSource.DEFAULT
        _make_setting(dataset_path, out, keys, kind, target, kfold, n_splits, n_given, test_fraction, seed)
        return
    if target is not None:
        raise ConfigError(None, f"--target goes with --kind augmented or transfer, not --kind {kind}")
    if kfold:
        raise ConfigError(None, f"--kfold goes with --kind augmented, not --kind {kind} (a plain k-fold: --kind kfold)")
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
    console.print(
        f"wrote {shown(out)}: {len(result)} {kind} splits of {len(keys)} videos; "
        f"{len(tested)}/{len(keys)} videos are tested at least once"
    )


def _make_setting(
    dataset_path: str,
    out: str,
    keys: list[str],
    kind: str,
    target: str | None,
    kfold: bool,
    n_splits: int,
    n_given: bool,
    test_fraction: float,
    seed: int,
) -> None:
    """``splits make --kind augmented|transfer``: the checks, one line each, then the file."""

    datasets = list(dict.fromkeys(k.split("/", 1)[0] for k in keys if "/" in k))
    if not datasets:
        raise ConfigError(
            dataset_path,
            f"--kind {kind} needs a merged file (videos dataset/video_k); make one with `acsumgan dataset merge`",
        )
    if target is None:
        raise ConfigError(dataset_path, f"--kind {kind} needs --target, one of {', '.join(datasets)}")
    if target not in datasets:
        raise ConfigError(dataset_path, f"has no dataset {target!r} (--target); its datasets: {', '.join(datasets)}")
    if len(datasets) < 2:
        raise ConfigError(dataset_path, f"holds only the dataset {target}: nothing to train on besides the target")
    mine = [k for k in keys if k.startswith(target + "/")]
    if kind == "transfer":
        if kfold:
            raise ConfigError(None, "--kfold goes with --kind augmented, not transfer")
        if n_given and n_splits != 1:
            raise ConfigError(
                None,
                f"--kind transfer makes 1 split (train on the other datasets, test all of "
                f"{target}); copies would train the same run again: drop --n-splits {n_splits}",
            )
        result = make_transfer_splits(keys, target)
    elif kfold:
        if not 2 <= n_splits <= len(mine):
            raise ConfigError(dataset_path, f"k-fold needs 2 <= k <= {len(mine)} videos of {target}, got k={n_splits}")
        result = make_augmented_splits(keys, target, n_splits, test_fraction, seed, kfold=True)
    else:
        if len(mine) < 2:
            raise ConfigError(dataset_path, f"a split of {target} needs at least 2 of its videos")
        result = make_augmented_splits(keys, target, n_splits, test_fraction, seed)
    write_splits(out, result)
    others = f"the {len(keys) - len(mine)} videos of {shown(', '.join(d for d in datasets if d != target))}"
    if kind == "transfer":
        console.print(
            f"wrote {shown(out)}: 1 transfer split: test all {len(mine)} videos of {shown(target)}, train on {others}"
        )
    else:
        tested = sorted({k for s in result for k in s["test_keys"]})
        console.print(
            f"wrote {shown(out)}: {len(result)} augmented {'k-fold ' if kfold else ''}splits of the {len(mine)} "
            f"videos of {shown(target)} ({len(tested)} tested at least once), each training also on {others}"
        )


@splits.command("show")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--dataset",
    "dataset_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also check that every key is in this dataset.",
)
def splits_show(path: str, dataset_path: str | None) -> None:
    """Check a splits file and show its sizes and how often each video is tested."""
    from ..data.dataset import load_dataset  # h5py: loaded when needed

    keys = list(load_dataset(dataset_path).keys()) if dataset_path else None
    result = read_splits(path, keys)
    table = Table(title=shown(path))
    for col in ("split", "train", "test"):
        table.add_column(col, justify="right")
    for i, s in enumerate(result):
        table.add_row(str(i), str(len(s["train_keys"])), str(len(s["test_keys"])))
    console.print(table)
    for setting, target in dict.fromkeys((s.get("setting"), s.get("target")) for s in result):
        if setting is not None or target is not None:
            n = sum(1 for s in result if (s.get("setting"), s.get("target")) == (setting, target))
            which = f"setting: {shown(str(setting or '-'))}, target: {shown(str(target or '-'))}"
            console.print(f"{which} ({n} of {len(result)} splits)")
    tested = {k for s in result for k in s["test_keys"]}
    every = {k for s in result for k in s["train_keys"] + s["test_keys"]}
    console.print(f"{len(tested)}/{len(every)} videos are tested at least once")
