"""Command: ``render`` (a summary written again from its edits, no model call)."""

from __future__ import annotations

import click

from ..media.encode import DEFAULT_CRF, DEFAULT_PRESET
from .common import cli, shown
from .progress import progress_display, progress_option, report_console
from .summarize import aspect_option, reframe_option
from .train import apply_threads, threads_option


@cli.command("render")
@click.argument("summary_dir", type=click.Path(file_okay=False))
@click.option(
    "--edits",
    "edits_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The edits to render [default: SUMMARY_DIR/edits.json; none there: the model's choice].",
)
@click.option(
    "--crf",
    type=click.IntRange(0, 51),
    default=DEFAULT_CRF,
    show_default=True,
    help="H.264 quality of summary.mp4 (0 lossless, 18 visually lossless, 23 x264's default).",
)
@click.option(
    "--x264-preset",
    "x264_preset",
    default=DEFAULT_PRESET,
    show_default=True,
    metavar="X264PRESET",
    help="x264's speed preset of summary.mp4 (ultrafast ... veryslow).",
)
@aspect_option("the edits', else the summary's own")
@reframe_option
@threads_option("CPU threads (parallel encoding), at most the cores available.  [default: every available core]")
@progress_option
def render(summary_dir, edits_path, crf, x264_preset, aspect, reframe, threads, progress_mode) -> None:
    """Write SUMMARY_DIR's summary again from its edits: summary.mp4 (the kept shots, trims
    included), segments.json (each shot chosen by the model or by the person), scores.png,
    analysis.h5 and summary.html. SUMMARY_DIR is a folder `acsumgan summarize VIDEO --out
    SUMMARY_DIR` wrote, or DIR/VIDEO of `acsumgan summarize A B --out DIR` (it holds
    analysis.h5); the source video must still be there. No model is called. Only files
    acsumgan wrote are replaced; the previous summary stays whole until the new one is
    complete. --aspect / --reframe render another shape (default: the edits', else the
    summary's own)."""
    # PyAV, h5py and torch: loaded when the command runs, not for `acsumgan --help`
    from ..summarize.options import SummarizeOptions
    from ..summarize.render import render_summary

    apply_threads(threads)
    options = SummarizeOptions(crf=crf, preset=x264_preset)
    with progress_display(progress_mode) as bars:
        files = render_summary(summary_dir, edits_path, options, progress=bars, aspect=aspect, reframe=reframe)
    console = report_console(progress_mode)  # --progress json: stdout holds only the events
    seg = files.segments
    edited = "edits version " + str(seg["edits_version"]) if "edits_version" in seg else "the model's choice"
    console.print(
        f"{shown(files.video_path.name)}: {len(seg['shots'])} shots, {seg['summary_seconds']:.1f} s ({edited})",
        soft_wrap=True,
    )
    if "aspect" in seg:
        console.print(f"reframed to {seg['aspect']} ({seg['reframe']}): {seg['summary_width']}x{seg['summary_height']}")
    console.print(f"{shown(files.summary_path)}  {shown(files.segments_path)}", soft_wrap=True)
