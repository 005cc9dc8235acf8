"""Command: ``summarize`` (and the video arguments ``dataset build`` shares: :func:`expand_videos`)."""

from __future__ import annotations

import glob
from pathlib import Path

import click
from rich.table import Table

from ..errors import ConfigError, TasksFailed, VideoError
from ..locks import hold_lock
from ..media.decode import VIDEO_SUFFIXES, folder_videos, probe, skipped_note
from ..pages.summary import clock
from ..summarize.presets import PRESETS
from .common import budget_option, check_seed, cli, device_option, note, shown
from .progress import progress_display, progress_option, report_console
from .train import apply_threads, threads_option


def aspect_option(default: str):
    """``--aspect`` (summarize, render; ``default``: what the help says it is when not given),
    checked by SummarizeOptions / render (one line)."""
    return click.option(
        "--aspect",
        default=None,
        metavar="keep|9:16|1:1|4:5|W:H",
        help="Shape of summary.mp4: keep (the source's frame) or W:H (9:16 for stories, shorts and reels, 1:1, "
        "4:5, any W:H up to 100:100). Each kept shot is cropped to the largest window of that shape the frame "
        f"holds (never black bars); the window's path goes in segments.json.  [default: {default}]",
    )


#: ``--reframe`` (summarize, render).
reframe_option = click.option(
    "--reframe",
    type=click.Choice(["follow", "center"]),
    default=None,
    help="Where the --aspect window sits: follow (the salient content of each shot, from motion and "
    "contrast: still where it can, else a smooth pan of bounded speed) or center.  [default: follow]",
)


def executor_options(f):
    """``--executor``, ``--ray-address``, ``--retries``, ``--ray-cpus-per-task`` (summarize,
    dataset build): one Ray task per video, bitwise the local results (:func:`make_pool`)."""
    for opt in reversed(
        [
            click.option(
                "--executor",
                type=click.Choice(["local", "ray"]),
                default="local",
                show_default=True,
                help="local: this process; ray: one Ray task per video (features and shots; and per summary), "
                "each with --threads threads, so the results are bitwise a local run's. The videos (and --model) "
                "must be readable at the same path on every node (pip install 'acsumgan[ray]').",
            ),
            click.option(
                "--ray-address",
                default=None,
                help="With --executor ray: the cluster to join (auto: the one this node belongs to; host:port or "
                "ray://...). Default: start a Ray instance on this machine.",
            ),
            click.option(
                "--retries",
                type=click.IntRange(min=0),
                default=2,
                show_default=True,
                help="With --executor ray: run a video's task again this many times when its worker dies or it "
                "fails (a bad input fails at once); a video still failing is reported and the others finish.",
            ),
            click.option(
                "--ray-cpus-per-task",
                type=click.IntRange(min=1),
                default=None,
                help="With --executor ray: CPUs each task asks for (default: --threads).",
            ),
        ]
    ):
        f = opt(f)
    return f


def make_pool(executor: str, address, retries: int, cpus_per_task, threads: int, device: str):
    """The :class:`~acsumgan.cluster.pool.RayPool` of the executor options (None: local)."""
    if executor == "local":
        if address is not None:
            raise click.UsageError("--ray-address needs --executor ray")
        return None
    from ..cluster.pool import RayPool

    gpu = str(device).startswith("cuda")
    return RayPool(address, retries=retries, cpus=1 if gpu else (cpus_per_task or threads), gpus=1 if gpu else 0)


def report_failures(exc) -> None:
    """One line per video whose task failed (:class:`~acsumgan.errors.TasksFailed`), before the error."""
    for line in exc.failures:
        note(f"failed: {line}")


def expand_videos(items: tuple[str, ...]) -> list[Path]:
    """Files as given, every video file of a folder (sorted; one note on stderr names the other
    files, skipped), and glob patterns; each is probed (a one-line VideoError for the first bad
    one) before the command does any work."""
    out, notes = video_paths(items)
    for p in out:  # every file is checked before any work: one line names the first bad one
        probe(p)
    for line in notes:
        note(line)
    return out


