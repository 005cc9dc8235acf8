"""Commands: ``dataset synth``, ``dataset validate``, ``splits make``, ``splits show``, ``evaluate``."""

from __future__ import annotations

import json

import click
import numpy as np
from rich.table import Table

from ..errors import ConfigError, ScoresError
from .common import budget_option, cli, console, dataset, splits


@dataset.command("synth")
@click.option("--profile", type=click.Choice(["summe", "tvsum"]), default="summe", show_default=True,
              help="Step counts and annotation style of the benchmark to imitate.")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="HDF5 file to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same file).")
@click.option("--videos", type=click.IntRange(min=1), default=None,
              help="Keep only the first K videos of the profile (default: all: 25 SumMe, 50 TVSum).")
@click.option("--dim", type=click.IntRange(min=1), default=1024, show_default=True, help="Feature size.")
def dataset_synth(profile: str, out: str, seed: int, videos: int | None, dim: int) -> None:
    """Generate a synthetic dataset with the shape of SumMe or TVSum.

    Real step counts of the benchmark videos (15 frames a step), features from
    recurring scenes, shots at scene changes and simulated annotators; every field
    of the eccv16 schema is filled.
    """
    from ..synthetic.dataset import write_synth_dataset

    path = write_synth_dataset(out, profile=profile, seed=seed, videos=videos, dim=dim)
    console.print(f"wrote {path} ({profile} profile, seed {seed})")


@dataset.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--purpose", type=click.Choice(["any", "train", "evaluate", "summarize"]), default="any",
              show_default=True, help="Also require the fields this use needs.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def dataset_validate(path: str, purpose: str, as_json: bool) -> None:
    """Check a dataset file against the eccv16 schema and list its videos.

    Exits non-zero with a one-line message naming the video and field of the
    first problem found.
    """
    from ..data.dataset import dataset_attrs, load_dataset

    videos = load_dataset(path, purpose=purpose)
    rows = []
    for k, v in videos.items():
        rows.append({
            "video": k,
            "steps": v.steps if (v.features is not None or v.picks is not None or v.n_steps is not None) else None,
            "dim": None if v.features is None else int(v.features.shape[1]),
            "n_frames": v.n_frames,
            "shots": None if v.change_points is None else int(v.change_points.shape[0]),
            "users": None if v.user_summary is None else int(v.user_summary.shape[0]),
            "fields": v.present(),
        })
    if as_json:
        click.echo(json.dumps({"path": path, "attrs": {k: str(v) for k, v in dataset_attrs(path).items()},
                               "videos": rows}, indent=2))
        return
    table = Table(title=f"{path}: {len(rows)} videos, valid")
    for col in ("video", "steps", "dim", "n_frames", "shots", "users"):
        table.add_column(col, justify="right" if col != "video" else "left")
    for r in rows:
        table.add_row(*["-" if r[c] is None else str(r[c]) for c in ("video", "steps", "dim", "n_frames", "shots", "users")])
    console.print(table)


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


def _pick_metric(dataset_path: str, metric: str | None) -> str:
    from ..data.dataset import dataset_attrs
    from ..evaluation.metrics import infer_metric

    if metric:
        return metric
    found = infer_metric(dataset_path, dataset_attrs(dataset_path))
    if found is None:
        raise ConfigError(dataset_path, "cannot tell SumMe (max) from TVSum (avg) by the file; pass --metric max|avg")
    return found


@cli.command()
@click.option("--dataset", "dataset_path", type=click.Path(dir_okay=False), required=True,
              help="Dataset with annotations (user_summary, change_points, n_frames, picks).")
@click.option("--scores", "scores_path", type=click.Path(dir_okay=False), required=True,
              help="Scores: JSON {video: [T floats]} or HDF5 (one dataset per video, or epoch_<n> groups "
                   "as written by `acsumgan train`).")
@click.option("--metric", type=click.Choice(["max", "avg", "kendall", "spearman", "all"]), default=None,
              help="F-score reduction over users (max: SumMe, avg: TVSum; default from the file), rank "
                   "correlation (kendall, spearman), or all of them.")
@click.option("--epoch", type=int, default=None,
              help="With a multi-epoch scores file: evaluate this epoch per video (default: a table of all epochs).")
@budget_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
def evaluate(dataset_path: str, scores_path: str, metric: str | None, epoch: int | None, budget: float,
             as_json: bool) -> None:
    """Evaluate step scores with the benchmark protocol.

    Step scores -> frame scores -> shot means -> 0/1 knapsack at int(budget x n_frames)
    -> keyshot summary -> F-score (percent) against each annotator, reduced with max
    (SumMe) or avg (TVSum), then averaged over videos. Rank correlation (Kendall tau,
    Spearman rho; Otani et al. 2019) compares frame scores with each annotator's.
    """
    from ..data.dataset import load_dataset
    from ..evaluation.metrics import evaluate_scores
    from ..evaluation.scores import read_scores

    all_scores = read_scores(scores_path)
    names = {"max": ["max"], "avg": ["avg"], "kendall": ["kendall"], "spearman": ["spearman"],
             "all": [None, "kendall", "spearman"], None: [None]}[metric]
    needs_f = None in names or "max" in names or "avg" in names
    videos = load_dataset(dataset_path, purpose="evaluate" if needs_f else "any")
    if None in names:
        names[names.index(None)] = _pick_metric(dataset_path, None)
    if epoch is not None:
        if epoch not in all_scores:
            raise ScoresError(scores_path, f"has no epoch {epoch} (epochs: {', '.join(str(e) for e in all_scores)})")
        all_scores = {epoch: all_scores[epoch]}
    for e, sc in all_scores.items():
        for k, s in sc.items():
            if k not in videos:
                raise ScoresError(scores_path, f"{k}: not a video of {dataset_path}")
            if s.shape[0] != videos[k].steps:
                raise ScoresError(scores_path, f"{k}: has {s.shape[0]} scores but the video has {videos[k].steps} steps")

    from ..evaluation.rank import evaluate_rank

    cache: dict = {}
    results: dict = {}
    for e, sc in all_scores.items():
        per = {}
        for name in names:
            if name in ("max", "avg"):
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
            out = {"metric": names if len(names) > 1 else names[0],
                   "epochs": {str(e): (r if len(names) > 1 else r[names[0]]) for e, r in results.items()}}
        click.echo(json.dumps(out, indent=2))
        return

    unit = {"max": "F-score %", "avg": "F-score %", "kendall": "Kendall tau", "spearman": "Spearman rho"}
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
