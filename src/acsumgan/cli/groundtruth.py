"""Commands: ``dataset import-gt summe|tvsum`` and ``baseline random|uniform|human``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ..data.dataset import dataset_attrs, load_dataset, save_dataset
from ..data.groundtruth import EVAL_METRIC, import_summe, import_tvsum, merge_features
from ..data.splits import read_splits
from ..errors import ConfigError, DatasetError, SplitsError
from ..evaluation.baselines import DEFAULT_DRAWS, KINDS, baseline_rows
from ..evaluation.metrics import METRICS, infer_metric
from .common import CONTEXT, budget_option, cli, console, dataset


# --------------------------------------------------------------------------- import-gt


@dataset.group("import-gt", context_settings=CONTEXT)
def import_gt() -> None:
    """Import the official SumMe / TVSum ground truth into an eccv16 file.

    The output holds the label fields of the standard eccv16 files (picks, n_steps,
    n_frames, gtscore, user_summary or user_scores, change_points where the source
    has them, video_name); with --merge, the videos of a features file with these
    fields added.
    """


def _write(out: Path, videos: dict, name: str, merge: Path | None, as_json: bool) -> None:
    attrs = {}
    if merge is not None:
        videos = merge_features(videos, merge)
        attrs.update(dataset_attrs(merge))
    attrs.update({"eval_metric": EVAL_METRIC[name], "groundtruth": name})
    save_dataset(out, videos, attrs=attrs)
    fields = sorted({f for v in videos.values() for f in v.present()})
    if as_json:
        click.echo(json.dumps({"out": str(out), "dataset": name, "videos": len(videos), "fields": fields,
                               "merged_with": None if merge is None else str(merge)}))
    else:
        console.print(f"wrote {out}: {len(videos)} {name} videos ({', '.join(fields)})"
                      + (f", merged with {merge}" if merge is not None else ""))


@import_gt.command("summe", context_settings=CONTEXT)
@click.option("--gt-dir", required=True, type=click.Path(path_type=Path),
              help="The SumMe GT folder (one <name>.mat per video).")
@click.option("--change-points", type=click.Path(path_type=Path), default=None,
              help='JSON {"video_i": [[start, end], ...]} of KTS shots (inclusive). Without it, '
                   "change_points are absent (needed for the F-score).")
@click.option("--mapping", type=click.Path(path_type=Path), default=None,
              help="mapped_video_names.json ({real name: video_i}) to cross-check the order.")
@click.option("--merge", type=click.Path(path_type=Path), default=None,
              help="A features file (same videos): write its videos with the imported fields added.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output HDF5 file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
def import_summe_cmd(gt_dir: Path, change_points: Path | None, mapping: Path | None, merge: Path | None,
                     out: Path, as_json: bool) -> None:
    """SumMe (Gygli et al., ECCV 2014): video_i = i-th GT file in byte-wise sorted order."""
    videos = import_summe(gt_dir, change_points, mapping)
    _write(out, videos, "summe", merge, as_json)


@import_gt.command("tvsum", context_settings=CONTEXT)
@click.option("--anno", required=True, type=click.Path(path_type=Path),
              help="ydata-tvsum50.mat (v7.3) or ydata-tvsum50-anno.tsv, either optionally gzipped.")
@click.option("--merge", type=click.Path(path_type=Path), default=None,
              help="A features file (same videos): write its videos with the imported fields added.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output HDF5 file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
def import_tvsum_cmd(anno: Path, merge: Path | None, out: Path, as_json: bool) -> None:
    """TVSum (Song et al., CVPR 2015): video_i = i-th video of the file; user_scores = user_anno.

    change_points and user_summary are not public for TVSum and are left out (kept
    from --merge's file if it has them).
    """
    videos = import_tvsum(anno)
    _write(out, videos, "tvsum", merge, as_json)


# --------------------------------------------------------------------------- baseline


def _fmt(row: dict, m: str, digits: int) -> str:
    v = row.get(m)
    if v is None:
        return "-"
    s = f"{v:.{digits}f}"
    sd = row.get(f"{m}_std")
    return s if sd is None else f"{s} ± {sd:.{digits}f}"


@cli.command(context_settings=CONTEXT)
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--dataset", "dataset_path", required=True, type=click.Path(path_type=Path),
              help="eccv16 dataset file with labels (e.g. from `acsumgan dataset import-gt`).")
@click.option("--splits", "splits_path", type=click.Path(path_type=Path), default=None,
              help="Splits file: report per split (its test videos) and the mean over splits.")
@click.option("--split-index", type=click.IntRange(min=0), default=None,
              help="Only this split (needs --splits). Default: all splits.")
@click.option("--metric", type=click.Choice(METRICS), default=None,
              help="Reduce F-scores over users: max (SumMe) or avg (TVSum). Default: from the file.")
@click.option("--draws", type=click.IntRange(min=1), default=DEFAULT_DRAWS, show_default=True,
              help="Random draws (random only).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random draws.")
@budget_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def baseline(kind: str, dataset_path: Path, splits_path: Path | None, split_index: int | None,
             metric: str | None, draws: int, seed: int, budget: float, as_json: bool) -> None:
    """Score a baseline with the benchmark's protocol: random, uniform or human.

    \b
    random   uniform random step scores; mean ± std over --draws seeded draws
    uniform  the same score for every step (the keyshot protocol alone decides)
    human    leave-one-out: each annotator against the others, averaged

    F-score (keyshot summary by knapsack at --budget, reduced with --metric) where
    the file has user_summary and change_points; Kendall tau and Spearman rho
    (Otani et al., CVPR 2019) where it has user_scores or user_summary.
    """
    videos = load_dataset(dataset_path, "any")
    if metric is None:
        metric = infer_metric(str(dataset_path), dataset_attrs(dataset_path))
        if metric is None:
            raise ConfigError(dataset_path, "cannot tell whether this is SumMe (max) or TVSum (avg): give --metric")
    splits = None
    indices = None
    if splits_path is not None:
        splits = read_splits(splits_path, videos=list(videos))
        if split_index is not None:
            if split_index >= len(splits):
                raise SplitsError(splits_path, f"split index {split_index} out of range (file has {len(splits)} splits)")
            indices = [split_index]
        for i in (indices if indices is not None else range(len(splits))):
            if not splits[i]["test_keys"]:
                raise SplitsError(splits_path, f"split {i}: test_keys is empty")
    elif split_index is not None:
        raise ConfigError(None, "--split-index needs --splits")

    rows = baseline_rows(videos, splits, metric, budget, draws, seed, kinds=[kind], split_indices=indices)
    if all(r["f_score"] is None and r["kendall"] is None for r in rows):
        need = "user_summary" if kind == "human" else "user_summary and change_points, or user_scores/user_summary"
        raise DatasetError(dataset_path, f"nothing to score the {kind} baseline against (needs {need}"
                                         + (", with at least 2 users" if kind == "human" else "") + ")")
    if as_json:
        click.echo(json.dumps({
            "baseline": kind, "dataset": str(dataset_path),
            "splits": None if splits_path is None else str(splits_path),
            "metric": metric, "budget": budget, "draws": draws if kind == "random" else None, "seed": seed,
            "rows": rows,
        }, indent=2))
        return
    title = f"{kind} baseline on {dataset_path.name}"
    if kind == "random":
        title += f" ({draws} draws, seed {seed})"
    table = Table(title=title)
    for col in ("split", "videos", f"F-score ({metric}, %)", "Kendall tau", "Spearman rho"):
        table.add_column(col, justify="right" if col != "split" else "left")
    for r in rows:
        table.add_row(str(r["split"]), str(r["n_videos"]), _fmt(r, "f_score", 2),
                      _fmt(r, "kendall", 3), _fmt(r, "spearman", 3))
    console.print(table)
    if rows and rows[0].get("rank_reference"):
        console.print(f"rank correlation against each annotator's {rows[0]['rank_reference']}")