def video_paths(items: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """(the videos of :func:`expand_videos`, not probed; the notes on the folders' other files)."""
    out: list[Path] = []
    notes: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found, skipped = folder_videos(p)
            if not found:
                raise VideoError(p, "folder holds no video files (" + ", ".join(sorted(VIDEO_SUFFIXES)) + ")")
            if skipped:
                notes.append(skipped_note(p, skipped))
            out.extend(found)
        elif any(ch in item for ch in "*?[") and not p.exists():
            found = sorted(Path(q) for q in glob.glob(item, recursive=True) if Path(q).is_file())
            if not found:
                raise VideoError(item, "pattern matches no file")
            out.extend(found)
        else:
            out.append(p)
    if not out:
        raise ConfigError(None, "no videos given")
    return out, notes


@cli.command()
@click.argument("videos", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Output folder (one sub-folder per video when several are given).",
)
@click.option(
    "--model",
    "model_path",
    default=None,
    help="A checkpoint (.pt), a run folder (`acsumgan train --out`: the criterion's epoch) or an "
    "experiment folder (`acsumgan experiment --out`: best/<rule>/split<k>.pt). Without it, a "
    "model is trained without labels on the videos (kept in OUT/model/ and reused).",
)
@click.option(
    "--train-on",
    "train_on",
    default=None,
    help="Without --model: train on this larger collection instead, a folder of videos or an eccv16 "
    "HDF5 file with features of the same backbone.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=None, help="Without --model: training epochs.  [default: 20]"
)
@click.option(
    "--train-config",
    "train_config",
    type=click.Path(dir_okay=False),
    default=None,
    help="Without --model: a YAML file of training options (the names of `acsumgan train`, e.g. "
    "hidden_size, regularization_factor); the release's defaults otherwise.",
)
@budget_option
@click.option(
    "--seconds",
    type=float,
    default=None,
    help="Summary length in seconds instead of --budget (capped at the video's length).",
)
@click.option(
    "--preset",
    "length_preset",
    type=click.Choice(list(PRESETS)),
    default=None,
    metavar="NAME",
    help="Summary length of a platform instead of --budget or --seconds: "
    + ", ".join(f"{name} ({p.seconds:g} s)" for name, p in PRESETS.items())
    + " (capped at the video's length). A preset also names its platform's frame: "
    + ", ".join(f"{name} {p.aspect}" for name, p in PRESETS.items())
    + "; summary.mp4 is cropped to it (following the action) unless --aspect says otherwise (--aspect keep: "
    "the source's frame).",
)
@aspect_option("keep, or the --preset's")
@reframe_option
@click.option(
    "--backbone",
    default=None,
    help="Feature extractor: efficientnet-lite0 or googlenet (default: the one the model was trained "
    "with; efficientnet-lite0 when training here).",
)
@device_option
@threads_option(
    "CPU threads of PyTorch (features and training), at most the cores available.  [default: "
    "OMP_NUM_THREADS when set, else every available core]"
)
@click.option(
    "--policy",
    type=click.Choice(["sample", "greedy"]),
    default="sample",
    show_default=True,
    help="Actor at test time: sample (the release's, seeded) or greedy.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    callback=check_seed,
    help="Seed of the sampled policy (and of the training without --model).",
)
@click.option(
    "--eval-samples",
    "eval_samples",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Score with the mean of K seeded draws of the sampled policy (expected scores, a deviation from the "
    "release's single draw), so the summary does not depend on one draw.",
)
@click.option(
    "--rule",
    default="label-free",
    show_default=True,
    help="With an experiment folder: which selection rule's model (label-free, oracle).",
)
@click.option("--split", "split_index", type=int, default=None, help="With an experiment folder: which split's model.")
@click.option(
    "--rate",
    type=float,
    default=2.0,
    show_default=True,
    help="Sampled steps per second (the benchmarks: 2, every 15th frame at 30 fps).",
)
@click.option(
    "--max-shot-seconds",
    default="auto",
    show_default=True,
    help="Split shots longer than this (seconds; auto: min(10 s, budget), none: pure KTS shots).",
)
@click.option(
    "--crf",
    type=click.IntRange(0, 51),
    default=18,
    show_default=True,
    help="H.264 quality of summary.mp4 (0 lossless, 18 visually lossless, 23 x264's default).",
)
@click.option(
    "--page/--no-page",
    default=True,
    show_default=True,
    help="Write the review page summary.html (and index.html for several videos).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Without --model: replace an OUT/features.h5 that acsumgan did not write (nothing else is ever "
    "replaced: a file or folder in the way that acsumgan did not write is a refusal, or another name).",
)
@executor_options
@progress_option
def summarize(
    videos, out, model_path, train_on, progress_mode, executor, ray_address, retries, ray_cpus_per_task, **values
) -> None:
    """Summarize videos, training a model on them first when no --model is given.

    Writes, per video: summary.mp4 (the selected shots in order, upright, original
    resolution and frame rate, H.264, audio kept; with --aspect 9:16, 1:1, 4:5 or W:H
    cropped to that shape, the window following the action in each shot), segments.json
    (each selected shot's start/end in seconds and timecodes, frame range and score), scores.png (importance over time)
    and summary.html, a page to review it in a browser (the video, a clickable
    timeline of shots and scores, a thumbnail per shot, the summary). VIDEOS are files,
    folders or glob patterns. Without --model, OUT also keeps features.h5 and model/;
    the same command again reuses them, recomputing only changed or added videos.

    Only what acsumgan wrote is ever replaced: a video's folder that is not acsumgan's
    (OUT/trip/ holding your photos) is left alone and the summary goes to OUT/trip-2/; a
    file of yours at an output's name, or an output that would be, hold or lie inside an
    input, is refused with one line before any work.

    With --executor ray each video's features and each summary are Ray tasks (on a
    cluster: --ray-address); the model is trained here. A run again after a crash or a
    lost node redoes only what is missing: features not in features.h5, summaries whose
    folder is not up to date.
    """
    # torch, PyAV and the networks: loaded when the command runs, not for `acsumgan --help`
    from ..summarize.options import SummarizeOptions
    from ..summarize.pipeline import check_inputs_apart, check_videos, plan_outputs, summarize_videos

    seconds, length_preset = values["seconds"], values["length_preset"]
    budget_given = click.get_current_context().get_parameter_source("budget").name != "DEFAULT"
    if seconds is not None and budget_given:
        raise click.UsageError("--seconds and --budget both set the summary length; pick one")
    if length_preset is not None and budget_given:
        raise click.UsageError("--preset and --budget both set the summary length; pick one")
    if length_preset is not None and seconds is not None:
        raise click.UsageError("--preset and --seconds both set the summary length; pick one")
    values["threads"] = apply_threads(values["threads"])
    if executor == "local" and ray_address is not None:
        raise click.UsageError("--ray-address needs --executor ray")
    paths, notes = video_paths(videos)
    notes += check_videos(paths, train_on)  # each video probed once, here, before any work
    for line in notes:
        note(line)
    options = SummarizeOptions.from_cli(split=values.pop("split_index"), **values)
    if model_path is not None:
        from ..inference import unfinished_run_note  # torch: only when the command runs

        line = unfinished_run_note(model_path)
        if line:
            note(line)
    check_inputs_apart(paths, out, model_path, train_on)  # before the lock writes anything
    with hold_lock(out, tree=True):  # one writer per summary folder, and none inside or around it
        plan = plan_outputs(paths, out, model=model_path, train_on=train_on, page=options.page, force=options.force)
        for line in plan.notes:
            note(line)
        pool = make_pool(executor, ray_address, retries, ray_cpus_per_task, values["threads"], options.device)
        try:
            with progress_display(progress_mode) as bars:
                res = summarize_videos(
                    paths, out, options, model=model_path, train_on=train_on, progress=bars, plan=plan, pool=pool
                )
        except TasksFailed as exc:
            report_failures(exc)
            raise
    console = report_console(progress_mode)  # --progress json: stdout holds only the events
    if res.features is not None:
        f = res.features
        console.print(f"features: {len(f.computed)} computed, {len(f.reused)} reused ({shown(f.path)})")
    if res.model is not None:
        what = "trained" if res.model.trained else "reused"
        console.print(f"model: {what} ({shown(res.model.run_dir)}, {res.model.epochs} epochs)")
    table = Table(title=f"summaries ({shown(res.model_path)})")
    for col in ("video", "length", "shots", "kept", "summary", "summary.mp4"):
        table.add_column(col, justify="left" if col in ("video", "summary.mp4") else "right")
    for r in res.rows:
        dur = r.duration_seconds  # segments.json's (a variable rate: real time)
        table.add_row(
            shown(r.video),
            clock(dur),
            str(r.shots),
            str(r.kept),
            f"{clock(r.summary_seconds)} ({100 * r.summary_seconds / dur:.1f} %)",
            shown(r.summary_path),
        )
    console.print(table)
    for r in res.rows:
        console.print(f"{shown(r.video)}: {shown(r.summary_path)}  {shown(r.plot_path)}  {shown(r.segments_path)}")
    for p in res.pages:
        console.print(f"[bold]review page:[/bold] {shown(p)}", soft_wrap=True)
    if res.index is not None:
        console.print(f"[bold]index of the review pages:[/bold] {shown(res.index)}", soft_wrap=True)
