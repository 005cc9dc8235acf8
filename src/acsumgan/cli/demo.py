"""Command: ``demo`` — the whole tool on built-in data in a few minutes (``make demo``)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.table import Table

from .common import check_seed, cli, console, shown
from .progress import ProgressBars
from .summarize import expand_videos
from .train import apply_threads, threads_option

SHARED_VIDEOS = Path("..") / "shared" / "data" / "videos"


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="demo",
    show_default=True,
    help="Folder for everything the demo writes.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=3, show_default=True, help="Training epochs of each part."
)
@click.option(
    "--synthetic-videos",
    type=click.IntRange(min=5, max=25),
    default=10,
    show_default=True,
    help="Videos of the synthetic SumMe-profile dataset (part 1).",
)
@click.option(
    "--videos",
    "videos_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of your own videos for part 2 (default: ../shared/data/videos when present, else "
    "videos the demo generates).",
)
@click.option("--seed", type=int, default=0, show_default=True, callback=check_seed)
@threads_option(
    "CPU threads of PyTorch, at most the cores available.  [default: OMP_NUM_THREADS when set, else every "
    "available core]"
)
def demo(out: str, epochs: int, synthetic_videos: int, videos_dir: str | None, seed: int, threads: int | None) -> None:
    """Run the whole tool on built-in data and write results to look at.

    1. A synthetic dataset with the SumMe profile: one 80/20 split trained for a few
       epochs; F-score against the simulated annotators before and after training.
    2. Real videos (the sample videos, or generated ones), one command: `summarize`
       without a model trains one on them (no labels), then writes each video's
       summary.mp4, segments.json, scores.png and review page (OUT/summary/index.html).
    """
    # torch, PyAV and the networks: loaded when the command runs, not for `acsumgan --help`
    from ..config import TrainConfig
    from ..data.dataset import load_dataset
    from ..data.splits import make_random_splits, write_splits
    from ..summarize.options import SummarizeOptions
    from ..summarize.pipeline import summarize_videos
    from ..synthetic.dataset import write_synth_dataset
    from ..train.trainer import train

    threads = apply_threads(threads)
    t_start = time.perf_counter()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)

    console.rule("[bold]1. synthetic SumMe-profile data: train one split")
    data = write_synth_dataset(root / "synthetic_summe.h5", "summe", seed=seed, videos=synthetic_videos)
    keys = list(load_dataset(data))
    splits = write_splits(root / "synthetic_splits.json", make_random_splits(keys, 1, 0.2, seed=seed))
    with ProgressBars() as bars:
        run = train(
            TrainConfig(n_epochs=epochs, seed=seed, checkpoint_interval_s=3600, threads=threads),
            data,
            splits,
            root / "synthetic_run",
            progress=bars,
            force=True,
        )
    table = Table(title=f"F-score (max over simulated users) on the {len(keys) - len(keys) * 4 // 5} test videos")
    for col in ("model", "epoch", "F-score %"):
        table.add_column(col, justify="right" if col != "model" else "left")
    table.add_row("untrained", "-1", f"{run.rows[0]['f_score']:.2f}")
    table.add_row("criterion's epoch (no labels)", str(run.chosen_epoch), f"{run.row(run.chosen_epoch)['f_score']:.2f}")
    table.add_row("last epoch", str(run.rows[-1]["epoch"]), f"{run.rows[-1]['f_score']:.2f}")
    console.print(table)
    console.print(f"run folder: {shown(run.run_dir)} (metrics.csv, scores.h5, tensorboard/, checkpoints/)")

    console.rule("[bold]2. real videos, one command: acsumgan summarize (trains without labels)")
    videos = _demo_videos(root, videos_dir)
    console.print("videos: " + ", ".join(shown(v.name) for v in videos))
    with ProgressBars() as bars:
        options = SummarizeOptions(epochs=epochs, seed=seed, threads=threads)
        res = summarize_videos(videos, root / "summary", options, progress=bars)
    for r in res.summaries:
        console.print(
            f"{shown(r.video_path.name)}: {r.n_frames / r.fps:.1f} s -> {r.summary_seconds:.1f} s "
            f"({len(r.selected)} of {len(r.change_points)} shots): {shown(r.summary_path)}"
        )
    console.print(f"model: {shown(res.model.run_dir)}; features: {shown(res.features.path)}")
    console.print(f"demo finished in {time.perf_counter() - t_start:.0f} s")
    page = res.index or res.pages[0]
    console.print(f"[bold]review page (open it in a browser):[/bold] {shown(page)}", soft_wrap=True)


def _demo_videos(root: Path, videos_dir: str | None) -> list[Path]:
    from ..synthetic.media import make_scene_video  # PyAV: only when the demo runs

    if videos_dir:
        return expand_videos((videos_dir,))
    if SHARED_VIDEOS.is_dir() and any(SHARED_VIDEOS.iterdir()):
        return expand_videos((str(SHARED_VIDEOS),))
    gen = root / "generated_videos"
    gen.mkdir(parents=True, exist_ok=True)
    return [
        make_scene_video(gen / "scenes_a.mp4", [75, 200, 50, 150, 100, 225]),
        make_scene_video(gen / "scenes_b.mp4", [120, 60, 180, 90]),
        make_scene_video(gen / "scenes_c.mp4", [40, 160, 80]),
    ]
