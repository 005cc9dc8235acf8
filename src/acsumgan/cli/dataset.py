"""Commands: ``dataset synth``, ``dataset validate``, ``dataset build``, ``dataset merge``,
``dataset import-gt summe|tvsum``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ..config import resolve_device
from ..errors import TasksFailed
from ..fileio import refuse_to_replace
from ..locks import hold_lock
from .common import CONTEXT, check_seed, console, count, dataset, device_option, shown
from .summarize import executor_options, expand_videos, make_pool, report_failures
from .train import apply_threads, threads_option


@dataset.command("synth")
@click.option(
    "--profile",
    type=click.Choice(["summe", "tvsum"]),
    default="summe",
    show_default=True,
    help="Step counts and annotation style of the benchmark to imitate.",
)
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="HDF5 file to write.")
@click.option(
    "--seed", type=int, default=0, show_default=True, callback=check_seed, help="Random seed (same seed, same file)."
)
@click.option(
    "--videos",
    type=click.IntRange(min=1),
    default=None,
    help="Keep only the first K videos of the profile (default: all: 25 SumMe, 50 TVSum).",
)
@click.option("--dim", type=click.IntRange(min=1), default=1024, show_default=True, help="Feature size.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def dataset_synth(profile: str, out: str, seed: int, videos: int | None, dim: int, force: bool) -> None:
    """Generate a synthetic dataset with the shape of SumMe or TVSum.

    Real step counts of the benchmark videos (15 frames a step), features from
    recurring scenes, shots at scene changes and simulated annotators; every field
    of the eccv16 schema is filled.
    """
    from ..synthetic.dataset import PROFILES, write_synth_dataset  # h5py: loaded when needed

    click.get_current_context().with_resource(hold_lock(out, is_file=True, tree=True))  # one writer per file
    refuse_to_replace(out, force)
    path = write_synth_dataset(out, profile=profile, seed=seed, videos=videos, dim=dim)
    n = len(PROFILES[profile]["steps"][:videos] if videos is not None else PROFILES[profile]["steps"])
    console.print(f"wrote {shown(path)}: {count(n, profile + ' video')} ({profile} profile, seed {seed})")


@dataset.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--purpose",
    type=click.Choice(["any", "train", "evaluate", "summarize"]),
    default="any",
    show_default=True,
    help="Also require the fields this use needs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def dataset_validate(path: str, purpose: str, as_json: bool) -> None:
    """Check a dataset file against the eccv16 schema and list its videos.

    Exits non-zero with a one-line message naming the video and field of the
    first problem found.
    """
    from ..data.dataset import dataset_attrs, load_dataset  # h5py: loaded when needed

    videos = load_dataset(path, purpose=purpose)
    rows = []
    for k, v in videos.items():
        rows.append(
            {
                "video": k,
                "steps": v.steps if (v.features is not None or v.picks is not None or v.n_steps is not None) else None,
                "dim": None if v.features is None else int(v.features.shape[1]),
                "n_frames": v.n_frames,
                "shots": None if v.change_points is None else int(v.change_points.shape[0]),
                "users": None if v.user_summary is None else int(v.user_summary.shape[0]),
                "fields": v.present(),
            }
        )
    if as_json:
        click.echo(
            json.dumps(
                {"path": path, "attrs": {k: str(v) for k, v in dataset_attrs(path).items()}, "videos": rows}, indent=2
            )
        )
        return
    table = Table(title=f"{shown(path)}: {count(len(rows), 'video')}, valid")
    for col in ("video", "steps", "dim", "n_frames", "shots", "users"):
        table.add_column(col, justify="right" if col != "video" else "left")
    for r in rows:
        table.add_row(
            *[
                "-" if r[c] is None else shown(str(r[c]))
                for c in ("video", "steps", "dim", "n_frames", "shots", "users")
            ]
        )
    console.print(table)


@dataset.command("build")
@click.argument("videos", nargs=-1, required=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="HDF5 file to write.")
@click.option(
    "--backbone",
    default="efficientnet-lite0",
    show_default=True,
    help="Feature extractor: efficientnet-lite0 (ImageNet weights installed with the package) or "
    "googlenet (the benchmarks' GoogLeNet pool5; needs its ImageNet weights file).",
)
@device_option
@click.option("--rate", type=float, default=2.0, show_default=True, help="Sampled steps per second.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists (an unfinished build of OUT resumes without it).")
@threads_option(
    "CPU threads of the feature extractor, at most the cores available.  [default: OMP_NUM_THREADS when set, "
    "else every available core]"
)
@executor_options
def dataset_build(
    videos, out, backbone, device, rate, force, threads, executor, ray_address, retries, ray_cpus_per_task
) -> None:
    """Build an eccv16-schema dataset from your own videos (no labels needed).

    Features of frames sampled at RATE per second, KTS shots, picks, n_frames, names;
    `train` and `experiment` accept the file as it is. Interrupted builds resume: each
    finished video is kept in OUT.parts/ until the file is complete.

    With --executor ray each video is a Ray task (on a cluster: --ray-address); a rerun
    after a crash or a lost node computes only the videos not yet in OUT.parts/.
    """
    from ..summarize.build import build_dataset, parts_dir  # torch: loaded when needed
    from .progress import ProgressBars  # rich.progress: loaded when needed

    threads = apply_threads(threads)
    paths = expand_videos(videos)
    click.get_current_context().with_resource(hold_lock(out, is_file=True, tree=True))  # one writer per file
    refuse_to_replace(out, force, resuming=parts_dir(out).is_dir())
    device = resolve_device(device)
    pool = make_pool(executor, ray_address, retries, ray_cpus_per_task, threads, device)
    try:
        with ProgressBars(transient=True) as bars:
            path = build_dataset(paths, out, backbone=backbone, device=device, rate=rate, progress=bars, pool=pool)
    except TasksFailed as exc:
        report_failures(exc)
        raise
    console.print(f"wrote {shown(path)}: {count(len(paths), 'video')} ({shown(backbone)} features)")


@dataset.command("merge")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out", type=click.Path(dir_okay=False), required=True, help="Merged HDF5 file to write (not one of the inputs)."
)
@click.option(
    "--names",
    default=None,
    help="Comma-separated dataset names, one per input in order (default: each file's name, "
    "lower-cased, without eccv16_dataset_ and _google_pool5: summe, tvsum).",
)
def dataset_merge(inputs, out: str, names: str | None) -> None:
    """Merge eccv16 files into one, for the augmented and transfer settings.

    Each input becomes a group of OUT named after its dataset, and its videos keys
    such as summe/video_1; annotations are kept as they are, each input's root
    attributes (eval_metric, backbone, ...) go on its group. Features must all have
    one size. Then `acsumgan splits make --kind augmented|transfer --target NAME`.
    """
    from ..data.merge import merge_datasets, video_counts  # h5py: loaded when needed

    name_list = None if names is None else [n.strip() for n in names.split(",")]
    path = merge_datasets(inputs, out, name_list)
    counts = video_counts(path)  # videos only: an input's other members are kept beside them
    console.print(
        f"wrote {shown(path)}: {count(sum(counts.values()), 'video')} of {count(len(counts), 'dataset')} ("
        + ", ".join(f"{shown(n)} {c}" for n, c in counts.items())
        + ")"
    )


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
    from ..data.dataset import dataset_attrs, save_dataset  # h5py: loaded when needed
    from ..data.groundtruth import EVAL_METRIC, merge_features

    attrs = {}
    if merge is not None:
        videos = merge_features(videos, merge)
        attrs.update(dataset_attrs(merge))
    attrs.update({"eval_metric": EVAL_METRIC[name], "groundtruth": name})
    save_dataset(out, videos, attrs=attrs)
    fields = sorted({f for v in videos.values() for f in v.present()})
    if as_json:
        click.echo(
            json.dumps(
                {
                    "out": str(out),
                    "dataset": name,
                    "videos": len(videos),
                    "fields": fields,
                    "merged_with": None if merge is None else str(merge),
                }
            )
        )
    else:
        console.print(
            f"wrote {shown(out)}: {count(len(videos), name + ' video')} ({shown(', '.join(fields))})"
            + (f", merged with {shown(merge)}" if merge is not None else "")
        )


@import_gt.command("summe", context_settings=CONTEXT)
@click.option(
    "--gt-dir", required=True, type=click.Path(path_type=Path), help="The SumMe GT folder (one <name>.mat per video)."
)
@click.option(
    "--change-points",
    type=click.Path(path_type=Path),
    default=None,
    help='JSON {"video_i": [[start, end], ...]} of KTS shots (inclusive). Without it, '
    "change_points are absent (needed for the F-score).",
)
@click.option(
    "--mapping",
    type=click.Path(path_type=Path),
    default=None,
    help="mapped_video_names.json ({real name: video_i}) to cross-check the order.",
)
@click.option(
    "--merge",
    type=click.Path(path_type=Path),
    default=None,
    help="A features file (same videos): write its videos with the imported fields added.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output HDF5 file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
def import_summe_cmd(
    gt_dir: Path, change_points: Path | None, mapping: Path | None, merge: Path | None, out: Path, as_json: bool
) -> None:
    """SumMe (Gygli et al., ECCV 2014): video_i = i-th GT file in byte-wise sorted order."""
    from ..data.groundtruth import import_summe  # h5py: loaded when needed

    videos = import_summe(gt_dir, change_points, mapping)
    _write(out, videos, "summe", merge, as_json)


@import_gt.command("tvsum", context_settings=CONTEXT)
@click.option(
    "--anno",
    required=True,
    type=click.Path(path_type=Path),
    help="ydata-tvsum50.mat (v7.3) or ydata-tvsum50-anno.tsv, either optionally gzipped.",
)
@click.option(
    "--merge",
    type=click.Path(path_type=Path),
    default=None,
    help="A features file (same videos): write its videos with the imported fields added.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output HDF5 file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
def import_tvsum_cmd(anno: Path, merge: Path | None, out: Path, as_json: bool) -> None:
    """TVSum (Song et al., CVPR 2015): video_i = i-th video of the file; user_scores = user_anno.

    change_points and user_summary are not public for TVSum and are left out (kept
    from --merge's file if it has them).
    """
    from ..data.groundtruth import import_tvsum  # h5py: loaded when needed

    videos = import_tvsum(anno)
    _write(out, videos, "tvsum", merge, as_json)
