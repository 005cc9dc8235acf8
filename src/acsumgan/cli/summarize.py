"""Command: ``summarize`` (and the video arguments ``dataset build`` shares: :func:`expand_videos`)."""

from __future__ import annotations

import glob
from pathlib import Path

import click
from rich.table import Table

from ..errors import ConfigError, VideoError
from .common import budget_option, cli, console, device_option

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}


def expand_videos(items: tuple[str, ...]) -> list[Path]:
    """Files as given, every video file of a folder (sorted), and glob patterns."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in VIDEO_SUFFIXES)
            if not found:
                raise VideoError(p, "folder holds no video files (" + ", ".join(sorted(VIDEO_SUFFIXES)) + ")")
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
    return out


@cli.command()
@click.argument("videos", nargs=-1, required=True)
@click.option("--model", "model_path", required=True,
              help="A checkpoint (.pt), a run folder (`acsumgan train --out`: the criterion's epoch) or an "
                   "experiment folder (`acsumgan experiment --out`: best/<rule>/split<k>.pt).")
@click.option("--out", type=click.Path(file_okay=False), required=True,
              help="Output folder (one sub-folder per video when several are given).")
@budget_option
@click.option("--seconds", type=float, default=None,
              help="Summary length in seconds instead of --budget (capped at the video's length).")
@click.option("--backbone", default=None,
              help="Feature extractor: efficientnet-lite0 or googlenet (default: the one the model was trained "
                   "with).")
@device_option
@click.option("--policy", type=click.Choice(["sample", "greedy"]), default="sample", show_default=True,
              help="Actor at test time: sample (the release's, seeded) or greedy.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled policy.")
@click.option("--rule", default="label-free", show_default=True,
              help="With an experiment folder: which selection rule's model (label-free, oracle).")
@click.option("--split", "split_index", type=int, default=None, help="With an experiment folder: which split's model.")
@click.option("--rate", type=float, default=2.0, show_default=True,
              help="Sampled steps per second (the benchmarks: 2, every 15th frame at 30 fps).")
@click.option("--max-shot-seconds", default="auto", show_default=True,
              help="Split shots longer than this (seconds; auto: min(10 s, budget), none: pure KTS shots).")
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True,
              help="H.264 quality of summary.mp4 (0 lossless, 18 visually lossless, 23 x264's default).")
def summarize(videos, model_path, out, budget, seconds, backbone, device, policy, seed, rule, split_index, rate,
              max_shot_seconds, crf) -> None:
    """Summarize videos with a trained model.

    Writes, per video: summary.mp4 (the selected shots in order, original resolution
    and frame rate, H.264, audio kept), segments.json (each selected shot's start/end in
    seconds and timecodes, frame range and score) and scores.png (importance over time,
    selected shots shaded, shot boundaries). VIDEOS are files, folders or glob patterns.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..config import resolve_device
    from ..inference import Scorer
    from ..video.backbones import backbone_for_model, get_backbone
    from ..video.decode import probe
    from ..video.summarize import summarize_video

    paths = expand_videos(videos)
    for p in paths:  # a missing or unreadable video fails now, not after the others are done
        probe(p)
    dev = resolve_device(device)
    scorer = Scorer.load(model_path, policy=policy, seed=seed, device=dev, rule=rule, split=split_index)
    bb = get_backbone(backbone or backbone_for_model(scorer.input_size, scorer.backbone, scorer.path), device=dev)
    scorer.check_features(bb.dim, f"backbone {bb.name}")
    if seconds is not None and seconds <= 0:
        raise ConfigError(None, f"--seconds must be > 0, got {seconds}")
    mss = None if str(max_shot_seconds).lower() == "none" else (
        "auto" if max_shot_seconds == "auto" else _float(max_shot_seconds, "--max-shot-seconds"))
    out = Path(out)
    names = _unique_names(paths)
    results = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as prog:
        overall = prog.add_task("videos", total=len(paths))
        stage = prog.add_task("", total=None)
        for path, name in zip(paths, names):
            def progress(kind, done, total, _p=path):
                prog.update(stage, description=f"{_p.name}: {kind}", completed=done, total=total or None)

            target = out if len(paths) == 1 else out / name
            results.append(summarize_video(path, scorer, target, budget=budget, seconds=seconds, backbone=bb,
                                           device=dev, rate=rate, progress=progress, crf=crf, max_shot_seconds=mss))
            prog.advance(overall)
    table = Table(title=f"summaries ({scorer.path})")
    for col in ("video", "length", "shots", "kept", "summary", "summary.mp4"):
        table.add_column(col, justify="left" if col in ("video", "summary.mp4") else "right")
    for r in results:
        dur = r.n_frames / r.fps
        table.add_row(r.video_path.name, _clock(dur), str(len(r.change_points)), str(len(r.selected)),
                      f"{_clock(r.summary_seconds)} ({100 * r.summary_seconds / dur:.1f} %)", str(r.summary_path))
    console.print(table)
    for r in results:
        console.print(f"{r.video_path.name}: {r.summary_path}  {r.plot_path}  {r.segments_path}")


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(None, f"{name} must be a number, auto or none, got {text!r}") from None


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def _unique_names(paths: list[Path]) -> list[str]:
    names, seen = [], {}
    for p in paths:
        n = p.stem
        seen[n] = seen.get(n, 0) + 1
        names.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return names

